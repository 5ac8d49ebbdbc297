//! The mount tree a job's guest sees under its one preopen `/`.
//!
//! Every input and result path is a mount at a guest path; the directories
//! above mounts are synthesized ("virtual"). Guest paths are resolved here,
//! component by component: `.` and `..` move through virtual directories
//! lexically and never above `/`; once a path enters a mount, the rest is
//! handed to cap-std under that mount's directory handle (so symlinks inside
//! a mount resolve within that mount only), unless a `..` climbs back out of
//! the mount, in which case resolution continues in the mount's virtual parent.
//!
//! This file is pure path logic; `real/` performs the operations.

use crate::host::abi::{Errno, WasiResult};

/// A mount's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MountKind {
    /// A host directory.
    Dir,
    /// A single host file.
    File,
}

/// Where a mount sits in the guest's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountPoint {
    /// Guest path components (`/data/in` → `["data", "in"]`; `/` → `[]`).
    pub guest: Vec<String>,
    /// Directory or file.
    pub kind: MountKind,
    /// Whether the guest may modify it.
    pub read_only: bool,
}

/// Where a guest path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A synthesized directory above some mount.
    Virtual(Vec<String>),
    /// A name that does not exist, directly inside a virtual directory
    /// (only a mount could create it, so creating it is refused).
    VirtualMissing,
    /// Inside mount `mount`: `below` is the path under its root for cap-std
    /// (`.` for the root itself), `rel` its lexical components.
    InMount {
        /// Index of the mount.
        mount: usize,
        /// Path below the mount root, as cap-std should resolve it.
        below: String,
        /// The lexical components of `below` (for locating `..` later).
        rel: Vec<String>,
    },
}

/// Splits a guest path into its non-empty components.
pub fn components(path: &str) -> Vec<&str> {
    path.split('/').filter(|c| !c.is_empty()).collect()
}

/// Parses a guest path like `/data/in` into owned components, dropping `.`;
/// `..` is refused (mount targets are validated before they get here).
pub fn guest_components(path: &str) -> Vec<String> {
    components(path)
        .into_iter()
        .filter(|c| *c != ".")
        .map(str::to_string)
        .collect()
}

/// The lowest depth a relative path's `..` components reach (0 if never above its start).
pub fn lowest_depth(path: &str) -> isize {
    let mut depth: isize = 0;
    let mut lowest = 0;
    for c in components(path) {
        match c {
            "." => {}
            ".." => {
                depth -= 1;
                lowest = lowest.min(depth);
            }
            _ => depth += 1,
        }
    }
    lowest
}

/// Applies `path` lexically to `base` components (`..` pops, never below empty).
pub fn lexical_join(base: &[String], path: &str) -> Vec<String> {
    let mut out = base.to_vec();
    for c in components(path) {
        match c {
            "." => {}
            ".." => {
                out.pop();
            }
            name => out.push(name.to_string()),
        }
    }
    out
}

/// The mount table: resolution of guest paths against mount points.
#[derive(Debug, Clone, Default)]
pub struct MountTable {
    /// The mounts, in the order given.
    pub points: Vec<MountPoint>,
}

impl MountTable {
    /// The deepest mount at or above `abs`.
    pub fn mount_covering(&self, abs: &[String]) -> Option<usize> {
        self.points
            .iter()
            .enumerate()
            .filter(|(_, m)| abs.starts_with(&m.guest))
            .max_by_key(|(_, m)| m.guest.len())
            .map(|(i, _)| i)
    }

    /// Whether `abs` is a synthesized directory: the root, or a proper prefix of a mount.
    pub fn is_virtual_dir(&self, abs: &[String]) -> bool {
        abs.is_empty()
            || self
                .points
                .iter()
                .any(|m| m.guest.len() > abs.len() && m.guest.starts_with(abs))
    }

    /// The names directly inside virtual directory `abs`, with whether each is a file mount.
    pub fn virtual_children(&self, abs: &[String]) -> Vec<(String, MountKind)> {
        let mut children: Vec<(String, MountKind)> = Vec::new();
        for m in &self.points {
            if m.guest.len() > abs.len() && m.guest.starts_with(abs) {
                let name = &m.guest[abs.len()];
                let kind = if m.guest.len() == abs.len() + 1 {
                    m.kind
                } else {
                    MountKind::Dir
                };
                if !children.iter().any(|(n, _)| n == name) {
                    children.push((name.clone(), kind));
                }
            }
        }
        children.sort();
        children
    }

    /// Resolves `path` (relative) from guest directory `start`.
    pub fn resolve(&self, start: &[String], path: &str) -> WasiResult<Resolved> {
        if path.starts_with('/') {
            return Err(Errno::Perm);
        }
        let comps = components(path);
        let trailing_slash = path.ends_with('/');
        let mut abs = start.to_vec();
        let mut i = 0;
        loop {
            if let Some(m) = self.mount_covering(&abs) {
                match self.enter_mount(m, &abs, &comps[i..], trailing_slash)? {
                    Ok(resolved) => return Ok(resolved),
                    Err(climbed) => {
                        let mount_root = &self.points[m].guest;
                        abs = mount_root[..mount_root.len().saturating_sub(1)].to_vec();
                        i += climbed + 1;
                        continue;
                    }
                }
            }
            let Some(&c) = comps.get(i) else {
                return Ok(Resolved::Virtual(abs));
            };
            i += 1;
            match c {
                "." => {}
                ".." => {
                    abs.pop();
                }
                name => {
                    abs.push(name.to_string());
                    if !self.is_virtual_dir(&abs) && self.mount_covering(&abs).is_none() {
                        return if i == comps.len() {
                            Ok(Resolved::VirtualMissing)
                        } else {
                            Err(Errno::Noent)
                        };
                    }
                }
            }
        }
    }

    /// Inside mount `m` at `abs`: `Ok(Ok(..))` when the rest stays in the mount,
    /// `Ok(Err(j))` when the `j`th remaining component climbs out of it.
    fn enter_mount(
        &self,
        m: usize,
        abs: &[String],
        rest: &[&str],
        trailing_slash: bool,
    ) -> WasiResult<Result<Resolved, usize>> {
        let point = &self.points[m];
        let mut depth = (abs.len() - point.guest.len()) as isize;
        for (j, c) in rest.iter().enumerate() {
            match *c {
                "." => {}
                ".." => {
                    depth -= 1;
                    if depth < 0 {
                        return Ok(Err(j));
                    }
                }
                _ => depth += 1,
            }
        }
        let below_parts: Vec<&str> = abs[point.guest.len()..]
            .iter()
            .map(String::as_str)
            .chain(rest.iter().copied())
            .collect();
        if point.kind == MountKind::File && below_parts.iter().any(|c| *c != ".") {
            return Err(Errno::Notdir);
        }
        let mut below = if below_parts.is_empty() {
            ".".to_string()
        } else {
            below_parts.join("/")
        };
        if trailing_slash && below != "." {
            below.push('/');
        }
        let rel = lexical_join(&[], &below);
        Ok(Ok(Resolved::InMount {
            mount: m,
            below,
            rel,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> MountTable {
        let point = |g: &str, kind, read_only| MountPoint {
            guest: guest_components(g),
            kind,
            read_only,
        };
        MountTable {
            points: vec![
                point("/inputs", MountKind::Dir, true),
                point("/outputs", MountKind::Dir, false),
                point("/wasm/entry.wasm", MountKind::File, true),
            ],
        }
    }

    fn in_mount(mount: usize, below: &str) -> Resolved {
        Resolved::InMount {
            mount,
            below: below.to_string(),
            rel: lexical_join(&[], below),
        }
    }

    #[test]
    fn virtual_parents_are_synthesized() {
        let t = table();
        assert_eq!(t.resolve(&[], "."), Ok(Resolved::Virtual(vec![])));
        assert_eq!(
            t.resolve(&[], "wasm"),
            Ok(Resolved::Virtual(vec!["wasm".into()]))
        );
        assert_eq!(t.resolve(&[], "nope"), Ok(Resolved::VirtualMissing));
        assert_eq!(t.resolve(&[], "nope/deeper"), Err(Errno::Noent));
        let names: Vec<String> = t.virtual_children(&[]).into_iter().map(|c| c.0).collect();
        assert_eq!(names, ["inputs", "outputs", "wasm"]);
    }

    #[test]
    fn paths_enter_mounts() {
        let t = table();
        assert_eq!(t.resolve(&[], "inputs/a.csv"), Ok(in_mount(0, "a.csv")));
        assert_eq!(t.resolve(&[], "inputs"), Ok(in_mount(0, ".")));
        assert_eq!(t.resolve(&[], "wasm/entry.wasm"), Ok(in_mount(2, ".")));
        assert_eq!(t.resolve(&[], "wasm/entry.wasm/x"), Err(Errno::Notdir));
    }

    #[test]
    fn dotdot_climbs_out_of_a_mount_but_never_above_root() {
        let t = table();
        assert_eq!(
            t.resolve(&[], "inputs/../outputs/r.txt"),
            Ok(in_mount(1, "r.txt"))
        );
        assert_eq!(
            t.resolve(&[], "inputs/sub/../../outputs"),
            Ok(in_mount(1, "."))
        );
        assert_eq!(t.resolve(&[], "../../inputs/a"), Ok(in_mount(0, "a")));
        assert_eq!(
            t.resolve(&[], "inputs/../../.."),
            Ok(Resolved::Virtual(vec![]))
        );
        assert_eq!(
            t.resolve(&["inputs".into()], "../outputs"),
            Ok(in_mount(1, "."))
        );
        assert_eq!(t.resolve(&[], "/etc/passwd"), Err(Errno::Perm));
    }

    #[test]
    fn a_root_mount_covers_everything() {
        let t = MountTable {
            points: vec![MountPoint {
                guest: vec![],
                kind: MountKind::Dir,
                read_only: false,
            }],
        };
        assert_eq!(t.resolve(&[], "../../x"), Ok(in_mount(0, "x")));
        assert_eq!(t.resolve(&[], "a/b"), Ok(in_mount(0, "a/b")));
    }
}
