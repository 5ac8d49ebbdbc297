//! What a running job is doing, for the one-line status `brine run` draws on
//! a terminal: partitions running, done and failed, the guest's output so
//! far, and the input being staged. The runner and the pool update it; the
//! CLI reads it a few times a second (a program embedding brine reads the
//! counters). Counting costs a relaxed atomic add.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A job's progress so far (shared by every partition of one run).
///
/// ```
/// let progress = brine::Progress::new(0);
/// // Given to a run with `RunConfig::progress`, read from any thread:
/// assert_eq!(progress.completed() + progress.failed(), 0);
/// assert!(progress.line().contains("starting"));
/// ```
#[derive(Debug)]
pub struct Progress {
    started: Instant,
    partitions: AtomicU32,
    running: AtomicU32,
    completed: AtomicU32,
    failed: AtomicU32,
    bytes_out: AtomicU64,
    /// What each partition is staging now (partition index, what it is).
    staging: Mutex<Vec<(u32, String)>>,
}

impl Progress {
    /// The progress of a run of `partitions` partitions, starting now (0
    /// when not known yet: a run sets it once the job is planned).
    pub fn new(partitions: u32) -> Arc<Progress> {
        Arc::new(Progress {
            started: Instant::now(),
            partitions: AtomicU32::new(partitions),
            running: AtomicU32::new(0),
            completed: AtomicU32::new(0),
            failed: AtomicU32::new(0),
            bytes_out: AtomicU64::new(0),
            staging: Mutex::new(Vec::new()),
        })
    }

    /// The job was planned into `partitions` partitions.
    pub(crate) fn plan(&self, partitions: usize) {
        let count = u32::try_from(partitions).unwrap_or(u32::MAX);
        self.partitions.store(count, Ordering::Relaxed);
    }

    /// How many partitions the run has (0 until it is planned).
    pub fn partitions(&self) -> u32 {
        self.partitions.load(Ordering::Relaxed)
    }

    /// How many partitions are running now.
    pub fn running(&self) -> u32 {
        self.running.load(Ordering::Relaxed)
    }

    /// How many partitions completed.
    pub fn completed(&self) -> u32 {
        self.completed.load(Ordering::Relaxed)
    }

    /// How many partitions failed.
    pub fn failed(&self) -> u32 {
        self.failed.load(Ordering::Relaxed)
    }

    /// The bytes the guests have written to stdout and stderr so far.
    pub fn output_bytes(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
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

    /// The status line: elapsed time, what the partitions are doing, the
    /// guest's output so far. Short enough for an 80-column terminal when it
    /// names no long URL.
    pub fn line(&self) -> String {
        let elapsed = self.started.elapsed().as_secs_f64();
        let out = crate::units::format_size(self.bytes_out.load(Ordering::Relaxed));
        let staging = self.staging.lock().ok().and_then(|s| s.first().cloned());
        let doing = match (self.partitions(), staging) {
            (0 | 1, Some((_, what))) => format!("staging {what}"),
            (0 | 1, None) => self.lone_state().to_string(),
            (n, staging) => {
                let counts = format!(
                    "partitions: {} running, {} done, {} failed of {n}",
                    self.running.load(Ordering::Relaxed),
                    self.completed.load(Ordering::Relaxed),
                    self.failed.load(Ordering::Relaxed),
                );
                match staging {
                    Some((index, what)) => format!("{counts}; [{index}] staging {what}"),
                    None => counts,
                }
            }
        };
        format!("{elapsed:.1}s  {doing}  output: {out}")
    }

    /// What a job of one partition is doing when it is not staging.
    fn lone_state(&self) -> &'static str {
        if self.failed.load(Ordering::Relaxed) > 0 {
            "failed"
        } else if self.completed.load(Ordering::Relaxed) > 0 {
            "done"
        } else if self.running.load(Ordering::Relaxed) > 0 {
            "running"
        } else {
            "starting"
        }
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
        let expected = "partitions: 1 running, 0 done, 1 failed of 3; \
                        [1] staging urlDownload http://x/y  output: 5 bytes";
        assert!(line.ends_with(expected), "{line}");
        progress.staging(1, None);
        assert!(!progress.line().contains("staging"));
    }

    #[test]
    fn a_lone_partition_says_what_it_is_doing() {
        let progress = Progress::new(1);
        assert!(progress.line().ends_with("  starting  output: 0 bytes"));
        progress.started();
        progress.staging(0, Some("ipfs bafy".into()));
        assert!(progress
            .line()
            .ends_with("  staging ipfs bafy  output: 0 bytes"));
        progress.staging(0, None);
        assert!(progress.line().ends_with("  running  output: 0 bytes"));
        progress.ended(true);
        assert!(progress.line().ends_with("  done  output: 0 bytes"));
    }
}
