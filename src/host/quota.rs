//! The disk quota: how much the guest may grow its writable mounts.
//!
//! A guest writes through [`RealHost`](super::real::RealHost) only, so the host
//! counts the growth of *apparent* file sizes there (a write past the end, a
//! pwrite at 16 TiB, `fd_filestat_set_size`, `fd_allocate`) plus a fixed
//! [`ENTRY_COST`] per new directory or symlink, and credits shrinking (a
//! truncation, an unlink of a file nobody else holds). Apparent size is what
//! the results copy, hash and publish, so a sparse 16 TiB file counts as 16 TiB
//! and a file with several names (hard links) counts once per name.
//!
//! The count is net: shrinking a writable input the job brought in frees room
//! too. Renaming over an existing file frees nothing (conservative).
//!
//! When a write would pass the limit the guest gets a short write up to it, then
//! `ENOSPC`; the quota remembers that it was hit so the runner can fail the run
//! afterwards with [`DiskQuota::message`].

use crate::host::abi::{Errno, WasiResult};
use crate::units::format_size;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

/// What a new directory or symlink costs: one file system block, as `du` counts it.
pub const ENTRY_COST: u64 = 4096;

/// A run's disk budget, shared between the host that enforces it and the
/// runner that reports it.
#[derive(Debug)]
pub struct DiskQuota {
    limit: u64,
    /// Net growth so far (negative after shrinking what was already there).
    used: AtomicI64,
    /// The guest asked for more than the limit at least once.
    reached: AtomicBool,
    /// Where the limit came from, for messages (`Resources.Disk`, `--max-disk`).
    source: &'static str,
}

impl DiskQuota {
    /// A budget of `limit` bytes, named after the setting `source` it came from.
    pub fn new(limit: u64, source: &'static str) -> Arc<Self> {
        Arc::new(DiskQuota {
            limit,
            used: AtomicI64::new(0),
            reached: AtomicBool::new(false),
            source,
        })
    }

    /// The limit in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether the guest was refused growth at least once.
    pub fn reached(&self) -> bool {
        self.reached.load(Ordering::Relaxed)
    }

    /// The run's failure once the limit was reached, naming the limit and its setting.
    pub fn message(&self) -> String {
        format!(
            "the guest reached the disk limit of {} ({}); raise it or make the guest write less",
            format_size(self.limit),
            self.source
        )
    }

    /// How many more bytes the guest may grow its files by.
    pub fn available(&self) -> u64 {
        let used = self.used.load(Ordering::Relaxed);
        if used <= 0 {
            self.limit.saturating_add(used.unsigned_abs())
        } else {
            self.limit.saturating_sub(used.unsigned_abs())
        }
    }

    /// Counts `bytes` of growth that already happened.
    pub fn charge(&self, bytes: u64) {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        let used = self.used.load(Ordering::Relaxed);
        self.used
            .store(used.saturating_add(bytes), Ordering::Relaxed);
    }

    /// Credits `bytes` that were freed.
    pub fn credit(&self, bytes: u64) {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        let used = self.used.load(Ordering::Relaxed);
        self.used
            .store(used.saturating_sub(bytes), Ordering::Relaxed);
    }

    /// Reserves `bytes` of growth all at once, or refuses with `ENOSPC` (and
    /// remembers that the limit was reached).
    pub fn reserve(&self, bytes: u64) -> WasiResult<()> {
        if bytes > self.available() {
            return Err(self.refuse());
        }
        self.charge(bytes);
        Ok(())
    }

    /// Marks the limit as reached and returns the errno the guest gets.
    pub fn refuse(&self) -> Errno {
        self.reached.store(true, Ordering::Relaxed);
        Errno::Nospc
    }

    /// How many of `len` bytes written at `offset` into a file of `size` bytes
    /// with `links` names fit under the limit (a short count is a short write;
    /// 0 is `ENOSPC`). Overwriting inside the file is free; the gap before
    /// `offset` counts, once per name (each name is copied and hashed).
    pub fn writable(&self, size: u64, offset: u64, len: usize, links: u64) -> WasiResult<usize> {
        if len == 0 {
            // Writing nothing changes nothing, wherever it is aimed.
            return Ok(0);
        }
        let len_u64 = len as u64;
        let end = offset.checked_add(len_u64).ok_or(Errno::Fbig)?;
        if end <= size {
            return Ok(len);
        }
        let allowed_end = size.saturating_add(self.available() / links.max(1));
        if end <= allowed_end {
            return Ok(len);
        }
        // The guest asked for more than is left: whatever it does next, the limit was reached.
        let fits = allowed_end.saturating_sub(offset).min(len_u64);
        if fits == 0 {
            return Err(self.refuse());
        }
        self.refuse();
        Ok(usize::try_from(fits).unwrap_or(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_inside_a_file_are_free_and_growth_is_capped() {
        let quota = DiskQuota::new(100, "Resources.Disk");
        assert_eq!(quota.writable(1000, 0, 500, 1), Ok(500));
        assert_eq!(quota.writable(0, 0, 100, 1), Ok(100));
        assert!(!quota.reached());
        assert_eq!(quota.writable(0, 60, 100, 1), Ok(40));
        assert!(quota.reached());
        assert_eq!(quota.writable(0, 100, 1, 1), Err(Errno::Nospc));
        assert_eq!(quota.writable(0, 16 << 40, 1, 1), Err(Errno::Nospc));
        assert_eq!(quota.writable(0, 16 << 40, 0, 1), Ok(0));
    }

    #[test]
    fn growth_of_a_file_with_many_names_counts_once_per_name() {
        let quota = DiskQuota::new(100, "Resources.Disk");
        assert_eq!(quota.writable(0, 0, 100, 4), Ok(25));
        assert_eq!(quota.writable(10, 0, 100, 4), Ok(35));
    }

    #[test]
    fn charges_and_credits_move_what_is_available() {
        let quota = DiskQuota::new(100, "Resources.Disk");
        quota.charge(70);
        assert_eq!(quota.available(), 30);
        assert_eq!(quota.reserve(31), Err(Errno::Nospc));
        assert_eq!(quota.reserve(30), Ok(()));
        assert_eq!(quota.available(), 0);
        quota.credit(150);
        assert_eq!(quota.available(), 150);
    }

    #[test]
    fn sizes_are_named_in_the_unit_they_were_likely_given_in() {
        assert_eq!(format_size(1 << 20), "1 MiB");
        assert_eq!(format_size(10 << 30), "10 GiB");
        assert_eq!(format_size(1_000_000), "1 MB");
        assert_eq!(format_size(1234), "1234 bytes");
        assert_eq!(format_size(0), "0 bytes");
    }
}
