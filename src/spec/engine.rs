//! The engine block `{Type: wasm, Params}` in either form: the spec (legacy)
//! form, whose modules are input sources, and the current form, whose modules
//! are guest paths of the task's inputs. Both come out in the current form.

use super::error::{Collector, Site};
use super::fields::{index, site, type_error, Fields, MapEntry};
use super::model::{legacy_import_target, WasmEngine, LEGACY_ENTRY_TARGET};
use super::paths;
use super::source::{input_source, Located};
use super::tree::{Node, Value};
use std::path::Path;

/// The wasm engine's parameter names.
const PARAMS: &[&str] = &[
    "EntryModule",
    "Entrypoint",
    "Parameters",
    "EnvironmentVariables",
    "ImportModules",
    "Deterministic",
];

/// What a module field expects.
const MODULE: &str = "a path (current form) or an input source (spec form)";

/// The engine block, normalized, and what it adds to its task.
#[derive(Debug, Default)]
pub(crate) struct EngineParts {
    /// The engine in the current form (entry module empty if it was missing).
    pub engine: WasmEngine,
    /// Inputs made from spec-form module sources.
    pub inputs: Vec<Located>,
    /// The spec form's EnvironmentVariables.
    pub env: Vec<MapEntry>,
    /// Current-form module paths, which some input must cover.
    pub modules: Vec<(String, Site)>,
}

/// Reads an engine block at `path` (empty for a file that is only an engine block).
pub(crate) fn engine(cx: &mut Collector, node: &Node, path: &str, dir: &Path) -> EngineParts {
    let mut parts = EngineParts::default();
    let what = "an engine mapping (Type: wasm, Params)";
    let Some(fields) = Fields::read(cx, node, path, what, &["Type", "Params"]) else {
        return parts;
    };
    if !check_type(cx, &fields) {
        return parts;
    }
    let expected = "the wasm engine's parameters (EntryModule, Entrypoint, Parameters, ...)";
    let Some(params_node) = fields.require(cx, "Params", expected) else {
        return parts;
    };
    let params_path = fields.path_of("Params");
    let what = "a mapping of wasm engine parameters";
    if let Some(params) = Fields::read(cx, params_node, &params_path, what, PARAMS) {
        read_params(cx, &params, dir, &mut parts);
    }
    parts
}

/// Checks that the engine type is wasm; false when it names another engine
/// (whose Params then mean nothing to brine).
fn check_type(cx: &mut Collector, fields: &Fields) -> bool {
    let Some(node) = fields.require(cx, "Type", "the engine type, wasm") else {
        return true;
    };
    let path = fields.path_of("Type");
    match super::fields::string(cx, node, &path) {
        Some(t) if !t.eq_ignore_ascii_case("wasm") => {
            let msg = format!("brine runs only wasm engines (Type: wasm), found `{t}`");
            cx.at(&site(node, &path), msg);
            false
        }
        _ => true,
    }
}

/// Reads the parameters into `parts`.
fn read_params(cx: &mut Collector, params: &Fields, dir: &Path, parts: &mut EngineParts) {
    if let Some(node) = params.require(cx, "EntryModule", MODULE) {
        let path = params.path_of("EntryModule");
        cx.sites.entry_module = site(node, &path);
        let entry = module(cx, node, &path, dir, LEGACY_ENTRY_TARGET, parts);
        parts.engine.entry_module = entry.unwrap_or_default();
    }
    cx.sites.entrypoint = params
        .get("Entrypoint")
        .map(|node| site(node, &params.path_of("Entrypoint")));
    if let Some(entrypoint) = params.string(cx, "Entrypoint") {
        if entrypoint.is_empty() {
            if let Some(node) = params.get("Entrypoint") {
                let msg = "expected the name of an exported function, found an empty string";
                cx.at(&site(node, &params.path_of("Entrypoint")), msg);
            }
        }
        parts.engine.entrypoint = entrypoint;
    }
    parts.engine.parameters = params.strings(cx, "Parameters");
    parts.env = params.string_map(cx, "EnvironmentVariables");
    parts.engine.import_modules = imports(cx, params, dir, parts);
    parts.engine.deterministic = params.boolean(cx, "Deterministic").unwrap_or(false);
}

/// ImportModules: each element a path or a spec-form source.
fn imports(
    cx: &mut Collector,
    params: &Fields,
    dir: &Path,
    parts: &mut EngineParts,
) -> Vec<String> {
    let Some(node) = params.get("ImportModules") else {
        return Vec::new();
    };
    let path = params.path_of("ImportModules");
    let Value::Seq(items) = &node.value else {
        let expected = format!("a list whose elements are each {MODULE}");
        type_error::<()>(cx, node, &path, &expected);
        return Vec::new();
    };
    let mut modules = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let target = legacy_import_target(i);
        cx.sites.import_modules.push(site(item, &index(&path, i)));
        if let Some(m) = module(cx, item, &index(&path, i), dir, &target, parts) {
            modules.push(m);
        }
    }
    modules
}

/// One module reference: a guest path (current form) or an input source
/// (spec form) mounted at its own Target, else at `legacy_target`. Returns
/// the module's guest path.
fn module(
    cx: &mut Collector,
    node: &Node,
    path: &str,
    dir: &Path,
    legacy_target: &str,
    parts: &mut EngineParts,
) -> Option<String> {
    match &node.value {
        Value::Str(text) => match paths::mount_point(text) {
            Ok(target) => {
                parts.modules.push((target.clone(), site(node, path)));
                Some(target)
            }
            Err(error) => {
                cx.at(&site(node, path), error.to_string());
                None
            }
        },
        Value::Map(_) => {
            let located = input_source(cx, node, path, dir, Some(legacy_target))?;
            let target = located.target.clone();
            parts.inputs.push(located);
            target
        }
        _ => type_error(cx, node, path, MODULE),
    }
}
