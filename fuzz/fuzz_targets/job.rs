//! Bytes → a job file: parse (YAML or JSON, chosen by content), normalize,
//! validate; plan a valid job, hash it and print it as `validate --json`
//! does. Every error must be located (a line and column in the text).
#![no_main]

use brine::fuzzing::{job_hash, parse_job, plan, PlanOptions};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    // Relative SourcePaths resolve against a directory that does not exist.
    let file = Path::new("/nonexistent-brine-fuzz/job.yaml");
    match parse_job(text, file) {
        Ok(job) => {
            let _ = job_hash(&job);
            let _ = serde_json::to_string(&job);
            let _ = plan(&job, &PlanOptions::default());
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "a refused job with no error");
            for error in errors.iter() {
                assert!(error.line > 0, "an error without a location: {error}");
                assert!(
                    !error.to_string().contains('\n'),
                    "a multi-line error: {error:?}"
                );
            }
        }
    }
});
