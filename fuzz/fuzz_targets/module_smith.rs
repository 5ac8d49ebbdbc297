//! wasm-smith's arbitrary valid modules (that may import WASI preview1) →
//! the same run as the `module` target, so the fuzzer reaches instantiation
//! and execution instead of stopping at the parser.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use brine::fuzzing::{inspect, run_module, zero_arg_exports};
use brine_fuzz::{empty_tree_run, scratch, wasi_imports, MAX_MEMORY};
use libfuzzer_sys::fuzz_target;

const MAX_CALLS: usize = 4;

fn config(u: &mut Unstructured<'_>) -> arbitrary::Result<wasm_smith::Config> {
    let mut config = wasm_smith::Config::arbitrary(u)?;
    // Proposals wasmi does not implement only make modules it refuses.
    config.gc_enabled = false;
    config.exceptions_enabled = false;
    config.threads_enabled = false;
    config.shared_everything_threads_enabled = false;
    config.custom_page_sizes_enabled = false;
    config.wide_arithmetic_enabled = false;
    config.relaxed_simd_enabled = false;
    config.export_everything = true;
    config.allow_start_export = true;
    config.max_memory32_bytes = MAX_MEMORY * 2;
    config.available_imports = Some(wasi_imports());
    Ok(config)
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(config) = config(&mut u) else { return };
    let Ok(module) = wasm_smith::Module::new(config, &mut u) else {
        return;
    };
    let bytes = module.to_bytes();
    // Reproducing a finding: `BRINE_FUZZ_SAVE=m.wasm target/.../module_smith crash-...`
    // writes the module the input generates, for a regression test.
    if let Some(path) = std::env::var_os("BRINE_FUZZ_SAVE") {
        let _ = std::fs::write(path, &bytes);
    }
    let _ = inspect(&bytes);
    let tree = scratch();
    let how = empty_tree_run(tree.path());
    let _ = run_module(&bytes, None, &how);
    let Ok(exports) = zero_arg_exports(&bytes) else {
        return;
    };
    for name in exports.iter().filter(|n| *n != "_start").take(MAX_CALLS) {
        let _ = run_module(&bytes, Some(name), &how);
    }
});
