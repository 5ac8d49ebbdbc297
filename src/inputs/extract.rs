//! Unpacking an untrusted tar archive (inline tar.gz, an IPFS gateway's TAR).
//!
//! Time is linear in the archive's size: every file-system call is relative
//! to an open directory handle (cap-std), and the directory of the previous
//! entry stays open, so an entry in it or below it costs one call per new
//! level instead of a walk from the root. (The `tar` crate's `unpack`
//! canonicalizes every entry's parent from the root, which made 1000 nested
//! directories take 32 s and 3000 never finish.) Nothing is followed: an
//! entry whose parent is a link or a file is refused, files are created
//! exclusively after removing what an earlier entry of the same name left.
//! The archive is bounded in depth ([`MAX_DEPTH`]), in entries
//! ([`MAX_ENTRIES`]), in bytes written (sparse entries count as expanded) and
//! in time (the staging [`Deadline`]). Archives inside the archive are files
//! like any other: they are never unpacked.

use super::deadline::{Deadline, Expired};
use cap_fs_ext::DirExt;
use cap_std::ambient_authority;
use cap_std::fs::{Dir, OpenOptions};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The deepest an entry may be nested (path components). Far beyond real
/// data sets, and keeps every staged path well under `PATH_MAX`.
pub const MAX_DEPTH: usize = 256;

/// The most entries one archive may have.
pub const MAX_ENTRIES: u64 = 1_000_000;

/// How much of a file is copied between two deadline checks.
const CHUNK: usize = 64 * 1024;

/// What one archive may do.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// The most bytes all files together may hold.
    pub max_bytes: u64,
    /// How the message names that limit (e.g. "the download limit (--max-download)").
    pub max_bytes_name: &'static str,
    /// Whether symbolic and hard links are taken (links must stay inside the archive).
    pub links: bool,
}

/// Why an archive was not unpacked. Paths are the archive's, shortened and escaped.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The bytes are not a tar archive (or it ends early).
    #[error("not a valid tar archive: {0}")]
    NotTar(std::io::Error),
    /// An absolute path, or one with `..`.
    #[error("the archive has an unsafe path `{0}` (absolute, or with `..`)")]
    UnsafePath(String),
    /// Nested deeper than [`MAX_DEPTH`].
    #[error("the archive entry `{path}` is nested more than {MAX_DEPTH} directories deep")]
    TooDeep {
        /// The entry.
        path: String,
    },
    /// More than [`MAX_ENTRIES`] entries.
    #[error("the archive has more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    /// The files hold more than the byte limit.
    #[error("the archive expands beyond {name} of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
        /// What the limit is called.
        name: &'static str,
    },
    /// A device, FIFO or other entry that is not data.
    #[error(
        "the archive entry `{path}` is a {kind}; only files and directories{links} are supported"
    )]
    Unsupported {
        /// The entry.
        path: String,
        /// What it is.
        kind: &'static str,
        /// ", and links inside the archive" when links are allowed.
        links: &'static str,
    },
    /// A link whose target is absolute, climbs out of the archive, or has `..` after a name.
    #[error("the archive's link `{path}` may point outside the archive (to `{target}`); a link must be relative, with any `..` at its start, and stay inside")]
    EscapingLink {
        /// The link.
        path: String,
        /// Where it points.
        target: String,
    },
    /// An entry that collides with an earlier one (a file where a directory is, a path through a link).
    #[error("the archive entry `{path}` conflicts with an earlier entry: {source}")]
    Conflict {
        /// The entry.
        path: String,
        /// What the file system said.
        source: std::io::Error,
    },
    /// Writing into the stage area failed.
    #[error("cannot write `{path}` from the archive: {source}")]
    Write {
        /// The entry.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Staging's deadline passed.
    #[error("{0}")]
    Deadline(Expired),
}

/// Unpacks `archive` into `dest`, which must not exist (it is created).
pub fn unpack(
    archive: impl Read,
    dest: &Path,
    rules: Rules,
    deadline: Deadline,
) -> Result<(), ExtractError> {
    let write_error = |source| ExtractError::Write {
        path: ".".to_string(),
        source,
    };
    // `dest` is brine's own path in the stage area, never one an input names.
    std::fs::create_dir(dest).map_err(write_error)?;
    let root = Dir::open_ambient_dir(dest, ambient_authority()).map_err(write_error)?;
    let mut unpacker = Unpacker {
        root,
        current: None,
        entries: 0,
        bytes: 0,
        rules,
        deadline,
    };
    let mut archive = tar::Archive::new(archive);
    for entry in archive.entries().map_err(ExtractError::NotTar)? {
        deadline.check().map_err(ExtractError::Deadline)?;
        unpacker.entry(entry.map_err(ExtractError::NotTar)?)?;
    }
    Ok(())
}

/// The state of one extraction.
struct Unpacker {
    root: Dir,
    /// The directory the last entry was in (its components and an open handle).
    current: Option<(Vec<OsString>, Dir)>,
    entries: u64,
    bytes: u64,
    rules: Rules,
    deadline: Deadline,
}

impl Unpacker {
    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), ExtractError> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(ExtractError::TooManyEntries);
        }
        let raw = entry.path().map_err(ExtractError::NotTar)?.into_owned();
        let parts = components(&raw)?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            // Archive-wide metadata (e.g. a comment), not content.
            return Ok(());
        }
        let Some((name, parent)) = parts.split_last() else {
            // `./` itself: the directory we unpack into.
            return Ok(());
        };
        if kind.is_dir() {
            return self.enter(&parts, &raw);
        }
        self.enter(parent, &raw)?;
        if kind.is_file() || kind.is_gnu_sparse() {
            self.file(&mut entry, name, &raw)
        } else if self.rules.links && kind.is_symlink() {
            let target = link_target(&entry)?;
            self.symlink(&target, name, parent.len(), &raw)
        } else if self.rules.links && kind.is_hard_link() {
            let target = components(&link_target(&entry)?)?;
            self.hard_link(&target, name, &raw)
        } else {
            Err(ExtractError::Unsupported {
                path: shown(&raw),
                kind: kind_name(kind),
                links: if self.rules.links {
                    ", and links inside the archive,"
                } else {
                    ""
                },
            })
        }
    }

    /// Makes the directory `parts` (and any missing parents) the current one.
    fn enter(&mut self, parts: &[OsString], raw: &Path) -> Result<(), ExtractError> {
        let (start, from) = match &self.current {
            Some((path, _)) if path.as_slice() == parts => return Ok(()),
            Some((path, dir)) if parts.starts_with(path) => (path.len(), Some(dir)),
            _ => (0, None),
        };
        let mut dir = match from {
            Some(dir) => dir.try_clone(),
            None => self.root.try_clone(),
        }
        .map_err(|source| write_error(raw, source))?;
        for part in &parts[start..] {
            dir = child_dir(&dir, part, raw)?;
        }
        self.current = Some((parts.to_vec(), dir));
        Ok(())
    }

    /// The current directory (set by [`Unpacker::enter`]).
    fn dir(&self) -> &Dir {
        self.current.as_ref().map_or(&self.root, |(_, dir)| dir)
    }

    /// Writes a regular file, replacing an earlier file or link of that name.
    fn file(
        &mut self,
        entry: &mut tar::Entry<'_, impl Read>,
        name: &OsString,
        raw: &Path,
    ) -> Result<(), ExtractError> {
        self.make_room(name, raw)?;
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        let file = self
            .dir()
            .open_with(name, &options)
            .map_err(|source| write_error(raw, source))?;
        let mut file = file.into_std();
        self.copy(entry, &mut file, raw)?;
        if let Some(mtime) = mtime(entry.header()) {
            // The archive's times, as `tar` would set them; a file system that refuses is no matter.
            let _ = file.set_modified(mtime);
        }
        Ok(())
    }

    /// Copies an entry's data, counting every byte (a sparse entry's holes too).
    fn copy(
        &mut self,
        entry: &mut impl Read,
        out: &mut std::fs::File,
        raw: &Path,
    ) -> Result<(), ExtractError> {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ExtractError::NotTar(e)),
            };
            self.bytes = self.bytes.saturating_add(n as u64);
            if self.bytes > self.rules.max_bytes {
                return Err(ExtractError::TooLarge {
                    limit: self.rules.max_bytes,
                    name: self.rules.max_bytes_name,
                });
            }
            self.deadline.check().map_err(ExtractError::Deadline)?;
            out.write_all(buf.get(..n).unwrap_or_default())
                .map_err(|source| write_error(raw, source))?;
        }
    }

    /// A symbolic link whose target, read from the link's directory, stays in the archive.
    fn symlink(
        &mut self,
        target: &Path,
        name: &OsString,
        depth: usize,
        raw: &Path,
    ) -> Result<(), ExtractError> {
        if !stays_inside(target, depth) {
            return Err(ExtractError::EscapingLink {
                path: shown(raw),
                target: shown(target),
            });
        }
        self.make_room(name, raw)?;
        // Checked above: the contents cannot lead out of the archive.
        self.dir()
            .symlink_contents(target, name)
            .map_err(|source| write_error(raw, source))
    }

    /// A hard link to an earlier entry (resolved inside the archive's root).
    fn hard_link(
        &mut self,
        target: &[OsString],
        name: &OsString,
        raw: &Path,
    ) -> Result<(), ExtractError> {
        self.make_room(name, raw)?;
        let source: PathBuf = target.iter().collect();
        self.root
            .hard_link(&source, self.dir(), name)
            .map_err(|source| ExtractError::Conflict {
                path: shown(raw),
                source,
            })
    }

    /// Removes a file or link an earlier entry left at `name`; a directory there is a conflict.
    fn make_room(&self, name: &OsString, raw: &Path) -> Result<(), ExtractError> {
        let dir = self.dir();
        match dir.symlink_metadata(name) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(write_error(raw, source)),
            Ok(meta) if meta.is_dir() => Err(ExtractError::Conflict {
                path: shown(raw),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "a directory of that name came first",
                ),
            }),
            Ok(_) => dir
                .remove_file_or_symlink(name)
                .map_err(|source| write_error(raw, source)),
        }
    }
}

/// Opens (creating it if needed) the directory `part` in `dir`, never through a link.
fn child_dir(dir: &Dir, part: &OsString, raw: &Path) -> Result<Dir, ExtractError> {
    match dir.open_dir_nofollow(part) {
        Ok(child) => return Ok(child),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(ExtractError::Conflict {
                path: shown(raw),
                source,
            })
        }
    }
    dir.create_dir(part)
        .and_then(|()| dir.open_dir_nofollow(part))
        .map_err(|source| write_error(raw, source))
}

/// The normal components of an archive path; `.` is dropped, `..` and absolute paths refused.
fn components(path: &Path) -> Result<Vec<OsString>, ExtractError> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_os_string()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(ExtractError::UnsafePath(shown(path)))
            }
        }
        if parts.len() > MAX_DEPTH {
            return Err(ExtractError::TooDeep { path: shown(path) });
        }
    }
    Ok(parts)
}

/// Whether a link target, read from a real directory `depth` levels below the
/// root, stays at or below it: relative, with every `..` at its start (a `..`
/// after a name would go up from wherever that name leads, which may be
/// another link).
fn stays_inside(target: &Path, depth: usize) -> bool {
    let mut level = depth;
    let mut named = false;
    for component in target.components() {
        match component {
            Component::Normal(_) => named = true,
            Component::CurDir => {}
            Component::ParentDir if !named => match level.checked_sub(1) {
                Some(up) => level = up,
                None => return false,
            },
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    !target.as_os_str().is_empty()
}

/// A link entry's target.
fn link_target(entry: &tar::Entry<'_, impl Read>) -> Result<PathBuf, ExtractError> {
    match entry.link_name().map_err(ExtractError::NotTar)? {
        Some(target) => Ok(target.into_owned()),
        None => Err(ExtractError::NotTar(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a link entry without a target",
        ))),
    }
}

/// The entry's modification time, if it has a sensible one.
fn mtime(header: &tar::Header) -> Option<SystemTime> {
    let secs = header.mtime().ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

fn write_error(raw: &Path, source: std::io::Error) -> ExtractError {
    ExtractError::Write {
        path: shown(raw),
        source,
    }
}

/// What an entry type is called in messages.
fn kind_name(kind: tar::EntryType) -> &'static str {
    match kind {
        tar::EntryType::Symlink => "symbolic link",
        tar::EntryType::Link => "hard link",
        tar::EntryType::Char => "character device",
        tar::EntryType::Block => "block device",
        tar::EntryType::Fifo => "FIFO",
        _ => "special entry",
    }
}

/// A path for a message: at most 200 characters, control characters escaped.
pub fn shown(path: &Path) -> String {
    const MAX: usize = 200;
    let text = path.to_string_lossy();
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: Rules = Rules {
        max_bytes: 1 << 20,
        max_bytes_name: "the test limit",
        links: true,
    };

    fn header(kind: tar::EntryType, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(size);
        header.set_mode(0o644);
        header
    }

    fn unpack_tar(
        build: impl FnOnce(&mut tar::Builder<Vec<u8>>),
    ) -> (tempfile::TempDir, Result<(), ExtractError>) {
        let mut builder = tar::Builder::new(Vec::new());
        build(&mut builder);
        let bytes = builder.into_inner().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let result = unpack(&bytes[..], &dir.path().join("x"), RULES, Deadline::none());
        (dir, result)
    }

    #[test]
    fn files_directories_and_inner_links_are_unpacked() {
        let (dir, result) = unpack_tar(|b| {
            b.append_data(
                &mut header(tar::EntryType::Regular, 2),
                "a/b/f.txt",
                &b"hi"[..],
            )
            .unwrap();
            b.append_data(&mut header(tar::EntryType::Directory, 0), "c/", &b""[..])
                .unwrap();
            let mut link = header(tar::EntryType::Symlink, 0);
            b.append_link(&mut link, "c/l", "../a/b/f.txt").unwrap();
            let mut hard = header(tar::EntryType::Link, 0);
            b.append_link(&mut hard, "h", "a/b/f.txt").unwrap();
        });
        result.unwrap();
        let x = dir.path().join("x");
        assert_eq!(std::fs::read(x.join("a/b/f.txt")).unwrap(), b"hi");
        assert_eq!(std::fs::read(x.join("c/l")).unwrap(), b"hi");
        assert_eq!(std::fs::read(x.join("h")).unwrap(), b"hi");
    }

    #[test]
    fn links_leaving_the_archive_are_refused() {
        for target in ["/etc/passwd", "../../x", "a/../x"] {
            let (_dir, result) = unpack_tar(|b| {
                let mut link = header(tar::EntryType::Symlink, 0);
                b.append_link(&mut link, "d/l", target).unwrap();
            });
            let message = result.unwrap_err().to_string();
            assert!(
                message.contains("may point outside the archive"),
                "{message}"
            );
        }
    }

    #[test]
    fn nothing_is_written_through_a_link() {
        let (dir, result) = unpack_tar(|b| {
            let mut link = header(tar::EntryType::Symlink, 0);
            b.append_link(&mut link, "up", ".").unwrap();
            b.append_data(&mut header(tar::EntryType::Regular, 1), "up/f", &b"x"[..])
                .unwrap();
        });
        let message = result.unwrap_err().to_string();
        assert!(message.contains("`up/f` conflicts"), "{message}");
        assert!(!dir.path().join("x/f").exists());
    }

    #[test]
    fn too_deep_too_large_and_special_entries_are_refused() {
        let deep = vec!["d"; MAX_DEPTH + 1].join("/");
        let (_dir, result) = unpack_tar(|b| {
            b.append_data(&mut header(tar::EntryType::Directory, 0), &deep, &b""[..])
                .unwrap();
        });
        assert!(matches!(result, Err(ExtractError::TooDeep { .. })));
        let big = vec![0u8; (1 << 20) + 1];
        let (_dir, result) = unpack_tar(|b| {
            b.append_data(
                &mut header(tar::EntryType::Regular, big.len() as u64),
                "big",
                &big[..],
            )
            .unwrap();
        });
        let message = result.unwrap_err().to_string();
        assert_eq!(
            message,
            "the archive expands beyond the test limit of 1048576 bytes"
        );
        let (_dir, result) = unpack_tar(|b| {
            b.append_data(&mut header(tar::EntryType::Fifo, 0), "p", &b""[..])
                .unwrap();
        });
        let message = result.unwrap_err().to_string();
        assert!(message.contains("`p` is a FIFO"), "{message}");
    }

    #[test]
    fn a_later_entry_replaces_an_earlier_file() {
        let (dir, result) = unpack_tar(|b| {
            b.append_data(&mut header(tar::EntryType::Regular, 3), "f", &b"old"[..])
                .unwrap();
            b.append_data(&mut header(tar::EntryType::Regular, 3), "f", &b"new"[..])
                .unwrap();
        });
        result.unwrap();
        assert_eq!(std::fs::read(dir.path().join("x/f")).unwrap(), b"new");
    }
}
