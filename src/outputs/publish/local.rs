//! `local`: copy the results into a directory, or pack them into a `.tar.gz`.
//!
//! `Params.Path` (or `URL`, optionally `file://`) names the destination; a
//! relative path is resolved against the job file's directory. A path ending
//! in `.tar.gz` or `.tgz` gets an archive, anything else a directory. Either is
//! assembled under a temporary name beside it and renamed into place, so a
//! reader never sees half a result. The destination must not exist yet (an
//! empty directory is fine).

use super::{describe_files, entries, expand, needs_partition_suffix, open_result};
use super::{ConfigError, Context, Entry, Params, PublishError, Published, Publisher};
use std::path::{Path, PathBuf};

/// The local publisher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    /// The destination, possibly with placeholders; absolute or relative to the cwd.
    pub path: String,
}

impl Local {
    /// Reads `Path` (or `URL`) from a publisher's parameters.
    pub fn from_params(params: &Params<'_>, base: &Path) -> Result<Self, ConfigError> {
        params.only("local", &["Path", "URL"])?;
        let given = match (params.string("Path")?, params.string("URL")?) {
            (Some(path), _) | (None, Some(path)) => path,
            (None, None) => {
                params.required("local", "Path", "a destination directory or .tar.gz file")?
            }
        };
        let given = given.strip_prefix("file://").unwrap_or(&given).to_string();
        let path = base.join(&given).to_string_lossy().into_owned();
        Ok(Local { path })
    }

    /// Where partition `cx` publishes.
    pub fn destination(&self, cx: &Context) -> PathBuf {
        let path = expand(&self.path, cx);
        if !needs_partition_suffix(&self.path, cx) {
            return PathBuf::from(path);
        }
        let index = cx.partition_index;
        for ext in [".tar.gz", ".tgz"] {
            if let Some(stem) = path.strip_suffix(ext) {
                return PathBuf::from(format!("{stem}-{index}{ext}"));
            }
        }
        PathBuf::from(path).join(index.to_string())
    }
}

/// Whether `path` names an archive.
pub fn is_archive(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

impl Publisher for Local {
    fn local_destination(&self) -> Option<PathBuf> {
        // Placeholders ({jobID}, ...) are filled per run: the fixed part before them.
        let fixed = self.path.split('{').next().unwrap_or_default();
        let path = Path::new(fixed);
        if fixed.ends_with('/') || fixed.len() == self.path.len() {
            Some(path.to_path_buf())
        } else {
            path.parent().map(Path::to_path_buf)
        }
    }

    fn publish(&self, results: &Path, cx: &Context) -> Result<Option<Published>, PublishError> {
        let dest = self.destination(cx);
        let location = dest.display().to_string();
        let io = |path: &Path| {
            let location = location.clone();
            let path = path.to_path_buf();
            move |source| PublishError::Io {
                location,
                path,
                source,
            }
        };
        let found = entries(results).map_err(io(results))?;
        let objects = describe_files(&found, |e| e.name.clone()).map_err(io(results))?;
        refuse_existing(&dest).map_err(io(&dest))?;
        let tmp = temporary_beside(&dest).map_err(io(&dest))?;
        let scratch = crate::cancel::remove_on_signal(tmp.clone());
        let written = if is_archive(&dest) {
            write_archive(&found, &tmp)
        } else {
            copy_tree(&found, &tmp)
        };
        let placed = written.and_then(|()| scratch.settle(|| place(&tmp, &dest)));
        if let Err(e) = placed {
            let _ = std::fs::remove_dir_all(&tmp).or_else(|_| std::fs::remove_file(&tmp));
            return Err(io(&dest)(e));
        }
        Ok(Some(Published {
            kind: "local".into(),
            location,
            objects,
        }))
    }
}

/// Fails when `dest` exists, unless it is an empty directory.
fn refuse_existing(dest: &Path) -> std::io::Result<()> {
    let exists = match std::fs::read_dir(dest) {
        Ok(mut children) => children.next().is_some(),
        Err(_) => dest.symlink_metadata().is_ok(),
    };
    if exists {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "already exists; remove it or choose another Publisher Path (placeholders {jobID}, {executionID} help)",
        ));
    }
    Ok(())
}

/// A fresh path beside `dest` (same file system, so the final rename is atomic).
fn temporary_beside(dest: &Path) -> std::io::Result<PathBuf> {
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)?;
    let name = dest
        .file_name()
        .map_or_else(|| "results".into(), |n| n.to_string_lossy().into_owned());
    Ok(parent.join(format!(".{name}.brine-{}", crate::outputs::unique_suffix())))
}

/// Moves the finished `tmp` to `dest` (replacing an empty directory).
fn place(tmp: &Path, dest: &Path) -> std::io::Result<()> {
    if dest.is_dir() {
        std::fs::remove_dir(dest)?;
    }
    std::fs::rename(tmp, dest)
}

/// Copies the entries into a new directory `dir`: files opened without
/// following links, holes kept (see [`crate::outputs::sparse`]).
fn copy_tree(found: &[Entry], dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir(dir)?;
    for entry in found {
        let to = dir.join(&entry.name);
        if entry.is_dir {
            std::fs::create_dir_all(&to)?;
        } else {
            let from = open_result(&entry.path)?;
            let copy = std::fs::File::create_new(&to)?;
            crate::outputs::sparse::copy(&from, &copy)?;
            copy.set_permissions(from.metadata()?.permissions())?;
        }
    }
    Ok(())
}

/// Writes the entries into a new gzip-compressed tar file `file`.
fn write_archive(found: &[Entry], file: &Path) -> std::io::Result<()> {
    let out = std::fs::File::create_new(file)?;
    let gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    for entry in found {
        if entry.is_dir {
            let mut header = tar::Header::new_gnu();
            header.set_metadata_in_mode(
                &std::fs::symlink_metadata(&entry.path)?,
                tar::HeaderMode::Complete,
            );
            tar.append_data(&mut header, &entry.name, std::io::empty())?;
        } else {
            // Opened without following a link; tar stores holes as zeros, bounded by open_result.
            let mut file = open_result(&entry.path)?;
            let mut header = tar::Header::new_gnu();
            header.set_metadata_in_mode(&file.metadata()?, tar::HeaderMode::Complete);
            tar.append_data(&mut header, &entry.name, &mut file)?;
        }
    }
    let out = tar.into_inner()?.finish()?;
    out.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(index: u32, count: u32) -> Context {
        Context {
            job_id: "j".into(),
            execution_id: "e".into(),
            partition_index: index,
            partition_count: count,
        }
    }

    #[test]
    fn partitions_get_their_own_destination() {
        let dir = Local { path: "out".into() };
        assert_eq!(dir.destination(&cx(0, 1)), PathBuf::from("out"));
        assert_eq!(dir.destination(&cx(1, 2)), PathBuf::from("out/1"));
        let tgz = Local {
            path: "r.tar.gz".into(),
        };
        assert_eq!(tgz.destination(&cx(1, 2)), PathBuf::from("r-1.tar.gz"));
    }

    #[test]
    fn a_directory_and_an_archive_hold_the_same_files() {
        let tmp = tempfile::tempdir().unwrap();
        let results = tmp.path().join("results");
        std::fs::create_dir_all(results.join("out/empty")).unwrap();
        std::fs::write(results.join("stdout"), "hello").unwrap();
        std::fs::write(results.join("out/a.txt"), "a").unwrap();
        let dir = tmp.path().join("pub/dir");
        let local = Local {
            path: dir.to_string_lossy().into_owned(),
        };
        let published = local.publish(&results, &cx(0, 1)).unwrap().unwrap();
        assert_eq!(published.objects.len(), 2);
        assert_eq!(std::fs::read_to_string(dir.join("out/a.txt")).unwrap(), "a");
        assert!(dir.join("out/empty").is_dir());
        assert!(local.publish(&results, &cx(0, 1)).is_err(), "exists now");

        let archive = tmp.path().join("pub/r.tar.gz");
        let local = Local {
            path: archive.to_string_lossy().into_owned(),
        };
        local.publish(&results, &cx(0, 1)).unwrap();
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(&archive).unwrap());
        let mut names: Vec<String> = tar::Archive::new(gz)
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["out", "out/a.txt", "out/empty", "stdout"]);
        let leftovers = std::fs::read_dir(tmp.path().join("pub")).unwrap().count();
        assert_eq!(leftovers, 2, "no temporary files are left");
    }
}
