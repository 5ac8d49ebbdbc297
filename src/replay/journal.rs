//! The journal of a recorded run: every answer the host gave the guest.
//!
//! Format `brine-journal/1`: gzip-compressed JSON lines. The first line is a
//! [`Header`] (what was run, so `brine replay` can run it again); each
//! following line is one [`Entry`], in call order. Byte contents (file and
//! stdin reads, random bytes) are stored as hex, which gzip packs well.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
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
        /// [`super::job_hash`] of the job.
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
    /// [`FORMAT`].
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

/// Hex-encodes bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
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

/// Writes a journal: the header, then the entries.
pub fn write(path: &Path, header: &Header, entries: &[Entry]) -> std::io::Result<()> {
    let temp = path.with_extension("partial");
    let file = std::fs::File::create(&temp)?;
    let mut gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    serde_json::to_writer(&mut gz, header)?;
    gz.write_all(b"\n")?;
    for entry in entries {
        serde_json::to_writer(&mut gz, entry)?;
        gz.write_all(b"\n")?;
    }
    gz.finish()?.flush()?;
    std::fs::rename(&temp, path)
}

/// Reads a journal back.
pub fn read(path: &Path) -> Result<(Header, Vec<Entry>), String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = BufReader::new(flate2::read::GzDecoder::new(file)).lines();
    let bad = |what: String| format!("{} is not a brine journal: {what}", path.display());
    let first = lines
        .next()
        .ok_or_else(|| bad("it is empty".to_string()))?
        .map_err(|e| bad(e.to_string()))?;
    let header: Header = serde_json::from_str(&first).map_err(|e| bad(e.to_string()))?;
    if header.format != FORMAT {
        return Err(bad(format!(
            "format {} (this brine reads {FORMAT})",
            header.format
        )));
    }
    let mut entries = Vec::new();
    for (n, line) in lines.enumerate() {
        let line = line.map_err(|e| bad(e.to_string()))?;
        let entry = serde_json::from_str(&line).map_err(|e| bad(format!("entry {n}: {e}")))?;
        entries.push(entry);
    }
    Ok((header, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        assert_eq!(to_hex(&[0, 15, 255]), "000fff");
        assert_eq!(from_hex("000fff"), Some(vec![0, 15, 255]));
        assert_eq!(from_hex("0g"), None);
        assert_eq!(from_hex("abc"), None);
    }

    #[test]
    fn journals_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let header = Header {
            format: FORMAT.to_string(),
            brine_version: "0".to_string(),
            invocation: Invocation::Job {
                job_file: "job.yaml".into(),
                job_hash: "h".to_string(),
                argv: vec![String::new()],
                env: vec![("A".to_string(), "1".to_string())],
            },
            deterministic: false,
        };
        let entries = vec![Entry {
            call: "clock_time".to_string(),
            args: "realtime".to_string(),
            answer: Answer::Number(5),
        }];
        write(&path, &header, &entries).unwrap();
        assert_eq!(read(&path).unwrap(), (header, entries));
    }
}
