//! Reading and writing record journals (gzip'd JSON lines), for tests that
//! tamper with what a recording holds.

use std::io::{BufRead, Write};
use std::path::Path;

/// A journal's lines, decompressed.
pub fn journal_lines(path: &Path) -> Vec<String> {
    std::io::BufReader::new(flate2::read::GzDecoder::new(
        std::fs::File::open(path).unwrap(),
    ))
    .lines()
    .map(Result::unwrap)
    .collect()
}

/// Writes `lines` as a gzip journal.
pub fn write_journal(path: &Path, lines: &[String]) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all((lines.join("\n") + "\n").as_bytes()).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}
