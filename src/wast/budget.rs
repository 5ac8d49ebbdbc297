//! What one script may make the host allocate: a limit per linear memory and
//! a budget for all of the script's memories and tables together, so a
//! hostile script cannot exhaust the machine one module at a time.

use wasmi::ResourceLimiter;
use wasmi_core::LimiterError;

/// Default largest linear memory of a script (the official suite needs under 64 MiB).
pub const DEFAULT_MAX_MEMORY: u64 = 1 << 30;
/// All linear memory a script may allocate, summed over its instances.
pub const TOTAL_MEMORY: usize = 4 << 30;
/// Largest table, in elements.
pub const MAX_TABLE_ELEMENTS: usize = 10_000_000;
/// All table elements a script may allocate, summed over its instances.
pub const TOTAL_TABLE_ELEMENTS: usize = 50_000_000;
/// Instances, memories and tables a script may create.
const MAX_ITEMS: usize = 10_000;

/// A [`ResourceLimiter`] with per-item limits and script-wide totals.
#[derive(Debug)]
pub struct Budget {
    max_memory: usize,
    memory_used: usize,
    table_used: usize,
}

impl Budget {
    /// A budget allowing memories of at most `max_memory` bytes each.
    pub fn new(max_memory: u64) -> Budget {
        Budget {
            max_memory: usize::try_from(max_memory).unwrap_or(usize::MAX),
            memory_used: 0,
            table_used: 0,
        }
    }
}

/// Whether growing from `current` to `desired` fits `limit` and what is left
/// of `total`; books the growth in `used` when it does.
fn book(used: &mut usize, current: usize, desired: usize, limit: usize, total: usize) -> bool {
    let extra = desired.saturating_sub(current);
    let fits = desired <= limit && used.saturating_add(extra) <= total;
    if fits {
        *used += extra;
    }
    fits
}

impl ResourceLimiter for Budget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        let limit = self.max_memory;
        Ok(book(
            &mut self.memory_used,
            current,
            desired,
            limit,
            TOTAL_MEMORY,
        ))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        Ok(book(
            &mut self.table_used,
            current,
            desired,
            MAX_TABLE_ELEMENTS,
            TOTAL_TABLE_ELEMENTS,
        ))
    }

    fn instances(&self) -> usize {
        MAX_ITEMS
    }

    fn tables(&self) -> usize {
        MAX_ITEMS
    }

    fn memories(&self) -> usize {
        MAX_ITEMS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_are_limited_each_and_together() {
        let mut budget = Budget::new(3 << 30);
        assert!(budget.memory_growing(0, 3 << 30, None).unwrap());
        assert!(!budget.memory_growing(0, 2 << 30, None).unwrap(), "total");
        assert!(budget.memory_growing(0, 1 << 30, None).unwrap());
        let mut small = Budget::new(1 << 20);
        assert!(!small.memory_growing(0, (1 << 20) + 1, None).unwrap());
        assert!(!small
            .table_growing(0, MAX_TABLE_ELEMENTS + 1, None)
            .unwrap());
    }
}
