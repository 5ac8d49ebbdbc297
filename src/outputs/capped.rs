//! A file writer that keeps at most a fixed number of bytes.

use super::summary::HEAD_BYTES;
use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Writes up to `cap` bytes to a file; the rest is dropped and the
/// truncation flag set. The guest always sees its writes succeed, so a chatty
/// program behaves the same whatever the cap.
#[derive(Debug)]
pub struct CappedFile {
    file: File,
    written: u64,
    cap: u64,
    captured: Arc<Captured>,
}

/// What a [`CappedFile`] kept, for `brine.json`: whether it dropped bytes, and
/// its first [`HEAD_BYTES`] as written (so the file is never read back).
#[derive(Debug, Default)]
pub struct Captured {
    truncated: AtomicBool,
    head: Mutex<Vec<u8>>,
}

impl Captured {
    /// Whether bytes past the cap were dropped.
    pub fn truncated(&self) -> bool {
        self.truncated.load(Ordering::Relaxed)
    }

    /// The first [`HEAD_BYTES`] written to the file, as text.
    pub fn head(&self) -> String {
        let head = self
            .head
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        String::from_utf8_lossy(&head).into_owned()
    }

    fn keep_head(&self, written_before: u64, bytes: &[u8]) {
        let room = HEAD_BYTES.saturating_sub(usize::try_from(written_before).unwrap_or(usize::MAX));
        if room > 0 {
            let mut head = self
                .head
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
    }
}

impl CappedFile {
    /// A writer over `file` keeping `cap` bytes, and what it kept (shared).
    pub fn new(file: File, cap: u64) -> (Self, Arc<Captured>) {
        let captured = Arc::new(Captured::default());
        let writer = CappedFile {
            file,
            written: 0,
            cap,
            captured: captured.clone(),
        };
        (writer, captured)
    }
}

impl Write for CappedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.cap.saturating_sub(self.written);
        let keep = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if keep < buf.len() {
            self.captured.truncated.store(true, Ordering::Relaxed);
        }
        if keep > 0 {
            self.file.write_all(&buf[..keep])?;
            self.captured.keep_head(self.written, &buf[..keep]);
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
        let (mut w, captured) = CappedFile::new(File::create(&path).unwrap(), 5);
        assert_eq!(w.write(b"hello world").unwrap(), 11);
        w.flush().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        assert!(captured.truncated());
        assert_eq!(captured.head(), "hello", "the head is what the file kept");
    }

    #[test]
    fn the_head_is_the_first_bytes_written_across_writes() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut w, captured) =
            CappedFile::new(File::create(tmp.path().join("out")).unwrap(), 1 << 20);
        let line = [b'x'; 1000];
        for _ in 0..3 {
            w.write_all(&line).unwrap();
        }
        w.write_all(b"tail").unwrap();
        assert!(!captured.truncated());
        assert_eq!(captured.head().len(), HEAD_BYTES);
        assert!(captured.head().bytes().all(|b| b == b'x'));
    }
}
