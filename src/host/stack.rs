//! The one place that stacks hosts: the real host at the bottom, the
//! deterministic host over it when the run asks for one, and a recording or
//! replaying host on top.
//!
//! The order matters: a journal holds what the guest saw, so the journaling
//! host sits above everything that changes the answers (a replay of a
//! deterministic run serves its virtual clock from the journal, with no
//! deterministic host of its own).

use super::deterministic::{DeterministicHost, Settings};
use super::real::RealHost;
use super::recording::{Log, RecordingHost};
use super::replaying::{Divergence, ReplayingHost};
use super::Host;
use crate::host::journal::Entry;
use std::sync::Arc;

/// Whether a run records or replays the host's answers.
#[derive(Clone, Default)]
pub enum Journaling {
    /// Neither.
    #[default]
    Off,
    /// Journal every answer into this log.
    Record(Log),
    /// Serve these recorded answers; report the first divergence here.
    Replay(Arc<Vec<Entry>>, Divergence),
}

impl std::fmt::Debug for Journaling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Journaling::Off => "Off",
            Journaling::Record(_) => "Record",
            Journaling::Replay(..) => "Replay",
        })
    }
}

/// The host the guest talks to: `real` (already configured: mounts, quota,
/// network), made deterministic with `deterministic`'s settings if given,
/// then journaled as `journal` says.
pub fn assemble(
    real: RealHost,
    deterministic: Option<Settings>,
    journal: Journaling,
) -> Box<dyn Host + Send> {
    let host: Box<dyn Host + Send> = match deterministic {
        Some(settings) => Box::new(DeterministicHost::new(Box::new(real), settings)),
        None => Box::new(real),
    };
    match journal {
        Journaling::Off => host,
        Journaling::Record(log) => Box::new(RecordingHost::new(host, log)),
        Journaling::Replay(entries, divergence) => {
            // The entries are copied only when someone else still holds them
            // (each partition of a replayed job gets its own copy).
            let entries = Arc::try_unwrap(entries).unwrap_or_else(|shared| shared.as_ref().clone());
            Box::new(ReplayingHost::new(host, entries, divergence))
        }
    }
}
