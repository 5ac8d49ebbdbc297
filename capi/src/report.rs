//! `brine_report_*`: what a run did, read through an immutable handle.

use brine::{Report, Status};
use std::ffi::{c_char, CString};

/// What a run did. Immutable: any thread may read it. Free with `brine_report_free`.
pub struct brine_report {
    report: Report,
    dir: CString,
    partitions: Vec<PartitionText>,
    receipt: Option<CString>,
}

/// One partition's strings, made once so the pointers handed out stay valid.
struct PartitionText {
    error: Option<CString>,
    stdout: CString,
    stderr: CString,
    summary: CString,
}

fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{fffd}")).unwrap_or_default()
}

impl brine_report {
    pub(crate) fn new(report: Report) -> Self {
        let partitions = report
            .summaries
            .iter()
            .map(|s| PartitionText {
                error: s.error.as_deref().map(c_string),
                stdout: c_string(&s.stdout),
                stderr: c_string(&s.stderr),
                summary: c_string(&serde_json::to_string(s).unwrap_or_default()),
            })
            .collect();
        brine_report {
            dir: c_string(&report.dir.display().to_string()),
            receipt: report.receipt.as_ref().map(|r| c_string(&r.to_json())),
            partitions,
            report,
        }
    }
}

/// Runs `read` on the report behind `report`, `fallback` for NULL or a panic.
fn with<T: Copy>(
    report: *const brine_report,
    fallback: T,
    read: impl FnOnce(&brine_report) -> T,
) -> T {
    crate::guard(fallback, || {
        // SAFETY: every accessor's contract: `report` is NULL or a live handle
        // from `brine_run`, which only this module creates and nothing mutates.
        match unsafe { report.as_ref() } {
            Some(report) => read(report),
            None => fallback,
        }
    })
}

/// 0 when every partition completed (whatever the guests' exit codes), 1 when
/// one failed (a trap, a timeout, cancelled, a fetch error); -1 for NULL.
///
/// # Safety
/// `report` is NULL or a live handle from `brine_run`.
#[no_mangle]
pub unsafe extern "C" fn brine_report_status(report: *const brine_report) -> i32 {
    with(report, -1, |r| match r.report.status() {
        Status::Completed => 0,
        Status::Failed => 1,
    })
}

/// Writes the guest's exit code (the first partition's that is not 0, else
/// 0) to `code` and returns true; false when no partition ran to an exit.
///
/// # Safety
/// `report` is NULL or a live handle from `brine_run`; `code` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn brine_report_exit_code(
    report: *const brine_report,
    code: *mut i64,
) -> bool {
    with(report, false, |r| {
        match (r.report.exit_code(), unsafe {
            // SAFETY: the caller's contract: NULL or writable.
            code.as_mut()
        }) {
            (Some(exit), Some(out)) => {
                *out = exit;
                true
            }
            (Some(_), None) => true,
            (None, _) => false,
        }
    })
}

/// Whether the run was stopped by its cancel token.
///
/// # Safety
/// `report` is NULL or a live handle from `brine_run`.
#[no_mangle]
pub unsafe extern "C" fn brine_report_cancelled(report: *const brine_report) -> bool {
    with(report, false, |r| r.report.cancelled())
}

/// How many partitions the report has.
///
/// # Safety
/// `report` is NULL or a live handle from `brine_run`.
#[no_mangle]
pub unsafe extern "C" fn brine_report_partitions(report: *const brine_report) -> u32 {
    with(report, 0, |r| {
        u32::try_from(r.partitions.len()).unwrap_or(u32::MAX)
    })
}

/// The results directory (`DIR/<index>/` per partition when there are several).
///
/// # Safety
/// `report` is NULL or a live handle from `brine_run`.
#[no_mangle]
pub unsafe extern "C" fn brine_report_dir(report: *const brine_report) -> *const c_char {
    with(report, std::ptr::null(), |r| r.dir.as_ptr())
}

/// The partition at `index`, or NULL.
fn partition(r: &brine_report, index: u32) -> Option<&PartitionText> {
    r.partitions.get(usize::try_from(index).ok()?)
}

/// Why partition `index` failed (NULL when it completed, or no such partition).
///
/// # Safety
/// `report` is NULL or a live handle from `brine_run`.
#[no_mangle]
pub unsafe extern "C" fn brine_report_error(
    report: *const brine_report,
    index: u32,
) -> *const c_char {
    with(report, std::ptr::null(), |r| {
        partition(r, index)
            .and_then(|p| p.error.as_ref())
            .map_or(std::ptr::null(), |e| e.as_ptr())
    })
}

/// The first bytes of partition `index`'s stdout, as text (the whole stream
/// is the `stdout` file in its results directory); NULL for no such partition.
///
/// # Safety
/// `report` is NULL or a live handle from `brine_run`.
#[no_mangle]
pub unsafe extern "C" fn brine_report_stdout(
    report: *const brine_report,
    index: u32,
) -> *const c_char {
    with(report, std::ptr::null(), |r| {
        partition(r, index).map_or(std::ptr::null(), |p| p.stdout.as_ptr())
    })
}

/// The first bytes of partition `index`'s stderr, as text; NULL for no such partition.
///
/// # Safety
/// `report` is NULL or a live handle from `brine_run`.
#[no_mangle]
pub unsafe extern "C" fn brine_report_stderr(
    report: *const brine_report,
    index: u32,
) -> *const c_char {
    with(report, std::ptr::null(), |r| {
        partition(r, index).map_or(std::ptr::null(), |p| p.stderr.as_ptr())
    })
}

/// Partition `index`'s summary as JSON (what its `brine.json` holds); NULL
/// for no such partition.
///
/// # Safety
/// `report` is NULL or a live handle from `brine_run`.
#[no_mangle]
pub unsafe extern "C" fn brine_report_summary_json(
    report: *const brine_report,
    index: u32,
) -> *const c_char {
    with(report, std::ptr::null(), |r| {
        partition(r, index).map_or(std::ptr::null(), |p| p.summary.as_ptr())
    })
}

/// The receipt as JSON, when the options asked for one (else NULL).
///
/// # Safety
/// `report` is NULL or a live handle from `brine_run`.
#[no_mangle]
pub unsafe extern "C" fn brine_report_receipt_json(report: *const brine_report) -> *const c_char {
    with(report, std::ptr::null(), |r| {
        r.receipt.as_ref().map_or(std::ptr::null(), |j| j.as_ptr())
    })
}

/// Frees a report and every string it returned (NULL is ignored).
///
/// # Safety
/// `report` is NULL or a handle from `brine_run`, freed once, read by no other thread.
#[no_mangle]
pub unsafe extern "C" fn brine_report_free(report: *mut brine_report) {
    crate::guard((), || {
        if !report.is_null() {
            // SAFETY: the caller's contract: it came from Box::into_raw and is freed once.
            drop(unsafe { Box::from_raw(report) });
        }
    });
}
