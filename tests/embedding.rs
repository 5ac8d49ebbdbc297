//! The embedding API from outside the crate: cancelling wakes a sleeping
//! guest at once, live output reaches the caller's writers, errors are located.

use brine::wasm::{self, ModuleConfig};
use brine::{CancelToken, Job, LiveSink, LiveStream, RunConfig, Status, Stream};
use std::io::Write;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A guest that sleeps a minute in one poll_oneoff call.
const SLEEPER: &str = r#"(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const 60000000000))
    (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))))"#;

#[test]
fn a_cancel_wakes_a_sleeping_guest_and_reports_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("sleeper.wat");
    std::fs::write(&module, SLEEPER).unwrap();
    let token = CancelToken::new();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            token.cancel();
        })
    };
    let started = Instant::now();
    let report = wasm::run(ModuleConfig::new(&module).cancel(token)).unwrap();
    canceller.join().unwrap();
    assert_eq!(report.outcome, "cancelled", "{:?}", report.error);
    assert_eq!(report.status, wasm::EXIT_CANCELLED);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the sleep was cut short"
    );
}

#[test]
fn a_token_cancelled_before_the_run_stops_it_before_any_guest_code() {
    let token = CancelToken::new();
    token.cancel();
    let config =
        ModuleConfig::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/loop.wasm")).cancel(token);
    assert_eq!(wasm::run(config).unwrap().outcome, "cancelled");
}

/// Everything written to it, shared with the test.
#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Vec<u8>>>);

impl Write for Collected {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_job_streams_its_output_to_the_callers_sink_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let job = Job::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/jobs/demo/job.yaml"
    ))
    .unwrap();
    let seen = Collected::default();
    let sink = {
        let seen = seen.clone();
        LiveSink::new(move |live: LiveStream| -> Box<dyn Write + Send> {
            assert_eq!((live.partition, live.partitions), (0, 1));
            match live.stream {
                Stream::Stdout => Box::new(seen.clone()),
                Stream::Stderr => Box::new(std::io::sink()),
            }
        })
    };
    let progress = brine::Progress::new(0);
    let config = RunConfig::new(dir.path().join("out"))
        .live_output(sink)
        .progress(progress.clone())
        .receipt(true);
    let report = brine::run(&job, &config).unwrap();
    assert_eq!(report.status(), Status::Completed);
    assert_eq!(report.exit_code(), Some(0));
    assert!(!report.cancelled());
    assert!(report.receipt.is_some());
    let streamed = String::from_utf8(seen.0.lock().unwrap().clone()).unwrap();
    assert_eq!(streamed, report.summaries[0].stdout);
    assert!(streamed.contains("summarized"));
    assert_eq!((progress.partitions(), progress.completed()), (1, 1));
    let outputs = report.outputs();
    assert_eq!(outputs.len(), 1);
    assert!(outputs[0].2.join("summary.csv").is_file());
}

#[test]
fn a_bad_job_text_is_located_and_a_used_output_refused() {
    let err = Job::from_str("Type: wasm\nParams:\n  Entrypoint: 3\n").unwrap_err();
    let located = err.located().unwrap();
    assert_eq!(located.file.display().to_string(), "<string>");
    assert!(located.line > 0 && located.column > 0, "{err}");
    assert!(matches!(err, brine::Error::Invalid(_)));

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep"), "x").unwrap();
    let job = Job::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/jobs/demo/job.yaml"
    ))
    .unwrap();
    let err = brine::run(&job, &RunConfig::new(dir.path())).unwrap_err();
    assert!(matches!(err, brine::Error::Refused(_)), "{err}");
    assert!(
        dir.path().join("keep").exists(),
        "nothing replaced without force"
    );
}
