//! Metadata conversion: host file types, attributes, directory entries and
//! times in the WASI forms the [`Host`](crate::host::Host) trait speaks.

use crate::host::abi::WasiResult;
use crate::host::{DirEntry, Filestat, Filetype, SetTime};
use cap_fs_ext::SystemTimeSpec;
use cap_std::fs::{Dir, Metadata};
use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn nanos_since_epoch(time: io::Result<cap_std::time::SystemTime>) -> u64 {
    time.ok()
        .and_then(|t| t.into_std().duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The WASI kind of a host file type (FIFOs and sockets are both stream sockets).
pub(super) fn filetype_of(ft: cap_std::fs::FileType) -> Filetype {
    #[cfg(unix)]
    {
        use cap_std::fs::FileTypeExt;
        if ft.is_block_device() {
            return Filetype::BlockDevice;
        }
        if ft.is_char_device() {
            return Filetype::CharacterDevice;
        }
        if ft.is_fifo() || ft.is_socket() {
            return Filetype::SocketStream;
        }
    }
    if ft.is_dir() {
        Filetype::Directory
    } else if ft.is_file() {
        Filetype::RegularFile
    } else if ft.is_symlink() {
        Filetype::SymbolicLink
    } else {
        Filetype::Unknown
    }
}

/// The WASI attributes of host metadata (a missing change time reads as the modification time).
pub(super) fn filestat_of(meta: &Metadata) -> Filestat {
    use cap_fs_ext::MetadataExt;
    let mtim = nanos_since_epoch(meta.modified());
    Filestat {
        dev: meta.dev(),
        ino: meta.ino(),
        filetype: filetype_of(meta.file_type()),
        nlink: meta.nlink(),
        size: meta.len(),
        atim: nanos_since_epoch(meta.accessed()),
        mtim,
        ctim: change_time(meta).unwrap_or(mtim),
    }
}

#[cfg(unix)]
fn change_time(meta: &Metadata) -> Option<u64> {
    use cap_std::fs::MetadataExt;
    let secs = u64::try_from(meta.ctime()).ok()?;
    let nanos = u64::try_from(meta.ctime_nsec()).ok()?;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

#[cfg(not(unix))]
fn change_time(_meta: &Metadata) -> Option<u64> {
    None
}

/// Every entry of a host directory, `.` and `..` first.
pub(super) fn read_host_dir(dir: &Dir) -> WasiResult<Vec<DirEntry>> {
    use cap_fs_ext::MetadataExt;
    let own_ino = dir.dir_metadata()?.ino();
    // The parent of a preopen is out of reach, so `..` reports the directory itself.
    let parent_ino = dir.symlink_metadata("..").map_or(own_ino, |m| m.ino());
    let mut entries = vec![dot_entry(b".", own_ino), dot_entry(b"..", parent_ino)];
    for entry in dir.entries()? {
        let entry = entry?;
        let meta = entry.metadata()?;
        entries.push(DirEntry {
            name: os_bytes(&entry.file_name()),
            ino: meta.ino(),
            filetype: filetype_of(meta.file_type()),
        });
    }
    Ok(entries)
}

/// The `.` or `..` entry of a directory listing.
pub(super) fn dot_entry(name: &[u8], ino: u64) -> DirEntry {
    DirEntry {
        name: name.to_vec(),
        ino,
        filetype: Filetype::Directory,
    }
}

/// A host name as the bytes the guest sees.
#[cfg(unix)]
pub(super) fn os_bytes(name: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    name.as_bytes().to_vec()
}

/// A host name as the bytes the guest sees.
#[cfg(not(unix))]
pub(super) fn os_bytes(name: &std::ffi::OsStr) -> Vec<u8> {
    name.to_string_lossy().into_owned().into_bytes()
}

fn system_time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

/// A new time for cap-std's path-based `set_times` (`None`: keep it).
pub(super) fn time_spec(time: SetTime) -> Option<SystemTimeSpec> {
    match time {
        SetTime::Keep => None,
        SetTime::Now => Some(SystemTimeSpec::SymbolicNow),
        SetTime::At(nanos) => Some(SystemTimeSpec::Absolute(
            cap_std::time::SystemTime::from_std(system_time(nanos)),
        )),
    }
}

/// New times for std's `File::set_times`, which has no "now" of its own.
pub(super) fn file_times(atim: SetTime, mtim: SetTime) -> std::fs::FileTimes {
    let resolve = |t: SetTime| match t {
        SetTime::Keep => None,
        SetTime::Now => Some(SystemTime::now()),
        SetTime::At(nanos) => Some(system_time(nanos)),
    };
    let mut times = std::fs::FileTimes::new();
    if let Some(a) = resolve(atim) {
        times = times.set_accessed(a);
    }
    if let Some(m) = resolve(mtim) {
        times = times.set_modified(m);
    }
    times
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_starts_with_dot_and_dot_dot_and_types_each_entry() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("file"), "12345").unwrap();
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        let dir = Dir::open_ambient_dir(tmp.path(), cap_std::ambient_authority()).unwrap();
        let entries = read_host_dir(&dir).unwrap();
        let names: Vec<&[u8]> = entries.iter().map(|e| e.name.as_slice()).collect();
        assert_eq!(&names[..2], [b".".as_slice(), b"..".as_slice()]);
        let kind = |name: &[u8]| entries.iter().find(|e| e.name == name).unwrap().filetype;
        assert_eq!(kind(b"file"), Filetype::RegularFile);
        assert_eq!(kind(b"sub"), Filetype::Directory);
        let stat = filestat_of(&dir.metadata("file").unwrap());
        assert_eq!(
            (stat.filetype, stat.size, stat.nlink),
            (Filetype::RegularFile, 5, 1)
        );
        assert!(stat.mtim > 0 && stat.ctim > 0);
    }

    #[test]
    fn set_times_reach_the_file_to_the_nanosecond() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        std::fs::write(&path, "").unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        let at = 1_600_000_000_123_456_789;
        file.set_times(file_times(SetTime::Keep, SetTime::At(at)))
            .unwrap();
        let dir = Dir::open_ambient_dir(tmp.path(), cap_std::ambient_authority()).unwrap();
        assert_eq!(filestat_of(&dir.metadata("f").unwrap()).mtim, at);
        assert!(time_spec(SetTime::Keep).is_none());
    }
}
