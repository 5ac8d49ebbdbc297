//! BLAKE3 hashes of files and trees, for receipts.
//!
//! A tree's hash covers every entry's relative path, kind, executable bit
//! and contents (symlinks by their target text), in sorted order, so two
//! trees hash alike exactly when they hold the same things. Permission bits
//! other than "executable" are left out: they come from each host's umask,
//! not from the job.

use crate::outputs::nofollow;
use cap_fs_ext::DirExt;
use cap_std::fs::Dir;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// A BLAKE3 digest as lowercase hex.
pub fn hex(hash: &blake3::Hash) -> String {
    hash.to_hex().to_string()
}

/// The hash of a file's contents. The file must be a regular file (a FIFO or a
/// device is refused, never opened blocking); links in `path` are followed, as
/// for a module path brine resolved itself.
pub fn file_hash(path: &Path) -> io::Result<blake3::Hash> {
    hash_contents(nofollow::open_regular_following(path)?)
}

/// Reads `file` to its end in large chunks, each hashed on every core (BLAKE3 is
/// a tree hash, so the result is the same): receipts hash every input and
/// output byte, which is most of their cost on I/O-heavy jobs.
fn hash_contents(mut file: File) -> io::Result<blake3::Hash> {
    const CHUNK: usize = 8 << 20;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        if n >= 1 << 20 {
            hasher.update_rayon(chunk);
        } else {
            hasher.update(chunk);
        }
    }
    Ok(hasher.finalize())
}

/// Every file (and symlink) under `root` with its hash, by `/`-separated relative
/// path; `root` itself may be a file (then its one entry is named `""`).
/// Special files (FIFOs, sockets, devices) are left out; see [`tree_listing`].
pub fn file_hashes(root: &Path) -> io::Result<BTreeMap<String, String>> {
    tree_listing(root).map(|listing| listing.files)
}

/// What hashing a tree found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Every directory, regular file and symlink, by relative path, with its hash.
    pub files: BTreeMap<String, String>,
    /// Relative paths of special files (FIFOs, sockets, devices): never opened,
    /// so hashing cannot block on them, and not part of the tree's hash.
    pub skipped: Vec<String>,
}

/// Hashes the tree at `root` without following any link (a link is hashed by
/// its target's text) and without opening anything but regular files.
///
/// Below `root`, everything is reached through open directory handles, never by
/// path: a guest of another partition writing the same tree while it is hashed
/// can swap a directory for a link, and a walk by path would follow it.
pub fn tree_listing(root: &Path) -> io::Result<Listing> {
    let mut listing = Listing::default();
    let meta = std::fs::symlink_metadata(root)?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        let target = std::fs::read_link(root)?;
        listing.files.insert(String::new(), link_entry(&target));
    } else if kind.is_dir() {
        let dir = Dir::open_ambient_dir(root, cap_std::ambient_authority())?;
        collect_dir(&dir, "", &mut listing)?;
    } else if kind.is_file() {
        let file = nofollow::open_regular(root)?;
        listing.files.insert(String::new(), file_entry(file)?);
    } else {
        listing.skipped.push(String::new());
    }
    Ok(listing)
}

/// Lists directory `dir` (at `rel`) and everything below it.
fn collect_dir(dir: &Dir, rel: &str, out: &mut Listing) -> io::Result<()> {
    // The root is implied; every other directory is listed, so empty ones count.
    if !rel.is_empty() {
        out.files.insert(format!("{rel}/"), "dir".to_string());
    }
    let mut entries = Vec::new();
    for entry in dir.entries()? {
        let entry = entry?;
        // The entry's own type (`d_type`, or an lstat): never through a link.
        entries.push((entry.file_name(), entry.file_type()?));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, kind) in entries {
        let child = if rel.is_empty() {
            name.to_string_lossy().into_owned()
        } else {
            format!("{rel}/{}", name.to_string_lossy())
        };
        if kind.is_symlink() {
            let entry = link_entry(&dir.read_link(&name)?);
            out.files.insert(child, entry);
        } else if kind.is_dir() {
            collect_dir(&dir.open_dir_nofollow(&name)?, &child, out)?;
        } else if kind.is_file() {
            let entry = file_entry(nofollow::open_regular_in(dir, &name)?)?;
            out.files.insert(child, entry);
        } else {
            out.skipped.push(child);
        }
    }
    Ok(())
}

/// A link's entry: the hash of its target's text.
fn link_entry(target: &Path) -> String {
    let digest = blake3::hash(target.to_string_lossy().as_bytes());
    format!("symlink:{}", hex(&digest))
}

/// A regular file's entry: its kind (executable or not) and the hash of its contents.
fn file_entry(file: File) -> io::Result<String> {
    let kind = if is_executable(&file.metadata()?) {
        "exec"
    } else {
        "file"
    };
    Ok(format!("{kind}:{}", hex(&hash_contents(file)?)))
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

/// The Merkle-style hash of a tree listing (as [`file_hashes`] returns it).
pub fn tree_hash(entries: &BTreeMap<String, String>) -> String {
    let mut hasher = blake3::Hasher::new_derive_key("brine 2026 tree hash");
    for (path, what) in entries {
        hasher.update(&(path.len() as u64).to_le_bytes());
        hasher.update(path.as_bytes());
        hasher.update(&(what.len() as u64).to_le_bytes());
        hasher.update(what.as_bytes());
    }
    hex(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_hash_by_content_and_names() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for dir in [a.path(), b.path()] {
            std::fs::create_dir(dir.join("sub")).unwrap();
            std::fs::write(dir.join("sub/x.txt"), "same").unwrap();
        }
        let ha = tree_hash(&file_hashes(a.path()).unwrap());
        assert_eq!(ha, tree_hash(&file_hashes(b.path()).unwrap()));
        std::fs::write(b.path().join("sub/x.txt"), "Same").unwrap();
        let listing = file_hashes(b.path()).unwrap();
        assert_ne!(ha, tree_hash(&listing));
        assert!(listing["sub/x.txt"].starts_with("file:"));
    }

    #[test]
    fn special_files_are_skipped_and_named_never_opened() {
        let a = tempfile::tempdir().unwrap();
        std::fs::write(a.path().join("x.txt"), "x").unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            a.path().join("pipe"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let listing = tree_listing(a.path()).unwrap();
        assert_eq!(listing.skipped, ["pipe"]);
        assert_eq!(listing.files.keys().collect::<Vec<_>>(), ["x.txt"]);
        assert!(file_hash(&a.path().join("pipe")).is_err());
    }
}
