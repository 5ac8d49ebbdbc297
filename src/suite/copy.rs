//! Copying a test's directory tree (files, directories and symlinks as they are).

use std::io;
use std::path::Path;

/// Copies `from` to `to` (which must not exist), keeping symlinks as symlinks.
/// FIFOs, sockets and devices are left out: copying one would block or never end.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        return copy_symlink(from, to);
    }
    if meta.is_file() {
        std::fs::copy(from, to)?;
        return Ok(());
    }
    if !meta.is_dir() {
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

/// How much of each file a snapshot holds: enough to compare what tests write,
/// bounded so a guest's huge (or sparse) file cannot exhaust memory.
const SNAPSHOT_BYTES: u64 = 1 << 20;

#[cfg(unix)]
fn special_kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "unknown"
    }
}

#[cfg(not(unix))]
fn special_kind(_ft: &std::fs::FileType) -> &'static str {
    "unknown"
}

fn read_head(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(SNAPSHOT_BYTES)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
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
            Ok(m) if m.is_file() => match read_head(&full) {
                Ok(bytes) => format!("file: {}", String::from_utf8_lossy(&bytes)),
                Err(e) => format!("unreadable file: {e}"),
            },
            Ok(m) => format!("special file ({})", special_kind(&m.file_type())),
            Err(e) => format!("unreadable: {e}"),
        };
        out.push(TreeEntry { path, what });
    }
}
