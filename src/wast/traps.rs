//! Comparing a wasmi error with the trap message a script expects.
//!
//! wasmi's messages are not the reference interpreter's, so a trap matches
//! when either message contains the other, or when the expected message is
//! one the spec uses for wasmi's [`TrapCode`].

use wasmi::TrapCode;

/// The reference interpreter's messages for the traps a wasmi trap code stands for.
fn spec_messages(code: TrapCode) -> &'static [&'static str] {
    match code {
        TrapCode::UnreachableCodeReached => &["unreachable"],
        TrapCode::MemoryOutOfBounds => &[
            "out of bounds memory access",
            "memory access out of bounds",
            "data segment dropped",
        ],
        TrapCode::TableOutOfBounds => &[
            "out of bounds table access",
            "undefined element",
            "element segment dropped",
        ],
        TrapCode::IndirectCallToNull => &["uninitialized element", "null function"],
        TrapCode::IntegerDivisionByZero => &["integer divide by zero"],
        TrapCode::IntegerOverflow => &["integer overflow"],
        TrapCode::BadConversionToInteger => &["invalid conversion to integer"],
        TrapCode::StackOverflow => &["call stack exhausted", "stack overflow"],
        TrapCode::BadSignature => &["indirect call type mismatch"],
        TrapCode::OutOfFuel => &["fuel"],
        TrapCode::GrowthOperationLimited => &["growth operation limited"],
        TrapCode::OutOfSystemMemory => &["out of system memory", "memory"],
    }
}

/// Whether the error `err` is the trap `expected` names.
pub fn trap_matches(err: &wasmi::Error, expected: &str) -> bool {
    let expected = expected.trim();
    if let Some(code) = err.as_trap_code() {
        if spec_messages(code).iter().any(|m| expected.contains(m)) {
            return true;
        }
    }
    let got = err.to_string();
    !expected.is_empty() && (got.contains(expected) || expected.contains(got.trim()))
}

/// Whether `err` is the stack running out (what `assert_exhaustion` expects).
pub fn is_exhaustion(err: &wasmi::Error) -> bool {
    matches!(
        err.as_trap_code(),
        Some(TrapCode::StackOverflow | TrapCode::OutOfSystemMemory)
    )
}

/// The error in one line, with the trap kind when there is one.
pub fn describe(err: &wasmi::Error) -> String {
    let message = err
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match err.as_trap_code() {
        Some(code) => format!("trap {code:?} ({message})"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_codes_match_spec_messages() {
        let err = wasmi::Error::from(TrapCode::IntegerDivisionByZero);
        assert!(trap_matches(&err, "integer divide by zero"));
        assert!(!trap_matches(&err, "integer overflow"));
        let err = wasmi::Error::from(TrapCode::TableOutOfBounds);
        assert!(trap_matches(&err, "undefined element"));
        let err = wasmi::Error::from(TrapCode::IndirectCallToNull);
        assert!(trap_matches(&err, "uninitialized element 2"));
        assert!(is_exhaustion(&wasmi::Error::from(TrapCode::StackOverflow)));
        assert!(describe(&err).starts_with("trap IndirectCallToNull"));
    }
}
