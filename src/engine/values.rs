//! Command-line values for `--invoke`: parsing arguments by parameter type
//! and printing results, as wasmtime does.

use super::describe::val_type;
use wasmi::{Val, ValType, F32, F64};

/// A command-line argument that is not a value of its parameter's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The text does not parse as the type (or is out of its range).
    #[error("`{text}` is not a valid {ty}")]
    Invalid {
        /// The argument as given.
        text: String,
        /// The parameter's type, as wasm writes it.
        ty: &'static str,
    },
    /// References and vectors cannot be written on a command line.
    #[error("parameters of type {ty} cannot be given on the command line")]
    Unsupported {
        /// The parameter's type.
        ty: &'static str,
    },
}

/// Parses `text` as a value of type `ty`.
///
/// Integers accept signed and unsigned decimal (`-1` and `4294967295` are the
/// same i32) and `0x` hex; floats accept decimal, `inf`, `-inf` and `nan`.
pub fn parse(ty: ValType, text: &str) -> Result<Val, ValueError> {
    let bad = || ValueError::Invalid {
        text: text.to_string(),
        ty: val_type(ty),
    };
    match ty {
        ValType::I32 => parse_int(text, i32::MIN.into(), u32::MAX.into())
            .map(|v| Val::I32(v as u32 as i32))
            .ok_or_else(bad),
        ValType::I64 => parse_int(text, i64::MIN.into(), u64::MAX.into())
            .map(|v| Val::I64(v as u64 as i64))
            .ok_or_else(bad),
        ValType::F32 => text
            .parse::<f32>()
            .map(|f| Val::F32(F32::from_float(f)))
            .map_err(|_| bad()),
        ValType::F64 => text
            .parse::<f64>()
            .map(|f| Val::F64(F64::from_float(f)))
            .map_err(|_| bad()),
        other => Err(ValueError::Unsupported {
            ty: val_type(other),
        }),
    }
}

fn parse_int(text: &str, min: i128, max: i128) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<i128>().ok()?,
    };
    let value = if negative { -magnitude } else { magnitude };
    (min..=max).contains(&value).then_some(value)
}

/// Formats a result value for printing (integers signed, as wasmtime prints them).
pub fn format(value: &Val) -> String {
    match value {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(v) => v.to_float().to_string(),
        Val::F64(v) => v.to_float().to_string(),
        Val::V128(v) => format!("0x{:032x}", v.as_u128()),
        Val::FuncRef(r) => if r.is_null() {
            "null funcref"
        } else {
            "funcref"
        }
        .to_string(),
        Val::ExternRef(r) => if r.is_null() {
            "null externref"
        } else {
            "externref"
        }
        .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_take_both_signednesses() {
        let show = |text| format(&parse(ValType::I32, text).unwrap());
        assert_eq!(show("-1"), "-1");
        assert_eq!(show("4294967295"), "-1");
        assert_eq!(show("0x10"), "16");
        assert!(parse(ValType::I32, "4294967296").is_err());
        assert!(parse(ValType::I64, "abc").is_err());
    }

    #[test]
    fn floats_parse_and_print() {
        let v = parse(ValType::F64, "1.5").unwrap();
        assert_eq!(format(&v), "1.5");
    }
}
