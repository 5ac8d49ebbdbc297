//! The located document tree: YAML or JSON read into nodes that remember
//! their line and column, before any field is interpreted.
//!
//! serde-saphyr parses both (JSON is YAML), with its default budgets on, so a
//! deeply nested or alias-bombed file is an error rather than a stack overflow
//! or a hang. JSON is first checked with serde_json, whose syntax errors are the
//! ones JSON users expect.

use super::error::Collector;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A value in the document, with its position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// What the node holds.
    pub value: Value,
    /// 1-based line where the node starts.
    pub line: u32,
    /// 1-based column where the node starts.
    pub column: u32,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A number with a fraction or exponent.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// How a message names this kind of value ("found a number").
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            value: spanned.value,
            line: u32::try_from(spanned.referenced.line()).unwrap_or(u32::MAX),
            column: u32::try_from(spanned.referenced.column()).unwrap_or(u32::MAX),
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Builds a [`Value`] from whatever the parser found.
struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(v.into()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(i128::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(node) = seq.next_element()? {
            items.push(node);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Value::Map(entries))
    }
}

/// The parser's stack: serde-saphyr recurses once per nesting level with
/// large frames (an unoptimized build needs 2–3 MiB for its maximum depth of
/// 64, an optimized one 320–384 KiB, both measured with `ulimit -s`), so
/// parsing runs on a thread with room to spare unless the current thread is
/// known to have it.
const PARSER_STACK: usize = 32 << 20;

/// A syntax error: line, column (0 when unknown) and message.
type SyntaxError = (u32, u32, String);

/// Parses a job file's text into a tree. `None` means the document is empty
/// (nothing but whitespace and comments) or had a syntax error, recorded in `cx`.
pub(crate) fn parse(text: &str, cx: &mut Collector) -> Option<Node> {
    let result = if on_the_main_thread() {
        parse_here(text)
    } else {
        parse_on_a_worker(text)
    };
    match result {
        Ok(node) => node,
        Err((line, column, message)) => {
            cx.syntax(line, column, message);
            None
        }
    }
}

/// Whether this is the main thread of a Rust program (the `brine` CLI): its
/// stack is the process's (`ulimit -s`, 8 MiB by default), ample for the
/// parser. Starting a thread and waiting for it costs a scheduling round trip,
/// which on a busy machine (a loaded Slurm node) is milliseconds per job. An
/// embedding application's threads (often 512 KiB on iOS) get a worker.
fn on_the_main_thread() -> bool {
    std::thread::current().name() == Some("main")
}

/// Parses on a thread of its own with a [`PARSER_STACK`] stack.
fn parse_on_a_worker(text: &str) -> Result<Option<Node>, SyntaxError> {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("brine-spec-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || parse_here(text));
        match worker {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err((0, 0, "the YAML parser failed on this file".into()))),
            Err(e) => Err((0, 0, format!("cannot start the parser: {e}"))),
        }
    })
}

/// Parses on the current thread (see [`PARSER_STACK`]).
fn parse_here(text: &str) -> Result<Option<Node>, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let json = text.trim_start().starts_with('{');
    if json {
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
            return Err((to_u32(e.line()), to_u32(e.column()), json_message(&e)));
        }
    }
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options.strict_booleans = true;
    serde_saphyr::from_str_with_options::<Option<Node>>(text, options)
        .map_err(|e| {
            let (line, column) = e
                .location()
                .map_or((0, 0), |l| (to_u32(l.line()), to_u32(l.column())));
            (line, column, yaml_message(&e.to_string(), json))
        })
        .map(|node| node.map(keyed_maps))
}

/// Saturating conversion for positions.
fn to_u32<T: TryInto<u32>>(n: T) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}

/// serde_json's message without its trailing " at line L column C".
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    format!("invalid JSON: {message}")
}

/// Moves every mapping that is the value of a key to that key's position, so
/// that "missing field" errors point at the line that names the mapping.
fn keyed_maps(mut node: Node) -> Node {
    match &mut node.value {
        Value::Seq(items) => {
            let taken = std::mem::take(items);
            *items = taken.into_iter().map(keyed_maps).collect();
        }
        Value::Map(entries) => {
            let taken = std::mem::take(entries);
            *entries = taken.into_iter().map(|(k, v)| keyed_entry(k, v)).collect();
        }
        _ => {}
    }
    node
}

/// One entry of [`keyed_maps`].
fn keyed_entry(key: Node, value: Node) -> (Node, Node) {
    let mut value = keyed_maps(value);
    if matches!(value.value, Value::Map(_)) {
        value.line = key.line;
        value.column = key.column;
    }
    (key, value)
}

/// serde-saphyr's message without its location suffix, in words a user reads.
fn yaml_message(text: &str, json: bool) -> String {
    let message = text.split_once(" at line ").map_or(text, |(m, _)| m);
    if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
        let key = key.split_once(", set ").map_or(key, |(k, _)| k);
        return format!("duplicate key `{key}`");
    }
    if message.starts_with("multiple YAML documents") {
        return "a job file holds one YAML document; this is the start of a second one".into();
    }
    if let Some(breach) = message.strip_prefix("budget breached: ") {
        return budget_message(breach);
    }
    let language = if json { "JSON" } else { "YAML" };
    format!("invalid {language}: {message}")
}

/// Explains which safety limit a document broke. serde-saphyr names the breach
/// with its Debug form (`Anchors { anchors: 50001 }`): turn that into words.
fn budget_message(breach: &str) -> String {
    let kind = breach
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or_default();
    let what = match kind {
        "Depth" | "InclusionDepth" => "it is nested more than 64 levels deep",
        "Nodes" | "Aliases" | "Events" | "AliasAnchorRatio" => {
            "it has too many nodes (more than 250000, counting what aliases expand to)"
        }
        "Anchors" => "it defines too many anchors (&name)",
        "MergeKeys" => "it has too many merge keys (<<)",
        "Documents" => "it has more than one document",
        "ScalarBytes" | "CommentBytes" => "its values hold too many bytes in all",
        "InputBytes" => "it is too large",
        "SequenceUnbalanced" => "its nesting does not balance",
        _ => "it exceeds a safety limit of the YAML reader",
    };
    format!("the document is refused: {what}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn tree(text: &str) -> (Option<Node>, String) {
        let mut cx = Collector::new(Path::new("t.yaml"));
        let node = parse(text, &mut cx);
        (node, cx.finish().to_string())
    }

    #[test]
    fn budget_breaches_are_told_in_words() {
        let message = budget_message("Anchors { anchors: 50001 }");
        assert_eq!(
            message,
            "the document is refused: it defines too many anchors (&name)"
        );
        let message = budget_message("ScalarBytes { total_scalar_bytes: 99 }");
        assert!(!message.contains('{'), "{message}");
        assert!(!budget_message("Whatever { x: 1 }").contains('{'));
    }

    #[test]
    fn located_nodes() {
        let (node, errors) = tree("a: 1\nb:\n  - x\n");
        assert_eq!(errors, "");
        let Some(Node {
            value: Value::Map(entries),
            ..
        }) = node
        else {
            panic!("expected a map");
        };
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[1].0.line, entries[1].0.column), (2, 1));
        assert_eq!(entries[0].1.value, Value::Int(1));
    }

    #[test]
    fn yaml_1_1_booleans_are_strings() {
        let (node, _) = tree("on: yes\n");
        let Some(Node {
            value: Value::Map(entries),
            ..
        }) = node
        else {
            panic!("expected a map");
        };
        assert_eq!(entries[0].0.value, Value::Str("on".into()));
        assert_eq!(entries[0].1.value, Value::Str("yes".into()));
    }

    #[test]
    fn empty_and_syntax_errors() {
        assert_eq!(tree("# nothing\n"), (None, String::new()));
        let (_, e) = tree("a: [1, 2\n");
        assert!(e.starts_with("t.yaml:1:4: invalid YAML: "), "{e}");
        let (_, e) = tree("{\"a\": 1,}");
        assert!(e.starts_with("t.yaml:1:9: invalid JSON: "), "{e}");
    }

    #[test]
    fn deep_or_exploding_documents_are_refused() {
        let deep = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(tree(&deep).1.contains("t.yaml:1:"));
        let block: String = (0..3000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        assert!(tree(&block).1.contains("nested more than 64 levels"));
        let mut lol = String::from("a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n");
        for i in 1..12 {
            let refs = vec![format!("*a{}", i - 1); 10].join(",");
            lol.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        assert!(tree(&lol).1.contains("too many nodes"));
        let json = format!("{{\"a\": {}{}}}", "[".repeat(5000), "]".repeat(5000));
        assert!(tree(&json).1.contains("invalid JSON"));
    }
}
