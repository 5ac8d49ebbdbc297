//! The recording host: answers through another host and journals every answer
//! (HTTP requests included: the request, and the response or error).

use super::record::{answer_of, Record};
use super::{Clock, DirEntry, Filestat, Handle, Host, OpenRequest, Opened, SetTime};
use crate::net::{HttpRequest, HttpResult};
use crate::replay::journal::{Answer, Entry};
use crate::wasi::errno::WasiResult;
use std::io::SeekFrom;
use std::sync::{Arc, Mutex};

/// The journal entries of a run, shared with whoever writes them out afterwards.
pub type Log = Arc<Mutex<Vec<Entry>>>;

/// Wraps a host and records each call's arguments and answer, in order.
pub struct RecordingHost {
    inner: Box<dyn Host + Send>,
    log: Log,
}

impl RecordingHost {
    /// Records what `inner` answers into `log`.
    pub fn new(inner: Box<dyn Host + Send>, log: Log) -> Self {
        RecordingHost { inner, log }
    }

    fn note<T: Record>(&self, call: &str, args: String, result: &WasiResult<T>) {
        self.push(call, args, answer_of(result));
    }

    fn push(&self, call: &str, args: String, answer: Answer) {
        if let Ok(mut log) = self.log.lock() {
            log.push(Entry {
                call: call.to_string(),
                args,
                answer,
            });
        }
    }

    /// Records the bytes a read returned (not only their count).
    fn note_bytes(&self, call: &str, args: String, result: &WasiResult<usize>, buf: &[u8]) {
        let answer = match result {
            Ok(n) => buf
                .get(..*n)
                .map_or(Answer::Errno(29), |b| b.to_vec().to_answer()),
            Err(e) => Answer::Errno(*e as u16),
        };
        self.push(call, args, answer);
    }
}

/// Records each listed method: the call's name, its arguments (formatted) and its result.
macro_rules! record {
    ($( fn $name:ident(&mut self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {$(
        fn $name(&mut self $(, $arg: $ty)*) -> $ret {
            let result = self.inner.$name($($arg),*);
            self.note(stringify!($name), format!("{:?}", ($(&$arg,)*)), &result);
            result
        }
    )*};
}

impl Host for RecordingHost {
    fn random_fill(&mut self, buf: &mut [u8]) -> WasiResult<()> {
        let result = self.inner.random_fill(buf);
        let n = if result.is_ok() {
            Ok(buf.len())
        } else {
            result.map(|_| 0)
        };
        self.note_bytes("random_fill", format!("{}", buf.len()), &n, buf);
        result
    }

    fn read(&mut self, handle: Handle, buf: &mut [u8]) -> WasiResult<usize> {
        let result = self.inner.read(handle, buf);
        self.note_bytes("read", format!("{} {}", handle.0, buf.len()), &result, buf);
        result
    }

    fn pread(&mut self, handle: Handle, buf: &mut [u8], offset: u64) -> WasiResult<usize> {
        let result = self.inner.pread(handle, buf, offset);
        self.note_bytes(
            "pread",
            format!("{} {} {offset}", handle.0, buf.len()),
            &result,
            buf,
        );
        result
    }

    fn write(&mut self, handle: Handle, buf: &[u8]) -> WasiResult<usize> {
        let result = self.inner.write(handle, buf);
        self.note("write", format!("{} {}", handle.0, buf.len()), &result);
        result
    }

    fn pwrite(&mut self, handle: Handle, buf: &[u8], offset: u64) -> WasiResult<usize> {
        let result = self.inner.pwrite(handle, buf, offset);
        self.note(
            "pwrite",
            format!("{} {} {offset}", handle.0, buf.len()),
            &result,
        );
        result
    }

    fn set_deadline(&mut self, deadline: Option<std::time::Instant>) {
        self.inner.set_deadline(deadline);
    }

    fn note_fuel(&mut self, consumed: u64) {
        self.inner.note_fuel(consumed);
    }

    /// Records the request (method, URL, headers, body) and the whole response or error.
    fn http_request(&mut self, req: &HttpRequest) -> HttpResult {
        let result = self.inner.http_request(req);
        self.push("http_request", req.journal_args(), result.to_answer());
        result
    }

    record! {
        fn clock_time(&mut self, clock: Clock, precision: u64) -> WasiResult<u64>;
        fn clock_res(&mut self, clock: Clock) -> WasiResult<u64>;
        fn wait_readable(&mut self, handle: Handle, timeout_ns: Option<u64>) -> WasiResult<bool>;
        fn sleep(&mut self, nanos: u64) -> WasiResult<()>;
        fn seek(&mut self, handle: Handle, pos: SeekFrom) -> WasiResult<u64>;
        fn stat(&mut self, handle: Handle) -> WasiResult<Filestat>;
        fn sync(&mut self, handle: Handle, data_only: bool) -> WasiResult<()>;
        fn set_append(&mut self, handle: Handle, append: bool) -> WasiResult<()>;
        fn set_size(&mut self, handle: Handle, size: u64) -> WasiResult<()>;
        fn close(&mut self, handle: Handle) -> WasiResult<()>;
        fn open_at(&mut self, dir: Handle, path: &str, req: OpenRequest) -> WasiResult<Opened>;
        fn stat_at(&mut self, dir: Handle, path: &str, follow: bool) -> WasiResult<Filestat>;
        fn read_dir(&mut self, dir: Handle) -> WasiResult<Vec<DirEntry>>;
        fn create_dir_at(&mut self, dir: Handle, path: &str) -> WasiResult<()>;
        fn remove_dir_at(&mut self, dir: Handle, path: &str) -> WasiResult<()>;
        fn unlink_at(&mut self, dir: Handle, path: &str) -> WasiResult<()>;
        fn rename_at(&mut self, from_dir: Handle, from: &str, to_dir: Handle, to: &str) -> WasiResult<()>;
        fn read_link_at(&mut self, dir: Handle, path: &str) -> WasiResult<Vec<u8>>;
        fn set_times(&mut self, handle: Handle, atim: SetTime, mtim: SetTime) -> WasiResult<()>;
        fn set_times_at(&mut self, dir: Handle, path: &str, follow: bool, atim: SetTime, mtim: SetTime) -> WasiResult<()>;
        fn symlink_at(&mut self, target: &str, dir: Handle, path: &str) -> WasiResult<()>;
        fn link_at(&mut self, from_dir: Handle, from: &str, to_dir: Handle, to: &str) -> WasiResult<()>;
        fn flush(&mut self) -> WasiResult<()>;
    }
}
