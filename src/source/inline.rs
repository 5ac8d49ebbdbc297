//! `inline`: data carried in the job itself as a `data:` URL.
//!
//! Plain (percent-encoded) and `;base64` bodies are decoded to a file; an
//! `application/gzip` payload is a tar.gz, extracted to a directory. The
//! extracted size is capped so a small archive cannot fill the disk.

use super::{InputSource, SourceError, StageArea, Staged};
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

/// Decodes a `data:` URL into its MIME essence (`type/subtype`) and body.
pub fn decode(url: &str) -> Result<(String, Vec<u8>), String> {
    let data = DataUrl::process(url).map_err(|e| format!("not a valid data: URL ({e:?})"))?;
    let mime = data.mime_type();
    let essence = format!("{}/{}", mime.type_, mime.subtype);
    let (body, _) = data
        .decode_to_vec()
        .map_err(|_| "the data: URL's base64 body does not decode".to_string())?;
    Ok((essence, body))
}

fn is_gzip(essence: &str) -> bool {
    matches!(
        essence,
        "application/gzip" | "application/x-gzip" | "application/x-tar+gzip"
    )
}

impl InputSource for Inline {
    fn stage(&self, area: &StageArea, index: usize, target: &str) -> Result<Staged, SourceError> {
        let invalid = |message: String| SourceError::Invalid {
            target: target.to_string(),
            message,
        };
        let (essence, body) = decode(&self.url).map_err(invalid)?;
        let host_path = if is_gzip(&essence) {
            let dir = area.input_path(index, "");
            let partial = area.input_path(index, ".partial");
            extract_tar_gz(&body, &partial).map_err(|e| invalid(format!("inline tar.gz: {e}")))?;
            rename(&partial, &dir, target)?;
            dir
        } else {
            let file = area.input_path(index, ".bin");
            let partial = area.input_path(index, ".bin.partial");
            std::fs::write(&partial, &body).map_err(|source| SourceError::Stage {
                target: target.to_string(),
                path: partial.clone(),
                source,
            })?;
            rename(&partial, &file, target)?;
            file
        };
        Ok(Staged {
            host_path,
            read_only: true,
        })
    }
}

fn rename(from: &Path, to: &Path, target: &str) -> Result<(), SourceError> {
    std::fs::rename(from, to).map_err(|source| SourceError::Stage {
        target: target.to_string(),
        path: to.to_path_buf(),
        source,
    })
}

/// Extracts a tar.gz into `dir`; entries may not leave it, and the total is capped.
fn extract_tar_gz(body: &[u8], dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let decoder = flate2::read::GzDecoder::new(body).take(MAX_EXTRACTED_BYTES + 1);
    let mut archive = tar::Archive::new(decoder);
    archive.set_preserve_permissions(false);
    archive.set_overwrite(true);
    // `unpack` refuses entries with `..` or absolute paths and keeps links inside `dir`.
    let unpacked = archive.unpack(dir);
    if archive.into_inner().limit() == 0 {
        return Err(std::io::Error::other(format!(
            "the archive expands beyond {} MiB",
            MAX_EXTRACTED_BYTES >> 20
        )));
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
