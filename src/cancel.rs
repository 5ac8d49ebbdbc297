//! Ctrl-C and SIGTERM: what brine removes before it exits.
//!
//! A guest may loop without ever calling the host, and wasmi stops a call only
//! between fuel slices, so brine does not wait for the run to notice a signal:
//! a signal thread removes every scratch path registered here (staging
//! directories, lock files, temporary publish directories, `verify`'s scratch
//! space) and exits with 128 + the signal's number (130 for SIGINT, 143 for
//! SIGTERM). The results directory is left exactly as it was before the run:
//! a cancelled run publishes nothing. A second signal exits at once. Until the
//! first scratch path is registered, signals keep their default action.
//!
//! A program that embeds brine stops a run its own way: with a [`CancelToken`],
//! which the engine checks where it checks the run's deadline (between fuel
//! slices and after calls that can block) and which wakes a sleeping guest.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Stops a run from another thread: the guest ends at its next fuel slice (a
/// few milliseconds of guest code) or when a sleep or blocking call returns,
/// and the run is reported as cancelled. Clones share one flag.
///
/// ```
/// let token = brine::CancelToken::new();
/// let other = token.clone();
/// assert!(!token.is_cancelled());
/// other.cancel();
/// assert!(token.is_cancelled());
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    /// Read between fuel slices: one relaxed load, no lock.
    cancelled: AtomicBool,
    /// Wakes a guest's sleep at once (the lock only pairs with the condvar).
    wake: Condvar,
    lock: Mutex<()>,
}

impl CancelToken {
    /// A token not cancelled yet.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// Asks every run holding this token (or a clone) to stop; idempotent.
    pub fn cancel(&self) {
        let _held = self.0.lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.wake.notify_all();
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::Relaxed)
    }

    /// Sleeps for `duration` or until the token is cancelled, whichever is
    /// first; returns whether it was cancelled.
    pub(crate) fn sleep(&self, duration: Duration) -> bool {
        let guard = self.0.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let result = self
            .0
            .wake
            .wait_timeout_while(guard, duration, |_| !self.is_cancelled());
        drop(result);
        self.is_cancelled()
    }
}

/// Paths to remove when a signal ends brine, by registration id.
#[derive(Debug)]
struct Registry {
    paths: Mutex<Vec<(u64, PathBuf)>>,
    next_id: AtomicU64,
}

/// The process's registry, emptied by the signal thread.
static SCRATCH: Registry = Registry::new();

impl Registry {
    const fn new() -> Self {
        Registry {
            paths: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(u64, PathBuf)>> {
        self.paths.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&'static self, path: PathBuf) -> Scratch {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().push((id, path));
        Scratch { registry: self, id }
    }

    /// Removes every registered path (most recent first). The returned guard
    /// keeps any `settle` from starting until the process exits.
    fn remove_all(&self) -> MutexGuard<'_, Vec<(u64, PathBuf)>> {
        let paths = self.lock();
        for (_, path) in paths.iter().rev() {
            // Not following links: a link is removed, never its target.
            let removed = match std::fs::symlink_metadata(path) {
                Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
                Ok(_) => std::fs::remove_file(path),
                Err(_) => Ok(()),
            };
            if let Err(e) = removed {
                let _ = writeln_stderr(&format!("brine: cannot remove {}: {e}", path.display()));
            }
        }
        paths
    }
}

/// A path removed if a signal ends brine while this lives; dropping it only
/// forgets the path (the owner cleans up as usual).
#[derive(Debug)]
pub struct Scratch {
    registry: &'static Registry,
    id: u64,
}

/// Registers `path` (a directory or a file brine created) for removal on a
/// signal. The first registration starts the signal thread: a process that
/// never creates scratch space (`brine wasm run`, `inspect`) pays nothing
/// and ends on a signal as any program does.
pub fn remove_on_signal(path: PathBuf) -> Scratch {
    static SIGNAL_THREAD: std::sync::Once = std::sync::Once::new();
    SIGNAL_THREAD.call_once(|| {
        if let Err(e) = exit_cleanly_on_signals() {
            let _ = writeln_stderr(&format!(
                "warning: cannot handle Ctrl-C (scratch space may be left behind): {e}"
            ));
        }
    });
    SCRATCH.register(path)
}

impl Scratch {
    /// Runs `settle` (say, the rename that publishes the path) while no signal
    /// can clean up, then forgets the path: a signal either comes before, and
    /// the path is removed, or after, and the path is kept as published.
    pub fn settle<T>(self, settle: impl FnOnce() -> T) -> T {
        let mut paths = self.registry.lock();
        let result = settle();
        paths.retain(|(id, _)| *id != self.id);
        result
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.registry.lock().retain(|(id, _)| *id != self.id);
    }
}

fn writeln_stderr(line: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    writeln!(std::io::stderr().lock(), "{line}")
}

/// Starts the signal thread: on SIGINT or SIGTERM it removes the registered
/// scratch paths and exits with 128 + the signal; a second signal while that
/// runs exits at once.
#[cfg(unix)]
fn exit_cleanly_on_signals() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("brine-signals".to_string())
        .spawn(move || {
            let mut first = true;
            for signal in signals.forever() {
                let status = 128 + signal;
                if !first {
                    std::process::exit(status);
                }
                first = false;
                std::thread::spawn(move || {
                    let _held = SCRATCH.remove_all();
                    std::process::exit(status);
                });
            }
        })?;
    Ok(())
}

/// Without Unix signals, Ctrl-C ends brine the platform's way.
#[cfg(not(unix))]
fn exit_cleanly_on_signals() -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_wakes_a_sleep_at_once() {
        let token = CancelToken::new();
        assert!(!token.sleep(Duration::from_millis(1)));
        let other = token.clone();
        let started = std::time::Instant::now();
        let waker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.cancel();
        });
        assert!(token.sleep(Duration::from_secs(60)));
        assert!(started.elapsed() < Duration::from_secs(30));
        waker.join().unwrap();
    }

    #[test]
    fn a_signal_removes_what_is_registered_and_nothing_settled() {
        let tmp = tempfile::tempdir().unwrap();
        let staging = tmp.path().join(".brine-out-1-ab");
        let published = tmp.path().join("published");
        std::fs::create_dir_all(staging.join("results")).unwrap();
        std::fs::create_dir(&published).unwrap();
        static REGISTRY: Registry = Registry::new();
        let _live = REGISTRY.register(staging.clone());
        let settled = REGISTRY.register(published.clone());
        settled.settle(|| ());
        drop(REGISTRY.remove_all());
        assert!(!staging.exists(), "the registered staging dir is removed");
        assert!(published.exists(), "a settled path is kept");
    }

    #[test]
    fn a_link_is_removed_not_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("precious");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), "x").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        static REGISTRY: Registry = Registry::new();
        let _scratch = REGISTRY.register(link.clone());
        drop(REGISTRY.remove_all());
        assert!(std::fs::symlink_metadata(&link).is_err());
        assert!(target.join("keep").exists());
    }
}
