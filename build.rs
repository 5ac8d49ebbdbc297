//! Links the `brine` binary as a fixed-address (non-PIE) executable on Linux.
//!
//! A PIE brine spends most of a short run's start-up in the dynamic loader:
//! every pointer in its read-only data (vtables, string tables of the AWS SDK,
//! rustls, tokio...) is a relative relocation, ~35,000 in a release build,
//! and writing them dirties and copies every page they sit on. Linked at a
//! fixed address there are none to apply: `brine --version` takes half the
//! CPU time and a third less memory (benches/RESULTS.md). The cost is that
//! the executable's own image is not randomized (ASLR still moves the heap,
//! the stacks and every shared library); brine's own code forbids `unsafe`.
//! Build with `BRINE_PIE=1` to keep a position-independent executable.

fn main() {
    println!("cargo:rerun-if-env-changed=BRINE_PIE");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let keep_pie = std::env::var_os("BRINE_PIE").is_some_and(|v| v == "1");
    if target_os == "linux" && target_env == "gnu" && !keep_pie {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
