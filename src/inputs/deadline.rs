//! The time staging may take, and what the guest's run gets of it.
//!
//! Staging (downloads, IPFS, S3, inline extraction, cache revalidation) runs
//! under a [`Deadline`]. A job with `Timeouts.TotalTimeout` gets one budget for
//! staging and the run together: the run then gets min(ExecutionTimeout, what
//! is left). A job without one gets [`DEFAULT_STAGING_TIMEOUT`] for staging
//! alone (`brine run --staging-timeout` changes it), and its run is limited by
//! ExecutionTimeout only. Each execution's clock starts when that execution
//! starts (brine has no queue, so queued time is never charged).

use std::fmt;
use std::time::{Duration, Instant};

/// How long staging may take when the job gives no `TotalTimeout`: 30 minutes,
/// enough for gigabytes over a slow link, short enough that a server trickling
/// bytes cannot hold a runner for hours.
pub const DEFAULT_STAGING_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The time budget of one execution, as planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBudget {
    /// `Timeouts.TotalTimeout`: staging and the run together.
    Total(Duration),
    /// No TotalTimeout: staging alone may take this long (`--staging-timeout`).
    Staging(Duration),
}

impl Default for TimeBudget {
    fn default() -> Self {
        TimeBudget::Staging(DEFAULT_STAGING_TIMEOUT)
    }
}

impl TimeBudget {
    /// Starts the clock: the deadline is this budget from now.
    pub fn start(self) -> Deadline {
        let limit = match self {
            TimeBudget::Total(d) | TimeBudget::Staging(d) => d,
        };
        Deadline {
            // A budget too large to add to the clock is no limit at all.
            at: Instant::now().checked_add(limit),
            budget: Some(self),
        }
    }
}

/// When staging (and, under a TotalTimeout, the run) must be done by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deadline {
    at: Option<Instant>,
    budget: Option<TimeBudget>,
}

impl Deadline {
    /// No deadline (library callers that set none; `brine run` always sets one).
    pub fn none() -> Self {
        Deadline::default()
    }

    /// The time left, `None` when there is no deadline; zero once it has passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.at
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        self.remaining().is_some_and(|left| left.is_zero())
    }

    /// `Err` once the deadline has passed, saying which limit it was.
    pub fn check(&self) -> Result<(), Expired> {
        match self.budget {
            Some(budget) if self.expired() => Err(Expired { budget }),
            _ => Ok(()),
        }
    }

    /// The error to report when the deadline stopped something.
    pub fn expired_error(&self) -> Expired {
        Expired {
            budget: self.budget.unwrap_or_default(),
        }
    }

    /// `wait` shortened to the time left (a pause or one read must not outlast the deadline).
    pub fn cap(&self, wait: Duration) -> Duration {
        self.remaining().map_or(wait, |left| wait.min(left))
    }

    /// The run's wall-clock limit: ExecutionTimeout, or what is left of the
    /// TotalTimeout when that is shorter. The flag says the TotalTimeout set it.
    pub fn run_timeout(&self, execution: Option<Duration>) -> (Option<Duration>, bool) {
        let (Some(TimeBudget::Total(_)), Some(left)) = (self.budget, self.remaining()) else {
            return (execution, false);
        };
        match execution {
            Some(limit) if limit <= left => (Some(limit), false),
            _ => (Some(left), true),
        }
    }
}

/// A deadline that passed: which limit, and how to raise it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub struct Expired {
    budget: TimeBudget,
}

impl Expired {
    /// The budget that ran out.
    pub fn budget(&self) -> TimeBudget {
        self.budget
    }
}

impl fmt::Display for Expired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.budget {
            TimeBudget::Total(d) => write!(
                f,
                "stopped at the job's TotalTimeout of {}; raise Timeouts.TotalTimeout in the job",
                seconds(d)
            ),
            TimeBudget::Staging(d) => write!(
                f,
                "staging took longer than the staging timeout of {}; raise it with `brine run --staging-timeout DURATION` (or set Timeouts.TotalTimeout)",
                seconds(d)
            ),
        }
    }
}

/// A duration as job files and flags write it: whole seconds, else milliseconds.
fn seconds(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_deadline_never_expires_or_shortens_anything() {
        let none = Deadline::none();
        assert!(none.check().is_ok());
        assert_eq!(none.cap(Duration::from_secs(9)), Duration::from_secs(9));
        assert_eq!(none.run_timeout(None), (None, false));
    }

    #[test]
    fn an_expired_total_timeout_names_the_field_to_raise() {
        let deadline = TimeBudget::Total(Duration::ZERO).start();
        let message = deadline.check().unwrap_err().to_string();
        assert!(message.contains("TotalTimeout of 0s"), "{message}");
        assert_eq!(deadline.cap(Duration::from_secs(5)), Duration::ZERO);
        let staging = TimeBudget::Staging(Duration::from_millis(1500)).start();
        let message = staging.expired_error().to_string();
        assert!(message.contains("1500ms") && message.contains("--staging-timeout"));
    }

    #[test]
    fn the_run_gets_the_shorter_of_execution_timeout_and_what_is_left() {
        let total = TimeBudget::Total(Duration::from_secs(3600)).start();
        let short = Some(Duration::from_secs(5));
        assert_eq!(total.run_timeout(short), (short, false));
        let (limit, by_total) = total.run_timeout(Some(Duration::from_secs(7200)));
        assert!(by_total && limit.is_some_and(|l| l <= Duration::from_secs(3600)));
        let (limit, by_total) = total.run_timeout(None);
        assert!(by_total && limit.is_some());
        let staging = TimeBudget::Staging(Duration::from_secs(1)).start();
        assert_eq!(staging.run_timeout(None), (None, false));
    }

    #[test]
    fn a_huge_budget_is_no_limit_rather_than_an_overflow() {
        let deadline = TimeBudget::Total(Duration::from_secs(u64::MAX)).start();
        assert!(deadline.check().is_ok());
        assert_eq!(deadline.run_timeout(None), (None, false));
    }
}
