//! The top of a job file: a whole Job, a single Task, or a bare engine block,
//! told apart by their keys.

use super::engine::engine;
use super::error::Collector;
use super::fields::{hint, index, site, string, to_btree, type_error, Fields};
use super::model::{Job, JobType, Task};
use super::task::{non_empty, task};
use super::tree::{Node, Value};
use super::validate;
use std::collections::BTreeMap;
use std::path::Path;

/// The field names of a Job.
const JOB_FIELDS: &[&str] = &[
    "Name",
    "Namespace",
    "Type",
    "Priority",
    "Count",
    "Constraints",
    "Labels",
    "Meta",
    "Tasks",
];

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Job,
    Task,
    EngineBlock,
}

/// Reads the document's root into a Job.
pub(crate) fn job(cx: &mut Collector, root: &Node, file: &Path) -> Job {
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut job = Job {
        name: file_stem(file),
        namespace: "default".into(),
        job_type: JobType::Batch,
        count: 1,
        labels: BTreeMap::new(),
        meta: BTreeMap::new(),
        task: task_named_main(),
        file: file.to_path_buf(),
        sites: Default::default(),
    };
    match shape(root) {
        Shape::Job => read_job(cx, root, dir, &mut job),
        Shape::Task => job.task = task(cx, root, "", dir),
        Shape::EngineBlock => job.task = engine_task(cx, root, dir),
    }
    job
}

/// The job name for a file without one: its stem.
fn file_stem(file: &Path) -> String {
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned());
    stem.filter(|s| !s.is_empty())
        .unwrap_or_else(|| "job".into())
}

/// An empty task named `main`.
fn task_named_main() -> Task {
    Task {
        name: "main".into(),
        engine: Default::default(),
        publisher: None,
        env: BTreeMap::new(),
        inputs: Vec::new(),
        result_paths: Vec::new(),
        resources: Default::default(),
        network: None,
        timeouts: Default::default(),
    }
}

/// Keys only a Task has.
const TASK_ONLY: &[&str] = &[
    "Engine",
    "Env",
    "InputSources",
    "ResultPaths",
    "Resources",
    "Network",
    "Timeouts",
    "Publisher",
];

/// Tells a Job (has Tasks) from a Task (has Engine, InputSources, ...) from an
/// engine block (has Params, or `Type: wasm`); anything else is read as a
/// Job, whose checks then say what is missing.
fn shape(root: &Node) -> Shape {
    let Value::Map(entries) = &root.value else {
        return Shape::Job;
    };
    let value = |name: &str| {
        entries.iter().find_map(|(k, v)| match &k.value {
            Value::Str(s) if s.eq_ignore_ascii_case(name) => Some(v),
            _ => None,
        })
    };
    let is_wasm = |v: &Node| matches!(&v.value, Value::Str(s) if s.eq_ignore_ascii_case("wasm"));
    if value("Tasks").is_some() {
        Shape::Job
    } else if TASK_ONLY.iter().any(|k| value(k).is_some()) {
        Shape::Task
    } else if value("Params").is_some() || value("Type").is_some_and(is_wasm) {
        Shape::EngineBlock
    } else {
        Shape::Job
    }
}

/// A bare engine block becomes a task named `main` with no inputs of its own.
fn engine_task(cx: &mut Collector, root: &Node, dir: &Path) -> Task {
    let parts = engine(cx, root, "", dir);
    cx.sites.engine = site(root, "");
    cx.sites.inputs = super::source::input_sites(&parts.inputs);
    let env = validate::merge_env(cx, &parts.env, &[]);
    validate::mounts(cx, &parts.inputs, &[], &parts.modules);
    let mut task = task_named_main();
    task.engine = parts.engine;
    task.env = env;
    task.inputs = parts.inputs.into_iter().filter_map(|l| l.input).collect();
    task
}

/// Reads a whole Job into `job`.
fn read_job(cx: &mut Collector, root: &Node, dir: &Path, job: &mut Job) {
    let what = "a Job (with Tasks), a Task (with Engine) or an engine block (Type: wasm, Params)";
    let Some(fields) = Fields::read(cx, root, "", what, JOB_FIELDS) else {
        return;
    };
    if let Some(name) = non_empty(cx, &fields, "Name", "the job's name") {
        job.name = name;
    }
    if let Some(namespace) = non_empty(cx, &fields, "Namespace", "a namespace") {
        job.namespace = namespace;
    }
    job.job_type = job_type(cx, &fields).unwrap_or(JobType::Batch);
    job.count = count(cx, &fields).unwrap_or(1);
    check_ignored(cx, &fields);
    job.labels = to_btree(&fields.string_map(cx, "Labels"));
    job.meta = to_btree(&fields.string_map(cx, "Meta"));
    let expected = "a list with one task";
    let Some(tasks) = fields.require(cx, "Tasks", expected) else {
        return;
    };
    if let Some(first) = one_task(cx, tasks, &fields.path_of("Tasks")) {
        job.task = task(cx, first, &index(&fields.path_of("Tasks"), 0), dir);
    }
}

/// The only task, or an error if there are none or several.
fn one_task<'n>(cx: &mut Collector, tasks: &'n Node, path: &str) -> Option<&'n Node> {
    let Value::Seq(items) = &tasks.value else {
        return type_error(cx, tasks, path, "a list with one task");
    };
    match items.as_slice() {
        [] => {
            let msg = "expected exactly one task, found none";
            cx.at(&site(tasks, path), msg);
            None
        }
        [first, rest @ ..] => {
            if let Some(second) = rest.first() {
                let n = items.len();
                let msg =
                    format!("brine runs exactly one task per job, as Bacalhau does; found {n}");
                cx.at(&site(second, &index(path, 1)), msg);
            }
            Some(first)
        }
    }
}

/// The job type: batch and ops run; daemon and service are refused.
fn job_type(cx: &mut Collector, fields: &Fields) -> Option<JobType> {
    let node = fields.get("Type")?;
    let path = fields.path_of("Type");
    let name = string(cx, node, &path)?;
    let kind = match name.to_ascii_lowercase().as_str() {
        "batch" => JobType::Batch,
        "ops" => JobType::Ops,
        "daemon" => JobType::Daemon,
        "service" => JobType::Service,
        _ => {
            let names = ["batch", "ops", "daemon", "service"];
            let msg = format!(
                "unknown job type `{name}`{}; expected batch or ops",
                hint(&name, &names)
            );
            cx.at(&site(node, &path), msg);
            return None;
        }
    };
    if matches!(kind, JobType::Daemon | JobType::Service) {
        let msg = format!("brine runs batch and ops jobs, not {} jobs", kind.as_str());
        cx.at(&site(node, &path), msg);
    }
    Some(kind)
}

/// The most partitions one job may have: each is a results directory and a
/// planned execution, made before anything runs.
pub const MAX_COUNT: u32 = 10_000;

/// Count: a whole number, at least 1 and at most [`MAX_COUNT`].
fn count(cx: &mut Collector, fields: &Fields) -> Option<u32> {
    let node = fields.get("Count")?;
    let path = fields.path_of("Count");
    let expected = "a count of at least 1";
    let Value::Int(n) = node.value else {
        return type_error(cx, node, &path, expected);
    };
    match u32::try_from(n) {
        Ok(count) if count > MAX_COUNT => {
            let msg = format!(
                "Count {count} is more partitions than brine runs in one job (at most {MAX_COUNT}); split the job"
            );
            cx.at(&site(node, &path), msg);
            None
        }
        Ok(count) if count >= 1 => Some(count),
        _ => {
            cx.at(
                &site(node, &path),
                format!("expected {expected}, found {n}"),
            );
            None
        }
    }
}

/// Priority and Constraints are Bacalhau scheduling hints: brine runs the job
/// where it is, so it checks their types, and refuses constraints it cannot
/// honour (a local machine has no node labels).
fn check_ignored(cx: &mut Collector, fields: &Fields) {
    if let Some(node) = fields.get("Priority") {
        if !matches!(node.value, Value::Int(_)) {
            type_error::<()>(cx, node, &fields.path_of("Priority"), "a whole number");
        }
    }
    if let Some(node) = fields.get("Constraints") {
        if matches!(&node.value, Value::Seq(items) if !items.is_empty()) {
            let msg = "brine runs the job on this machine, which has no node labels to match; \
                       remove the Constraints (Bacalhau would not place this job on a node without them)";
            cx.at(&site(node, &fields.path_of("Constraints")), msg);
        } else if !matches!(node.value, Value::Seq(_)) {
            type_error::<()>(
                cx,
                node,
                &fields.path_of("Constraints"),
                "a list of constraints",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        let mut cx = Collector::new(Path::new("t.yaml"));
        super::super::tree::parse(text, &mut cx).unwrap_or(Node {
            value: Value::Null,
            line: 0,
            column: 0,
        })
    }

    #[test]
    fn shapes() {
        assert_eq!(shape(&root("Name: x\nTasks: []\n")), Shape::Job);
        assert_eq!(shape(&root("engine: {}\n")), Shape::Task);
        assert_eq!(shape(&root("TYPE: WASM\n")), Shape::EngineBlock);
        assert_eq!(shape(&root("params: {}\n")), Shape::EngineBlock);
        assert_eq!(shape(&root("Name: x\n")), Shape::Job);
        assert_eq!(shape(&root("Engin: {}\nInputSources: []\n")), Shape::Task);
    }
}
