//! What one script may make the host allocate: a limit per linear memory and
//! a budget for all of the script's memories and tables together, so a
//! hostile script cannot exhaust the machine one module at a time.

pub use crate::engine::budget::MAX_TABLE_ELEMENTS;
use crate::engine::budget::{growth, Tally, MAX_ITEMS};
use wasmi::ResourceLimiter;
use wasmi_core::LimiterError;

/// Default largest linear memory of a script (the official suite needs under 64 MiB).
pub const DEFAULT_MAX_MEMORY: u64 = 1 << 30;
/// All linear memory a script may allocate, summed over its instances.
pub const TOTAL_MEMORY: usize = 4 << 30;
/// All table elements a script may allocate, summed over its instances.
pub const TOTAL_TABLE_ELEMENTS: usize = 50_000_000;

/// A [`ResourceLimiter`] with per-item limits and script-wide totals.
///
/// Unlike a run's `crate::engine::budget::GuestBudget`, memory (in bytes)
/// and tables (in elements) have totals of their own.
#[derive(Debug)]
pub struct Budget {
    max_memory: usize,
    memory: Tally,
    tables: Tally,
}

impl Budget {
    /// A budget allowing memories of at most `max_memory` bytes each.
    pub fn new(max_memory: u64) -> Budget {
        Budget {
            max_memory: usize::try_from(max_memory).unwrap_or(usize::MAX),
            memory: Tally::new(TOTAL_MEMORY as u64),
            tables: Tally::new(TOTAL_TABLE_ELEMENTS as u64),
        }
    }
}

impl ResourceLimiter for Budget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        Ok(desired <= self.max_memory && self.memory.book(growth(current, desired)).is_ok())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        Ok(desired <= MAX_TABLE_ELEMENTS && self.tables.book(growth(current, desired)).is_ok())
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
