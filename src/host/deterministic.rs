//! The deterministic host: the same answers on every run, on every machine.
//!
//! It wraps a real host (files are still real: inputs are the same bytes
//! everywhere) and replaces everything that varies between runs or hosts:
//! - time is virtual: the monotonic clock is the fuel the guest has used
//!   (1 unit = 1 ns) plus the time it slept, and the realtime clock adds a
//!   fixed epoch; sleeps advance virtual time instead of waiting;
//! - random bytes come from a keyed BLAKE3 stream seeded per run;
//! - directory listings are sorted by name (after `.` and `..`);
//! - inode numbers are numbered in the order the guest first sees them,
//!   device numbers are 0, and every timestamp is the epoch.
//!
//! HTTP requests are passed on unchanged: a network answer cannot be made
//! reproducible, so a deterministic run with the network enabled is refused
//! before it starts (see `plan`), unless a journal is replayed.

use super::{
    wrapped_methods, Clock, DirEntry, Filestat, Handle, Host, OpenRequest, Opened, SetTime,
};
use crate::host::abi::WasiResult;
use crate::host::net::{HttpRequest, HttpResult};
use std::collections::HashMap;
use std::io::SeekFrom;

/// 2020-01-01T00:00:00Z in nanoseconds: the default epoch of the virtual realtime clock.
pub const DEFAULT_EPOCH_NS: u64 = 1_577_836_800_000_000_000;

/// What makes a deterministic run: the epoch and the random seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// Realtime clock at the start of the run, in ns since the Unix epoch.
    pub epoch_ns: u64,
    /// The seed of `random_get`'s stream.
    pub seed: [u8; 32],
}

impl Settings {
    /// Settings from a numeric seed (as `--seed N` gives it).
    pub fn from_seed(seed: u64, epoch_ns: u64) -> Self {
        let key = blake3::derive_key("brine 2026 random seed", &seed.to_le_bytes());
        Settings {
            epoch_ns,
            seed: key,
        }
    }
}

/// A host whose answers depend only on the guest's inputs and actions.
pub struct DeterministicHost {
    inner: Box<dyn Host + Send>,
    settings: Settings,
    fuel_ns: u64,
    slept_ns: u64,
    random: blake3::OutputReader,
    inodes: HashMap<u64, u64>,
}

impl DeterministicHost {
    /// Wraps `inner` (whose files are used as they are).
    pub fn new(inner: Box<dyn Host + Send>, settings: Settings) -> Self {
        let random = blake3::Hasher::new_keyed(&settings.seed).finalize_xof();
        DeterministicHost {
            inner,
            settings,
            fuel_ns: 0,
            slept_ns: 0,
            random,
            inodes: HashMap::new(),
        }
    }

    fn now(&self) -> u64 {
        self.fuel_ns.saturating_add(self.slept_ns)
    }

    /// A stable inode number: the order in which the guest first met the file.
    fn stable_ino(&mut self, ino: u64) -> u64 {
        let next = self.inodes.len() as u64 + 1;
        *self.inodes.entry(ino).or_insert(next)
    }

    fn stable_stat(&mut self, real: Filestat) -> Filestat {
        Filestat {
            dev: 0,
            // Keyed by inode alone, as directory entries carry no device.
            ino: self.stable_ino(real.ino),
            atim: self.settings.epoch_ns,
            mtim: self.settings.epoch_ns,
            ctim: self.settings.epoch_ns,
            ..real
        }
    }
}

/// The deterministic host's generic methods (see `host_methods!`): `forward`
/// passes a call to the wrapped host unchanged.
macro_rules! deterministic_method {
    (forward $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        fn $name(&mut self $(, $arg: $ty)*) -> $ret {
            self.inner.$name($($arg),*)
        }
    };
    (own $($signature:tt)*) => {};
}

impl Host for DeterministicHost {
    fn clock_time(&mut self, clock: Clock, _precision: u64) -> WasiResult<u64> {
        Ok(match clock {
            Clock::Realtime => self.settings.epoch_ns.saturating_add(self.now()),
            Clock::Monotonic | Clock::ProcessCputime | Clock::ThreadCputime => self.now(),
        })
    }

    fn clock_res(&mut self, _clock: Clock) -> WasiResult<u64> {
        Ok(1)
    }

    fn random_fill(&mut self, buf: &mut [u8]) -> WasiResult<()> {
        self.random.fill(buf);
        Ok(())
    }

    fn sleep(&mut self, nanos: u64) -> WasiResult<()> {
        self.slept_ns = self.slept_ns.saturating_add(nanos);
        Ok(())
    }

    fn note_fuel(&mut self, consumed: u64) {
        // Fuel only grows; never let virtual time run backwards.
        self.fuel_ns = self.fuel_ns.max(consumed);
    }

    fn stat(&mut self, handle: Handle) -> WasiResult<Filestat> {
        let real = self.inner.stat(handle)?;
        Ok(self.stable_stat(real))
    }

    fn stat_at(&mut self, dir: Handle, path: &str, follow: bool) -> WasiResult<Filestat> {
        let real = self.inner.stat_at(dir, path, follow)?;
        Ok(self.stable_stat(real))
    }

    fn read_dir(&mut self, dir: Handle) -> WasiResult<Vec<DirEntry>> {
        let mut entries = self.inner.read_dir(dir)?;
        let dots = entries
            .iter()
            .take_while(|e| e.name == b"." || e.name == b"..")
            .count();
        entries[dots..].sort_by(|a, b| a.name.cmp(&b.name));
        for entry in &mut entries {
            entry.ino = self.stable_ino(entry.ino);
        }
        Ok(entries)
    }

    fn set_deadline(&mut self, deadline: Option<std::time::Instant>) {
        self.inner.set_deadline(deadline);
    }

    fn http_request(&mut self, req: &HttpRequest) -> HttpResult {
        self.inner.http_request(req)
    }

    wrapped_methods!(deterministic, deterministic_method);
}
