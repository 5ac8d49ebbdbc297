//! Text → `brine wast` on it, with fuel and memory budgets (a script's own
//! pragmas may lower them, never raise them).
#![no_main]

use brine::wast::{run_text, Options, PrintTo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let options = Options {
        print: PrintTo::Discard,
        fuel: Some(brine_fuzz::FUEL),
        max_memory: Some(16 << 20),
        ..Options::default()
    };
    let _ = run_text("fuzz.wast", text, &options);
});
