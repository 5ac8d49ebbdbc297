//! The guest's standard streams: what the embedder hands over, the process's
//! own descriptors, and the stdin pump that lets a read give up at the deadline.

use super::{Object, RealHost};
use crate::host::abi::{Errno, WasiResult};
use crate::host::{Filestat, Filetype, Handle};
use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The guest's standard streams, as the embedder provides them.
pub struct Stdio {
    /// What the guest reads as stdin.
    pub stdin: Box<dyn Read + Send>,
    /// Where the guest's stdout goes (`Host::flush` flushes it at the end).
    pub stdout: Box<dyn Write + Send>,
    /// Where the guest's stderr goes.
    pub stderr: Box<dyn Write + Send>,
    /// Which of stdin, stdout and stderr are terminals (the guest's libc
    /// line-buffers a terminal and fully buffers anything else).
    pub terminals: [bool; 3],
}

impl Stdio {
    /// The process's own stdin, stdout and stderr.
    pub fn inherit() -> Self {
        use std::io::IsTerminal;
        Stdio {
            stdin: match direct_stdin() {
                Some(file) => Box::new(file),
                None => Box::new(io::stdin()),
            },
            // The guest's libc buffers already, so each guest write goes straight to
            // the descriptor: output appears as the guest writes it (in order with
            // stderr, and not lost on Ctrl-C). std's own stdout would scan every
            // write for a newline; a plain file does not.
            stdout: match direct_stdout() {
                Some(file) => Box::new(file),
                None => Box::new(io::stdout()),
            },
            stderr: Box::new(io::stderr()),
            terminals: [
                io::stdin().is_terminal(),
                io::stdout().is_terminal(),
                io::stderr().is_terminal(),
            ],
        }
    }
}

/// stdin as a plain file (a duplicate of its descriptor), bypassing std's lock and buffer.
#[cfg(unix)]
fn direct_stdin() -> Option<std::fs::File> {
    use std::os::fd::AsFd;
    let owned = io::stdin().as_fd().try_clone_to_owned().ok()?;
    Some(std::fs::File::from(owned))
}

/// stdout as a plain file (a duplicate of its descriptor), bypassing std's line buffering.
#[cfg(unix)]
fn direct_stdout() -> Option<std::fs::File> {
    use std::os::fd::AsFd;
    let owned = io::stdout().as_fd().try_clone_to_owned().ok()?;
    Some(std::fs::File::from(owned))
}

#[cfg(not(unix))]
fn direct_stdin() -> Option<std::fs::File> {
    None
}

#[cfg(not(unix))]
fn direct_stdout() -> Option<std::fs::File> {
    None
}

/// Attributes of a standard stream: a terminal is a character device; a pipe
/// or file behind a stream is of unknown type, as wasi-common reports it.
pub(super) fn stream_filestat(terminal: bool) -> Filestat {
    Filestat {
        dev: 0,
        ino: 0,
        filetype: if terminal {
            Filetype::CharacterDevice
        } else {
            Filetype::Unknown
        },
        nlink: 1,
        size: 0,
        atim: 0,
        mtim: 0,
        ctim: 0,
    }
}

impl RealHost {
    /// Moves stdin's reads to a helper thread (once), so they can be waited for.
    pub(super) fn pump_stdin(&mut self) {
        let slot = self.objects.get_mut(Handle::STDIN.0 as usize);
        if let Some(slot @ Some(Object::Stdin(_))) = slot {
            if let Some(Object::Stdin(input)) = slot.take() {
                *slot = Some(Object::StdinPump(StdinPump::start(input)));
            }
        }
    }
}

/// Chunks of stdin read ahead by a thread.
pub(super) struct StdinPump {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    pending: Vec<u8>,
    offset: usize,
    /// The stream ended (the reader thread is gone).
    ended: bool,
    /// A read error seen while waiting, reported by the next read.
    error: Option<io::Error>,
}

impl StdinPump {
    /// Starts a thread that reads `input` in chunks (a couple of chunks ahead at most).
    pub(super) fn start(mut input: Box<dyn Read + Send>) -> Self {
        let (sender, chunks) = mpsc::sync_channel(2);
        std::thread::spawn(move || loop {
            let mut chunk = vec![0u8; 64 * 1024];
            match input.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => {
                    chunk.truncate(n);
                    if sender.send(Ok(chunk)).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = sender.send(Err(e));
                    return;
                }
            }
        });
        StdinPump {
            chunks,
            pending: Vec::new(),
            offset: 0,
            ended: false,
            error: None,
        }
    }

    /// Whether a read would return at once: data, the end or an error is waiting.
    fn ready(&self) -> bool {
        self.offset < self.pending.len() || self.ended || self.error.is_some()
    }

    /// Waits up to `timeout` (`None`: as long as it takes) for the reader thread's
    /// next message and keeps it; false when the time ran out first.
    fn receive(&mut self, timeout: Option<Duration>) -> bool {
        let received = match timeout {
            Some(t) => self.chunks.recv_timeout(t),
            None => self
                .chunks
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(Ok(chunk)) => {
                self.pending = chunk;
                self.offset = 0;
            }
            Ok(Err(e)) => self.error = Some(e),
            Err(mpsc::RecvTimeoutError::Timeout) => return false,
            Err(mpsc::RecvTimeoutError::Disconnected) => self.ended = true,
        }
        true
    }

    /// Whether a read would return at once, waiting up to `timeout` for data or the end.
    pub(super) fn wait(&mut self, timeout: Option<Duration>) -> bool {
        self.ready() || self.receive(timeout)
    }

    /// Reads what is available, waiting no later than `deadline`; `EINTR` when it passes.
    pub(super) fn read(&mut self, buf: &mut [u8], deadline: Option<Instant>) -> WasiResult<usize> {
        let timeout = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if !self.wait(timeout) {
            return Err(Errno::Intr);
        }
        if let Some(e) = self.error.take() {
            return Err(e.into());
        }
        let n = buf.len().min(self.pending.len() - self.offset);
        buf[..n].copy_from_slice(&self.pending[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its chunks, then fails once.
    struct Chunks(Vec<&'static [u8]>);

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let chunk = self.0.remove(0);
            buf[..chunk.len()].copy_from_slice(chunk);
            Ok(chunk.len())
        }
    }

    #[test]
    fn the_pump_reads_what_arrives_then_reports_the_error_then_the_end() {
        let mut pump = StdinPump::start(Box::new(Chunks(vec![b"hello"])));
        assert!(pump.wait(None));
        let mut buf = [0u8; 3];
        assert_eq!(pump.read(&mut buf, None), Ok(3));
        assert_eq!(&buf, b"hel");
        assert_eq!(pump.read(&mut buf, None), Ok(2));
        assert_eq!(&buf[..2], b"lo");
        assert!(pump.wait(None), "an error is ready to be read");
        let broken = Errno::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(pump.read(&mut buf, None), Err(broken));
        assert_eq!(pump.read(&mut buf, None), Ok(0));
        assert_eq!(pump.read(&mut buf, None), Ok(0));
    }

    /// A reader that never answers (its thread blocks until the test ends).
    struct Silent(mpsc::Receiver<()>);

    impl Read for Silent {
        fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
            let _ = self.0.recv();
            Ok(0)
        }
    }

    #[test]
    fn a_silent_stdin_times_out_and_a_passed_deadline_interrupts_the_read() {
        let (_keep, rx) = mpsc::channel();
        let mut pump = StdinPump::start(Box::new(Silent(rx)));
        assert!(!pump.wait(Some(Duration::from_millis(10))));
        let mut buf = [0u8; 4];
        assert_eq!(pump.read(&mut buf, Some(Instant::now())), Err(Errno::Intr));
    }
}
