//! Runs the demo job in-process, streaming the guest's stdout as it is
//! written, then starts a job that never ends and cancels it from another
//! thread.
//!
//! cargo run --example run_job [-- RESULTS_DIR]

use brine::{CancelToken, Job, LiveSink, LiveStream, RunConfig, Status, Stream};
use std::io::Write;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let results = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "results/example-run-job".to_string());

    // 1. The demo job: a C program summarizes a CSV of sales.
    let job = Job::from_path("fixtures/jobs/demo/job.yaml")?;
    job.validate()?;
    let live = LiveSink::new(|live: LiveStream| -> Box<dyn Write + Send> {
        match live.stream {
            Stream::Stdout => Box::new(std::io::stdout()),
            Stream::Stderr => Box::new(std::io::stderr()),
        }
    });
    let config = RunConfig::new(format!("{results}/demo"))
        .force(true)
        .live_output(live);
    let report = brine::run(&job, &config)?;
    println!(
        "demo: {:?}, exit code {:?}, results in {}",
        report.status(),
        report.exit_code(),
        report.dir.display()
    );
    for (_, name, path) in report.outputs() {
        println!("  output {name}: {}", path.display());
    }
    if report.status() != Status::Completed || report.exit_code() != Some(0) {
        return Err("the demo job did not complete".into());
    }

    // 2. A job that spins forever, cancelled from another thread.
    let spin = Job::from_path("examples/jobs/loop.yaml")?;
    let token = CancelToken::new();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            token.cancel();
        })
    };
    let config = RunConfig::new(format!("{results}/spin"))
        .force(true)
        .cancel(token);
    let report = brine::run(&spin, &config)?;
    canceller
        .join()
        .map_err(|_| "the cancelling thread panicked")?;
    println!(
        "spin: {:?}, cancelled: {}, error: {}",
        report.status(),
        report.cancelled(),
        report.summaries[0].error.as_deref().unwrap_or("none")
    );
    if !report.cancelled() || report.status() != Status::Failed {
        return Err("the spinning job was not cancelled".into());
    }
    Ok(())
}
