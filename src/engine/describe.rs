//! Human-readable names for wasm types, shared by error messages and `inspect`.

use wasmi::{
    ExternType, FuncType, GlobalType, MemoryType, Mutability, RefType, TableType, ValType,
};

/// `i32`, `f64`, `funcref`, ...
pub fn val_type(ty: ValType) -> &'static str {
    match ty {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        ValType::FuncRef => "funcref",
        ValType::ExternRef => "externref",
    }
}

fn ref_type(ty: RefType) -> &'static str {
    match ty {
        RefType::Func => "funcref",
        RefType::Extern => "externref",
    }
}

fn list(types: &[ValType]) -> String {
    types
        .iter()
        .map(|&t| val_type(t))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `(i32, i32) -> i32`; a function without results shows `-> ()`.
pub fn func_type(ty: &FuncType) -> String {
    let results = match ty.results() {
        [single] => val_type(*single).to_string(),
        many => format!("({})", list(many)),
    };
    format!("({}) -> {}", list(ty.params()), results)
}

fn limits(min: u64, max: Option<u64>) -> String {
    match max {
        Some(max) => format!("{min}..{max}"),
        None => format!("{min}.."),
    }
}

/// `memory 1..2 pages` (`memory64` noted).
pub fn memory_type(ty: &MemoryType) -> String {
    let bits = if ty.is_64() { " (memory64)" } else { "" };
    format!("{} pages{bits}", limits(ty.minimum(), ty.maximum()))
}

/// `funcref 2..` elements.
pub fn table_type(ty: &TableType) -> String {
    format!(
        "{} {} elements",
        ref_type(ty.element()),
        limits(ty.minimum(), ty.maximum())
    )
}

/// `mut i32` / `i32`.
pub fn global_type(ty: &GlobalType) -> String {
    match ty.mutability() {
        Mutability::Var => format!("mut {}", val_type(ty.content())),
        Mutability::Const => val_type(ty.content()).to_string(),
    }
}

/// `func (i32) -> i64`, `memory 1.. pages`, `table funcref 1.. elements`, `global mut i32`.
pub fn extern_type(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => format!("func {}", func_type(f)),
        ExternType::Memory(m) => format!("memory {}", memory_type(m)),
        ExternType::Table(t) => format!("table {}", table_type(t)),
        ExternType::Global(g) => format!("global {}", global_type(g)),
    }
}

/// `func`, `memory`, `table` or `global`.
pub fn extern_kind(ty: &ExternType) -> &'static str {
    match ty {
        ExternType::Func(_) => "func",
        ExternType::Memory(_) => "memory",
        ExternType::Table(_) => "table",
        ExternType::Global(_) => "global",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_types_read_like_wat() {
        let ty = FuncType::new([ValType::I32, ValType::I32], [ValType::I64]);
        assert_eq!(func_type(&ty), "(i32, i32) -> i64");
        let unit = FuncType::new([], []);
        assert_eq!(func_type(&unit), "() -> ()");
    }
}
