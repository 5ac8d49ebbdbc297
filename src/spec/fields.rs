//! Reading typed fields out of located nodes: case-insensitive keys, unknown
//! keys with a "did you mean" hint, and type errors that say what was expected.

use super::error::{Collector, Site};
use super::tree::{Node, Value};
use std::collections::BTreeMap;

/// Appends a key to a field path.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Appends a list index to a field path.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// The site of `node`, named `path`.
pub(crate) fn site(node: &Node, path: &str) -> Site {
    Site {
        line: node.line,
        column: node.column,
        path: path.to_string(),
    }
}

/// The candidate closest to `word` (case-insensitive), if one is close enough
/// to be a likely typo, or one that `word` abbreviates.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let close = candidates
        .iter()
        .map(|c| (strsim::osa_distance(&word, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).clamp(1, 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    close.or_else(|| {
        candidates
            .iter()
            .find(|c| word.len() >= 3 && c.to_ascii_lowercase().starts_with(&word))
            .copied()
    })
}

/// " (did you mean `X`?)" or nothing.
pub(crate) fn hint(word: &str, candidates: &[&str]) -> String {
    did_you_mean(word, candidates).map_or(String::new(), |c| format!("; did you mean `{c}`?"))
}

/// A mapping whose keys were checked against the names a field allows.
pub(crate) struct Fields<'n> {
    /// The mapping node (missing fields are reported here).
    pub node: &'n Node,
    /// Its field path.
    pub path: String,
    entries: Vec<(&'static str, &'n Node, &'n Node)>,
}

impl<'n> Fields<'n> {
    /// Checks that `node` is a mapping whose keys are all in `known` (any case),
    /// reporting every other key and every duplicate. `what` names the mapping
    /// in the type error ("expected a Task mapping").
    pub fn read(
        cx: &mut Collector,
        node: &'n Node,
        path: &str,
        what: &str,
        known: &[&'static str],
    ) -> Option<Self> {
        let Value::Map(map) = &node.value else {
            let found = node.value.describe();
            cx.at(&site(node, path), format!("expected {what}, found {found}"));
            return None;
        };
        let mut fields = Fields {
            node,
            path: path.to_string(),
            entries: Vec::new(),
        };
        for (key, value) in map {
            fields.add(cx, key, value, known);
        }
        Some(fields)
    }

    /// Files one entry, or reports why it cannot be.
    fn add(&mut self, cx: &mut Collector, key: &'n Node, value: &'n Node, known: &[&'static str]) {
        let Value::Str(name) = &key.value else {
            let found = key.value.describe();
            let msg = format!("expected a field name, found {found}");
            cx.at(&site(key, &self.path), msg);
            return;
        };
        let Some(canonical) = known.iter().find(|k| k.eq_ignore_ascii_case(name)) else {
            let path = join(&self.path, name);
            let msg = format!("unknown field `{name}`{}", hint(name, known));
            cx.at(&site(key, &path), msg);
            return;
        };
        if self.entries.iter().any(|(k, _, _)| k == canonical) {
            let msg = format!("`{canonical}` is given twice (field names ignore case)");
            cx.at(&site(key, &join(&self.path, canonical)), msg);
            return;
        }
        self.entries.push((canonical, key, value));
    }

    /// The value of `name` unless it is absent or null.
    pub fn get(&self, name: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, v)| *k == name && v.value != Value::Null)
            .map(|(_, _, v)| *v)
    }

    /// The field path of `name`.
    pub fn path_of(&self, name: &str) -> String {
        join(&self.path, name)
    }

    /// The value of `name`, or an error at this mapping saying it is missing.
    pub fn require(&self, cx: &mut Collector, name: &str, expected: &str) -> Option<&'n Node> {
        let node = self.get(name);
        if node.is_none() {
            let msg = format!("missing; expected {expected}");
            cx.at(&site(self.node, &self.path_of(name)), msg);
        }
        node
    }

    /// An optional string field.
    pub fn string(&self, cx: &mut Collector, name: &str) -> Option<String> {
        let node = self.get(name)?;
        string(cx, node, &self.path_of(name))
    }

    /// An optional boolean field.
    pub fn boolean(&self, cx: &mut Collector, name: &str) -> Option<bool> {
        let node = self.get(name)?;
        match node.value {
            Value::Bool(b) => Some(b),
            _ => type_error(cx, node, &self.path_of(name), "true or false"),
        }
    }

    /// An optional list of strings.
    pub fn strings(&self, cx: &mut Collector, name: &str) -> Vec<String> {
        let Some(node) = self.get(name) else {
            return Vec::new();
        };
        let path = self.path_of(name);
        let Value::Seq(items) = &node.value else {
            type_error::<()>(cx, node, &path, "a list of strings");
            return Vec::new();
        };
        let read = items.iter().enumerate();
        read.filter_map(|(i, item)| string(cx, item, &index(&path, i)))
            .collect()
    }

    /// An optional mapping of strings to strings, with the site of each entry's
    /// key and value.
    pub fn string_map(&self, cx: &mut Collector, name: &str) -> Vec<MapEntry> {
        match self.get(name) {
            Some(node) => string_map(cx, node, &self.path_of(name)),
            None => Vec::new(),
        }
    }
}

/// One entry of a string mapping, with where its key and value are.
#[derive(Debug, Clone)]
pub(crate) struct MapEntry {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
    /// Where the key is (its path ends with the key).
    pub key_site: Site,
    /// Where the value is.
    pub value_site: Site,
}

/// A mapping of strings to strings (labels, env, meta).
pub(crate) fn string_map(cx: &mut Collector, node: &Node, path: &str) -> Vec<MapEntry> {
    let Value::Map(map) = &node.value else {
        type_error::<()>(cx, node, path, "a mapping of names to strings");
        return Vec::new();
    };
    let mut entries: Vec<MapEntry> = Vec::new();
    for (key, value) in map {
        let Value::Str(name) = &key.value else {
            let found = key.value.describe();
            cx.at(&site(key, path), format!("expected a name, found {found}"));
            continue;
        };
        let entry_path = join(path, name);
        if let Some(text) = string(cx, value, &entry_path) {
            entries.push(MapEntry {
                key: name.clone(),
                value: text,
                key_site: site(key, &entry_path),
                value_site: site(value, &entry_path),
            });
        }
    }
    entries
}

/// Converts string-map entries to a map (the YAML parser already refused
/// duplicate keys).
pub(crate) fn to_btree(entries: &[MapEntry]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect()
}

/// A string, or a type error.
pub(crate) fn string(cx: &mut Collector, node: &Node, path: &str) -> Option<String> {
    match &node.value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
            let found = node.value.describe();
            let msg = format!("expected a string, found {found} (put it in quotes)");
            cx.at(&site(node, path), msg);
            None
        }
        _ => type_error(cx, node, path, "a string"),
    }
}

/// Reports "expected X, found Y" at `node` and returns `None`.
pub(crate) fn type_error<T>(
    cx: &mut Collector,
    node: &Node,
    path: &str,
    expected: &str,
) -> Option<T> {
    let found = node.value.describe();
    cx.at(
        &site(node, path),
        format!("expected {expected}, found {found}"),
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_typos_in_any_case() {
        let keys = ["EntryModule", "Entrypoint", "Parameters", "ImportModules"];
        assert_eq!(did_you_mean("entrymodul", &keys), Some("EntryModule"));
        assert_eq!(did_you_mean("ENTRYMODLUE", &keys), Some("EntryModule"));
        assert_eq!(did_you_mean("parameter", &keys), Some("Parameters"));
        assert_eq!(did_you_mean("Bogus", &keys), None);
        let types = [
            "localDirectory",
            "local",
            "inline",
            "urlDownload",
            "s3",
            "ipfs",
        ];
        assert_eq!(
            did_you_mean("localDirectry", &types),
            Some("localDirectory")
        );
        assert_eq!(did_you_mean("url", &types), Some("urlDownload"));
        assert_eq!(did_you_mean("S4", &types), Some("s3"));
    }
}
