//! `poll_oneoff`: wait for clock timeouts and descriptor readiness.
//!
//! Files and standard streams are always ready (a read from stdin may then
//! block, as on any POSIX system polling a regular file). When no descriptor
//! subscription is ready, brine sleeps through the host until the earliest
//! clock subscription expires and reports it.

use super::clock::clock_of;
use super::ctx::{WasiCtx, WasiView};
use super::errno::{Errno, WasiResult};
use super::link::link_all;
use super::{mem, rights};
use crate::host::{Clock, Handle};
use wasmi::Linker;

const SUBSCRIPTION_SIZE: u32 = 48;
const EVENT_SIZE: u32 = 32;
const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const SUBCLOCKFLAG_ABSTIME: u16 = 1;

/// Registers this group's imports.
pub(super) fn add_to_linker<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> Result<(), wasmi::Error> {
    link_all(linker, &[link_poll_oneoff])
}

/// One decoded subscription.
enum Subscription {
    /// Fires when `clock` reaches `deadline` (absolute, in that clock's time).
    Clock {
        userdata: u64,
        deadline: u64,
        clock: Clock,
    },
    /// Fires when `fd` is ready for reading or writing.
    Fd { userdata: u64, kind: u8, fd: u32 },
}

/// One event to report.
struct Event {
    userdata: u64,
    error: u16,
    kind: u8,
    nbytes: u64,
}

/// `poll_oneoff(in: *const subscription, out: *mut event, nsubscriptions: size,
/// nevents: *mut size) -> errno`.
/// Errors: `EINVAL` (no subscriptions, an unknown tag or clock), `EFAULT`.
/// A bad descriptor is reported in its event's `error`, not as the call's errno.
pub fn poll_oneoff(
    ctx: &mut WasiCtx,
    m: &mut [u8],
    input: u32,
    output: u32,
    count: u32,
    nevents: u32,
) -> WasiResult<()> {
    if count == 0 {
        return Err(Errno::Inval);
    }
    // Both arrays must fit before anything is read or waited for.
    mem::range(
        m,
        input,
        count.checked_mul(SUBSCRIPTION_SIZE).ok_or(Errno::Fault)?,
    )?;
    mem::range(
        m,
        output,
        count.checked_mul(EVENT_SIZE).ok_or(Errno::Fault)?,
    )?;
    let subs = (0..count)
        .map(|i| read_subscription(ctx, m, input, i))
        .collect::<WasiResult<Vec<_>>>()?;
    let mut events = Vec::new();
    let mut unready = None;
    for sub in &subs {
        match fd_event(ctx, sub)? {
            Readiness::Ready(event) => events.push(event),
            Readiness::NotYet(userdata, handle) => unready = unready.or(Some((userdata, handle))),
            Readiness::NotFd => {}
        }
    }
    if events.is_empty() {
        events = match unready {
            Some(waiting) => wait_for_input_or_clocks(ctx, &subs, waiting)?,
            None => wait_for_clocks(ctx, &subs)?,
        };
    }
    for (i, event) in events.iter().enumerate() {
        let at = u32::try_from(i)
            .ok()
            .and_then(|i| i.checked_mul(EVENT_SIZE))
            .and_then(|off| output.checked_add(off))
            .ok_or(Errno::Fault)?;
        write_event(m, at, event)?;
    }
    mem::write_u32(m, nevents, events.len() as u32)
}
wasi_fn!(link_poll_oneoff: with_memory_clocked_blocking poll_oneoff(input, output, count, nevents));

fn read_subscription(ctx: &mut WasiCtx, m: &[u8], input: u32, i: u32) -> WasiResult<Subscription> {
    let at = i
        .checked_mul(SUBSCRIPTION_SIZE)
        .and_then(|off| input.checked_add(off))
        .ok_or(Errno::Fault)?;
    let field = |off: u32| at.checked_add(off).ok_or(Errno::Fault);
    let bytes = mem::slice(m, at, SUBSCRIPTION_SIZE)?;
    let userdata = mem::read_u64(m, at)?;
    match bytes[8] {
        EVENTTYPE_CLOCK => {
            let clock = clock_of(mem::read_u32(m, field(16)?)?)?;
            let timeout = mem::read_u64(m, field(24)?)?;
            let flags = u16::from_le_bytes([bytes[40], bytes[41]]);
            let deadline = if flags & SUBCLOCKFLAG_ABSTIME != 0 {
                timeout
            } else {
                ctx.host.clock_time(clock, 0)?.saturating_add(timeout)
            };
            Ok(Subscription::Clock {
                userdata,
                deadline,
                clock,
            })
        }
        kind @ (EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE) => {
            let fd = mem::read_u32(m, field(16)?)?;
            Ok(Subscription::Fd { userdata, kind, fd })
        }
        _ => Err(Errno::Inval),
    }
}

/// Where a subscription stands right now.
enum Readiness {
    /// It fires now (ready, or with an error).
    Ready(Event),
    /// A read subscription on a stream with nothing to read yet.
    NotYet(u64, Handle),
    /// A clock subscription.
    NotFd,
}

/// A descriptor subscription's state: files and writes are always ready; a
/// stream (stdin) is ready when it has data or has ended.
fn fd_event(ctx: &mut WasiCtx, sub: &Subscription) -> WasiResult<Readiness> {
    let Subscription::Fd { userdata, kind, fd } = *sub else {
        return Ok(Readiness::NotFd);
    };
    let ready = |error: u16| {
        Readiness::Ready(Event {
            userdata,
            error,
            kind,
            nbytes: 0,
        })
    };
    let handle = match ctx.fd(fd) {
        Ok(entry) => match entry.require(rights::POLL_FD_READWRITE) {
            Ok(()) => entry.handle,
            Err(e) => return Ok(ready(e as u16)),
        },
        Err(e) => return Ok(ready(e as u16)),
    };
    if kind == EVENTTYPE_FD_READ && !ctx.host.wait_readable(handle, Some(0))? {
        return Ok(Readiness::NotYet(userdata, handle));
    }
    Ok(ready(0))
}

/// Waits for the unready stream until the earliest clock; the host ends the
/// wait at the run's deadline.
fn wait_for_input_or_clocks(
    ctx: &mut WasiCtx,
    subs: &[Subscription],
    (userdata, handle): (u64, Handle),
) -> WasiResult<Vec<Event>> {
    let earliest = clock_waits(ctx, subs)?
        .into_iter()
        .map(|(_, wait)| wait)
        .min();
    if ctx.host.wait_readable(handle, earliest)? {
        return Ok(vec![Event {
            userdata,
            error: 0,
            kind: EVENTTYPE_FD_READ,
            nbytes: 0,
        }]);
    }
    if earliest.is_none() {
        // Only the run's deadline ended the wait; the caller stops the run.
        return Ok(Vec::new());
    }
    // The clocks' time has come: report those due without sleeping again.
    wait_for_clocks(ctx, subs)
}

/// Each clock subscription's userdata and how long until it is due.
fn clock_waits(ctx: &mut WasiCtx, subs: &[Subscription]) -> WasiResult<Vec<(u64, u64)>> {
    let mut waits = Vec::new();
    for sub in subs {
        if let Subscription::Clock {
            userdata,
            deadline,
            clock,
        } = *sub
        {
            let now = ctx.host.clock_time(clock, 0)?;
            waits.push((userdata, deadline.saturating_sub(now)));
        }
    }
    Ok(waits)
}

/// Sleeps until the earliest clock subscription and reports every one due by then.
fn wait_for_clocks(ctx: &mut WasiCtx, subs: &[Subscription]) -> WasiResult<Vec<Event>> {
    let waits = clock_waits(ctx, subs)?;
    let earliest = waits
        .iter()
        .map(|&(_, wait)| wait)
        .min()
        .ok_or(Errno::Inval)?;
    ctx.host.sleep(earliest)?;
    Ok(waits
        .into_iter()
        .filter(|&(_, wait)| wait <= earliest)
        .map(|(userdata, _)| Event {
            userdata,
            error: 0,
            kind: EVENTTYPE_CLOCK,
            nbytes: 0,
        })
        .collect())
}

fn write_event(m: &mut [u8], at: u32, event: &Event) -> WasiResult<()> {
    let field = |off: u32| at.checked_add(off).ok_or(Errno::Fault);
    mem::slice_mut(m, at, EVENT_SIZE)?.fill(0);
    mem::write_u64(m, at, event.userdata)?;
    mem::write_u16(m, field(8)?, event.error)?;
    mem::write_u8(m, field(10)?, event.kind)?;
    mem::write_u64(m, field(16)?, event.nbytes)
}
