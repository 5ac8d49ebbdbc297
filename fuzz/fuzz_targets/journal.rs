//! Bytes → a `--record` journal file → `brine replay`'s reader (gzip, line
//! and total caps, the header's format, every entry), then the entries served
//! to a fixture guest by the replaying host, as `brine replay` serves them.
//! The first byte chooses the file: 0, the bytes as they are (the gzip layer
//! is fuzzed too); otherwise the rest gzip-compressed (the JSON lines are).
#![no_main]

use brine::fuzzing::{run_module, ModuleRun};
use brine::journal::read;
use libfuzzer_sys::fuzz_target;
use std::io::Write;

/// A guest that reads the clocks and randomness and writes stdout: the
/// answers a journal serves.
const GUEST: &[u8] = include_bytes!("../../fixtures/time_random.wasm");

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let file = if mode == 0 {
        rest.to_vec()
    } else {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(rest).expect("gzip in memory");
        gz.finish().expect("gzip in memory")
    };
    let dir = brine_fuzz::scratch();
    let path = dir.path().join("run.journal");
    std::fs::write(&path, file).expect("the journal file");
    let Ok((_header, entries)) = read(&path) else {
        return;
    };
    let how = ModuleRun {
        limits: brine_fuzz::limits(),
        replay: Some(entries),
        ..ModuleRun::default()
    };
    let _ = run_module(GUEST, None, &how);
});
