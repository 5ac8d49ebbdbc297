//! Whether the host modules of a run provide a module's imports, answered by
//! the very linker a run builds ([`super::link::define_host_modules`]), so a
//! check made before a run and the run itself cannot disagree. Nothing of the
//! module is run: each probe is a module holding only imports.

use super::describe::{func_type, val_type};
use super::link::define_host_modules;
use super::{new_engine, new_store, EngineError, Limits, StoreData};
use crate::host::real::{RealHost, Stdio};
use crate::wasi::WasiCtx;
use wasmi::errors::{ErrorKind, InstantiationError, LinkerError};
use wasmi::{Engine, ExternType, Linker, Module, Mutability, Store};

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
        let text = format!(
            "(module (import {} {} {}))",
            wat_string(module),
            wat_string(field),
            wat_import(ty)
        );
        let unprobeable = |e: &dyn std::fmt::Display| ImportProblem::Unprobeable(e.to_string());
        let bytes = wat::parse_str(&text).map_err(|e| unprobeable(&e))?;
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

/// `name` as a WAT string, every byte escaped (any name is safe this way).
fn wat_string(name: &str) -> String {
    let escaped: String = name.bytes().map(|b| format!("\\{b:02x}")).collect();
    format!("\"{escaped}\"")
}

/// The import description of `ty` in WAT.
fn wat_import(ty: &ExternType) -> String {
    let limits = |min: u64, max: Option<u64>| match max {
        Some(max) => format!("{min} {max}"),
        None => min.to_string(),
    };
    match ty {
        ExternType::Func(f) => {
            let list = |types: &[wasmi::ValType]| {
                let names: Vec<&str> = types.iter().map(|t| val_type(*t)).collect();
                names.join(" ")
            };
            format!(
                "(func (param {}) (result {}))",
                list(f.params()),
                list(f.results())
            )
        }
        ExternType::Memory(m) => {
            let index = if m.is_64() { "i64 " } else { "" };
            format!("(memory {index}{})", limits(m.minimum(), m.maximum()))
        }
        ExternType::Table(t) => {
            let element = match t.element() {
                wasmi::RefType::Func => "funcref",
                wasmi::RefType::Extern => "externref",
            };
            format!("(table {} {element})", limits(t.minimum(), t.maximum()))
        }
        ExternType::Global(g) => match g.mutability() {
            Mutability::Var => format!("(global (mut {}))", val_type(g.content())),
            Mutability::Const => format!("(global {})", val_type(g.content())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmi::{FuncType, ValType};

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
}
