//! A Task: engine, env, inputs, result paths, resources, network, timeouts and
//! publisher, read field by field; cross-field checks are in `validate`.

use super::engine::engine;
use super::error::{Collector, Site};
use super::fields::{hint, index, join, site, string, type_error, Fields};
use super::model::{Network, NetworkType, Publisher, Resources, ResultPath, Task, Timeouts};
use super::paths;
use super::source::{input_source, Located};
use super::tree::{Node, Value};
use super::validate;
use crate::units::parse_size;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The field names of a Task.
const TASK_FIELDS: &[&str] = &[
    "Name",
    "Engine",
    "Publisher",
    "Env",
    "Meta",
    "InputSources",
    "ResultPaths",
    "Resources",
    "Network",
    "Timeouts",
];

/// A result path and where its name and path are.
#[derive(Debug, Clone)]
pub(crate) struct LocatedResult {
    /// The result path.
    pub result: ResultPath,
    /// Where its Name is.
    pub name_site: Site,
    /// Where its Path is.
    pub path_site: Site,
}

/// Reads a Task at `path` (empty for a file that is only a Task) and checks it.
pub(crate) fn task(cx: &mut Collector, node: &Node, path: &str, dir: &Path) -> Task {
    let mut task = Task {
        name: "main".into(),
        engine: Default::default(),
        publisher: None,
        env: BTreeMap::new(),
        inputs: Vec::new(),
        result_paths: Vec::new(),
        resources: Resources::default(),
        network: None,
        timeouts: Timeouts::default(),
    };
    let what = "a Task mapping (Name, Engine, InputSources, ...)";
    if let Some(fields) = Fields::read(cx, node, path, what, TASK_FIELDS) {
        read_task(cx, &fields, dir, &mut task);
    }
    task
}

/// Reads every field of a Task mapping into `task`.
fn read_task(cx: &mut Collector, fields: &Fields, dir: &Path, task: &mut Task) {
    if let Some(name) = non_empty(cx, fields, "Name", "the task's name") {
        task.name = name;
    }
    let expected = "the engine block (Type: wasm, Params)";
    let parts = match fields.require(cx, "Engine", expected) {
        Some(node) => {
            cx.sites.engine = site(node, &fields.path_of("Engine"));
            engine(cx, node, &fields.path_of("Engine"), dir)
        }
        None => Default::default(),
    };
    let env = fields.string_map(cx, "Env");
    task.env = validate::merge_env(cx, &parts.env, &env);
    let _meta = fields.string_map(cx, "Meta");
    let mut inputs = inputs(cx, fields, dir);
    inputs.extend(parts.inputs);
    cx.sites.inputs = super::source::input_sites(&inputs);
    let located = |name: &str| fields.get(name).map(|n| site(n, &fields.path_of(name)));
    cx.sites.network = located("Network");
    cx.sites.publisher = located("Publisher");
    let results = result_paths(cx, fields);
    validate::mounts(cx, &inputs, &results, &parts.modules);
    task.engine = parts.engine;
    task.inputs = inputs.into_iter().filter_map(|l| l.input).collect();
    task.result_paths = results.into_iter().map(|r| r.result).collect();
    task.resources = resources(cx, fields);
    task.network = fields
        .get("Network")
        .and_then(|n| network(cx, n, &fields.path_of("Network")));
    task.timeouts = timeouts(cx, fields);
    task.publisher = fields
        .get("Publisher")
        .and_then(|n| publisher(cx, n, &fields.path_of("Publisher")));
}

/// An optional string field that must not be empty when given.
pub(crate) fn non_empty(
    cx: &mut Collector,
    fields: &Fields,
    name: &str,
    expected: &str,
) -> Option<String> {
    let text = fields.string(cx, name)?;
    if text.is_empty() {
        if let Some(node) = fields.get(name) {
            let msg = format!("expected {expected}, found an empty string");
            cx.at(&site(node, &fields.path_of(name)), msg);
        }
        return None;
    }
    Some(text)
}

/// The items of an optional list field, or a type error.
fn list<'n>(cx: &mut Collector, fields: &Fields<'n>, name: &str, expected: &str) -> &'n [Node] {
    let Some(node) = fields.get(name) else {
        return &[];
    };
    match &node.value {
        Value::Seq(items) => items,
        _ => {
            type_error::<()>(cx, node, &fields.path_of(name), expected);
            &[]
        }
    }
}

/// InputSources.
fn inputs(cx: &mut Collector, fields: &Fields, dir: &Path) -> Vec<Located> {
    let path = fields.path_of("InputSources");
    let items = list(cx, fields, "InputSources", "a list of input sources");
    let read = items.iter().enumerate();
    read.filter_map(|(i, item)| input_source(cx, item, &index(&path, i), dir, None))
        .collect()
}

/// ResultPaths.
fn result_paths(cx: &mut Collector, fields: &Fields) -> Vec<LocatedResult> {
    let path = fields.path_of("ResultPaths");
    let items = list(
        cx,
        fields,
        "ResultPaths",
        "a list of result paths (Name, Path)",
    );
    let read = items.iter().enumerate();
    read.filter_map(|(i, item)| result_path(cx, item, &index(&path, i)))
        .collect()
}

/// One result path `{Name, Path}`.
fn result_path(cx: &mut Collector, node: &Node, path: &str) -> Option<LocatedResult> {
    let what = "a result path mapping (Name, Path)";
    let fields = Fields::read(cx, node, path, what, &["Name", "Path"])?;
    let name_node = fields.require(cx, "Name", "the result's name");
    let path_node = fields.require(cx, "Path", "the guest directory to collect");
    let name = name_node.and_then(|n| {
        let name_path = fields.path_of("Name");
        let text = string(cx, n, &name_path)?;
        validate::result_name(cx, &site(n, &name_path), text)
    });
    let guest = path_node.and_then(|n| {
        let text = string(cx, n, &fields.path_of("Path"))?;
        paths::mount_point(&text)
            .map_err(|error| cx.at(&site(n, &fields.path_of("Path")), error.to_string()))
            .ok()
    });
    Some(LocatedResult {
        result: ResultPath {
            name: name?,
            path: guest?,
        },
        name_site: site(name_node?, &fields.path_of("Name")),
        path_site: site(path_node?, &fields.path_of("Path")),
    })
}

/// Resources: CPU and GPU as given, Memory and Disk as sizes.
fn resources(cx: &mut Collector, fields: &Fields) -> Resources {
    let Some(node) = fields.get("Resources") else {
        return Resources::default();
    };
    let path = fields.path_of("Resources");
    let what = "a resources mapping (CPU, Memory, Disk, GPU)";
    let known = ["CPU", "Memory", "Disk", "GPU"];
    let Some(r) = Fields::read(cx, node, &path, what, &known) else {
        return Resources::default();
    };
    Resources {
        cpu: r.get("CPU").and_then(|n| amount(cx, n, &r.path_of("CPU"))),
        memory: r
            .get("Memory")
            .and_then(|n| size(cx, n, &r.path_of("Memory"))),
        disk: r.get("Disk").and_then(|n| size(cx, n, &r.path_of("Disk"))),
        gpu: r.get("GPU").and_then(|n| gpu(cx, n, &r.path_of("GPU"))),
    }
}

/// GPU: a wasm guest cannot use one, so only none (0) can be honoured.
fn gpu(cx: &mut Collector, node: &Node, path: &str) -> Option<String> {
    let amount = amount(cx, node, path)?;
    if amount.parse::<f64>().is_ok_and(|n| n == 0.0) {
        return Some(amount);
    }
    let msg = format!("a wasm job cannot use a GPU (found {amount}); remove GPU or set it to 0");
    cx.at(&site(node, path), msg);
    None
}

/// A CPU or GPU amount: a string, or a number written as one.
fn amount(cx: &mut Collector, node: &Node, path: &str) -> Option<String> {
    match &node.value {
        Value::Str(s) if !s.is_empty() => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => type_error(cx, node, path, "an amount like 500m, 1 or 0.5"),
    }
}

/// A size: `512Mb`, `1GB`, `256MiB`, or a number of bytes.
fn size(cx: &mut Collector, node: &Node, path: &str) -> Option<u64> {
    let expected = "a size like 512Mb, 1GB or 256MiB";
    let bytes = match &node.value {
        Value::Str(text) => {
            parse_size(text).map_err(|_| format!("expected {expected}, found `{text}`"))
        }
        Value::Int(n) => u64::try_from(*n).map_err(|_| format!("expected {expected}, found {n}")),
        _ => return type_error(cx, node, path, expected),
    };
    match bytes {
        Ok(0) => cx.at(
            &site(node, path),
            format!("expected {expected}, found zero"),
        ),
        Ok(n) => return Some(n),
        Err(msg) => cx.at(&site(node, path), msg),
    }
    None
}

/// Network `{Type, Domains}`.
fn network(cx: &mut Collector, node: &Node, path: &str) -> Option<Network> {
    let what = "a network mapping (Type, Domains)";
    let fields = Fields::read(cx, node, path, what, &["Type", "Domains"])?;
    let kind = match fields.get("Type") {
        Some(n) => network_type(cx, n, &fields.path_of("Type"))?,
        None => NetworkType::None,
    };
    let domains = fields.strings(cx, "Domains");
    if !domains.is_empty() && kind != NetworkType::Http {
        if let Some(n) = fields.get("Domains") {
            let msg =
                format!("Domains are only used with Type: HTTP, and this network is {kind:?}");
            cx.at(&site(n, &fields.path_of("Domains")), msg);
        }
    }
    Some(Network { kind, domains })
}

/// None, Host, Full or HTTP (any case).
fn network_type(cx: &mut Collector, node: &Node, path: &str) -> Option<NetworkType> {
    let name = string(cx, node, path)?;
    let kind = match name.to_ascii_lowercase().as_str() {
        "none" => NetworkType::None,
        "host" => NetworkType::Host,
        "full" => NetworkType::Full,
        "http" => NetworkType::Http,
        _ => {
            let names = ["None", "Host", "Full", "HTTP"];
            let msg = format!(
                "unknown network type `{name}`{}; expected None, Host, Full or HTTP",
                hint(&name, &names)
            );
            cx.at(&site(node, path), msg);
            return None;
        }
    };
    Some(kind)
}

/// Timeouts, in whole seconds; 0 means no limit.
fn timeouts(cx: &mut Collector, fields: &Fields) -> Timeouts {
    let Some(node) = fields.get("Timeouts") else {
        return Timeouts::default();
    };
    let path = fields.path_of("Timeouts");
    let what = "a timeouts mapping (ExecutionTimeout, TotalTimeout, QueueTimeout)";
    let known = ["ExecutionTimeout", "TotalTimeout", "QueueTimeout"];
    let Some(t) = Fields::read(cx, node, &path, what, &known) else {
        return Timeouts::default();
    };
    let mut seconds = |name: &str| t.get(name).and_then(|n| timeout(cx, n, &t.path_of(name)));
    Timeouts {
        execution: seconds("ExecutionTimeout"),
        total: seconds("TotalTimeout"),
        queue: seconds("QueueTimeout"),
    }
}

/// One timeout: a non-negative whole number of seconds.
fn timeout(cx: &mut Collector, node: &Node, path: &str) -> Option<Duration> {
    let expected = "a non-negative whole number of seconds";
    match node.value {
        Value::Int(n) => match u64::try_from(n) {
            Ok(0) => None,
            Ok(secs) => Some(Duration::from_secs(secs)),
            Err(_) => {
                cx.at(&site(node, path), format!("expected {expected}, found {n}"));
                None
            }
        },
        _ => type_error(cx, node, path, expected),
    }
}

/// The publisher types Bacalhau has.
const PUBLISHERS: &[&str] = &["local", "s3", "ipfs", "noop"];

/// Publisher `{Type, Params}`.
fn publisher(cx: &mut Collector, node: &Node, path: &str) -> Option<Publisher> {
    let what = "a publisher mapping (Type, Params)";
    let fields = Fields::read(cx, node, path, what, &["Type", "Params"])?;
    let params = fields
        .get("Params")
        .and_then(|n| json_map(cx, n, &fields.path_of("Params")));
    let type_node = fields.require(cx, "Type", "a publisher type (local, s3, ipfs, noop)")?;
    let type_path = fields.path_of("Type");
    let kind = string(cx, type_node, &type_path)?.to_ascii_lowercase();
    if !PUBLISHERS.contains(&kind.as_str()) {
        let msg = format!(
            "unknown publisher type `{kind}`{}; expected local, s3, ipfs or noop",
            hint(&kind, PUBLISHERS)
        );
        cx.at(&site(type_node, &type_path), msg);
        return None;
    }
    Some(Publisher {
        kind,
        params: params.unwrap_or_default(),
    })
}

/// A mapping with string keys, as JSON values.
fn json_map(
    cx: &mut Collector,
    node: &Node,
    path: &str,
) -> Option<BTreeMap<String, serde_json::Value>> {
    let Value::Map(entries) = &node.value else {
        return type_error(cx, node, path, "a mapping of parameters");
    };
    let mut map = BTreeMap::new();
    for (key, value) in entries {
        let Value::Str(name) = &key.value else {
            type_error::<()>(cx, key, path, "a parameter name");
            continue;
        };
        map.insert(name.clone(), json(cx, value, &join(path, name)));
    }
    Some(map)
}

/// Any node as a JSON value (the tree is at most 64 levels deep).
fn json(cx: &mut Collector, node: &Node, path: &str) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(n) => i64::try_from(*n)
            .map(J::from)
            .or_else(|_| u64::try_from(*n).map(J::from))
            .unwrap_or(J::Null),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.clone()),
        Value::Seq(items) => {
            let read = items.iter().enumerate();
            J::Array(read.map(|(i, n)| json(cx, n, &index(path, i))).collect())
        }
        Value::Map(_) => J::Object(
            json_map(cx, node, path)
                .unwrap_or_default()
                .into_iter()
                .collect(),
        ),
    }
}
