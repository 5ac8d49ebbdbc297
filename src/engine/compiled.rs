//! Modules compiled once. The checks made before a run compile every local
//! module with an engine configured as the run's will be; the run then takes
//! those modules instead of compiling the same bytes again (for a small job,
//! compiling twice was a tenth of its start-up; for a large module, more).
//! A module is reused only when the bytes the run reads hash the same and the
//! run's limits ask for the same engine configuration.

use super::{new_engine, Limits};
use std::collections::HashMap;
use wasmi::{Engine, Module};

/// Compiled modules by canonical guest path, with the engine they belong to.
#[derive(Debug, Clone)]
pub struct CompiledModules {
    metered: bool,
    engine: Engine,
    modules: HashMap<String, (blake3::Hash, Module)>,
}

impl CompiledModules {
    /// An empty set whose engine is configured for a run under `limits`.
    pub fn new(limits: &Limits) -> Self {
        CompiledModules {
            metered: limits.metered(),
            engine: new_engine(limits),
            modules: HashMap::new(),
        }
    }

    /// The engine modules are compiled with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Keeps `module`, compiled from `bytes`, as the module at `canonical`.
    pub fn keep(&mut self, canonical: &str, bytes: &[u8], module: Module) {
        self.modules
            .insert(canonical.to_string(), (blake3::hash(bytes), module));
    }

    /// The engine, when a run under `limits` may use it (the same configuration).
    pub fn engine_for(&self, limits: &Limits) -> Option<Engine> {
        (limits.metered() == self.metered).then(|| self.engine.clone())
    }

    /// The module kept for `canonical` if it was compiled from these very
    /// `bytes` by `engine`.
    pub fn get(&self, engine: &Engine, canonical: &str, bytes: &[u8]) -> Option<Module> {
        let (hash, module) = self.modules.get(canonical)?;
        let same = Engine::same(engine, &self.engine) && *hash == blake3::hash(bytes);
        same.then(|| module.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_is_reused_only_for_the_same_bytes_and_engine() {
        let limits = Limits::default();
        let mut compiled = CompiledModules::new(&limits);
        let bytes = wat::parse_str("(module)").unwrap();
        let module = Module::new(compiled.engine(), &bytes).unwrap();
        compiled.keep("/m.wasm", &bytes, module);
        let engine = compiled.engine_for(&limits).expect("same configuration");
        assert!(compiled.get(&engine, "/m.wasm", &bytes).is_some());
        assert!(compiled.get(&engine, "/other.wasm", &bytes).is_none());
        let changed = wat::parse_str("(module (memory 1))").unwrap();
        assert!(compiled.get(&engine, "/m.wasm", &changed).is_none());
        let other_engine = new_engine(&limits);
        assert!(compiled.get(&other_engine, "/m.wasm", &bytes).is_none());
        let metered = Limits {
            fuel: Some(1),
            ..Limits::default()
        };
        assert!(compiled.engine_for(&metered).is_none());
    }
}
