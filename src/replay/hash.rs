//! BLAKE3 hashes of files and trees, for receipts.
//!
//! A tree's hash covers every entry's relative path, kind, executable bit
//! and contents (symlinks by their target text), in sorted order, so two
//! trees hash alike exactly when they hold the same things. Permission bits
//! other than "executable" are left out: they come from each host's umask,
//! not from the job.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// A BLAKE3 digest as lowercase hex.
pub fn hex(hash: &blake3::Hash) -> String {
    hash.to_hex().to_string()
}

/// The hash of a file's contents. Large files are memory-mapped and hashed on
/// every core (BLAKE3 is a tree hash, so the result is the same): receipts hash
/// every input and output byte, which is most of their cost on I/O-heavy jobs.
pub fn file_hash(path: &Path) -> io::Result<blake3::Hash> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_mmap_rayon(path)?;
    Ok(hasher.finalize())
}

/// Every file (and symlink) under `root` with its hash, by `/`-separated relative
/// path; `root` itself may be a file (then its one entry is named `""`).
pub fn file_hashes(root: &Path) -> io::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    collect(root, "", &mut out)?;
    Ok(out)
}

fn collect(path: &Path, rel: &str, out: &mut BTreeMap<String, String>) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path)?;
        let digest = blake3::hash(target.to_string_lossy().as_bytes());
        out.insert(rel.to_string(), format!("symlink:{}", hex(&digest)));
    } else if meta.is_dir() {
        // The root is implied; every other directory is listed, so empty ones count.
        if !rel.is_empty() {
            out.insert(format!("{rel}/"), "dir".to_string());
        }
        let mut names: Vec<_> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        names.sort();
        for name in names {
            let child = if rel.is_empty() {
                name.to_string_lossy().into_owned()
            } else {
                format!("{rel}/{}", name.to_string_lossy())
            };
            collect(&path.join(&name), &child, out)?;
        }
    } else {
        let kind = if is_executable(&meta) { "exec" } else { "file" };
        out.insert(
            rel.to_string(),
            format!("{kind}:{}", hex(&file_hash(path)?)),
        );
    }
    Ok(())
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
}
