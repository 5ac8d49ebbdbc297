//! The recording host: answers through another host and journals every answer
//! (HTTP requests included: the request, and the response or error).

use super::answers::{answer_of, Record};
use super::{
    wrapped_methods, Clock, DirEntry, Filestat, Handle, Host, OpenRequest, Opened, SetTime,
};
use crate::host::abi::WasiResult;
use crate::host::journal::{Answer, Entry, MAX_LINE, MAX_RECORDED_BYTES};
use crate::host::net::{HttpError, HttpRequest, HttpResult};
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

/// `buf` cut to at most [`MAX_RECORDED_BYTES`].
fn first_chunk(buf: &mut [u8]) -> &mut [u8] {
    let len = buf.len().min(MAX_RECORDED_BYTES);
    &mut buf[..len]
}

/// `buf` in chunks of at most [`MAX_RECORDED_BYTES`]; an empty buffer is one empty chunk
/// (journaled as before chunking, so older journals replay alike).
pub(crate) fn recorded_chunks(buf: &mut [u8]) -> Vec<&mut [u8]> {
    if buf.is_empty() {
        return vec![buf];
    }
    buf.chunks_mut(MAX_RECORDED_BYTES).collect()
}

/// How many response body bytes a journal line has room for beside a request
/// whose arguments take `args_len` bytes (hex doubles the body; 1 MiB is left
/// for the status, headers and JSON); `None` when there is no room.
fn journal_room(args_len: usize) -> Option<u64> {
    const FRAME: usize = 1 << 20;
    let room = MAX_LINE.checked_sub(args_len)?.checked_sub(FRAME)? / 2;
    (room > 0).then_some(room as u64)
}

/// The recording host's generic methods (see `host_methods!`): `record`
/// journals the call's name, its arguments (formatted) and its result.
macro_rules! recording_method {
    (record $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        fn $name(&mut self $(, $arg: $ty)*) -> $ret {
            let result = self.inner.$name($($arg),*);
            self.note(stringify!($name), format!("{:?}", ($(&$arg,)*)), &result);
            result
        }
    };
    (own $($signature:tt)*) => {};
}

impl Host for RecordingHost {
    /// Journals random bytes in chunks of at most [`MAX_RECORDED_BYTES`] (the
    /// replaying host asks in the same chunks), so every entry fits a journal line.
    fn random_fill(&mut self, buf: &mut [u8]) -> WasiResult<()> {
        for chunk in recorded_chunks(buf) {
            let result = self.inner.random_fill(chunk);
            let n = result.map(|()| chunk.len());
            self.note_bytes("random_fill", format!("{}", chunk.len()), &n, chunk);
            result?;
        }
        Ok(())
    }

    /// Reads at most [`MAX_RECORDED_BYTES`] (a short read, which any reader must
    /// accept), so every journaled read fits a journal line.
    fn read(&mut self, handle: Handle, buf: &mut [u8]) -> WasiResult<usize> {
        let args = format!("{} {}", handle.0, buf.len());
        let chunk = first_chunk(buf);
        let result = self.inner.read(handle, chunk);
        self.note_bytes("read", args, &result, chunk);
        result
    }

    fn pread(&mut self, handle: Handle, buf: &mut [u8], offset: u64) -> WasiResult<usize> {
        let args = format!("{} {} {offset}", handle.0, buf.len());
        let chunk = first_chunk(buf);
        let result = self.inner.pread(handle, chunk, offset);
        self.note_bytes("pread", args, &result, chunk);
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
    /// The response body is capped so that the entry fits a journal line (a larger
    /// one is the guest's "response too large"); a request too large to journal is not sent.
    fn http_request(&mut self, req: &HttpRequest) -> HttpResult {
        let args = req.journal_args();
        let result = match journal_room(args.len()) {
            Some(room) => {
                let mut capped = req.clone();
                capped.max_body = capped.max_body.min(room);
                self.inner.http_request(&capped)
            }
            None => Err(HttpError::Network(format!(
                "the request is too large to record: a journal line holds at most {} MiB",
                MAX_LINE >> 20
            ))),
        };
        self.push("http_request", args, result.to_answer());
        result
    }

    wrapped_methods!(recording, recording_method);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::real::{RealHost, Stdio};
    use crate::host::replaying::{Divergence, ReplayingHost};

    fn real_host(stdin: Vec<u8>) -> Box<dyn Host + Send> {
        Box::new(RealHost::new(Stdio {
            stdin: Box::new(std::io::Cursor::new(stdin)),
            stdout: Box::new(std::io::sink()),
            stderr: Box::new(std::io::sink()),
            terminals: [false; 3],
        }))
    }

    #[test]
    fn big_reads_and_random_fills_journal_lines_that_fit_and_replay_alike() {
        let big = MAX_RECORDED_BYTES + 4096;
        let input: Vec<u8> = (0..big).map(|i| (i % 251) as u8).collect();
        let log = Log::default();
        let mut recording = RecordingHost::new(real_host(input.clone()), log.clone());
        let mut buf = vec![0u8; big];
        let n = recording.read(Handle::STDIN, &mut buf).unwrap();
        assert_eq!(n, MAX_RECORDED_BYTES, "a short read, not the whole buffer");
        assert_eq!(&buf[..n], &input[..n]);
        let mut random = vec![0u8; big];
        recording.random_fill(&mut random).unwrap();
        recording.random_fill(&mut []).unwrap();

        let entries = log.lock().unwrap().clone();
        assert_eq!(
            entries.len(),
            1 + 2 + 1,
            "one read, two random chunks, one empty fill"
        );
        for entry in &entries {
            assert!(serde_json::to_string(entry).unwrap().len() <= MAX_LINE);
        }

        let divergence = Divergence::default();
        let mut replaying = ReplayingHost::new(real_host(Vec::new()), entries, divergence.clone());
        let mut again = vec![0u8; big];
        assert_eq!(replaying.read(Handle::STDIN, &mut again).unwrap(), n);
        assert_eq!(&again[..n], &input[..n]);
        let mut random_again = vec![0u8; big];
        replaying.random_fill(&mut random_again).unwrap();
        replaying.random_fill(&mut []).unwrap();
        assert_eq!(random_again, random);
        assert_eq!(*divergence.lock().unwrap(), None);
    }

    #[test]
    fn a_journal_line_has_room_for_a_request_and_its_response() {
        let room = journal_room(1000).unwrap();
        assert!(room * 2 + 1000 + (1 << 20) <= MAX_LINE as u64);
        assert_eq!(journal_room(MAX_LINE), None);
    }
}
