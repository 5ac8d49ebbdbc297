//! Whether the host modules of a run provide a module's imports, answered by
//! the very linker a run builds ([`super::link::define_host_modules`]), so a
//! check made before a run and the run itself cannot disagree. Nothing of the
//! module is run: each probe is a module holding only imports.

use super::describe::func_type;
use super::link::define_host_modules;
use super::start::{write_leb, write_section};
use super::{new_engine, new_store, EngineError, Limits, StoreData};
use crate::host::real::{RealHost, Stdio};
use crate::wasi::WasiCtx;
use wasmi::errors::{ErrorKind, InstantiationError, LinkerError};
use wasmi::{Engine, ExternType, Linker, Module, Mutability, RefType, Store, ValType};

/// The host side of a run's linker, to probe imports against.
pub struct HostProbe {
    engine: Engine,
    linker: Linker<StoreData>,
    store: Store<StoreData>,
}

impl HostProbe {
    /// The host modules of a run with (`network`) or without `wasi:http/requests`.
    pub fn new(network: bool) -> Result<Self, EngineError> {
        let engine = new_engine(&Limits::default());
        let mut linker = Linker::new(&engine);
        define_host_modules(&mut linker, network)?;
        let stdio = Stdio {
            stdin: Box::new(std::io::empty()),
            stdout: Box::new(std::io::sink()),
            stderr: Box::new(std::io::sink()),
            terminals: [false; 3],
        };
        let wasi = WasiCtx::new(Box::new(RealHost::new(stdio)));
        let store = new_store(&engine, wasi, &Limits::default());
        Ok(HostProbe {
            engine,
            linker,
            store,
        })
    }

    /// `Ok` when the linker defines `module`.`field` with a type `ty` may import;
    /// otherwise why not.
    pub fn check(
        &mut self,
        module: &str,
        field: &str,
        ty: &ExternType,
    ) -> Result<(), ImportProblem> {
        let unprobeable = |e: &dyn std::fmt::Display| ImportProblem::Unprobeable(e.to_string());
        let bytes = import_only_module(module, field, ty);
        let probe = Module::new(&self.engine, &bytes).map_err(|e| unprobeable(&e))?;
        let Err(error) = self.linker.instantiate_and_start(&mut self.store, &probe) else {
            return Ok(());
        };
        let (module, field) = (module.to_string(), field.to_string());
        let is = |found: String| ImportProblem::Mismatch {
            module: module.clone(),
            field: field.clone(),
            found,
        };
        Err(match error.kind() {
            ErrorKind::Linker(LinkerError::MissingDefinition { .. }) => {
                ImportProblem::Missing { module, field }
            }
            ErrorKind::Linker(LinkerError::InvalidTypeDefinition { found, .. }) => {
                is(super::describe::extern_type(found))
            }
            ErrorKind::Instantiation(InstantiationError::FuncTypeMismatch { actual, .. }) => {
                is(format!("func {}", func_type(actual)))
            }
            ErrorKind::Instantiation(InstantiationError::ImportTypeMismatch { .. }) => {
                is("a function".to_string())
            }
            _ => unprobeable(&error),
        })
    }
}

/// Why brine's host linker cannot satisfy an import.
#[derive(Debug, thiserror::Error)]
pub enum ImportProblem {
    /// The host module has no such field.
    #[error("brine's `{module}` has no `{field}`")]
    Missing {
        /// The import's module.
        module: String,
        /// The import's field.
        field: String,
    },
    /// The host defines the field with another type.
    #[error("brine's `{module}`.`{field}` is {found}")]
    Mismatch {
        /// The import's module.
        module: String,
        /// The import's field.
        field: String,
        /// What the host defines, in words.
        found: String,
    },
    /// The import could not be probed at all (its type has no text form, or
    /// wasmi refused the probe module); the words are the underlying error's.
    #[error("{0}")]
    Unprobeable(String),
}

/// A module binary holding one import, `module`.`field` of type `ty`, and
/// nothing else. Encoded directly: going through WAT text cost a parse per
/// import, most of a small job's check.
fn import_only_module(module: &str, field: &str, ty: &ExternType) -> Vec<u8> {
    let mut types = Vec::new();
    let mut import = Vec::new();
    write_leb(&mut import, 1);
    name(&mut import, module);
    name(&mut import, field);
    match ty {
        ExternType::Func(f) => {
            write_leb(&mut types, 1);
            types.push(0x60);
            value_types(&mut types, f.params());
            value_types(&mut types, f.results());
            import.extend([0x00, 0x00]);
        }
        ExternType::Table(t) => {
            import.push(0x01);
            import.push(ref_type(t.element()));
            limits(&mut import, t.is_64(), t.minimum(), t.maximum());
        }
        ExternType::Memory(m) => {
            import.push(0x02);
            limits(&mut import, m.is_64(), m.minimum(), m.maximum());
        }
        ExternType::Global(g) => {
            import.push(0x03);
            import.push(value_type(g.content()));
            import.push(u8::from(g.mutability() == Mutability::Var));
        }
    }
    let mut binary = b"\0asm\x01\0\0\0".to_vec();
    if !types.is_empty() {
        write_section(&mut binary, 1, &types);
    }
    write_section(&mut binary, 2, &import);
    binary
}

/// Appends a name: its length, then its bytes (any bytes are fine in a probe).
fn name(out: &mut Vec<u8>, text: &str) {
    write_leb(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Appends limits: flags (bit 0 a maximum, bit 2 64-bit indices), minimum, maximum.
fn limits(out: &mut Vec<u8>, is_64: bool, minimum: u64, maximum: Option<u64>) {
    out.push(u8::from(maximum.is_some()) | if is_64 { 0x04 } else { 0 });
    write_leb(out, minimum);
    if let Some(maximum) = maximum {
        write_leb(out, maximum);
    }
}

fn value_types(out: &mut Vec<u8>, types: &[ValType]) {
    write_leb(out, types.len() as u64);
    out.extend(types.iter().map(|t| value_type(*t)));
}

fn value_type(ty: ValType) -> u8 {
    match ty {
        ValType::I32 => 0x7f,
        ValType::I64 => 0x7e,
        ValType::F32 => 0x7d,
        ValType::F64 => 0x7c,
        ValType::V128 => 0x7b,
        ValType::FuncRef => 0x70,
        ValType::ExternRef => 0x6f,
    }
}

fn ref_type(ty: RefType) -> u8 {
    match ty {
        RefType::Func => 0x70,
        RefType::Extern => 0x6f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmi::FuncType;

    #[test]
    fn the_run_linker_answers() {
        let mut probe = HostProbe::new(false).expect("linker");
        let fd_write = FuncType::new([ValType::I32; 4], [ValType::I32]);
        let ok = ExternType::Func(fd_write);
        assert!(probe
            .check("wasi_snapshot_preview1", "fd_write", &ok)
            .is_ok());
        let wrong = ExternType::Func(FuncType::new([ValType::I32], [ValType::I32]));
        let why = probe
            .check("wasi_snapshot_preview1", "fd_write", &wrong)
            .unwrap_err()
            .to_string();
        assert!(why.contains("(i32, i32, i32, i32) -> i32"), "{why}");
        let missing = probe
            .check("wasi_snapshot_preview1", "fd_nope", &ok)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("has no `fd_nope`"), "{missing}");
    }

    #[test]
    fn every_kind_of_import_encodes_to_the_type_it_came_from() {
        use wasmi::{GlobalType, MemoryType, TableType};
        let engine = new_engine(&Limits::default());
        let kinds = [
            ExternType::Func(FuncType::new(
                [
                    ValType::I32,
                    ValType::I64,
                    ValType::F32,
                    ValType::F64,
                    ValType::V128,
                ],
                [ValType::FuncRef, ValType::ExternRef],
            )),
            ExternType::Table(TableType::new(RefType::Func, 1, Some(300))),
            ExternType::Table(TableType::new(RefType::Extern, 0, None)),
            ExternType::Memory(MemoryType::new(1, Some(65_536))),
            ExternType::Memory(MemoryType::new(2, None)),
            ExternType::Global(GlobalType::new(ValType::I64, Mutability::Var)),
            ExternType::Global(GlobalType::new(ValType::F32, Mutability::Const)),
        ];
        for ty in kinds {
            let bytes = import_only_module("m\u{e9}", "", &ty);
            let module = Module::new(&engine, &bytes).expect("a valid module");
            let import = module.imports().next().expect("one import");
            assert_eq!((import.module(), import.name()), ("m\u{e9}", ""));
            assert_eq!(format!("{:?}", import.ty()), format!("{ty:?}"));
        }
    }
}
