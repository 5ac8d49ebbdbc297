//! Copying a test's directory tree (files, directories and symlinks as they are).

use std::io;
use std::path::Path;

/// Copies `from` to `to` (which must not exist), keeping symlinks as symlinks.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        return copy_symlink(from, to);
    }
    if !meta.is_dir() {
        std::fs::copy(from, to)?;
        return Ok(());
    }
    std::fs::create_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        copy_tree(&entry.path(), &to.join(entry.file_name()))?;
    }
    Ok(())
}

#[cfg(unix)]
fn copy_symlink(from: &Path, to: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(std::fs::read_link(from)?, to)
}

#[cfg(not(unix))]
fn copy_symlink(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::copy(from, to).map(|_| ())
}

/// One entry of a directory tree snapshot: its relative path and what it is
/// (`dir`, `symlink -> TARGET`, or `file` with its content).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TreeEntry {
    /// The path relative to the tree's root, `/`-separated.
    pub path: String,
    /// `dir`, `symlink -> TARGET`, or `file: CONTENT` (lossy UTF-8).
    pub what: String,
}

/// Every entry under `root`, sorted by path (unreadable entries are listed as such).
pub fn snapshot(root: &Path) -> Vec<TreeEntry> {
    let mut entries = Vec::new();
    walk(root, "", &mut entries);
    entries.sort();
    entries
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<TreeEntry>) {
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in read.flatten() {
        let path = format!("{prefix}{}", entry.file_name().to_string_lossy());
        let full = entry.path();
        let what = match std::fs::symlink_metadata(&full) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&full).map(|t| t.display().to_string());
                format!("symlink -> {}", target.unwrap_or_default())
            }
            Ok(m) if m.is_dir() => {
                walk(&full, &format!("{path}/"), out);
                "dir".to_string()
            }
            Ok(_) => match std::fs::read(&full) {
                Ok(bytes) => format!("file: {}", String::from_utf8_lossy(&bytes)),
                Err(e) => format!("unreadable file: {e}"),
            },
            Err(e) => format!("unreadable: {e}"),
        };
        out.push(TreeEntry { path, what });
    }
}
