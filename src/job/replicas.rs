//! Replicas of a deterministic job's partitions (`brine slurm submit
//! --replicas R`): every partition runs R times as separate array elements,
//! each writing a receipt, and `brine gather` says per partition whether the
//! replicas agree — Bacalhau's deterministic verifier, on a cluster.
//!
//! Layout in DIR (README, "Running on a cluster"): array element `e` runs
//! partition `e / R`, replica `e % R`; replica 0 writes `DIR/<p>/` (where an
//! unreplicated job's partition goes), replica `k > 0` writes
//! `DIR/replicas/<k>/<p>/`, and every replica's receipt is
//! `DIR/receipts/<p>.r<k>.json`. Neither `replicas` nor `receipts` is an index,
//! so gather never counts them as partitions.
//!
//! Agreement is decided on what the replicas left on disk, not on what their
//! receipts claim: each receipt's stdout, stderr and output hashes are replaced
//! by hashes gather computes from the replica's directory, then the receipts are
//! compared as `brine verify --receipts` compares them ([`consensus`]). A
//! replica whose files were changed after it ran is a dissenter, and says so.

use super::receipt::{PartitionReceipt, Receipt};
use super::verify::{consensus, first_difference};
use crate::outputs::hash::{file_hashes, hex, tree_hash};
use crate::outputs::nofollow::open_regular_in;
use cap_fs_ext::DirExt;
use cap_std::fs::Dir;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The directory of DIR holding replicas 1.. (`replicas/<k>/<p>/`).
pub const REPLICAS_DIR: &str = "replicas";
/// The directory of DIR holding every replica's receipt.
pub const RECEIPTS_DIR: &str = "receipts";
/// The most replicas of a partition `--replicas` accepts.
pub const MAX_REPLICAS: u32 = 100;
/// The largest receipt gather reads (as `brine verify`).
pub const MAX_RECEIPT_BYTES: u64 = 256 << 20;

/// The output directory replica `replica` of every partition is run with
/// (`brine run --output`): DIR itself for replica 0, else DIR/replicas/<k>.
pub fn replica_output(dir: &Path, replica: u32) -> PathBuf {
    if replica == 0 {
        dir.to_path_buf()
    } else {
        dir.join(REPLICAS_DIR).join(replica.to_string())
    }
}

/// The file name of a replica's receipt in DIR/receipts/.
pub fn receipt_name(partition: u32, replica: u32) -> String {
    format!("{partition}.r{replica}.json")
}

/// The array element that runs `replica` of `partition` when each partition has `replicas`.
pub fn element(partition: u32, replica: u32, replicas: u32) -> u64 {
    u64::from(partition) * u64::from(replicas.max(1)) + u64::from(replica)
}

/// A replica that does not agree with the majority, and how it differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dissenter {
    /// The replica (0 is DIR/<p>/).
    pub replica: u32,
    /// The first difference from the majority, or why its receipt cannot be used.
    pub difference: String,
    /// Whether its files no longer match its own receipt (changed after it ran).
    pub changed_after_run: bool,
}

/// Whether a partition's completed replicas agree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Agreement {
    /// The replicas in the largest group of agreeing receipts.
    pub majority: Vec<u32>,
    /// Every other completed replica.
    pub dissenters: Vec<Dissenter>,
}

/// One replica to compare: its number, the directory its results are in
/// (DIR/<p> or DIR/replicas/<k>/<p>), and the output names its brine.json lists.
#[derive(Debug)]
pub struct ReplicaResults {
    /// The replica.
    pub replica: u32,
    /// Its results directory's path.
    pub path: PathBuf,
    /// Its results directory, opened without following a link.
    pub dir: Dir,
    /// The result names its brine.json lists (each a plain name).
    pub outputs: Vec<String>,
}

/// Compares the completed replicas of `partition` (receipts in `receipts`, the
/// opened DIR/receipts/): the majority and the dissenters.
pub fn agreement(receipts: Option<&Dir>, partition: u32, replicas: &[ReplicaResults]) -> Agreement {
    let mut usable: Vec<(u32, Receipt, Option<String>)> = Vec::new();
    let mut dissenters = Vec::new();
    for r in replicas {
        match as_found(receipts, partition, r) {
            Ok((receipt, tampered)) => usable.push((r.replica, receipt, tampered)),
            Err(why) => dissenters.push(Dissenter {
                replica: r.replica,
                difference: why,
                changed_after_run: false,
            }),
        }
    }
    let found: Vec<Receipt> = usable.iter().map(|(_, r, _)| r.clone()).collect();
    let verdict = consensus(&found);
    for (i, difference) in verdict.dissenters {
        let Some((replica, _, tampered)) = usable.get(i) else {
            continue;
        };
        let difference = match tampered {
            Some(_) => format!("{difference} (its files changed after it ran: they no longer match its own receipt)"),
            None => difference,
        };
        dissenters.push(Dissenter {
            replica: *replica,
            difference,
            changed_after_run: tampered.is_some(),
        });
    }
    dissenters.sort_by_key(|d| d.replica);
    Agreement {
        majority: verdict
            .majority
            .iter()
            .filter_map(|&i| usable.get(i).map(|(k, _, _)| *k))
            .collect(),
        dissenters,
    }
}

/// The replica's receipt with its files' hashes replaced by what is on disk
/// now, and the first way that differs from the receipt as written (a
/// replica changed after it ran); or why there is nothing to compare.
fn as_found(
    receipts: Option<&Dir>,
    partition: u32,
    replica: &ReplicaResults,
) -> Result<(Receipt, Option<String>), String> {
    let name = receipt_name(partition, replica.replica);
    let receipts =
        receipts.ok_or_else(|| format!("no {RECEIPTS_DIR}/ directory: its receipt is missing"))?;
    let bytes = read_capped(receipts, OsStr::new(&name), MAX_RECEIPT_BYTES)
        .map_err(|e| format!("its receipt {RECEIPTS_DIR}/{name} cannot be read: {e}"))?;
    let written = Receipt::parse(&bytes)
        .map_err(|e| format!("{RECEIPTS_DIR}/{name} is not a brine receipt: {e}"))?;
    let [claimed] = written.partitions.as_slice() else {
        return Err(format!(
            "{RECEIPTS_DIR}/{name} lists {} partitions, not the one it ran",
            written.partitions.len()
        ));
    };
    if claimed.index != partition {
        return Err(format!(
            "{RECEIPTS_DIR}/{name} is partition {}'s receipt, not {partition}'s",
            claimed.index
        ));
    }
    let on_disk = rehash(claimed, replica).map_err(|e| {
        format!(
            "its results {} cannot be hashed: {e}",
            replica.path.display()
        )
    })?;
    let mut found = written.clone();
    found.partitions = vec![on_disk];
    let tampered = first_difference(&written, &found);
    Ok((found, tampered))
}

/// `claimed` with stdout, stderr and every output hashed again from the
/// replica's directory (as `receipt::partition_receipt` hashed them at the end
/// of the run), never following a link.
fn rehash(claimed: &PartitionReceipt, replica: &ReplicaResults) -> io::Result<PartitionReceipt> {
    let stream = |name: &str| -> io::Result<String> {
        match open_regular_in(&replica.dir, OsStr::new(name)) {
            Ok(file) => {
                let mut hasher = blake3::Hasher::new();
                hasher.update_reader(file)?;
                Ok(hex(&hasher.finalize()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(hex(&blake3::hash(b""))),
            Err(e) => Err(e),
        }
    };
    // The names the run listed, and any the receipt names: a file added to or
    // removed from either shows as a difference.
    let names: BTreeSet<&str> = replica
        .outputs
        .iter()
        .map(String::as_str)
        .chain(
            claimed
                .outputs
                .keys()
                .map(|k| k.split('/').next().unwrap_or(k)),
        )
        .filter(|n| is_plain_name(n))
        .collect();
    let mut outputs = BTreeMap::new();
    for name in names {
        // Opened without following a link first; the walk below never follows one.
        match replica.dir.symlink_metadata(name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        for (rel, hash) in file_hashes(&replica.path.join(name))? {
            let path = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{name}/{rel}")
            };
            outputs.insert(path, hash);
        }
    }
    Ok(PartitionReceipt {
        stdout: stream("stdout")?,
        stderr: stream("stderr")?,
        output_tree: tree_hash(&outputs),
        outputs,
        ..claimed.clone()
    })
}

/// A result name as brine writes them: one path component, not `.` or `..`.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// A regular file in `dir`, not through a link, at most `limit` bytes.
pub fn read_capped(dir: &Dir, name: &OsStr, limit: u64) -> io::Result<Vec<u8>> {
    let file = open_regular_in(dir, name)?;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// The directory of replica `replica`'s results in DIR (`root`), when it exists.
pub fn open_replica_root(root: &Dir, replica: u32) -> io::Result<Dir> {
    if replica == 0 {
        return root.try_clone();
    }
    root.open_dir_nofollow(REPLICAS_DIR)?
        .open_dir_nofollow(replica.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_and_names_follow_the_documented_layout() {
        assert_eq!(element(0, 0, 3), 0);
        assert_eq!(element(2, 1, 3), 7);
        assert_eq!(element(u32::MAX, 2, 3), u64::from(u32::MAX) * 3 + 2);
        assert_eq!(receipt_name(4, 2), "4.r2.json");
        assert_eq!(replica_output(Path::new("/d"), 0), Path::new("/d"));
        assert_eq!(
            replica_output(Path::new("/d"), 2),
            Path::new("/d/replicas/2")
        );
        for bad in ["", ".", "..", "a/b", "a\\b"] {
            assert!(!is_plain_name(bad), "{bad}");
        }
        assert!(is_plain_name("outputs"));
    }
}
