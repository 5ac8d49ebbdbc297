//! brine's C ABI: opaque handles over the embedding API of the `brine` crate
//! (`brine::Job`, `brine::run`, `brine::Report`, `brine::CancelToken`).
//!
//! Every entry point catches panics (`catch_unwind`), so none crosses into
//! C: a panic becomes an error that `brine_last_error` describes. Every
//! pointer argument is checked for NULL. The header, `include/brine.h`, is
//! generated from this file by cbindgen (`make capi-header`); its preamble
//! says what is thread-safe.
//!
//! This is the only crate of the workspace with `unsafe`: dereferencing the
//! pointers C hands in. Each block says why it is sound.
#![allow(non_camel_case_types)]
#![deny(unsafe_op_in_unsafe_fn)]

mod error;
mod report;

use brine::{CancelToken, Job, LiveSink, LiveStream, RunConfig, Stream};
pub use error::{brine_error, brine_last_error};
use error::{clear_error, set_error, set_job_error};
pub use report::*;
use std::ffi::{c_char, c_void, CStr};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

/// What a call that can fail returned.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum brine_status {
    /// It succeeded.
    Ok = 0,
    /// The job file is invalid or names something unusable (located: see brine_last_error).
    Invalid = 1,
    /// The run could not start as configured; nothing ran.
    Refused = 2,
    /// The run started and could not be finished or recorded.
    Failed = 3,
    /// An argument was NULL or not UTF-8.
    BadArgument = 4,
    /// brine itself failed (a caught panic: a bug, please report it).
    Internal = 5,
}

/// A job, loaded and validated. Free with `brine_job_free`.
pub struct brine_job {
    job: Job,
}

/// A cancellation token: `brine_cancel` stops every run holding it. Free
/// with `brine_cancel_token_free` once no run uses it.
pub struct brine_cancel_token {
    token: CancelToken,
}

/// Which stream an output callback is given.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum brine_stream {
    /// The guest's stdout.
    Stdout = 1,
    /// The guest's stderr.
    Stderr = 2,
}

/// Called with each piece of output a guest writes, as it writes it:
/// `user` as given in the options, the stream, the partition index, and the
/// bytes (valid only during the call). Called on the thread running that
/// partition; partitions may run at once.
pub type brine_output_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        stream: brine_stream,
        partition: u32,
        data: *const u8,
        len: usize,
    ),
>;

/// How to run a job. Zero every field (`brine_run_options o = {0};`), then
/// set `output_dir` and what you need: a zero means "the job's own" or "off".
#[repr(C)]
pub struct brine_run_options {
    /// The results directory (required, UTF-8): absent or empty unless `force`.
    pub output_dir: *const c_char,
    /// Replace an existing, non-empty results directory.
    pub force: bool,
    /// Wall-clock limit of the guest in milliseconds (0: the job's own).
    pub timeout_ms: u64,
    /// Memory all the guest's memories and tables may hold, in bytes (0: the job's own).
    pub max_memory: u64,
    /// Fuel units the guest may use (0: no fuel limit).
    pub fuel: u64,
    /// Run reproducibly (virtual clocks, seeded randomness).
    pub deterministic: bool,
    /// With `deterministic`: use `seed` (else the seed comes from the job's hash).
    pub has_seed: bool,
    /// The random seed when `has_seed`.
    pub seed: u64,
    /// Refuse guest HTTP to loopback, private and metadata addresses unless
    /// the job's Network.Domains names the host.
    pub block_private: bool,
    /// Build a receipt into the report (`brine_report_receipt_json`).
    pub receipt: bool,
    /// Stops the run when cancelled (NULL: none). Must outlive the run.
    pub cancel: *const brine_cancel_token,
    /// Receives the guests' output as it is written (NULL: none).
    pub on_output: brine_output_fn,
    /// Passed to `on_output` as is.
    pub user: *mut c_void,
}

/// Runs `body`, turning a panic into `fallback` and an error for
/// `brine_last_error`: no panic unwinds into C.
fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            set_error(format!(
                "internal error in brine (please report it): {what}"
            ));
            fallback
        }
    }
}

/// The UTF-8 string at `ptr`, or an error naming `what`.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string valid for this call.
unsafe fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, String> {
    if ptr.is_null() {
        return Err(format!("{what} is NULL"));
    }
    // SAFETY: not NULL, and the caller promises a NUL-terminated string that
    // outlives this call (the returned borrow is used only within it).
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map_err(|_| format!("{what} is not UTF-8"))
}

/// Loads and validates the job file at `path` (YAML or JSON). Returns NULL
/// on error: `brine_last_error` then gives the message and, for a problem
/// in the file, its file, line and column.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn brine_job_load(path: *const c_char) -> *mut brine_job {
    guard(std::ptr::null_mut(), || {
        // SAFETY: the caller's contract above.
        let path = match unsafe { text(path, "path") } {
            Ok(path) => path,
            Err(e) => {
                set_error(e);
                return std::ptr::null_mut();
            }
        };
        job_handle(Job::from_path(path))
    })
}

/// A new job handle for a loaded job, or NULL with the error recorded for
/// `brine_last_error`.
fn job_handle(loaded: Result<Job, brine::Error>) -> *mut brine_job {
    match loaded {
        Ok(job) => {
            clear_error();
            Box::into_raw(Box::new(brine_job { job }))
        }
        Err(e) => {
            set_job_error(&e);
            std::ptr::null_mut()
        }
    }
}

/// Parses and validates job text; `name` stands for its file in errors and
/// anchors relative SourcePaths (NULL: `<string>`, the current directory).
/// Returns NULL on error, as `brine_job_load`.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string; so is `name`.
#[no_mangle]
pub unsafe extern "C" fn brine_job_parse(
    job_text: *const c_char,
    name: *const c_char,
) -> *mut brine_job {
    guard(std::ptr::null_mut(), || {
        // SAFETY: the caller's contract above.
        let parsed = unsafe { text(job_text, "text") }.and_then(|t| {
            // SAFETY: the caller's contract above.
            let name = if name.is_null() {
                Ok("<string>")
            } else {
                unsafe { text(name, "name") }
            };
            name.map(|n| (t, n))
        });
        let (job_text, name) = match parsed {
            Ok(pair) => pair,
            Err(e) => {
                set_error(e);
                return std::ptr::null_mut();
            }
        };
        job_handle(Job::parse(job_text, name))
    })
}

/// The checks a run makes before fetching anything (sources exist, modules
/// load and link, the entrypoint is exported): `BRINE_STATUS_OK`, or
/// `BRINE_STATUS_INVALID` with every problem in `brine_last_error`.
///
/// # Safety
/// `job` is NULL or a handle from `brine_job_load`/`brine_job_parse` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn brine_job_validate(job: *const brine_job) -> brine_status {
    guard(brine_status::Internal, || {
        // SAFETY: the caller's contract above; a run only reads the job.
        let Some(job) = (unsafe { job.as_ref() }) else {
            set_error("job is NULL".to_string());
            return brine_status::BadArgument;
        };
        match job.job.validate() {
            Ok(()) => {
                clear_error();
                brine_status::Ok
            }
            Err(e) => {
                set_job_error(&e);
                brine_status::Invalid
            }
        }
    })
}

/// Frees a job (NULL is ignored).
///
/// # Safety
/// `job` is NULL or a handle from `brine_job_load`/`brine_job_parse`, not
/// freed before and used by no run still going.
#[no_mangle]
pub unsafe extern "C" fn brine_job_free(job: *mut brine_job) {
    guard((), || {
        if !job.is_null() {
            // SAFETY: the caller's contract: it came from Box::into_raw and is freed once.
            drop(unsafe { Box::from_raw(job) });
        }
    });
}

/// Trusts the CA certificates in the PEM file at `path` for every run started
/// after the call (downloads, IPFS gateways, the guest's HTTPS, S3), beside
/// the platform's store and `SSL_CERT_FILE` / `SSL_CERT_DIR`, as the CLI's
/// `--ca-cert` does. `BRINE_STATUS_OK`, or `BRINE_STATUS_REFUSED` when the
/// file cannot be read, holds no certificate, or this build has no TLS (the
/// minimal build); `brine_last_error` says which. Process-wide, thread-safe.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn brine_trust_ca_file(path: *const c_char) -> brine_status {
    guard(brine_status::Internal, || {
        // SAFETY: the caller's contract above.
        let path = match unsafe { text(path, "path") } {
            Ok(path) => path,
            Err(e) => {
                set_error(e);
                return brine_status::BadArgument;
            }
        };
        match trust_ca_file(path) {
            Ok(_) => {
                clear_error();
                brine_status::Ok
            }
            Err(e) => {
                set_error(e);
                brine_status::Refused
            }
        }
    })
}

#[cfg(feature = "http")]
fn trust_ca_file(path: &str) -> Result<usize, String> {
    brine::trust_ca_file(path).map_err(|e| e.to_string())
}

#[cfg(not(feature = "http"))]
fn trust_ca_file(_: &str) -> Result<usize, String> {
    Err("extra CAs need brine built with the \"http\" feature (this is the minimal build)".into())
}

/// A new cancellation token, not cancelled.
#[no_mangle]
pub extern "C" fn brine_cancel_token_new() -> *mut brine_cancel_token {
    guard(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(brine_cancel_token {
            token: CancelToken::new(),
        }))
    })
}

/// Cancels every run holding `token`, from any thread: each guest stops
/// within a few milliseconds of guest code (a sleeping guest at once) and
/// its partition fails as cancelled. Idempotent; NULL is ignored.
///
/// # Safety
/// `token` is NULL or a handle from `brine_cancel_token_new` not yet freed.
#[no_mangle]
pub unsafe extern "C" fn brine_cancel(token: *const brine_cancel_token) {
    guard((), || {
        // SAFETY: the caller's contract above; the token is shared, never mutated in place.
        if let Some(token) = unsafe { token.as_ref() } {
            token.token.cancel();
        }
    });
}

/// Frees a token (NULL is ignored).
///
/// # Safety
/// `token` is NULL or a handle from `brine_cancel_token_new`, freed once,
/// after the runs that hold it have returned.
#[no_mangle]
pub unsafe extern "C" fn brine_cancel_token_free(token: *mut brine_cancel_token) {
    guard((), || {
        if !token.is_null() {
            // SAFETY: the caller's contract: it came from Box::into_raw and is freed once.
            drop(unsafe { Box::from_raw(token) });
        }
    });
}

/// The caller's callback and pointer, handed to the threads that run partitions.
#[derive(Clone, Copy)]
struct Callback {
    call: unsafe extern "C" fn(*mut c_void, brine_stream, u32, *const u8, usize),
    user: *mut c_void,
}

// SAFETY: the header documents that `on_output` is called from the threads
// running partitions, possibly at once; the caller provides a callback and
// `user` that allow that. brine itself never dereferences `user`.
unsafe impl Send for Callback {}
// SAFETY: as above: sharing is only ever handing the same pair to the callback.
unsafe impl Sync for Callback {}

/// One guest stream's writer: each write goes to the callback.
struct CallbackWriter {
    callback: Callback,
    stream: brine_stream,
    partition: u32,
}

impl Write for CallbackWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Callback { call, user } = self.callback;
        // SAFETY: `buf` is valid for `buf.len()` bytes during the call, as the
        // header says; the callback's own soundness is the caller's contract.
        unsafe { call(user, self.stream, self.partition, buf.as_ptr(), buf.len()) };
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The run configuration `options` describes.
///
/// # Safety
/// `options` points to a valid `brine_run_options` whose pointers are NULL
/// or valid for the run.
unsafe fn run_config(options: &brine_run_options) -> Result<RunConfig, String> {
    // SAFETY: the caller's contract above.
    let output = unsafe { text(options.output_dir, "options.output_dir") }?;
    let mut config = RunConfig::new(output)
        .force(options.force)
        .block_private(options.block_private)
        .receipt(options.receipt);
    if options.timeout_ms > 0 {
        config = config.timeout(Duration::from_millis(options.timeout_ms));
    }
    if options.max_memory > 0 {
        config = config.max_memory(options.max_memory);
    }
    if options.fuel > 0 {
        config = config.fuel(options.fuel);
    }
    if options.deterministic {
        config = config.deterministic(options.has_seed.then_some(options.seed));
    }
    // SAFETY: the caller's contract: NULL or a live token handle.
    if let Some(token) = unsafe { options.cancel.as_ref() } {
        config = config.cancel(token.token.clone());
    }
    if let Some(call) = options.on_output {
        let callback = Callback {
            call,
            user: options.user,
        };
        config = config.live_output(LiveSink::new(move |live: LiveStream| {
            let stream = match live.stream {
                Stream::Stdout => brine_stream::Stdout,
                Stream::Stderr => brine_stream::Stderr,
            };
            Box::new(CallbackWriter {
                callback,
                stream,
                partition: live.partition,
            }) as Box<dyn Write + Send>
        }));
    }
    Ok(config)
}

/// Runs `job` as `options` say and returns its report (free it with
/// `brine_report_free`), or NULL when the run could not start or finish
/// (`brine_last_error` says why; `status`, when not NULL, gets the kind).
/// A guest that fails (a trap, a timeout, cancelled) is in the report: the
/// call still succeeds. Blocks until the run ends; runs may go on in
/// several threads at once.
///
/// # Safety
/// `job` is NULL or a live job handle; `options` is NULL or points to a
/// valid `brine_run_options` (see its fields); `status` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn brine_run(
    job: *const brine_job,
    options: *const brine_run_options,
    status: *mut brine_status,
) -> *mut brine_report {
    let (report, code) = guard((std::ptr::null_mut(), brine_status::Internal), || {
        // SAFETY: the caller's contract above.
        let (Some(job), Some(options)) = (unsafe { job.as_ref() }, unsafe { options.as_ref() })
        else {
            set_error("job and options must not be NULL".to_string());
            return (std::ptr::null_mut(), brine_status::BadArgument);
        };
        // SAFETY: the caller's contract above.
        let config = match unsafe { run_config(options) } {
            Ok(config) => config,
            Err(e) => {
                set_error(e);
                return (std::ptr::null_mut(), brine_status::BadArgument);
            }
        };
        match brine::run(&job.job, &config) {
            Ok(report) => {
                clear_error();
                (
                    Box::into_raw(Box::new(brine_report::new(report))),
                    brine_status::Ok,
                )
            }
            Err(e) => {
                let code = match &e {
                    brine::Error::Invalid(_) => brine_status::Invalid,
                    brine::Error::Failed(_) => brine_status::Failed,
                    _ => brine_status::Refused,
                };
                set_job_error(&e);
                (std::ptr::null_mut(), code)
            }
        }
    });
    // SAFETY: the caller's contract: NULL or writable.
    if let Some(status) = unsafe { status.as_mut() } {
        *status = code;
    }
    report
}

/// brine's version, a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn brine_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
