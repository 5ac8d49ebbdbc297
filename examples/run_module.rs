//! Runs single WebAssembly modules in-process: one with arguments and an
//! environment, one whose exit code is chosen, one stopped by its fuel.
//!
//! cargo run --example run_module

use brine::wasm::{self, ModuleConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // argv and the environment, output to this process's stdout.
    let report = wasm::run(
        ModuleConfig::new("fixtures/args.wasm")
            .args(["hello", "from", "brine"])
            .env("GREETING", "hi"),
    )?;
    println!(
        "args.wasm: {} with status {}",
        report.outcome, report.status
    );
    if report.status != 0 {
        return Err("args.wasm failed".into());
    }

    // The guest's exit code is the run's status.
    let report = wasm::run(ModuleConfig::new("fixtures/exit_code.wasm").env("EXIT_CODE", "7"))?;
    println!(
        "exit_code.wasm: {} with status {}",
        report.outcome, report.status
    );
    if (report.outcome, report.status) != ("exited", 7) {
        return Err("exit_code.wasm did not exit 7".into());
    }

    // A guest that spins forever stops when its fuel runs out.
    let report = wasm::run(ModuleConfig::new("fixtures/loop.wasm").fuel(1_000_000))?;
    println!(
        "loop.wasm: {} ({})",
        report.outcome,
        report.error.as_deref().unwrap_or("")
    );
    if report.outcome != "out_of_fuel" {
        return Err("loop.wasm was not stopped by its fuel".into());
    }
    Ok(())
}
