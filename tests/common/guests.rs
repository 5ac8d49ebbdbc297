//! WAT snippets several test files build their guests from.

/// WAT instructions asking `$poll` (the imported `poll_oneoff`) for one
/// relative monotonic sleep of `nanos`, leaving poll_oneoff's errno on the
/// stack. The subscription sits at 0, the event at 100, nevents at 200.
pub fn poll_sleep(nanos: u64) -> String {
    format!(
        r#"(i64.store (i32.const 0) (i64.const 0))
    (i32.store8 (i32.const 8) (i32.const 0))
    (i32.store (i32.const 16) (i32.const 1))
    (i64.store (i32.const 24) (i64.const {nanos}))
    (i64.store (i32.const 32) (i64.const 0))
    (i32.store16 (i32.const 40) (i32.const 0))
    (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200))"#
    )
}

/// A module that sleeps `nanos` in poll_oneoff and exits with its errno.
pub fn poll_sleep_then_exit(nanos: u64) -> String {
    format!(
        r#"(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (call $exit {})))"#,
        poll_sleep(nanos)
    )
}
