//! Removing the symbolic links a guest left in its outputs.
//!
//! brine publishes no links at all, not only those leading out of the output
//! directory: whether a link escapes depends on the links it passes through,
//! and a reader (a person, a publisher, `tar -x`) follows it on their own
//! host. Outputs are walked through directory handles without following
//! anything, so a link cannot lead the walk itself elsewhere.

use super::ResultsError;
use cap_fs_ext::DirExt;
use cap_std::fs::Dir;
use std::path::Path;

/// How deep an output tree may nest.
const MAX_DEPTH: usize = 512;

/// Removes every symbolic link under `dir`; returns their paths, each as
/// `prefix/relative/path`, in name order.
pub fn drop_links(dir: &Path, prefix: &str) -> Result<Vec<String>, ResultsError> {
    let failed = |source| ResultsError::Io {
        what: "cannot remove links from",
        path: dir.to_path_buf(),
        source,
    };
    let root = Dir::open_ambient_dir(dir, cap_std::ambient_authority()).map_err(failed)?;
    let mut dropped = Vec::new();
    walk(&root, prefix, 0, &mut dropped).map_err(failed)?;
    dropped.sort();
    Ok(dropped)
}

fn walk(dir: &Dir, prefix: &str, depth: usize, dropped: &mut Vec<String>) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(std::io::Error::other(format!(
            "{prefix}: nested more than {MAX_DEPTH} directories deep"
        )));
    }
    for entry in dir.entries()? {
        let entry = entry?;
        let name = entry.file_name();
        let path = format!("{prefix}/{}", name.to_string_lossy());
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            dir.remove_file(&name)?;
            dropped.push(path);
        } else if kind.is_dir() {
            walk(&dir.open_dir_nofollow(&name)?, &path, depth + 1, dropped)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn every_link_goes_and_is_named_files_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir_all(out.join("sub")).unwrap();
        std::fs::write(out.join("sub/a.txt"), "a").unwrap();
        symlink("../../../../etc", out.join("up")).unwrap();
        symlink("a.txt", out.join("sub/inner")).unwrap();
        let dropped = drop_links(&out, "out").unwrap();
        assert_eq!(dropped, ["out/sub/inner", "out/up"]);
        assert!(out.join("sub/a.txt").is_file());
        assert!(out.join("up").symlink_metadata().is_err());
        assert!(
            std::path::Path::new("/etc").is_dir(),
            "the target is untouched"
        );
    }
}
