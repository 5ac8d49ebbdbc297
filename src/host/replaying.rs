//! The replaying host: serves a journal's answers back to the guest.
//!
//! Observations (time, randomness, stdin and file contents, stats, directory
//! listings, link targets, HTTP responses) come from the journal, so the guest sees exactly
//! what it saw when it was recorded, even if that run was not deterministic.
//! Actions (opening, writing, creating, removing...) are carried out on a real
//! host, so stdout, stderr and outputs are produced again, and each result is
//! checked against the journal. The first call that differs from the journal
//! (another function, other arguments, another result) is a divergence: it is
//! reported by call index, function and difference, and every later call fails.

use super::answers::{answer_of, Record};
use super::recording::recorded_chunks;
use super::{
    wrapped_methods, Clock, DirEntry, Filestat, Handle, Host, OpenRequest, Opened, SetTime,
};
use crate::host::abi::{Errno, WasiResult};
use crate::host::journal::{Answer, Entry};
use crate::host::net::{HttpError, HttpRequest, HttpResult};
use std::io::SeekFrom;
use std::sync::{Arc, Mutex};

/// Where the replay reports its first divergence.
pub type Divergence = Arc<Mutex<Option<String>>>;

/// Serves recorded answers; performs actions on `inner`.
pub struct ReplayingHost {
    inner: Box<dyn Host + Send>,
    entries: Vec<Entry>,
    next: usize,
    divergence: Divergence,
}

impl ReplayingHost {
    /// Replays `entries`, acting through `inner`; divergences go to `divergence`.
    pub fn new(inner: Box<dyn Host + Send>, entries: Vec<Entry>, divergence: Divergence) -> Self {
        ReplayingHost {
            inner,
            entries,
            next: 0,
            divergence,
        }
    }

    fn diverged(&self) -> bool {
        self.divergence.lock().map_or(true, |d| d.is_some())
    }

    fn diverge(&self, message: String) -> Errno {
        if let Ok(mut slot) = self.divergence.lock() {
            slot.get_or_insert(message);
        }
        Errno::Io
    }

    /// The journal's answer to the next call, which must be `call(args)`.
    fn expect(&mut self, call: &str, args: &str) -> Result<Answer, Errno> {
        if self.diverged() {
            return Err(Errno::Io);
        }
        let index = self.next;
        let Some(entry) = self.entries.get(index).cloned() else {
            return Err(self.diverge(format!(
                "call #{index} {call}({args}): the journal ended after {index} calls"
            )));
        };
        self.next += 1;
        if entry.call != call || entry.args != args {
            return Err(self.diverge(format!(
                "call #{index}: the journal has {}({}), the replay called {call}({args})",
                entry.call, entry.args
            )));
        }
        Ok(entry.answer)
    }

    /// Serves a recorded observation.
    fn serve<T: Record>(&mut self, call: &str, args: String) -> WasiResult<T> {
        let answer = self.expect(call, &args)?;
        decode(&answer).ok_or_else(|| {
            self.diverge(format!(
                "call #{} {call}: the journal's answer {answer:?} does not fit",
                self.next - 1
            ))
        })?
    }

    /// Performs an action for real and checks its result against the journal.
    fn act<T: Record>(&mut self, call: &str, args: String, real: WasiResult<T>) -> WasiResult<T> {
        let index = self.next;
        let expected = self.expect(call, &args)?;
        let actual = answer_of(&real);
        if actual != expected {
            return Err(self.diverge(format!(
                "call #{index} {call}({args}): the journal answered {expected:?}, the replay got {actual:?}"
            )));
        }
        real
    }

    /// Serves recorded bytes into `buf`; returns how many.
    fn serve_bytes(&mut self, call: &str, args: String, buf: &mut [u8]) -> WasiResult<usize> {
        let bytes: Vec<u8> = self.serve(call, args)?;
        let target = buf.get_mut(..bytes.len()).ok_or_else(|| {
            self.diverge(format!(
                "call #{} {call}: the journal holds more bytes than asked for",
                self.next - 1
            ))
        })?;
        target.copy_from_slice(&bytes);
        Ok(bytes.len())
    }
}

fn decode<T: Record>(answer: &Answer) -> Option<WasiResult<T>> {
    match answer {
        Answer::Errno(code) => Some(Err(Errno::from_code(*code))),
        other => T::from_answer(other).map(Ok),
    }
}

/// The replaying host's generic methods (see `host_methods!`): `observe`
/// serves the journal's answer without asking the real host; `act` lets the
/// real host do it and checks its answer against the journal.
macro_rules! replaying_method {
    (observe $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        fn $name(&mut self $(, $arg: $ty)*) -> $ret {
            self.serve(stringify!($name), format!("{:?}", ($(&$arg,)*)))
        }
    };
    (act $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        fn $name(&mut self $(, $arg: $ty)*) -> $ret {
            let args = format!("{:?}", ($(&$arg,)*));
            if self.diverged() {
                return Err(Errno::Io);
            }
            let real = self.inner.$name($($arg),*);
            self.act(stringify!($name), args, real)
        }
    };
    (own $($signature:tt)*) => {};
}

impl Host for ReplayingHost {
    /// Serves random bytes in the chunks the recording host journaled them in.
    fn random_fill(&mut self, buf: &mut [u8]) -> WasiResult<()> {
        for chunk in recorded_chunks(buf) {
            let len = chunk.len();
            self.serve_bytes("random_fill", format!("{len}"), chunk)?;
        }
        Ok(())
    }

    fn read(&mut self, handle: Handle, buf: &mut [u8]) -> WasiResult<usize> {
        let n = self.serve_bytes("read", format!("{} {}", handle.0, buf.len()), buf)?;
        if handle != Handle::STDIN && n > 0 {
            // Keep the real file's position where the recorded read left it.
            let _ = self.inner.seek(handle, SeekFrom::Current(n as i64));
        }
        Ok(n)
    }

    fn pread(&mut self, handle: Handle, buf: &mut [u8], offset: u64) -> WasiResult<usize> {
        let args = format!("{} {} {offset}", handle.0, buf.len());
        self.serve_bytes("pread", args, buf)
    }

    fn write(&mut self, handle: Handle, buf: &[u8]) -> WasiResult<usize> {
        let args = format!("{} {}", handle.0, buf.len());
        let real = self.inner.write(handle, buf);
        self.act("write", args, real)
    }

    fn pwrite(&mut self, handle: Handle, buf: &[u8], offset: u64) -> WasiResult<usize> {
        let args = format!("{} {} {offset}", handle.0, buf.len());
        let real = self.inner.pwrite(handle, buf, offset);
        self.act("pwrite", args, real)
    }

    fn open_at(&mut self, dir: Handle, path: &str, req: OpenRequest) -> WasiResult<Opened> {
        let args = format!("{:?}", (&dir, &path, &req));
        // A failed open had no effect when recorded: answer it without touching the host.
        if let Some(Entry {
            answer: Answer::Errno(code),
            ..
        }) = self.entries.get(self.next)
        {
            let code = *code;
            self.expect("open_at", &args)?;
            return Err(Errno::from_code(code));
        }
        let real = self.inner.open_at(dir, path, req);
        self.act("open_at", args, real)
    }

    fn set_deadline(&mut self, deadline: Option<std::time::Instant>) {
        self.inner.set_deadline(deadline);
    }

    /// Serves the recorded response (or error); the network is not used.
    fn http_request(&mut self, req: &HttpRequest) -> HttpResult {
        let diverged = |message: &str| Err(HttpError::Network(format!("replay: {message}")));
        let Ok(answer) = self.expect("http_request", &req.journal_args()) else {
            return diverged("the request differs from the journal");
        };
        match HttpResult::from_answer(&answer) {
            Some(result) => result,
            None => {
                let index = self.next - 1;
                self.diverge(format!(
                    "call #{index} http_request: the journal's answer {answer:?} does not fit"
                ));
                diverged("the journal's answer does not fit")
            }
        }
    }

    wrapped_methods!(replaying, replaying_method);
}
