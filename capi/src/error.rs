//! `brine_last_error`: what the last failed call on this thread said.

use brine::Error;
use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// The last error on the calling thread. The strings live until the next
/// brine call on this thread; copy them to keep them.
#[repr(C)]
pub struct brine_error {
    /// What went wrong, one line per problem ("" when the last call succeeded).
    pub message: *const c_char,
    /// The job file the first problem is in (NULL when the error is not about a job file).
    pub file: *const c_char,
    /// Its 1-based line (0: the file as a whole, or not located).
    pub line: u32,
    /// Its 1-based column (0: the file as a whole, or not located).
    pub column: u32,
    /// The field path, such as `Tasks[0].Engine.Params.EntryModule` (NULL: none).
    pub field: *const c_char,
}

/// The stored form of the last error.
#[derive(Default)]
struct Stored {
    message: CString,
    file: Option<CString>,
    line: u32,
    column: u32,
    field: Option<CString>,
}

thread_local! {
    static LAST: RefCell<Stored> = RefCell::new(Stored::default());
}

/// `text` as a C string (a NUL inside becomes U+FFFD: C would cut it there).
fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{fffd}")).unwrap_or_default()
}

/// Records `message` as this thread's last error.
pub(crate) fn set_error(message: String) {
    LAST.with(|last| {
        *last.borrow_mut() = Stored {
            message: c_string(&message),
            ..Stored::default()
        }
    });
}

/// Records `error`, with where in the job file its first problem is.
pub(crate) fn set_job_error(error: &Error) {
    let located = error.located();
    let stored = Stored {
        message: c_string(&error.to_string()),
        file: located.map(|e| c_string(&e.file.display().to_string())),
        line: located.map_or(0, |e| e.line),
        column: located.map_or(0, |e| e.column),
        field: located.and_then(|e| e.path.as_deref()).map(c_string),
    };
    LAST.with(|last| *last.borrow_mut() = stored);
}

/// Forgets the last error (a call succeeded).
pub(crate) fn clear_error() {
    LAST.with(|last| *last.borrow_mut() = Stored::default());
}

/// What the last failed call on this thread said; `message` is "" when the
/// last call succeeded. Never fails.
#[no_mangle]
pub extern "C" fn brine_last_error() -> brine_error {
    let empty = brine_error {
        message: c"".as_ptr(),
        file: std::ptr::null(),
        line: 0,
        column: 0,
        field: std::ptr::null(),
    };
    std::panic::catch_unwind(|| {
        LAST.with(|last| {
            let last = last.borrow();
            brine_error {
                message: last.message.as_ptr(),
                file: last.file.as_ref().map_or(std::ptr::null(), |f| f.as_ptr()),
                line: last.line,
                column: last.column,
                field: last.field.as_ref().map_or(std::ptr::null(), |f| f.as_ptr()),
            }
        })
    })
    .unwrap_or(empty)
}
