//! A file writer that keeps at most a fixed number of bytes.

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Writes up to `cap` bytes to a file; the rest is dropped and the
/// truncation flag set. The guest always sees its writes succeed, so a chatty
/// program behaves the same whatever the cap.
#[derive(Debug)]
pub struct CappedFile {
    file: File,
    written: u64,
    cap: u64,
    truncated: Arc<AtomicBool>,
}

impl CappedFile {
    /// A writer over `file` keeping `cap` bytes; the flag it returns turns true on truncation.
    pub fn new(file: File, cap: u64) -> (Self, Arc<AtomicBool>) {
        let truncated = Arc::new(AtomicBool::new(false));
        let writer = CappedFile {
            file,
            written: 0,
            cap,
            truncated: truncated.clone(),
        };
        (writer, truncated)
    }
}

impl Write for CappedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.cap.saturating_sub(self.written);
        let keep = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if keep < buf.len() {
            self.truncated.store(true, Ordering::Relaxed);
        }
        if keep > 0 {
            self.file.write_all(&buf[..keep])?;
            self.written += keep as u64;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_cap() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("out");
        let (mut w, truncated) = CappedFile::new(File::create(&path).unwrap(), 5);
        assert_eq!(w.write(b"hello world").unwrap(), 11);
        w.flush().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        assert!(truncated.load(Ordering::Relaxed));
    }
}
