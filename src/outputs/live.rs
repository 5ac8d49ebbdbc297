//! Live copies of the guest's stdout and stderr, made as the guest writes
//! them, beside the capped result files: a [`LiveSink`] makes one writer per
//! partition and stream. `brine run --follow` uses [`LiveSink::terminal`]; a
//! program embedding brine gives its own.
//!
//! On the terminal one partition passes through byte for byte, as `brine wasm
//! run` does. With several, each writes whole lines prefixed `[i] ` under the
//! lock of brine's stream, so partitions running at once never interleave mid-line.

use std::io::{self, Write};
use std::sync::Arc;

/// The longest partial line held back waiting for its newline: a guest that
/// never writes one still shows its output, in pieces of this size.
const MAX_PENDING_LINE: usize = 64 * 1024;

/// One of the guest's output streams (and, on the terminal, brine's own
/// stream it is copied to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The guest's stdout.
    Stdout,
    /// The guest's stderr.
    Stderr,
}

/// Which stream a live copy is made of: the stream, and the partition that writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveStream {
    /// stdout or stderr.
    pub stream: Stream,
    /// The partition's index.
    pub partition: u32,
    /// How many partitions the job has.
    pub partitions: u32,
}

/// The writer factory a sink calls.
type MakeWriter = dyn Fn(LiveStream) -> Box<dyn Write + Send> + Send + Sync;

/// Makes the live copy of each guest stream: called once per partition and
/// stream, before the guest runs, on the thread that runs that partition
/// (partitions may run at once: the writers must not assume one thread).
/// What the guest writes reaches the writer as it is written; a writer that
/// fails is dropped and the run goes on into its result files.
///
/// ```
/// use brine::{LiveSink, LiveStream, Stream};
/// use std::io::Write;
///
/// // Every stdout write of every partition goes to this process's stdout, as is.
/// let sink = LiveSink::new(|live: LiveStream| -> Box<dyn Write + Send> {
///     match live.stream {
///         Stream::Stdout => Box::new(std::io::stdout()),
///         Stream::Stderr => Box::new(std::io::sink()),
///     }
/// });
/// # let _ = sink;
/// ```
#[derive(Clone)]
pub struct LiveSink(Arc<MakeWriter>);

impl LiveSink {
    /// A sink whose writers `make` creates.
    pub fn new(make: impl Fn(LiveStream) -> Box<dyn Write + Send> + Send + Sync + 'static) -> Self {
        LiveSink(Arc::new(make))
    }

    /// brine's own stdout and stderr (`brine run --follow`): straight through
    /// for a lone partition, whole lines prefixed `[i] ` for several.
    pub fn terminal() -> Self {
        LiveSink::new(|live: LiveStream| {
            let partition = (live.partitions > 1).then_some(live.partition);
            follower(live.stream, partition)
        })
    }

    /// The live copy of `live`.
    pub(crate) fn open(&self, live: LiveStream) -> Box<dyn Write + Send> {
        (self.0)(live)
    }
}

impl std::fmt::Debug for LiveSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveSink(..)")
    }
}

/// A destination that takes each buffer whole, never splitting it around
/// another writer's.
trait WholeWrites {
    fn write_whole(&mut self, bytes: &[u8]) -> io::Result<()>;
}

impl WholeWrites for Stream {
    /// Writes `bytes` under the stream's lock and flushes, so another
    /// thread's lines never land inside them.
    fn write_whole(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Stream::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Stream::Stderr => io::stderr().lock().write_all(bytes),
        }
    }
}

/// The terminal copy of one guest stream: straight through for a lone partition,
/// whole prefixed lines for partition `index` of several.
fn follower(stream: Stream, partition: Option<u32>) -> Box<dyn Write + Send> {
    match partition {
        None => Box::new(Passthrough(stream)),
        Some(index) => Box::new(PrefixedLines {
            stream,
            prefix: format!("[{index}] ").into_bytes(),
            pending: Vec::new(),
        }),
    }
}

/// Each write goes out at once (the guest's libc buffers already).
struct Passthrough(Stream);

impl Write for Passthrough {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_whole(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Holds a partial line until its newline arrives, then writes each complete
/// line with the partition's prefix.
struct PrefixedLines<S: WholeWrites> {
    stream: S,
    prefix: Vec<u8>,
    pending: Vec<u8>,
}

impl<S: WholeWrites> PrefixedLines<S> {
    /// Writes out every complete line held (and an over-long partial one).
    fn emit_complete_lines(&mut self) -> io::Result<()> {
        let complete = match self.pending.iter().rposition(|&b| b == b'\n') {
            Some(last) => last + 1,
            None if self.pending.len() >= MAX_PENDING_LINE => self.pending.len(),
            None => return Ok(()),
        };
        let rest = self.pending.split_off(complete);
        let lines = std::mem::replace(&mut self.pending, rest);
        let out = self.prefixed(&lines);
        self.stream.write_whole(&out)
    }

    /// `lines` with the prefix before each line, ending in a newline.
    fn prefixed(&self, lines: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(lines.len() + self.prefix.len() * 2 + 1);
        for line in lines.split_inclusive(|&b| b == b'\n') {
            out.extend_from_slice(&self.prefix);
            out.extend_from_slice(line);
        }
        if out.last() != Some(&b'\n') {
            out.push(b'\n');
        }
        out
    }
}

impl<S: WholeWrites> Write for PrefixedLines<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.emit_complete_lines()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<S: WholeWrites> Drop for PrefixedLines<S> {
    /// The guest's last line without a newline still shows, on a line of its own.
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let tail = self.prefixed(&self.pending);
            let _ = self.stream.write_whole(&tail);
        }
    }
}

/// Writes to the result file and, as it happens, to the live copy. The file
/// decides what the guest sees; a live copy that fails (brine's stdout
/// closed) is dropped, and the run goes on into its files.
pub struct Tee<W> {
    file: W,
    live: Option<Box<dyn Write + Send>>,
}

impl<W: Write> Tee<W> {
    /// `file` and its live copy.
    pub fn new(file: W, live: Box<dyn Write + Send>) -> Self {
        Tee {
            file,
            live: Some(live),
        }
    }
}

impl<W: Write> Write for Tee<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        if let Some(live) = self.live.as_mut() {
            if live.write_all(&buf[..n]).is_err() {
                self.live = None;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// What a follower wrote, each whole write kept apart.
    #[derive(Clone, Default)]
    struct Writes(Arc<Mutex<Vec<Vec<u8>>>>);

    impl WholeWrites for Writes {
        fn write_whole(&mut self, bytes: &[u8]) -> io::Result<()> {
            self.0.lock().unwrap().push(bytes.to_vec());
            Ok(())
        }
    }

    fn follow(partition: u32, chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let writes = Writes::default();
        let mut lines = PrefixedLines {
            stream: writes.clone(),
            prefix: format!("[{partition}] ").into_bytes(),
            pending: Vec::new(),
        };
        for chunk in chunks {
            assert_eq!(lines.write(chunk).unwrap(), chunk.len());
        }
        drop(lines);
        let seen = writes.0.lock().unwrap().clone();
        seen
    }

    #[test]
    fn whole_lines_get_the_prefix_and_a_split_line_waits_for_its_end() {
        let seen = follow(3, &[b"one\ntw", b"o\nthr", b"ee\n"]);
        assert_eq!(seen, [&b"[3] one\n"[..], b"[3] two\n", b"[3] three\n"]);
    }

    #[test]
    fn a_last_line_without_newline_ends_on_its_own_line() {
        assert_eq!(follow(0, &[b"a\ntail"]), [&b"[0] a\n"[..], b"[0] tail\n"]);
    }

    #[test]
    fn a_line_that_never_ends_comes_out_in_bounded_pieces() {
        let long = vec![b'x'; MAX_PENDING_LINE + 10];
        let seen = follow(1, &[&long, b"\n"]);
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].len(), 4 + MAX_PENDING_LINE + 10 + 1);
        assert_eq!(seen[1], b"[1] \n");
    }

    #[test]
    fn the_file_decides_and_a_failing_live_copy_is_dropped() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut tee = Tee::new(Vec::new(), Box::new(Broken));
        assert_eq!(tee.write(b"abc").unwrap(), 3);
        assert!(tee.live.is_none());
        assert_eq!(tee.write(b"def").unwrap(), 3);
        assert_eq!(tee.file, b"abcdef");
    }
}
