//! The `spectest` host module the spec scripts import, as the reference
//! interpreter defines it: `print`, `print_i32`, `print_i64`, `print_f32`,
//! `print_f64`, `print_i32_f32`, `print_f64_f64` (each value printed on a
//! line of its own as `VALUE : TYPE`), `global_i32` = 666, `global_i64` = 666,
//! `global_f32` = 666.6, `global_f64` = 666.6, `table` (10..20 funcref),
//! `table64` (its 64-bit twin) and `memory` (1..2 pages).

use std::io::Write as _;
use wasmi::{
    Caller, Global, Linker, Memory, MemoryType, Mutability, Ref, RefType, Store, Table, TableType,
    Val, F32, F64,
};

/// Where the print functions write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PrintTo {
    /// The process's stdout, as the reference interpreter does.
    #[default]
    Stdout,
    /// stderr (keeps stdout for a machine-readable report).
    Stderr,
    /// Nowhere.
    Discard,
}

impl PrintTo {
    /// Writes `lines`, one per line (a closed stream is ignored).
    pub fn emit(self, lines: &[String]) {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let _ = match self {
            PrintTo::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
            PrintTo::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
            PrintTo::Discard => Ok(()),
        };
    }
}

/// Store data that knows where `spectest` prints go.
pub trait SpectestData: 'static {
    /// The print destination.
    fn print_to(&self) -> PrintTo;
}

/// `42 : i32`, as the reference interpreter prints an i32.
pub fn show_i32(v: i32) -> String {
    format!("{v} : i32")
}

/// `42 : i64`.
pub fn show_i64(v: i64) -> String {
    format!("{v} : i64")
}

/// `666.6 : f32` (a NaN shows its bits: `nan:0x7fc00000 : f32`).
pub fn show_f32(v: F32) -> String {
    let f = v.to_float();
    if f.is_nan() {
        format!("nan:0x{:08x} : f32", v.to_bits())
    } else {
        format!("{f} : f32")
    }
}

/// `666.6 : f64`.
pub fn show_f64(v: F64) -> String {
    let f = v.to_float();
    if f.is_nan() {
        format!("nan:0x{:016x} : f64", v.to_bits())
    } else {
        format!("{f} : f64")
    }
}

/// Defines the `spectest` module's functions, globals, tables and memory in `linker`.
pub fn define<T: SpectestData>(
    linker: &mut Linker<T>,
    store: &mut Store<T>,
) -> Result<(), wasmi::Error> {
    define_prints(linker)?;
    let globals = [
        ("global_i32", Val::I32(666)),
        ("global_i64", Val::I64(666)),
        ("global_f32", Val::F32(F32::from_float(666.6))),
        ("global_f64", Val::F64(F64::from_float(666.6))),
    ];
    for (name, value) in globals {
        let global = Global::new(&mut *store, value, Mutability::Const);
        linker.define("spectest", name, global)?;
    }
    let null = Ref::null(RefType::Func);
    let table = Table::new(
        &mut *store,
        TableType::new(RefType::Func, 10, Some(20)),
        null,
    )?;
    linker.define("spectest", "table", table)?;
    let table64 = TableType::new64(RefType::Func, 10, Some(20));
    let table64 = Table::new(&mut *store, table64, null)?;
    linker.define("spectest", "table64", table64)?;
    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define("spectest", "memory", memory)?;
    Ok(())
}

fn define_prints<T: SpectestData>(linker: &mut Linker<T>) -> Result<(), wasmi::Error> {
    fn out<T: SpectestData>(caller: &Caller<'_, T>, lines: &[String]) {
        caller.data().print_to().emit(lines);
    }
    linker.func_wrap("spectest", "print", |_: Caller<'_, T>| {})?;
    linker.func_wrap("spectest", "print_i32", |c: Caller<'_, T>, v: i32| {
        out(&c, &[show_i32(v)])
    })?;
    linker.func_wrap("spectest", "print_i64", |c: Caller<'_, T>, v: i64| {
        out(&c, &[show_i64(v)])
    })?;
    linker.func_wrap("spectest", "print_f32", |c: Caller<'_, T>, v: F32| {
        out(&c, &[show_f32(v)])
    })?;
    linker.func_wrap("spectest", "print_f64", |c: Caller<'_, T>, v: F64| {
        out(&c, &[show_f64(v)])
    })?;
    linker.func_wrap(
        "spectest",
        "print_i32_f32",
        |c: Caller<'_, T>, a: i32, b: F32| out(&c, &[show_i32(a), show_f32(b)]),
    )?;
    linker.func_wrap(
        "spectest",
        "print_f64_f64",
        |c: Caller<'_, T>, a: F64, b: F64| out(&c, &[show_f64(a), show_f64(b)]),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_like_the_reference_interpreter() {
        assert_eq!(show_i32(-1), "-1 : i32");
        assert_eq!(show_i64(666), "666 : i64");
        assert_eq!(show_f32(F32::from_float(666.6)), "666.6 : f32");
        assert_eq!(show_f64(F64::from_float(-0.0)), "-0 : f64");
        assert_eq!(
            show_f32(F32::from_bits(0x7fc0_0000)),
            "nan:0x7fc00000 : f32"
        );
    }
}
