//! The journal of a recorded run: every answer the host gave the guest.
//!
//! Format `brine-journal/1`: gzip-compressed JSON lines. The first line is a
//! [`Header`] (what was run, so `brine replay` can run it again); each
//! following line is one [`Entry`], in call order. Byte contents (file and
//! stdin reads, random bytes) are stored as hex, which gzip packs well.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// The journal format this brine writes and reads.
pub const FORMAT: &str = "brine-journal/1";

/// What was run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Invocation {
    /// `brine wasm run`.
    WasmRun {
        /// The module file.
        module: PathBuf,
        /// BLAKE3 of the module, hex.
        module_hash: String,
        /// argv.
        argv: Vec<String>,
        /// Environment.
        env: Vec<(String, String)>,
        /// Preopens as (host, guest).
        dirs: Vec<(String, String)>,
        /// Import modules as (name, file).
        imports: Vec<(String, String)>,
        /// `--invoke` and its arguments.
        invoke: Option<String>,
        /// Arguments of the invoked function.
        call_args: Vec<String>,
    },
    /// `brine run` of a job (one partition).
    Job {
        /// The job file.
        job_file: PathBuf,
        /// The job hash (`brine::job::job_hash`) of the job.
        job_hash: String,
        /// argv the guest got.
        argv: Vec<String>,
        /// The environment the guest got (ids included, which vary between runs).
        env: Vec<(String, String)>,
    },
}

/// The first line of a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// `FORMAT`.
    pub format: String,
    /// The brine that recorded it.
    pub brine_version: String,
    /// What was run.
    pub invocation: Invocation,
    /// Whether the recorded run was deterministic (then its settings are in the job or flags).
    pub deterministic: bool,
}

/// One host call and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The host call (`clock_time`, `read`, `open_at`...).
    pub call: String,
    /// Its arguments, as text (compared on replay).
    pub args: String,
    /// What the host answered.
    pub answer: Answer,
}

/// A host answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// Success without a value.
    Done,
    /// A number (a time, a count, an offset, a handle).
    Number(u64),
    /// Bytes, hex-encoded.
    Bytes(String),
    /// A structured value (a filestat, a directory listing, an opened handle).
    Value(serde_json::Value),
    /// A WASI errno.
    Errno(u16),
}

/// Decodes hex; `None` when it is not hex.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The longest line a journal may hold, in bytes. The largest entry brine
/// records is a read of [`MAX_RECORDED_BYTES`] (hex doubles it) plus its
/// call and arguments; anything longer is not from brine and would only make
/// the reader buffer it.
pub const MAX_LINE: usize = 64 << 20;

/// The most bytes a recording host journals for one read or one chunk of
/// random bytes, so that every entry fits in [`MAX_LINE`] as hex.
pub const MAX_RECORDED_BYTES: usize = 16 << 20;

/// The most a journal may decompress to, each entry counted with
/// `ENTRY_OVERHEAD`: the whole journal is held in memory during a replay,
/// so this bounds what a small, highly compressed journal can make brine allocate.
pub const MAX_TOTAL: u64 = 2 << 30;

/// What one decoded entry costs in memory beyond its line (three strings and an answer).
const ENTRY_OVERHEAD: u64 = 128;

/// Why a journal cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be opened or decompressed.
    #[error("cannot read the journal {path}: {error}")]
    Read {
        /// The journal.
        path: String,
        /// What the OS or the decompressor said.
        error: std::io::Error,
    },
    /// The content is not a journal brine wrote.
    #[error("{path} is not a brine journal: {what}")]
    Invalid {
        /// The journal.
        path: String,
        /// What is wrong with it.
        what: String,
    },
    /// The journal is of a format this brine does not read.
    #[error("{path} is a `{found}` journal; this brine reads {FORMAT} only (record the run again with this brine)")]
    Format {
        /// The journal.
        path: String,
        /// The format it names.
        found: String,
    },
    /// A line or the whole journal is larger than brine ever writes.
    #[error(
        "{path} is not a brine journal: {what} (brine's limit; the file is corrupt or was crafted)"
    )]
    TooLarge {
        /// The journal.
        path: String,
        /// Which limit it passed.
        what: String,
    },
}

/// Writes a journal: the header, then the entries. The journal is written to a
/// fresh temporary file beside `path` and renamed into place, so a half-written
/// journal is never left at `path` and no other file is replaced or deleted.
pub fn write(path: &Path, header: &Header, entries: &[Entry]) -> std::io::Result<()> {
    crate::atomic::write_with(path, crate::atomic::Access::Private, |file| {
        let mut gz = flate2::write::GzEncoder::new(
            std::io::BufWriter::new(file),
            flate2::Compression::fast(),
        );
        serde_json::to_writer(&mut gz, header)?;
        gz.write_all(b"\n")?;
        for entry in entries {
            serde_json::to_writer(&mut gz, entry)?;
            gz.write_all(b"\n")?;
        }
        gz.finish()?.flush()
    })
}

/// Reads a journal back. A journal is untrusted input: its format is checked
/// first, every line is capped at `MAX_LINE` and the whole at `MAX_TOTAL`.
pub fn read(path: &Path) -> Result<(Header, Vec<Entry>), JournalError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| JournalError::Read {
        path: name.clone(),
        error,
    })?;
    let input = BufReader::new(flate2::read::GzDecoder::new(file));
    read_lines(JournalReader::new(input, name, MAX_LINE, MAX_TOTAL))
}

/// The header and entries from `reader`'s lines.
fn read_lines<R: BufRead>(
    mut reader: JournalReader<R>,
) -> Result<(Header, Vec<Entry>), JournalError> {
    if !reader.next_line()? {
        return Err(reader.invalid("it is empty".to_string()));
    }
    let header = reader.header()?;
    let mut entries = Vec::new();
    while reader.next_line()? {
        let entry = serde_json::from_slice(&reader.line)
            .map_err(|e| reader.invalid(format!("entry {}: {e}", entries.len())))?;
        entries.push(entry);
    }
    Ok((header, entries))
}

/// Reads a journal's lines within the limits.
struct JournalReader<R> {
    input: R,
    line: Vec<u8>,
    total: u64,
    path: String,
    max_line: usize,
    max_total: u64,
}

impl<R: BufRead> JournalReader<R> {
    fn new(input: R, path: String, max_line: usize, max_total: u64) -> Self {
        JournalReader {
            input,
            line: Vec::new(),
            total: 0,
            path,
            max_line,
            max_total,
        }
    }

    /// Reads the next line into `self.line` (without its newline); `false` at the end.
    fn next_line(&mut self) -> Result<bool, JournalError> {
        self.line.clear();
        let limit = self.max_line as u64 + 1;
        let n = (&mut self.input)
            .take(limit)
            .read_until(b'\n', &mut self.line)
            .map_err(|error| JournalError::Read {
                path: self.path.clone(),
                error,
            })?;
        if n == 0 {
            return Ok(false);
        }
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        } else if self.line.len() > self.max_line {
            let what = format!("a line is longer than {}", size_text(self.max_line as u64));
            return Err(self.too_large(what));
        }
        self.total += n as u64 + ENTRY_OVERHEAD;
        if self.total > self.max_total {
            let what = format!("it decompresses to more than {}", size_text(self.max_total));
            return Err(self.too_large(what));
        }
        Ok(true)
    }

    /// The header in `self.line`: its format is checked before anything else is read from it.
    fn header(&self) -> Result<Header, JournalError> {
        #[derive(Deserialize)]
        struct Format {
            format: Option<String>,
        }
        let format: Format = serde_json::from_slice(&self.line)
            .map_err(|e| self.invalid(format!("its first line is not a header: {e}")))?;
        match format.format {
            Some(f) if f == FORMAT => {}
            Some(found) => {
                return Err(JournalError::Format {
                    path: self.path.clone(),
                    found: found.escape_debug().to_string(),
                })
            }
            None => {
                return Err(self.invalid(format!("its header has no format (expected {FORMAT})")))
            }
        }
        serde_json::from_slice(&self.line).map_err(|e| self.invalid(format!("header: {e}")))
    }

    fn invalid(&self, what: String) -> JournalError {
        JournalError::Invalid {
            path: self.path.clone(),
            what,
        }
    }

    fn too_large(&self, what: String) -> JournalError {
        JournalError::TooLarge {
            path: self.path.clone(),
            what,
        }
    }
}

/// A limit in the largest binary unit that divides it (`64 MiB`, `2 GiB`, `100 bytes`).
fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        assert_eq!(from_hex("000fff"), Some(vec![0, 15, 255]));
        assert_eq!(from_hex("0g"), None);
        assert_eq!(from_hex("abc"), None);
    }

    #[test]
    fn journals_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let header = job_header(
            vec![String::new()],
            vec![("A".to_string(), "1".to_string())],
        );
        let entries = vec![Entry {
            call: "clock_time".to_string(),
            args: "realtime".to_string(),
            answer: Answer::Number(5),
        }];
        write(&path, &header, &entries).unwrap();
        assert_eq!(read(&path).unwrap(), (header, entries));
    }

    /// A journal header for a recorded job with this `argv` and `env`.
    fn job_header(argv: Vec<String>, env: Vec<(String, String)>) -> Header {
        Header {
            format: FORMAT.to_string(),
            brine_version: "0".to_string(),
            invocation: Invocation::Job {
                job_file: "job.yaml".into(),
                job_hash: "h".to_string(),
                argv,
                env,
            },
            deterministic: false,
        }
    }

    fn header_line() -> String {
        serde_json::to_string(&job_header(Vec::new(), Vec::new())).unwrap()
    }

    fn read_text(
        text: &str,
        max_line: usize,
        max_total: u64,
    ) -> Result<(Header, Vec<Entry>), JournalError> {
        let reader = JournalReader::new(text.as_bytes(), "j".to_string(), max_line, max_total);
        read_lines(reader)
    }

    const ENTRY: &str = r#"{"call":"clock_time","args":"x","answer":{"number":5}}"#;

    #[test]
    fn a_line_longer_than_the_cap_is_refused() {
        let long = format!(
            "{{\"call\":\"read\",\"args\":\"{}\",\"answer\":\"done\"}}",
            "0".repeat(200)
        );
        let text = format!("{}\n{ENTRY}\n{long}\n", header_line());
        let error = read_text(&text, 100, 1 << 20).unwrap_err().to_string();
        assert_eq!(
            error,
            "j is not a brine journal: a line is longer than 100 bytes (brine's limit; the file is corrupt or was crafted)"
        );
        // Exactly at the cap is fine.
        let text = format!("{}\n{ENTRY}\n", header_line());
        let longest = header_line().len();
        assert_eq!(read_text(&text, longest, 1 << 20).unwrap().1.len(), 1);
    }

    #[test]
    fn a_journal_larger_than_the_total_cap_is_refused() {
        let text = format!("{}\n{}", header_line(), format!("{ENTRY}\n").repeat(100));
        let error = read_text(&text, 1 << 20, 10_000).unwrap_err().to_string();
        assert!(
            error.contains("it decompresses to more than 10000 bytes"),
            "{error}"
        );
        assert_eq!(read_text(&text, 1 << 20, 1 << 20).unwrap().1.len(), 100);
    }

    #[test]
    fn an_unknown_format_is_named_before_the_header_is_parsed() {
        let text = r#"{"format":"brine-journal/9","something":"else"}"#;
        let error = read_text(text, 1 << 20, 1 << 20).unwrap_err().to_string();
        assert_eq!(
            error,
            "j is a `brine-journal/9` journal; this brine reads brine-journal/1 only (record the run again with this brine)"
        );
        let error = read_text(r#"{"kind":"job"}"#, 1 << 20, 1 << 20)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "j is not a brine journal: its header has no format (expected brine-journal/1)"
        );
    }

    #[test]
    fn writing_leaves_other_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.journal");
        for planted in ["run.partial", "run.journal.partial"] {
            std::fs::write(dir.path().join(planted), "keep").unwrap();
        }
        let (header, _) = read_text(&header_line(), 1 << 20, 1 << 20).unwrap();
        write(&path, &header, &[]).unwrap();
        write(&path, &header, &[]).unwrap();
        assert_eq!(read(&path).unwrap().0, header);
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["run.journal", "run.journal.partial", "run.partial"]);
        for planted in ["run.partial", "run.journal.partial"] {
            assert_eq!(
                std::fs::read_to_string(dir.path().join(planted)).unwrap(),
                "keep"
            );
        }
    }
}
