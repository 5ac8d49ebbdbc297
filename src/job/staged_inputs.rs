//! Inputs fetched once per job, for `brine slurm submit`.
//!
//! A Count=N array job whose partitions each fetched their remote inputs
//! would make N downloads and depend on every node reaching the source. The
//! submitter instead stages every fetched input (urlDownload, s3, ipfs,
//! inline) once, with the same staging code `brine run` uses (its checksums,
//! size caps and archive rules), into `DIR/.brine/inputs/<tree hash>`: named
//! by the BLAKE3 tree hash of what it holds, so a copy that changed is found
//! ([`verify`]). The job copy the partitions read is then rewritten
//! ([`job_file_text`]) so each of those inputs is a read-only local input at
//! the same target: the guest sees the same tree, and nothing is fetched again.

use crate::inputs::deadline::{TimeBudget, DEFAULT_STAGING_TIMEOUT};
use crate::inputs::{SourceError, StageArea};
use crate::job::plan::{plan_input, PlanError, PlanOptions, SharedRemote};
use crate::outputs::hash::{file_hashes, tree_hash};
use crate::spec::{Job, Source};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::path::{Component, Path, PathBuf};

/// The directory, under `DIR/.brine/`, holding the staged inputs.
pub const INPUTS_DIR: &str = "inputs";
/// The file, under `DIR/.brine/`, listing them (for [`verify`]).
pub const MANIFEST_FILE: &str = "inputs.json";

/// Why the inputs could not be staged or no longer match.
#[derive(Debug, thiserror::Error)]
pub enum StagedInputsError {
    /// An input's parameters cannot be used.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Fetching or decoding an input failed (the message names it).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The staging directory could not be written.
    #[error("cannot stage inputs in {path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A staged input no longer holds what it held when it was staged.
    #[error("the staged input {target} ({path}) {problem}; submit the job again into a new DIR")]
    Changed {
        /// The input's target.
        target: String,
        /// Its staged copy.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

/// One input staged for every partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedInput {
    /// Its position in the job's inputs.
    pub index: usize,
    /// Its guest target.
    pub target: String,
    /// Its source type, as job files write it.
    pub kind: String,
    /// The tree hash of what was staged: its name in `DIR/.brine/inputs/`.
    pub hash: String,
}

/// Whether `job` has an input that [`stage`] would fetch.
pub fn has_fetched_inputs(job: &Job) -> bool {
    job.task
        .inputs
        .iter()
        .any(|i| !matches!(i.source, Source::Local { .. }))
}

/// Stages every fetched input of `job` into `meta/inputs/` (under one
/// staging deadline, `options.staging_timeout` or the default), each once.
pub fn stage(
    job: &Job,
    options: &PlanOptions,
    meta: &Path,
) -> Result<Vec<StagedInput>, StagedInputsError> {
    let inputs = meta.join(INPUTS_DIR);
    let scratch = inputs.join(format!(".staging-{}", crate::outputs::unique_suffix()));
    std::fs::create_dir_all(&scratch).map_err(io(&scratch))?;
    let guard = crate::cancel::remove_on_signal(scratch.clone());
    let result = stage_into(job, options, &inputs, &scratch);
    guard.settle(|| {
        let _ = std::fs::remove_dir_all(&scratch);
    });
    result
}

fn stage_into(
    job: &Job,
    options: &PlanOptions,
    inputs: &Path,
    scratch: &Path,
) -> Result<Vec<StagedInput>, StagedInputsError> {
    // TotalTimeout covers staging as it does in `brine run`.
    let budget = match job.task.timeouts.total {
        Some(total) => TimeBudget::Total(total),
        None => TimeBudget::Staging(options.staging_timeout.unwrap_or(DEFAULT_STAGING_TIMEOUT)),
    };
    let area = StageArea::new(scratch.to_path_buf()).with_deadline(budget.start());
    let file = job.file.display().to_string();
    let shared = SharedRemote::default();
    let mut staged = Vec::new();
    for (index, input) in job.task.inputs.iter().enumerate() {
        if matches!(input.source, Source::Local { .. }) {
            continue;
        }
        let planned = plan_input(job, input, &file, options, &shared)?;
        let host = planned.source.stage(&area, index, &input.target)?;
        let hash = content_hash(&host.host_path)?;
        let named = inputs.join(&hash);
        // The same content staged twice (two targets, one URL) is kept once.
        if std::fs::symlink_metadata(&named).is_err() {
            std::fs::rename(&host.host_path, &named).map_err(io(&named))?;
        }
        staged.push(StagedInput {
            index,
            target: input.target.clone(),
            kind: input.source.type_name().to_string(),
            hash,
        });
    }
    Ok(staged)
}

/// The tree hash of a staged file or directory (links hashed by their text, never followed).
fn content_hash(path: &Path) -> Result<String, StagedInputsError> {
    let entries = file_hashes(path).map_err(io(path))?;
    Ok(tree_hash(&entries))
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StagedInputsError + '_ {
    move |source| StagedInputsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that every input listed in `meta/inputs.json` still hashes to its
/// name (a retry mounts the same copies the first partitions did).
pub fn verify(meta: &Path) -> Result<usize, StagedInputsError> {
    let manifest = meta.join(MANIFEST_FILE);
    let text = match crate::outputs::nofollow::open_regular(&manifest) {
        Ok(file) => read_capped(file).map_err(io(&manifest))?,
        // A job without fetched inputs has no manifest.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(&manifest)(e)),
    };
    let listed: Vec<StagedInput> = serde_json::from_slice(&text)
        .map_err(|e| io(&manifest)(std::io::Error::other(e.to_string())))?;
    for input in &listed {
        let path = meta.join(INPUTS_DIR).join(plain_name(&input.hash));
        let changed = |problem: String| StagedInputsError::Changed {
            target: crate::text::printable(&input.target),
            path: path.clone(),
            problem,
        };
        let found = content_hash(&path).map_err(|e| changed(format!("cannot be read: {e}")))?;
        if found != input.hash {
            return Err(changed(format!(
                "holds content with hash {found}, not the {} it was staged with",
                crate::text::printable(&input.hash)
            )));
        }
    }
    Ok(listed.len())
}

/// A hash read from the manifest as a file name: hex digits only, so it stays in `inputs/`.
fn plain_name(hash: &str) -> String {
    hash.chars()
        .filter(char::is_ascii_hexdigit)
        .take(64)
        .collect()
}

fn read_capped(file: std::fs::File) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    file.take(8 << 20).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The manifest's text.
pub fn manifest_text(staged: &[StagedInput]) -> Vec<u8> {
    serde_json::to_vec_pretty(staged).unwrap_or_default()
}

/// The job file the partitions read: `job` (loaded from its original file) in
/// Bacalhau's current form, each staged input a read-only local input at its
/// target (`SourcePath` relative to `copy`, the rewritten file's path, so the
/// job's hash does not depend on DIR), each local input named as before
/// (relative to the job when the copy keeps it there, else absolute).
pub fn job_file_text(job: &Job, staged: &[StagedInput], copy: &Path, meta: &Path) -> String {
    let job_dir = job.file.parent().unwrap_or(Path::new("/"));
    let up = up_to(copy.parent().unwrap_or(meta), meta);
    let inputs: Vec<Value> = job
        .task
        .inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let source = match staged.iter().find(|s| s.index == index) {
                Some(s) => local_value(&up.join(INPUTS_DIR).join(&s.hash), false),
                None => source_value(&input.source, job_dir),
            };
            let mut entry = Map::new();
            entry.insert("Source".into(), source);
            if let Some(alias) = &input.alias {
                entry.insert("Alias".into(), json!(alias));
            }
            entry.insert("Target".into(), json!(input.target));
            Value::Object(entry)
        })
        .collect();
    let body = serde_json::to_string_pretty(&job_value(job, inputs)).unwrap_or_default();
    format!(
        "# Written by brine slurm submit from {}: its fetched inputs were staged once\n\
         # into ../inputs/ (named by their tree hash) and are mounted read-only from there.\n{body}\n",
        crate::text::printable(&job.file.to_string_lossy()).replace('\n', " ")
    )
}

/// A `localDirectory` source.
fn local_value(path: &Path, read_write: bool) -> Value {
    json!({"Type": "localDirectory", "Params": {
        "SourcePath": path.to_string_lossy(),
        "ReadWrite": read_write,
    }})
}

/// A source as the job gave it; a local path relative to `job_dir` when it lies there.
fn source_value(source: &Source, job_dir: &Path) -> Value {
    let (kind, params) = match source {
        Source::Local { path, read_write } => {
            return local_value(path.strip_prefix(job_dir).unwrap_or(path), *read_write)
        }
        Source::Inline { url } | Source::UrlDownload { url } => {
            (source.type_name(), json!({"URL": url}))
        }
        Source::Ipfs { cid } => ("ipfs", json!({"CID": cid})),
        Source::S3 {
            bucket,
            key,
            filter,
            region,
            endpoint,
            version_id,
            checksum_sha256,
        } => {
            let mut params = Map::new();
            params.insert("Bucket".into(), json!(bucket));
            params.insert("Key".into(), json!(key));
            let optional = [
                ("Filter", filter),
                ("Region", region),
                ("Endpoint", endpoint),
                ("VersionID", version_id),
                ("ChecksumSHA256", checksum_sha256),
            ];
            for (name, value) in optional {
                if let Some(value) = value {
                    params.insert(name.into(), json!(value));
                }
            }
            ("s3", Value::Object(params))
        }
    };
    json!({"Type": kind, "Params": params})
}

/// `..` as many times as `dir` lies below `meta`.
fn up_to(dir: &Path, meta: &Path) -> PathBuf {
    let depth = dir
        .strip_prefix(meta)
        .map(|rest| {
            rest.components()
                .filter(|c| matches!(c, Component::Normal(_)))
                .count()
        })
        .unwrap_or(0);
    (0..depth).map(|_| "..").collect()
}

/// The job in Bacalhau's current form, with `inputs` as its InputSources.
fn job_value(job: &Job, inputs: Vec<Value>) -> Value {
    let task = &job.task;
    let engine = &task.engine;
    let mut body = Map::new();
    body.insert("Name".into(), json!(task.name));
    body.insert(
        "Engine".into(),
        json!({"Type": "wasm", "Params": {
            "EntryModule": engine.entry_module,
            "Entrypoint": engine.entrypoint,
            "Parameters": engine.parameters,
            "ImportModules": engine.import_modules,
            "Deterministic": engine.deterministic,
        }}),
    );
    if let Some(publisher) = &task.publisher {
        body.insert(
            "Publisher".into(),
            json!({"Type": publisher.kind, "Params": publisher.params}),
        );
    }
    body.insert("Env".into(), json!(task.env));
    body.insert("InputSources".into(), Value::Array(inputs));
    let results: Vec<Value> = task
        .result_paths
        .iter()
        .map(|r| json!({"Name": r.name, "Path": r.path}))
        .collect();
    body.insert("ResultPaths".into(), Value::Array(results));
    body.insert("Resources".into(), resources_value(task));
    if let Some(network) = &task.network {
        let kind = serde_json::to_value(network.kind).unwrap_or(Value::Null);
        body.insert(
            "Network".into(),
            json!({"Type": kind, "Domains": network.domains}),
        );
    }
    let seconds = |d: Option<std::time::Duration>| d.map_or(0, |d| d.as_secs());
    let timeouts = &task.timeouts;
    body.insert(
        "Timeouts".into(),
        json!({
            "ExecutionTimeout": seconds(timeouts.execution),
            "TotalTimeout": seconds(timeouts.total),
            "QueueTimeout": seconds(timeouts.queue),
        }),
    );
    json!({
        "Name": job.name,
        "Namespace": job.namespace,
        "Type": job.job_type.as_str(),
        "Count": job.count,
        "Labels": job.labels,
        "Meta": job.meta,
        "Tasks": [Value::Object(body)],
    })
}

/// Resources as job files write them: only what was given.
fn resources_value(task: &crate::spec::Task) -> Value {
    let resources = &task.resources;
    let mut map = Map::new();
    if let Some(cpu) = &resources.cpu {
        map.insert("CPU".into(), json!(cpu));
    }
    if let Some(memory) = resources.memory {
        map.insert("Memory".into(), json!(memory));
    }
    if let Some(disk) = resources.disk {
        map.insert("Disk".into(), json!(disk));
    }
    if let Some(gpu) = &resources.gpu {
        map.insert("GPU".into(), json!(gpu));
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Count=2 job's text up to its InputSources entries.
    const HEAD: &str = "Name: s\nType: batch\nCount: 2\nTasks:\n  - Name: main\n    Engine:\n      Type: wasm\n      Params:\n        EntryModule: /wasm/m.wasm\n    InputSources:\n";

    /// `job` written by [`job_file_text`] (nothing staged) and read back from
    /// `copy`, a file in the job's own directory.
    fn round_trip(job: &Job, copy: &Path) -> Job {
        let text = job_file_text(job, &[], copy, Path::new("/nowhere"));
        let mut back = crate::spec::parse(&text, copy).unwrap_or_else(|e| panic!("{e}\n{text}"));
        back.file = job.file.clone();
        back.sites = job.sites.clone();
        back
    }

    #[test]
    fn every_fixture_job_reads_back_the_same_in_the_current_form() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/jobs");
        let mut read = 0;
        for entry in std::fs::read_dir(&root).unwrap() {
            let path = entry.unwrap().path();
            let Ok(job) = crate::spec::load(&path) else {
                continue;
            };
            let back = round_trip(&job, &root.join("rewritten.yaml"));
            assert_eq!(back, job, "{}", path.display());
            assert_eq!(crate::job::job_hash(&back), crate::job::job_hash(&job));
            read += 1;
        }
        assert!(read >= 8, "only {read} fixture jobs read");
    }

    #[test]
    fn every_field_reads_back_the_same() {
        let text = r#"Name: all
Namespace: ns
Type: ops
Count: 3
Labels: {a: b}
Meta: {c: d}
Tasks:
  - Name: t
    Engine:
      Type: wasm
      Params:
        EntryModule: /wasm/m.wasm
        Entrypoint: run
        Parameters: [x, 'y z']
        ImportModules: [/wasm/lib.wasm]
        Deterministic: true
    Env: {A: '1', B: 'env:HOME'}
    Publisher: {Type: local, Params: {URL: /tmp/pub}}
    InputSources:
      - Source: {Type: localDirectory, Params: {SourcePath: m.wasm}}
        Target: /wasm/m.wasm
      - Source: {Type: local, Params: {SourcePath: /abs/lib.wasm}}
        Alias: lib
        Target: /wasm/lib.wasm
      - Source: {Type: localDirectory, Params: {SourcePath: ../data, ReadWrite: true}}
        Target: /data
      - Source: {Type: s3, Params: {Bucket: b, Key: k/x.csv, Region: eu-west-1, Endpoint: 'http://127.0.0.1:9000', VersionID: v1}}
        Target: /s3
      - Source: {Type: s3, Params: {Bucket: b, Key: 'p/*', Filter: '.*csv'}}
        Target: /s3p
      - Source: {Type: ipfs, Params: {CID: QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG}}
        Target: /ipfs
      - Source: {Type: urlDownload, Params: {URL: 'https://example.com/d.csv'}}
        Target: /url
      - Source: {Type: inline, Params: {URL: 'data:,hi'}}
        Target: /inline
    ResultPaths: [{Name: out, Path: /out}]
    Resources: {CPU: 500m, Memory: 64MiB, Disk: 1GiB, GPU: '0'}
    Network: {Type: HTTP, Domains: [example.com]}
    Timeouts: {ExecutionTimeout: 30, TotalTimeout: 60, QueueTimeout: 5}
"#;
        let job = crate::spec::parse(text, Path::new("/jobs/all.yaml")).unwrap();
        assert_eq!(round_trip(&job, Path::new("/jobs/copy.yaml")), job);
    }

    #[test]
    fn fetched_inputs_are_staged_once_by_content_and_mounted_from_the_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let meta = tmp.path().join(".brine");
        let text = format!(
            "{HEAD}{}{}{}{}",
            "      - Source: {Type: localDirectory, Params: {SourcePath: m.wasm}}\n        Target: /wasm/m.wasm\n",
            "      - Source: {Type: inline, Params: {URL: 'data:,hello'}}\n        Target: /a\n",
            "      - Source: {Type: inline, Params: {URL: 'data:,hello'}}\n        Target: /b\n",
            "      - Source: {Type: inline, Params: {URL: 'data:,other'}}\n        Target: /c\n",
        );
        let job = crate::spec::parse(&text, &tmp.path().join("src/s.yaml")).unwrap();
        assert!(has_fetched_inputs(&job));
        let staged = stage(&job, &PlanOptions::default(), &meta).unwrap();
        let targets: Vec<&str> = staged.iter().map(|s| s.target.as_str()).collect();
        assert_eq!(targets, ["/a", "/b", "/c"]);
        assert_eq!(staged[0].hash, staged[1].hash, "same content, same name");
        assert_ne!(staged[0].hash, staged[2].hash);
        let names = crate::outputs::hash::file_hashes(&meta.join(INPUTS_DIR)).unwrap();
        assert_eq!(names.len(), 2, "two copies and no scratch left: {names:?}");
        let file = meta.join(INPUTS_DIR).join(&staged[2].hash);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "other");
        assert_eq!(content_hash(&file).unwrap(), staged[2].hash);

        let copy = meta.join("job/src/s.yaml");
        std::fs::create_dir_all(meta.join("job/src")).unwrap();
        let rewritten = job_file_text(&job, &staged, &copy, &meta);
        let back = crate::spec::parse(&rewritten, &copy).unwrap();
        assert!(!has_fetched_inputs(&back), "{rewritten}");
        for (input, original) in back.task.inputs.iter().zip(&job.task.inputs) {
            assert_eq!(input.target, original.target);
            let Source::Local { path, read_write } = &input.source else {
                panic!("{input:?}");
            };
            if input.target != "/wasm/m.wasm" {
                assert!(!read_write);
                let staged_path = std::fs::canonicalize(path).unwrap();
                assert!(staged_path.starts_with(std::fs::canonicalize(&meta).unwrap()));
            }
        }
        assert_eq!(
            std::fs::read_to_string(meta.join("job/src/../../inputs").join(&staged[0].hash))
                .unwrap(),
            "hello"
        );

        std::fs::write(meta.join(MANIFEST_FILE), manifest_text(&staged)).unwrap();
        assert_eq!(verify(&meta).unwrap(), 3);
        std::fs::write(&file, "tampered").unwrap();
        let error = verify(&meta).unwrap_err().to_string();
        assert!(error.contains("the staged input /c"), "{error}");
        assert!(error.contains("not the"), "{error}");
        std::fs::remove_file(&file).unwrap();
        let error = verify(&meta).unwrap_err().to_string();
        assert!(error.contains("cannot be read"), "{error}");
    }

    #[test]
    #[cfg(feature = "http")]
    fn a_failed_fetch_leaves_no_scratch_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let meta = tmp.path().join(".brine");
        let text = format!(
            "{HEAD}      - Source: {{Type: urlDownload, Params: {{URL: 'http://127.0.0.1:9/m.wasm'}}}}\n        Target: /wasm\n"
        );
        let job = crate::spec::parse(&text, &tmp.path().join("s.yaml")).unwrap();
        let mut options = PlanOptions::default();
        options.remote.http.retries = 0;
        let error = stage(&job, &options, &meta).unwrap_err().to_string();
        assert!(error.contains("input /wasm (urlDownload"), "{error}");
        let left: Vec<_> = std::fs::read_dir(meta.join(INPUTS_DIR)).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }
}
