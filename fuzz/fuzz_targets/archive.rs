//! Bytes → an inline `data:` input staged as a job stages it: a tar.gz
//! extracted into the stage area (or a plain body written to a file). Nothing
//! may be written outside the stage area, whatever the archive's paths and
//! links say, and nothing is left there but the input (a failed one leaves
//! nothing). The first byte chooses: 0, the rest is a tar the target gzips;
//! 1, the rest is the gzip stream itself; otherwise the rest is the URL text.
#![no_main]

use base64::Engine as _;
use brine::fuzzing::stage_inline;
use brine_fuzz::{assert_unchanged, scratch, snapshot};
use libfuzzer_sys::fuzz_target;
use std::io::Write;
use std::time::Duration;

fn url(data: &[u8]) -> Option<String> {
    let (&mode, rest) = data.split_first()?;
    let gzip = match mode {
        0 => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(rest).ok()?;
            gz.finish().ok()?
        }
        1 => rest.to_vec(),
        _ => return String::from_utf8(rest.to_vec()).ok(),
    };
    let body = base64::engine::general_purpose::STANDARD.encode(gzip);
    Some(format!("data:application/gzip;base64,{body}"))
}

fuzz_target!(|data: &[u8]| {
    let Some(url) = url(data) else { return };
    let tree = scratch();
    let area = tree.path().join("area");
    let outside = tree.path().join("outside");
    std::fs::create_dir_all(outside.join("dir")).expect("the tree");
    std::fs::write(outside.join("secret.txt"), "outside\n").expect("the tree");
    std::fs::create_dir(&area).expect("the stage area");
    let before = snapshot(tree.path(), std::slice::from_ref(&area));
    let staged = stage_inline(&url, &area, Duration::from_secs(5));
    let after = snapshot(tree.path(), std::slice::from_ref(&area));
    assert_unchanged("outside the stage area", &before, &after);
    let left: Vec<_> = std::fs::read_dir(&area)
        .expect("the stage area")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    match staged {
        Ok(path) => assert_eq!(left, vec![path], "the stage area holds more than the input"),
        Err(e) => assert!(left.is_empty(), "a failed input left {left:?} ({e})"),
    }
});
