//! What a running job is doing, for the one-line status `brine run` draws on
//! a terminal: partitions running, done and failed, the guest's output so
//! far, and the input being staged. The runner and the pool update it; the
//! CLI reads it a few times a second. Counting costs a relaxed atomic add.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A job's progress so far (shared by every partition of one run).
#[derive(Debug)]
pub struct Progress {
    started: Instant,
    partitions: u32,
    running: AtomicU32,
    completed: AtomicU32,
    failed: AtomicU32,
    bytes_out: AtomicU64,
    /// What each partition is staging now (partition index, what it is).
    staging: Mutex<Vec<(u32, String)>>,
}

impl Progress {
    /// The progress of a run of `partitions` partitions, starting now.
    pub fn new(partitions: u32) -> Arc<Progress> {
        Arc::new(Progress {
            started: Instant::now(),
            partitions,
            running: AtomicU32::new(0),
            completed: AtomicU32::new(0),
            failed: AtomicU32::new(0),
            bytes_out: AtomicU64::new(0),
            staging: Mutex::new(Vec::new()),
        })
    }

    /// A partition started.
    pub(crate) fn started(&self) {
        self.running.fetch_add(1, Ordering::Relaxed);
    }

    /// A partition ended, completed or not.
    pub(crate) fn ended(&self, completed: bool) {
        self.running.fetch_sub(1, Ordering::Relaxed);
        let counter = if completed {
            &self.completed
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Partition `index` is staging `what` (`None`: it finished staging).
    pub(crate) fn staging(&self, index: u32, what: Option<String>) {
        let Ok(mut staging) = self.staging.lock() else {
            return;
        };
        staging.retain(|(i, _)| *i != index);
        if let Some(what) = what {
            staging.push((index, what));
        }
    }

    /// A writer that counts what passes through it as the guest's output.
    pub(crate) fn counting(
        self: &Arc<Self>,
        inner: Box<dyn Write + Send>,
    ) -> Box<dyn Write + Send> {
        Box::new(Counting {
            inner,
            progress: self.clone(),
        })
    }

    /// The status line: elapsed time, partitions, output so far, and what is
    /// being staged.
    pub fn line(&self) -> String {
        let elapsed = self.started.elapsed().as_secs_f64();
        let running = self.running.load(Ordering::Relaxed);
        let completed = self.completed.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        let out = crate::units::format_size(self.bytes_out.load(Ordering::Relaxed));
        let mut line = format!(
            "{elapsed:.1}s  partitions: {running} running, {completed} completed, {failed} failed of {}  output: {out}",
            self.partitions
        );
        if let Some((index, what)) = self.staging.lock().ok().and_then(|s| s.first().cloned()) {
            let who = if self.partitions > 1 {
                format!(" [{index}]")
            } else {
                String::new()
            };
            line.push_str(&format!("  staging{who}: {what}"));
        }
        line
    }
}

/// Counts the bytes the guest writes (what its writer accepts).
struct Counting {
    inner: Box<dyn Write + Send>,
    progress: Arc<Progress>,
}

impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.progress
            .bytes_out
            .fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_partitions_output_and_names_what_is_staged() {
        let progress = Progress::new(3);
        progress.started();
        progress.started();
        progress.ended(false);
        progress.staging(1, Some("urlDownload http://x/y".into()));
        let mut out = progress.counting(Box::new(Vec::new()));
        out.write_all(b"hello").unwrap();
        let line = progress.line();
        assert!(
            line.contains("1 running, 0 completed, 1 failed of 3"),
            "{line}"
        );
        assert!(line.contains("output: 5 bytes"), "{line}");
        assert!(
            line.ends_with("staging [1]: urlDownload http://x/y"),
            "{line}"
        );
        progress.staging(1, None);
        assert!(!progress.line().contains("staging"));
    }
}
