//! Comparing receipts: the first difference, by name.

use super::receipt::{InputHashes, PartitionReceipt, Receipt};
use std::collections::BTreeMap;

/// The first way `actual` differs from `expected`, in words a user can act on
/// (`module /wasm/entry.wasm differs`, `outputs/out/summary.csv: content differs`).
pub fn first_difference(expected: &Receipt, actual: &Receipt) -> Option<String> {
    if expected.job_hash != actual.job_hash {
        return Some("the job differs (its normalized hash changed)".to_string());
    }
    if let Some(d) = map_difference(&expected.modules, &actual.modules, |path| {
        format!("module {path}")
    }) {
        return Some(d);
    }
    if let Some(d) = inputs_difference(&expected.inputs, &actual.inputs) {
        return Some(d);
    }
    if expected.deterministic != actual.deterministic {
        return Some("the deterministic settings differ".to_string());
    }
    if expected.partitions.len() != actual.partitions.len() {
        return Some(format!(
            "partition count differs: {} vs {}",
            expected.partitions.len(),
            actual.partitions.len()
        ));
    }
    expected
        .partitions
        .iter()
        .zip(&actual.partitions)
        .find_map(|(e, a)| partition_difference(e, a, expected.partitions.len() > 1))
}

fn inputs_difference(
    expected: &BTreeMap<String, InputHashes>,
    actual: &BTreeMap<String, InputHashes>,
) -> Option<String> {
    for (target, e) in expected {
        let Some(a) = actual.get(target) else {
            return Some(format!("input {target} is missing"));
        };
        if e.tree != a.tree {
            let file = map_difference(&e.files, &a.files, |rel| join(target, rel));
            return Some(file.unwrap_or_else(|| format!("input {target} differs")));
        }
    }
    actual
        .keys()
        .find(|t| !expected.contains_key(*t))
        .map(|t| format!("input {t} was not in the receipt"))
}

fn join(target: &str, rel: &str) -> String {
    let rel = rel.trim_end_matches('/');
    if rel.is_empty() {
        format!("input {target}")
    } else {
        format!("input {}/{rel}", target.trim_end_matches('/'))
    }
}

/// The first key whose value differs, is missing, or is new.
fn map_difference(
    expected: &BTreeMap<String, String>,
    actual: &BTreeMap<String, String>,
    name: impl Fn(&str) -> String,
) -> Option<String> {
    for (key, value) in expected {
        match actual.get(key) {
            None => return Some(format!("{} is missing", name(key))),
            Some(v) if v != value => return Some(format!("{} differs", name(key))),
            Some(_) => {}
        }
    }
    actual
        .keys()
        .find(|k| !expected.contains_key(*k))
        .map(|k| format!("{} is new", name(k)))
}

fn partition_difference(e: &PartitionReceipt, a: &PartitionReceipt, many: bool) -> Option<String> {
    let prefix = if many {
        format!("partition {}: ", e.index)
    } else {
        String::new()
    };
    let differs = |what: &str| Some(format!("{prefix}{what}"));
    if e.status != a.status {
        return differs(&format!("status differs: {} vs {}", e.status, a.status));
    }
    if e.exit_code != a.exit_code {
        return differs(&format!(
            "exit code differs: {:?} vs {:?}",
            e.exit_code, a.exit_code
        ));
    }
    if e.stdout != a.stdout {
        return differs("stdout: content differs");
    }
    if e.stderr != a.stderr {
        return differs("stderr: content differs");
    }
    if let Some(d) = outputs_difference(&e.outputs, &a.outputs) {
        return differs(&d);
    }
    if e.error != a.error {
        return differs("error message differs");
    }
    if e.fuel_consumed != a.fuel_consumed {
        return differs(&format!(
            "fuel consumed differs: {:?} vs {:?}",
            e.fuel_consumed, a.fuel_consumed
        ));
    }
    None
}

fn outputs_difference(
    expected: &BTreeMap<String, String>,
    actual: &BTreeMap<String, String>,
) -> Option<String> {
    for (path, hash) in expected {
        match actual.get(path) {
            None => return Some(format!("outputs/{path}: missing")),
            Some(h) if h != hash => return Some(format!("outputs/{path}: content differs")),
            Some(_) => {}
        }
    }
    actual
        .keys()
        .find(|p| !expected.contains_key(*p))
        .map(|p| format!("outputs/{p}: not in the receipt"))
}

/// Receipts grouped by agreement: the largest group first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consensus {
    /// Indexes (into the input list) of the receipts that agree with the majority.
    pub majority: Vec<usize>,
    /// Each dissenting receipt's index and how it differs from the majority.
    pub dissenters: Vec<(usize, String)>,
}

/// Compares receipts from several hosts (the brine version is not compared).
pub fn consensus(receipts: &[Receipt]) -> Consensus {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, r) in receipts.iter().enumerate() {
        match groups
            .iter_mut()
            .find(|g| first_difference(&receipts[g[0]], r).is_none())
        {
            Some(group) => group.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let majority = groups.first().cloned().unwrap_or_default();
    let dissenters = groups
        .iter()
        .skip(1)
        .flatten()
        .filter_map(|&i| {
            let reference = &receipts[*majority.first()?];
            first_difference(reference, &receipts[i]).map(|d| (i, d))
        })
        .collect();
    Consensus {
        majority,
        dissenters,
    }
}
