//! One memory budget per run: every linear memory and every table of every
//! instance in the run's store draws from the same limit (`--max-memory`,
//! `Resources.Memory`), so a guest cannot multiply it with many memories,
//! many tables or many import modules.

use crate::units::format_size;
use wasmi::ResourceLimiter;
use wasmi_core::LimiterError;

/// Bytes one table element costs the host: wasmi stores each as a 32-bit
/// reference (`wasmi_core::RawRef`), whatever the element type.
pub const TABLE_ELEMENT_BYTES: u64 = 4;

/// The most elements one table may hold, whatever the budget: 10 M elements
/// (40 MB) is far beyond what real programs' function tables use.
pub const MAX_TABLE_ELEMENTS: usize = 10_000_000;

/// Instances, memories and tables one run (or one `.wast` script) may create.
pub const MAX_ITEMS: usize = 10_000;

/// Growth booked against a limit: what a [`ResourceLimiter`] counts so that
/// many memories or tables cannot add up past it.
#[derive(Debug, Clone, Copy)]
pub struct Tally {
    limit: u64,
    used: u64,
    /// What the latest approved growth booked, returned by [`Tally::unbook_last`].
    last_booked: u64,
}

impl Tally {
    /// Nothing booked yet, against `limit`.
    pub fn new(limit: u64) -> Tally {
        Tally {
            limit,
            used: 0,
            last_booked: 0,
        }
    }

    /// Books `extra` if it fits under the limit; otherwise books nothing and
    /// returns what would have been needed in all.
    pub fn book(&mut self, extra: u64) -> Result<(), u64> {
        let needed = self.used.saturating_add(extra);
        if needed > self.limit {
            return Err(needed);
        }
        self.used = needed;
        self.last_booked = extra;
        Ok(())
    }

    /// The latest approved growth failed after all: it holds nothing.
    pub fn unbook_last(&mut self) {
        self.used = self.used.saturating_sub(self.last_booked);
        self.last_booked = 0;
    }
}

/// How much growing from `current` to `desired` adds (nothing when shrinking).
pub fn growth(current: usize, desired: usize) -> u64 {
    u64::try_from(desired.saturating_sub(current)).unwrap_or(u64::MAX)
}

/// What the budget last refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// All memories and tables together would need `needed` bytes, over `limit`.
    Total {
        /// Bytes the guest's memories and tables would have held.
        needed: u64,
        /// The memory limit.
        limit: u64,
    },
    /// One table would hold more than [`MAX_TABLE_ELEMENTS`].
    TableElements {
        /// The elements asked for.
        desired: u64,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Refusal::Total { needed, limit } => write!(
                f,
                "the guest's memories and tables need more than the memory limit \
                 ({} needed, {} allowed: raise Resources.Memory in a job, --max-memory for \
                 brine wasm run)",
                format_size(needed),
                format_size(limit)
            ),
            Refusal::TableElements { desired } => write!(
                f,
                "a table of {desired} elements is more than brine allows in one table \
                 ({MAX_TABLE_ELEMENTS})"
            ),
        }
    }
}

/// A [`ResourceLimiter`] charging all memories and tables of a run to one limit.
#[derive(Debug)]
pub struct GuestBudget {
    bytes: Tally,
    refusal: Option<Refusal>,
}

impl GuestBudget {
    /// A budget of `limit` bytes for all memories and tables together.
    pub fn new(limit: u64) -> GuestBudget {
        GuestBudget {
            bytes: Tally::new(limit),
            refusal: None,
        }
    }

    /// The latest growth the budget refused, if any.
    pub fn refusal(&self) -> Option<Refusal> {
        self.refusal
    }

    /// Books `extra` bytes if they fit; remembers the refusal otherwise.
    fn book(&mut self, extra: u64) -> bool {
        match self.bytes.book(extra) {
            Ok(()) => true,
            Err(needed) => {
                self.refusal = Some(Refusal::Total {
                    needed,
                    limit: self.bytes.limit,
                });
                false
            }
        }
    }
}

impl ResourceLimiter for GuestBudget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        Ok(self.book(growth(current, desired)))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool, LimiterError> {
        if desired > MAX_TABLE_ELEMENTS {
            self.refusal = Some(Refusal::TableElements {
                desired: u64::try_from(desired).unwrap_or(u64::MAX),
            });
            return Ok(false);
        }
        let bytes = growth(current, desired).saturating_mul(TABLE_ELEMENT_BYTES);
        Ok(self.book(bytes))
    }

    fn memory_grow_failed(
        &mut self,
        _error: &wasmi::errors::MemoryError,
    ) -> Result<(), LimiterError> {
        self.bytes.unbook_last();
        Ok(())
    }

    fn table_grow_failed(
        &mut self,
        _error: &wasmi::errors::TableError,
    ) -> Result<(), LimiterError> {
        self.bytes.unbook_last();
        Ok(())
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

    const MIB: usize = 1 << 20;

    #[test]
    fn memories_and_tables_share_one_limit() {
        let mut budget = GuestBudget::new(64 << 20);
        assert!(budget.memory_growing(0, 40 * MIB, None).unwrap());
        assert!(!budget.memory_growing(0, 40 * MIB, None).unwrap());
        assert_eq!(
            budget.refusal(),
            Some(Refusal::Total {
                needed: 80 << 20,
                limit: 64 << 20
            })
        );
        // 24 MiB left: 6 M table elements of 4 bytes fit, 7 M do not.
        assert!(!budget.table_growing(0, 7 << 20, None).unwrap());
        assert!(budget.table_growing(0, 6 << 20, None).unwrap());
        assert!(!budget
            .memory_growing(40 * MIB, 40 * MIB + 65536, None)
            .unwrap());
    }

    #[test]
    fn a_failed_growth_gives_its_bytes_back() {
        let mut budget = GuestBudget::new(64 << 20);
        assert!(budget.memory_growing(0, 64 * MIB, None).unwrap());
        budget
            .memory_grow_failed(&wasmi::errors::MemoryError::OutOfBoundsGrowth)
            .unwrap();
        assert!(budget.memory_growing(0, 64 * MIB, None).unwrap());
    }

    #[test]
    fn one_table_has_an_element_cap() {
        let mut budget = GuestBudget::new(u64::MAX);
        assert!(!budget
            .table_growing(0, MAX_TABLE_ELEMENTS + 1, None)
            .unwrap());
        assert!(matches!(
            budget.refusal(),
            Some(Refusal::TableElements { .. })
        ));
    }
}
