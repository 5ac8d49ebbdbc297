//! `inline`: data carried in the job itself as a `data:` URL.
//!
//! Plain (percent-encoded) and `;base64` bodies are decoded to a file; an
//! `application/gzip` payload is a tar.gz, extracted to a directory by
//! [`extract`]: in time linear in its size, under the staging deadline, with
//! depth, entry and size caps so a small archive cannot fill the disk. Links
//! are kept when they stay inside the archive.

use super::deadline::Deadline;
use super::extract::{self, ExtractError, Rules};
use super::{InputSource, Scratch, SourceError, StageArea, Staged};
use data_url::DataUrl;
use std::io::Read;
use std::path::Path;

/// Largest total size an inline archive may expand to.
pub const MAX_EXTRACTED_BYTES: u64 = 1 << 30;

/// An inline input.
#[derive(Debug, Clone)]
pub struct Inline {
    /// The `data:` URL.
    pub url: String,
}

/// A `data:` URL that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not the syntax of a `data:` URL.
    #[error("not a valid data: URL ({detail})")]
    NotDataUrl {
        /// What the parser said.
        detail: String,
    },
    /// A `;base64` body that is not base64.
    #[error("the data: URL's base64 body does not decode")]
    Base64,
}

/// Decodes a `data:` URL into its MIME essence (`type/subtype`) and body.
pub fn decode(url: &str) -> Result<(String, Vec<u8>), DecodeError> {
    let data = DataUrl::process(url).map_err(|e| DecodeError::NotDataUrl {
        detail: format!("{e:?}"),
    })?;
    let mime = data.mime_type();
    let essence = format!("{}/{}", mime.type_, mime.subtype);
    let (body, _) = data.decode_to_vec().map_err(|_| DecodeError::Base64)?;
    Ok((essence, body))
}

fn is_gzip(essence: &str) -> bool {
    matches!(
        essence,
        "application/gzip" | "application/x-gzip" | "application/x-tar+gzip"
    )
}

impl InputSource for Inline {
    fn describe(&self) -> String {
        // The data itself may be megabytes: its size says enough.
        format!("inline data: URL ({} bytes)", self.url.len())
    }

    fn stage(&self, area: &StageArea, index: usize, target: &str) -> Result<Staged, SourceError> {
        let invalid = |message: String| SourceError::Invalid {
            target: target.to_string(),
            message,
        };
        let (essence, body) = decode(&self.url).map_err(|e| invalid(e.to_string()))?;
        let host_path = if is_gzip(&essence) {
            let dir = area.input_path(index, "");
            let partial = Scratch::new(area.input_path(index, ".partial"));
            extract_tar_gz(&body, partial.path(), area.deadline()).map_err(|e| match e {
                ExtractError::Deadline(expired) => SourceError::Deadline {
                    target: target.to_string(),
                    kind: "inline",
                    location: "data: URL".to_string(),
                    expired,
                },
                other => invalid(format!("inline tar.gz: {other}")),
            })?;
            partial
                .persist(&dir)
                .map_err(|source| stage_error(&dir, target, source))?;
            dir
        } else {
            let file = area.input_path(index, ".bin");
            let partial = Scratch::new(area.input_path(index, ".bin.partial"));
            std::fs::write(partial.path(), &body)
                .map_err(|source| stage_error(partial.path(), target, source))?;
            partial
                .persist(&file)
                .map_err(|source| stage_error(&file, target, source))?;
            file
        };
        Ok(Staged {
            host_path,
            read_only: true,
        })
    }
}

fn stage_error(path: &Path, target: &str, source: std::io::Error) -> SourceError {
    SourceError::Stage {
        target: target.to_string(),
        path: path.to_path_buf(),
        source,
    }
}

/// Extracts a tar.gz into the new directory `dir` (see [`extract`] for the rules).
fn extract_tar_gz(body: &[u8], dir: &Path, deadline: Deadline) -> Result<(), ExtractError> {
    // The decompressed stream is capped too: headers and long names are not file bytes.
    let mut decoder = flate2::read::GzDecoder::new(body).take(MAX_EXTRACTED_BYTES + 1);
    let rules = Rules {
        max_bytes: MAX_EXTRACTED_BYTES,
        max_bytes_name: "the inline archive limit",
        links: true,
    };
    let unpacked = extract::unpack(&mut decoder, dir, rules, deadline);
    if decoder.limit() == 0 {
        return Err(ExtractError::TooLarge {
            limit: MAX_EXTRACTED_BYTES,
            name: rules.max_bytes_name,
        });
    }
    unpacked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_base64_bodies_decode() {
        assert_eq!(
            decode("data:text/plain,hello%20world").unwrap(),
            ("text/plain".to_string(), b"hello world".to_vec())
        );
        assert_eq!(decode("data:;base64,aGk=").unwrap().1, b"hi".to_vec());
        assert!(decode("http://example.com").is_err());
    }

    #[test]
    fn a_gzip_payload_becomes_a_directory() {
        let mut tar_bytes = Vec::new();
        {
            let mut builder = tar::Builder::new(&mut tar_bytes);
            let mut header = tar::Header::new_gnu();
            header.set_size(5);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, "dir/a.txt", &b"hello"[..])
                .unwrap();
            builder.finish().unwrap();
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &tar_bytes).unwrap();
        let body = gz.finish().unwrap();
        let url = format!("data:application/gzip;base64,{}", base64_encode(&body));
        let area_dir = tempfile::tempdir().unwrap();
        let area = StageArea::new(area_dir.path().to_path_buf());
        let staged = Inline { url }.stage(&area, 0, "/in").unwrap();
        let text = std::fs::read_to_string(staged.host_path.join("dir/a.txt")).unwrap();
        assert_eq!(text, "hello");
    }

    fn base64_encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
