//! What an execution ran on, as hashes (the runner gathers them for a receipt).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an execution ran on, gathered after staging and before running.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// BLAKE3 of each module, by guest path.
    pub modules: BTreeMap<String, String>,
    /// Each input by target.
    pub inputs: BTreeMap<String, InputHashes>,
}

/// The hashes of one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputHashes {
    /// The tree hash over every entry.
    pub tree: String,
    /// Every file's hash, by path relative to the target (`""` for a file input).
    pub files: BTreeMap<String, String>,
    /// Special files (FIFOs, sockets, devices) in the input: not hashed, never
    /// opened, so the receipt does not vouch for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}
