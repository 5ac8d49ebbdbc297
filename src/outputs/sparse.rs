//! Copying files that may be sparse without filling their holes.
//!
//! A guest can write one byte at offset 1 TiB: the file takes one block on
//! disk but a naive copy writes a terabyte of zeros. Data segments are found
//! with `SEEK_DATA`/`SEEK_HOLE`; where the file system cannot say, all-zero
//! blocks are skipped instead. The copy gets its length with `set_len`, so the
//! skipped ranges read back as zeros exactly as in the original.

use rustix::fs::SeekFrom;
use rustix::io::Errno;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// How much is read and written at once.
const BLOCK: usize = 1 << 20;

/// Copies the whole of `from` into the new, empty file `to`, keeping holes; returns its length.
pub fn copy(from: &File, to: &File) -> io::Result<u64> {
    let len = from.metadata()?.len();
    let mut offset = 0;
    while offset < len {
        let data = match rustix::fs::seek(from, SeekFrom::Data(offset)) {
            Ok(data) => data,
            // Only a hole is left after `offset`.
            Err(Errno::NXIO) => break,
            // The file system cannot tell holes from data: read it all, skipping zeros.
            Err(Errno::INVAL | Errno::OPNOTSUPP) => {
                copy_range(from, to, offset, len)?;
                break;
            }
            Err(e) => return Err(e.into()),
        };
        let hole = rustix::fs::seek(from, SeekFrom::Hole(data))?.min(len);
        copy_range(from, to, data, hole)?;
        offset = hole.max(data + 1);
    }
    to.set_len(len)?;
    Ok(len)
}

/// Copies bytes `start..end`, leaving all-zero blocks unwritten (they stay holes in `to`).
fn copy_range(from: &File, to: &File, start: u64, end: u64) -> io::Result<()> {
    let mut buf = vec![0u8; BLOCK];
    let mut at = start;
    while at < end {
        let want = usize::try_from(end - at).map_or(BLOCK, |left| left.min(BLOCK));
        let chunk = buf.get_mut(..want).unwrap_or_default();
        let n = from.read_at(chunk, at)?;
        if n == 0 {
            break; // the file shrank since its length was read
        }
        let read = chunk.get(..n).unwrap_or_default();
        if read.iter().any(|&b| b != 0) {
            to.write_all_at(read, at)?;
        }
        at += n as u64;
    }
    Ok(())
}

/// Bytes of `file`'s length that are not allocated on disk (its holes, roughly).
pub fn hole_bytes(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.len().saturating_sub(meta.blocks().saturating_mul(512))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn holes_stay_holes_and_bytes_survive() {
        let tmp = tempfile::tempdir().unwrap();
        let src_path = tmp.path().join("src");
        let src = File::create_new(&src_path).unwrap();
        src.write_all_at(b"head", 0).unwrap();
        src.write_all_at(b"tail", 1 << 30).unwrap();
        let dst_path = tmp.path().join("dst");
        let dst = File::create_new(&dst_path).unwrap();
        let src = File::open(&src_path).unwrap();
        assert_eq!(copy(&src, &dst).unwrap(), (1 << 30) + 4);
        let meta = dst.metadata().unwrap();
        assert_eq!(meta.len(), (1 << 30) + 4);
        assert!(meta.blocks() * 512 < 16 << 20, "{} blocks", meta.blocks());
        let mut probe = [0u8; 4];
        dst.read_exact_at(&mut probe, 0).unwrap();
        assert_eq!(&probe, b"head");
        dst.read_exact_at(&mut probe, 1 << 30).unwrap();
        assert_eq!(&probe, b"tail");
        dst.read_exact_at(&mut probe, 1 << 20).unwrap();
        assert_eq!(probe, [0; 4]);
    }
}
