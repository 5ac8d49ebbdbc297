//! The one-line status `brine run` draws on a terminal's stderr while a job
//! runs (elapsed time, partitions, output, the input being staged), beside
//! the download bars, and clears before the summary is printed.

use crate::job::progress::Progress;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// The status line; dropping it stops and clears it.
pub(super) struct StatusLine {
    bar: ProgressBar,
    stop: Arc<AtomicBool>,
    updater: Option<JoinHandle<()>>,
}

impl StatusLine {
    /// Draws `progress` in `bars` until dropped.
    pub(super) fn start(progress: Arc<Progress>, bars: &MultiProgress) -> StatusLine {
        let bar = bars.add(ProgressBar::new_spinner());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {wide_msg}") {
            bar.set_style(style);
        }
        bar.set_message(progress.line());
        bar.enable_steady_tick(TICK);
        let stop = Arc::new(AtomicBool::new(false));
        let updater = {
            let (bar, stop) = (bar.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    bar.set_message(progress.line());
                    std::thread::sleep(TICK);
                }
            })
        };
        StatusLine {
            bar,
            stop,
            updater: Some(updater),
        }
    }
}

impl Drop for StatusLine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(updater) = self.updater.take() {
            let _ = updater.join();
        }
        self.bar.finish_and_clear();
    }
}
