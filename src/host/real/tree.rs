//! The mount tree on the host side: the mounts' host handles, and the
//! resolution of a (directory handle, guest path) pair to the host directory
//! an operation starts from (or to a virtual directory of the tree).
//!
//! The path logic itself lives in [`crate::host::mounts`]; this file ties it
//! to the handles [`RealHost`] holds.

use super::stat::dot_entry;
use super::{Object, RealHost};
use crate::host::abi::{Errno, WasiResult};
use crate::host::mounts::{
    guest_components, lexical_join, lowest_depth, MountKind, MountPoint, Resolved,
};
use crate::host::{DirEntry, Filestat, Filetype, Handle};
use cap_std::fs::Dir;
use std::io;
use std::path::Path;

/// What a mount shows the guest: a host file or directory at a guest path.
#[derive(Debug, Clone)]
pub struct MountSpec {
    /// The guest path (absolute, e.g. `/inputs`).
    pub guest: String,
    /// The host file or directory.
    pub host: std::path::PathBuf,
    /// Whether the guest may modify it.
    pub read_only: bool,
}

/// Where a host directory handle sits inside a mount, so `..` can climb out of it.
#[derive(Debug, Clone)]
pub(super) struct MountLoc {
    mount: usize,
    rel: Vec<String>,
}

/// The host side of a mount: a directory, or a file named in its parent directory.
pub(super) enum HostMount {
    Dir(Dir),
    File { parent: Dir, name: String },
}

/// The directory a host-side operation starts from.
#[derive(Debug, Clone, Copy)]
pub(super) enum Base {
    Handle(Handle),
    Mount(usize),
}

/// Where a (directory handle, path) pair leads.
pub(super) enum Target {
    Host {
        base: Base,
        path: String,
        read_only: bool,
        loc: Option<MountLoc>,
        /// The path names a mount's root (which cannot be removed or renamed).
        mount_root: bool,
    },
    Virtual(Vec<String>),
    VirtualMissing,
}

/// Opens a mount's host side (with ambient authority: the one place a mount's
/// host path is trusted) and says whether it is a directory or a file.
fn open_mount(spec: &MountSpec) -> io::Result<(HostMount, MountKind)> {
    let meta = std::fs::metadata(&spec.host)?;
    if meta.is_dir() {
        let dir = Dir::open_ambient_dir(&spec.host, cap_std::ambient_authority())?;
        return Ok((HostMount::Dir(dir), MountKind::Dir));
    }
    let parent = spec.host.parent().filter(|p| !p.as_os_str().is_empty());
    let parent = parent.unwrap_or_else(|| Path::new("."));
    let name = spec
        .host
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a file mount needs a file name",
            )
        })?;
    let parent = Dir::open_ambient_dir(parent, cap_std::ambient_authority())?;
    Ok((HostMount::File { parent, name }, MountKind::File))
}

impl RealHost {
    /// Builds the mount tree from `specs` and returns the handle of its root `/`
    /// (to be preopened as `/`). Host paths are opened with ambient authority here,
    /// once; the guest reaches them only through these handles.
    pub fn mount_tree(&mut self, specs: &[MountSpec]) -> io::Result<Handle> {
        for spec in specs {
            let (host, kind) = open_mount(spec)?;
            self.mounts.points.push(MountPoint {
                guest: guest_components(&spec.guest),
                kind,
                read_only: spec.read_only,
            });
            self.mount_dirs.push(host);
        }
        let root = self.root_object()?;
        Ok(self.insert(root))
    }

    /// What `/` is: the mount at `/` if there is one, else a virtual directory.
    fn root_object(&self) -> io::Result<Object> {
        let Some(m) = self.mounts.mount_covering(&[]) else {
            return Ok(Object::Virtual(Vec::new()));
        };
        match &self.mount_dirs[m] {
            HostMount::Dir(dir) => Ok(Object::Dir {
                dir: dir.try_clone()?,
                loc: Some(MountLoc {
                    mount: m,
                    rel: Vec::new(),
                }),
                read_only: self.mounts.points[m].read_only,
            }),
            HostMount::File { .. } => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a file cannot be mounted at /",
            )),
        }
    }

    /// The host directory an operation starts from.
    pub(super) fn base_dir(&self, base: Base) -> WasiResult<&Dir> {
        match base {
            Base::Handle(handle) => {
                match self.objects.get(handle.0 as usize).and_then(Option::as_ref) {
                    Some(Object::Dir { dir, .. }) => Ok(dir),
                    Some(_) => Err(Errno::Notdir),
                    None => Err(Errno::Badf),
                }
            }
            Base::Mount(m) => match self.mount_dirs.get(m) {
                Some(HostMount::Dir(dir)) => Ok(dir),
                Some(HostMount::File { parent, .. }) => Ok(parent),
                None => Err(Errno::Badf),
            },
        }
    }

    /// Resolves `path` under directory handle `start` to where the operation happens.
    pub(super) fn target(&self, start: Handle, path: &str) -> WasiResult<Target> {
        match self.objects.get(start.0 as usize).and_then(Option::as_ref) {
            None => Err(Errno::Badf),
            Some(Object::Dir { loc: None, .. }) => Ok(Target::Host {
                base: Base::Handle(start),
                path: path.to_string(),
                read_only: false,
                loc: None,
                mount_root: false,
            }),
            Some(Object::Dir { loc: Some(loc), .. }) => self.target_in_mount(start, loc, path),
            Some(Object::Virtual(abs)) => self.target_from_tree(abs, path),
            Some(_) => Err(Errno::Notdir),
        }
    }

    /// Resolves `path` under a directory handle inside a mount: the handle itself
    /// serves it unless the path climbs out of the mount (or is absolute), in
    /// which case the tree resolves it from the handle's guest path.
    fn target_in_mount(&self, start: Handle, loc: &MountLoc, path: &str) -> WasiResult<Target> {
        if lowest_depth(path) >= -(loc.rel.len() as isize) && !path.starts_with('/') {
            let read_only = self
                .mounts
                .points
                .get(loc.mount)
                .is_some_and(|p| p.read_only);
            let rel = lexical_join(&loc.rel, path);
            return Ok(Target::Host {
                base: Base::Handle(start),
                path: path.to_string(),
                read_only,
                mount_root: rel.is_empty(),
                loc: Some(MountLoc {
                    mount: loc.mount,
                    rel,
                }),
            });
        }
        let mut abs = self
            .mounts
            .points
            .get(loc.mount)
            .map(|p| p.guest.clone())
            .unwrap_or_default();
        abs.extend(loc.rel.iter().cloned());
        self.target_from_tree(&abs, path)
    }

    /// Resolves `path` from the guest directory `abs` through the mount table.
    fn target_from_tree(&self, abs: &[String], path: &str) -> WasiResult<Target> {
        Ok(match self.mounts.resolve(abs, path)? {
            Resolved::Virtual(abs) => Target::Virtual(abs),
            Resolved::VirtualMissing => Target::VirtualMissing,
            Resolved::InMount { mount, below, rel } => {
                let read_only = self.mounts.points[mount].read_only;
                let path = match &self.mount_dirs[mount] {
                    HostMount::File { name, .. } => name.clone(),
                    HostMount::Dir(_) => below,
                };
                Target::Host {
                    base: Base::Mount(mount),
                    path,
                    read_only,
                    mount_root: rel.is_empty(),
                    loc: Some(MountLoc { mount, rel }),
                }
            }
        })
    }

    /// Resolves a path for an operation that modifies it: read-only mounts refuse,
    /// virtual directories cannot change, a mount root cannot be removed or renamed.
    pub(super) fn writable_target(&self, start: Handle, path: &str) -> WasiResult<(Base, String)> {
        match self.target(start, path)? {
            Target::Host {
                read_only: true, ..
            } => Err(Errno::Rofs),
            Target::Host {
                mount_root: true,
                loc: Some(_),
                ..
            } => Err(Errno::Busy),
            Target::Host { base, path, .. } => Ok((base, path)),
            Target::Virtual(_) => Err(Errno::Busy),
            Target::VirtualMissing => Err(Errno::Rofs),
        }
    }

    /// Which mount (if any) an operation's base belongs to, for cross-mount renames.
    fn mount_of(&self, base: Base, start: Handle) -> Option<usize> {
        match base {
            Base::Mount(m) => Some(m),
            Base::Handle(_) => match self.objects.get(start.0 as usize).and_then(Option::as_ref) {
                Some(Object::Dir { loc: Some(loc), .. }) => Some(loc.mount),
                _ => None,
            },
        }
    }

    /// Resolves both paths of a rename or link for modification: the source
    /// (base, path), the target directory and the target path. Both must lie in
    /// one mount (or one plain preopen): anything else is `EXDEV`.
    pub(super) fn same_mount_pair(
        &self,
        from_dir: Handle,
        from: &str,
        to_dir: Handle,
        to: &str,
    ) -> WasiResult<((Base, String), Dir, String)> {
        let (from_base, from_path) = self.writable_target(from_dir, from)?;
        let (to_base, to_path) = self.writable_target(to_dir, to)?;
        if self.mount_of(from_base, from_dir) != self.mount_of(to_base, to_dir) {
            return Err(Errno::Xdev);
        }
        let target = self.base_dir(to_base)?.try_clone()?;
        Ok(((from_base, from_path), target, to_path))
    }

    /// `.`, `..` and the mounts and virtual directories directly inside `abs`.
    pub(super) fn read_virtual_dir(&self, abs: &[String]) -> WasiResult<Vec<DirEntry>> {
        let mut parent = abs.to_vec();
        parent.pop();
        let mut entries = vec![
            dot_entry(b".", virtual_ino(abs)),
            dot_entry(b"..", virtual_ino(&parent)),
        ];
        for (name, kind) in self.mounts.virtual_children(abs) {
            let mut child = abs.to_vec();
            child.push(name.clone());
            let filetype = match kind {
                MountKind::Dir => Filetype::Directory,
                MountKind::File => Filetype::RegularFile,
            };
            entries.push(DirEntry {
                name: name.into_bytes(),
                ino: virtual_ino(&child),
                filetype,
            });
        }
        Ok(entries)
    }
}

/// A stable inode number for a virtual directory, derived from its guest path.
fn virtual_ino(abs: &[String]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    abs.hash(&mut hasher);
    hasher.finish() | (1 << 63)
}

/// Attributes of a virtual directory: a read-only directory with zero times.
pub(super) fn virtual_filestat(abs: &[String]) -> Filestat {
    Filestat {
        dev: 0,
        ino: virtual_ino(abs),
        filetype: Filetype::Directory,
        nlink: 1,
        size: 0,
        atim: 0,
        mtim: 0,
        ctim: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::host_with;
    use super::*;

    #[test]
    fn the_tree_root_lists_its_mounts_and_paths_resolve_into_them() {
        let (ro, rw) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (host, root) = host_with(ro.path(), rw.path(), None);
        let names: Vec<Vec<u8>> = host
            .read_virtual_dir(&[])
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, [&b"."[..], b"..", b"in", b"out"]);
        assert!(matches!(
            host.target(root, "in/x"),
            Ok(Target::Host {
                read_only: true,
                ..
            })
        ));
        assert!(matches!(
            host.target(root, "nowhere"),
            Ok(Target::VirtualMissing)
        ));
        assert!(matches!(host.writable_target(root, "in"), Err(Errno::Rofs)));
        assert!(matches!(
            host.writable_target(root, "out"),
            Err(Errno::Busy)
        ));
        assert!(matches!(
            host.same_mount_pair(root, "out/a", root, "in/b"),
            Err(Errno::Rofs)
        ));
    }
}
