//! Unit tests of the whole spec layer: forms, normalization, case, errors.

use super::model::{JobType, DEFAULT_MEMORY, LEGACY_ENTRY_TARGET};
use super::*;
use std::path::PathBuf;

fn ok(text: &str) -> Job {
    match parse(text, Path::new("jobs/t.yaml")) {
        Ok(job) => job,
        Err(e) => panic!("unexpected errors:\n{e}"),
    }
}

fn errors(text: &str) -> Vec<String> {
    match parse(text, Path::new("t.yaml")) {
        Ok(job) => panic!("expected errors, got {job:?}"),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

const LEGACY: &str = "
Name: legacy
Type: batch
Tasks:
  - Name: main
    Engine:
      Type: wasm
      Params:
        EntryModule:
          Source: {Type: s3, Params: {Bucket: b, Key: entry.wasm}}
        Entrypoint: _start
        Parameters: [--option, value]
        EnvironmentVariables: {VAR1: value1, SHARED: from-engine}
        ImportModules:
          - Source: {Type: localDirectory, Params: {SourcePath: ../lib.wasm}}
          - /wasm/extra.wasm
    Env: {SHARED: from-task}
    InputSources:
      - Source: {Type: local, Params: {SourcePath: /data/extra.wasm}}
        Target: wasm/extra.wasm
";

#[test]
fn legacy_form_becomes_current_form() {
    let job = ok(LEGACY);
    let engine = &job.task.engine;
    assert_eq!(engine.entry_module, "/wasm/entry.wasm");
    assert_eq!(
        engine.import_modules,
        ["/wasm/imports/module_0.wasm", "/wasm/extra.wasm"]
    );
    assert_eq!(engine.parameters, ["--option", "value"]);
    let targets: Vec<&str> = job.task.inputs.iter().map(|i| i.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/wasm/extra.wasm",
            "/wasm/entry.wasm",
            "/wasm/imports/module_0.wasm"
        ]
    );
    assert_eq!(
        job.task.inputs[2].source,
        Source::Local {
            path: PathBuf::from("jobs/../lib.wasm"),
            read_write: false
        }
    );
    assert!(
        matches!(&job.task.inputs[1].source, Source::S3 { bucket, key, .. } if bucket == "b" && key == "entry.wasm")
    );
}

#[test]
fn task_env_wins_over_engine_env() {
    let env = ok(LEGACY).task.env;
    assert_eq!(env.get("VAR1").map(String::as_str), Some("value1"));
    assert_eq!(env.get("SHARED").map(String::as_str), Some("from-task"));
}

#[test]
fn keys_and_type_names_ignore_case() {
    let job = ok("
name: x
TYPE: OPS
tasks:
  - ENGINE:
      type: WASM
      params: {entryModule: /m.wasm, ENTRYPOINT: run}
    inputsources:
      - source: {type: LOCALDIRECTORY, params: {sourcepath: m.wasm, readwrite: true}}
        target: m.wasm
");
    assert_eq!(job.job_type, JobType::Ops);
    assert_eq!(job.task.engine.entry_module, "/m.wasm");
    assert_eq!(job.task.engine.entrypoint, "run");
    assert!(job.task.inputs[0].source.is_writable());
}

#[test]
fn task_and_engine_block_files_get_defaults() {
    let task = ok("Engine: {Type: wasm, Params: {EntryModule: /a.wasm}}\nInputSources: [{Source: {Type: ipfs, Params: {CID: Qm}}, Target: /a.wasm}]\n");
    assert_eq!(
        (task.name.as_str(), task.namespace.as_str()),
        ("t", "default")
    );
    assert_eq!((task.job_type, task.count), (JobType::Batch, 1));
    let block = ok(
        "Type: wasm\nParams:\n  EntryModule: {Source: {Type: inline, Params: {URL: 'data:,x'}}}\n",
    );
    assert_eq!(block.task.name, "main");
    assert_eq!(block.task.inputs[0].target, LEGACY_ENTRY_TARGET);
    assert_eq!(block.task.resources.memory_limit(), DEFAULT_MEMORY);
}

#[test]
fn json_is_accepted() {
    let job = ok(
        r#"{"Type": "wasm", "Params": {"EntryModule": {"Source": {"Type": "ipfs", "Params": {"CID": "Qm"}}}}}"#,
    );
    assert_eq!(job.task.engine.entry_module, LEGACY_ENTRY_TARGET);
}

#[test]
fn unknown_keys_get_did_you_mean() {
    let e = errors("Type: wasm\nParams:\n  EntryModul: /a.wasm\n");
    assert_eq!(
        e,
        [
            "t.yaml:2:1: Params.EntryModule: missing; expected a path (current form) or an input source (spec form)",
            "t.yaml:3:3: Params.EntryModul: unknown field `EntryModul`; did you mean `EntryModule`?",
        ]
    );
}

#[test]
fn all_errors_are_reported_in_file_order() {
    let e = errors(
        "
Name: x
Count: 0
Type: daemon
Tasks:
  - Engine: {Type: wasm, Params: {EntryModule: 7}}
    Env: {lower: x, BACALHAU_X: y, EMPTY: ''}
",
    );
    assert_eq!(e.len(), 6, "{e:#?}");
    assert!(e[0].starts_with("t.yaml:3:8: Count: expected a count of at least 1, found 0"));
    assert!(e[1].starts_with("t.yaml:4:7: Type: brine runs batch and ops jobs"));
    assert!(e[2].ends_with("Tasks[0].Engine.Params.EntryModule: expected a path (current form) or an input source (spec form), found a number"));
    assert!(e[3].starts_with("t.yaml:7:11: Tasks[0].Env.lower: "));
    assert!(e[4].contains("Tasks[0].Env.BACALHAU_X: "));
    assert!(e[5].contains("Tasks[0].Env.EMPTY: `EMPTY` has an empty value"));
}

#[test]
fn other_engines_are_refused_without_reading_their_params() {
    let e = errors("Engine: {Type: docker, Params: {Image: ubuntu}}\n");
    assert_eq!(
        e,
        ["t.yaml:1:16: Engine.Type: brine runs only wasm engines (Type: wasm), found `docker`"]
    );
}

#[test]
fn resources_and_timeouts() {
    let job = ok("
Engine: {Type: wasm, Params: {EntryModule: /in/m.wasm}}
InputSources: [{Source: {Type: urlDownload, Params: {URL: 'https://x.org/m.wasm'}}, Target: /in}]
Resources: {CPU: 1, Memory: 256MiB, Disk: 1GB}
Timeouts: {ExecutionTimeout: 30, TotalTimeout: 0}
Network: {Type: http, Domains: [x.org]}
Publisher: {Type: Local, Params: {Path: out, Deep: {A: [1, true]}}}
");
    let t = &job.task;
    assert_eq!(t.resources.cpu.as_deref(), Some("1"));
    assert_eq!(t.resources.memory, Some(256 << 20));
    assert_eq!(t.resources.disk, Some(1_000_000_000));
    assert_eq!(
        t.timeouts.execution,
        Some(std::time::Duration::from_secs(30))
    );
    assert_eq!(t.timeouts.total, None);
    assert_eq!(t.network.as_ref().map(|n| n.kind), Some(NetworkType::Http));
    let publisher = t.publisher.as_ref().map(|p| p.kind.as_str());
    assert_eq!(publisher, Some("local"));
}

#[test]
fn serializes_to_json() {
    let job = ok(LEGACY);
    let json = serde_json::to_value(&job).unwrap_or_default();
    assert_eq!(json["task"]["inputs"][1]["source"]["type"], "s3");
    assert_eq!(json["type"], "batch");
}

#[test]
fn no_prefix_or_mangling_of_a_fixture_panics() {
    let fixtures = [
        include_str!("../../fixtures/jobs/hello_legacy.yaml"),
        include_str!("../../fixtures/jobs/cat_inputs.json"),
        include_str!("../../fixtures/jobs/invalid/many_errors.yaml"),
    ];
    for text in fixtures {
        for (end, _) in text.char_indices() {
            let prefix = text.get(..end).unwrap_or_default();
            let _ = parse(prefix, Path::new("t.yaml"));
            let mangled = format!(
                "{prefix}[{{: \u{e9}\n{}",
                text.get(end..).unwrap_or_default()
            );
            let _ = parse(&mangled, Path::new("t.yaml"));
        }
    }
}
