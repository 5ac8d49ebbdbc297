//! Bytes → a receipt: `Receipt::parse` (format first, then every field brine
//! acts on), then what `brine verify` does before re-running: compare it with
//! itself (no difference), the consensus of two copies (both agree), and plan
//! the re-run of a fixture job with the receipt's deterministic settings.
#![no_main]

use brine::fuzzing::{parse_job, verify_receipt, SpecJob as Job};
use brine::Receipt;
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

fn job() -> &'static Job {
    static JOB: OnceLock<Job> = OnceLock::new();
    JOB.get_or_init(|| {
        let text = include_str!("../../fixtures/jobs/count3.yaml");
        parse_job(text, Path::new("fixtures/jobs/count3.yaml")).expect("the fixture job")
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(receipt) = Receipt::parse(bytes) else {
        return;
    };
    let check = verify_receipt(&receipt, job());
    assert_eq!(check.self_difference, None, "a receipt differs from itself");
    assert_eq!(check.majority, 2, "two copies of a receipt disagree");
    let _ = receipt.to_json();
});
