//! A structured sequence of WASI preview1 calls (any function, arguments
//! that mostly mean something, any memory image) made by a generated guest
//! through brine's real linker and host, over a mount tree with read-only and
//! writable mounts and links out of both. Afterwards nothing outside the
//! writable mount may have changed: not `outside/`, not the read-only mounts
//! (content and metadata), not the tree's own directory.
#![no_main]

use arbitrary::Arbitrary;
use brine::fuzzing::run_module;
use brine_fuzz::{assert_unchanged, scratch, snapshot, wasi_program, wasi_tree, Call};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Script {
    deterministic: bool,
    calls: Vec<Call>,
    image: Vec<u8>,
}

/// More calls rarely reach new code; they make each run slower.
const MAX_CALLS: usize = 48;

fuzz_target!(|script: Script| {
    let tree = scratch();
    let mut how = wasi_tree(tree.path()).expect("the wasi target's tree");
    how.deterministic = script.deterministic;
    let writable = vec![tree.path().join("rw")];
    let before = snapshot(tree.path(), &writable);
    let calls = &script.calls[..script.calls.len().min(MAX_CALLS)];
    let program = wasi_program(&script.image, calls);
    let _ = run_module(&program, None, &how);
    let after = snapshot(tree.path(), &writable);
    assert_unchanged("outside the writable mount", &before, &after);
});
