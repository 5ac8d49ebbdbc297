//! Bytes → a module: `brine inspect`'s report, then load, validate,
//! instantiate and run `_start` and each zero-argument export (at most
//! `MAX_CALLS`) under fuel, a deadline and a memory cap, with WASI over an
//! empty writable mount at `/out`. Binary and text (`.wat`) modules both.
#![no_main]

use brine::fuzzing::{inspect, run_module, zero_arg_exports};
use brine_fuzz::{empty_tree_run, scratch};
use libfuzzer_sys::fuzz_target;

/// Each call re-instantiates the module, so a few exports are enough.
const MAX_CALLS: usize = 4;

fuzz_target!(|bytes: &[u8]| {
    let _ = inspect(bytes);
    let tree = scratch();
    let how = empty_tree_run(tree.path());
    // `_start` first: missing, it still reports which functions exist.
    let _ = run_module(bytes, None, &how);
    let Ok(exports) = zero_arg_exports(bytes) else {
        return;
    };
    for name in exports.iter().filter(|n| *n != "_start").take(MAX_CALLS) {
        let _ = run_module(bytes, Some(name), &how);
    }
});
