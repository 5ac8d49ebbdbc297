//! Calling the entrypoint under limits, and what came of it.
//!
//! Without fuel limits the call runs unmetered at full interpreter speed.
//! With a timeout, the call is resumable and fed fuel in slices; between
//! slices brine checks the wall-clock deadline and the cancellation token
//! (wasmi has no other way to interrupt a running guest).

use super::StoreData;
use crate::cancel::CancelToken;
use crate::wasi::{DeadlineExceeded, ProcExit};
use std::time::{Duration, Instant};
use wasmi::{Func, ResumableCall, Store, TrapCode, Val};

/// Fuel per slice when a deadline must be checked: a few milliseconds of guest code.
const FUEL_SLICE: u64 = 2_000_000;

/// A trap: the wasm-level failure that ended the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    /// The spec's trap kind, when it is one (`None` for a host function's own error).
    pub code: Option<TrapCode>,
    /// The message.
    pub message: String,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The guest called `proc_exit(code)`.
    Exited(u32),
    /// The function returned these values (`_start` returns none: exit status 0).
    Returned(Vec<Val>),
    /// A trap ended it.
    Trapped(Trap),
    /// The fuel budget ran out.
    OutOfFuel {
        /// The budget that was used up.
        budget: u64,
    },
    /// The wall-clock limit passed.
    TimedOut(Duration),
    /// The run's [`CancelToken`] was cancelled.
    Cancelled,
}

/// Maps an error out of a wasm call to an outcome.
pub fn classify_error(err: wasmi::Error) -> Outcome {
    if let Some(ProcExit(code)) = err.downcast_ref::<ProcExit>() {
        return Outcome::Exited(*code);
    }
    if err.downcast_ref::<DeadlineExceeded>().is_some() {
        return Outcome::TimedOut(Duration::ZERO);
    }
    if let Some(status) = err.i32_exit_status() {
        return Outcome::Exited(status as u32);
    }
    if err.as_trap_code() == Some(TrapCode::OutOfFuel) {
        return Outcome::OutOfFuel { budget: 0 };
    }
    Outcome::Trapped(Trap {
        code: err.as_trap_code(),
        message: err.to_string(),
    })
}

/// Limits that apply while the entrypoint runs.
#[derive(Debug, Clone)]
pub struct CallLimits {
    /// The fuel budget of the whole run, if any.
    pub fuel: Option<u64>,
    /// When the run must stop.
    pub deadline: Option<(Instant, Duration)>,
    /// Stops the run when cancelled.
    pub cancel: Option<CancelToken>,
}

impl CallLimits {
    /// Whether the run was cancelled.
    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(CancelToken::is_cancelled)
    }
}

/// Calls `func` with `params`, enforcing `limits`.
pub fn call(
    store: &mut Store<StoreData>,
    func: Func,
    params: &[Val],
    limits: &CallLimits,
) -> Outcome {
    if limits.cancelled() {
        return Outcome::Cancelled;
    }
    let ty = func.ty(&*store);
    let mut results: Vec<Val> = ty
        .results()
        .iter()
        .map(|&t| Val::default_for_ty(t))
        .collect();
    let outcome = if limits.deadline.is_none() && limits.cancel.is_none() {
        match func.call(&mut *store, params, &mut results) {
            Ok(()) => Outcome::Returned(results),
            Err(e) => classify_error(e),
        }
    } else {
        call_in_slices(store, func, params, results, limits)
    };
    match (outcome, limits.fuel, limits.deadline) {
        // A blocking call the token interrupted reports the deadline's way.
        (Outcome::TimedOut(_), _, _) if limits.cancelled() => Outcome::Cancelled,
        (Outcome::OutOfFuel { .. }, Some(budget), _) => Outcome::OutOfFuel { budget },
        // Fuel only slices time here: running out of it is brine's fault, not a
        // budget the user set, and must not be reported as one.
        (Outcome::OutOfFuel { .. }, None, _) => Outcome::Trapped(Trap {
            code: Some(TrapCode::OutOfFuel),
            message: "the engine ran out of the fuel it meters time with, although no fuel \
                      limit was set (a brine bug: please report it)"
                .to_string(),
        }),
        (Outcome::TimedOut(_), _, Some((_, timeout))) => Outcome::TimedOut(timeout),
        (other, _, _) => other,
    }
}

/// Runs `func` a slice of fuel at a time, checking the deadline and the
/// cancellation token between slices.
fn call_in_slices(
    store: &mut Store<StoreData>,
    func: Func,
    params: &[Val],
    mut results: Vec<Val>,
    limits: &CallLimits,
) -> Outcome {
    let budget = limits.fuel;
    // What is left of the budget: the store's fuel plus what an earlier sliced call
    // (a start function, `_initialize`) left in reserve.
    let mut reserve = match budget {
        None => u64::MAX,
        Some(_) => store
            .get_fuel()
            .unwrap_or(0)
            .saturating_add(store.data().wasi.fuel_reserve),
    };
    let first = reserve.min(FUEL_SLICE);
    reserve -= first;
    if store.set_fuel(first).is_err() {
        return Outcome::Trapped(fuel_disabled());
    }
    store.data_mut().wasi.fuel_reserve = reserve;
    let mut state = func.call_resumable(&mut *store, params, &mut results);
    loop {
        match state {
            Ok(ResumableCall::Finished) => return Outcome::Returned(results),
            Ok(ResumableCall::HostTrap(trap)) => return classify_error(trap.into_host_error()),
            Err(e) => return classify_error(e),
            Ok(ResumableCall::OutOfFuel(pending)) => {
                if let Some((deadline, timeout)) = limits.deadline {
                    if Instant::now() >= deadline {
                        return Outcome::TimedOut(timeout);
                    }
                }
                if limits.cancelled() {
                    return Outcome::Cancelled;
                }
                let left_in_store = store.get_fuel().unwrap_or(0);
                let wanted = FUEL_SLICE.max(pending.required_fuel());
                if reserve == 0
                    || (budget.is_some() && reserve + left_in_store < pending.required_fuel())
                {
                    return Outcome::OutOfFuel {
                        budget: budget.unwrap_or(u64::MAX),
                    };
                }
                let grant = wanted.min(reserve);
                reserve -= grant;
                if store.set_fuel(left_in_store + grant).is_err() {
                    return Outcome::Trapped(fuel_disabled());
                }
                store.data_mut().wasi.fuel_reserve = reserve;
                state = pending.resume(&mut *store, &mut results);
            }
        }
    }
}

fn fuel_disabled() -> Trap {
    Trap {
        code: None,
        message: "fuel metering is disabled on this engine".to_string(),
    }
}
