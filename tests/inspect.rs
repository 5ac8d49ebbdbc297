//! `brine inspect`: text and JSON reports.

mod common;

use common::*;
use serde_json::Value;

/// The indented lines of one text section (`<title> (N):`), in order.
fn section<'a>(out: &'a str, title: &str) -> Vec<&'a str> {
    let mut lines = out.lines();
    let header = lines
        .by_ref()
        .find(|l| l.starts_with(&format!("{title} (")))
        .unwrap_or_else(|| panic!("no `{title} (N):` section in\n{out}"));
    let items: Vec<&str> = lines.take_while(|l| l.starts_with("  ")).collect();
    assert_eq!(
        header,
        format!("{title} ({}):", items.len()),
        "section count does not match its items\n{out}"
    );
    items
}

fn sorted(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_unstable();
    v
}

fn json(args: &[&str]) -> Value {
    let o = run(args);
    assert_code(&o, 0);
    assert_eq!(stderr(&o), "", "{}", describe(&o));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{}", describe(&o)))
}

fn items<'a>(report: &'a Value, key: &str) -> &'a Vec<Value> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("`{key}` is not an array in {report:#}"))
}

fn find<'a>(list: &'a [Value], module: Option<&str>, name: &str) -> &'a Value {
    list.iter()
        .find(|i| i["name"] == name && module.is_none_or(|m| i["module"] == m))
        .unwrap_or_else(|| panic!("no item {module:?}.{name} in {list:#?}"))
}

#[test]
fn text_report_of_lib_lists_exports_with_types() {
    let o = run(["inspect", "fixtures/link/lib.wat"]);
    assert_code(&o, 0);
    assert_eq!(stderr(&o), "", "{}", describe(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().next(), Some("module fixtures/link/lib.wat"));
    assert!(section(&out, "imports").is_empty(), "{out}");
    assert_eq!(
        sorted(section(&out, "exports")),
        vec![
            "  add: func (i32, i32) -> i32",
            "  counter: global mut i32",
            "  mem: memory 1.. pages",
            "  mul: func (i32, i32) -> i32",
            "  tab: table funcref 2.. elements",
        ],
        "{out}"
    );
    assert_eq!(section(&out, "memories"), vec!["  1.. pages"], "{out}");
    assert_eq!(
        section(&out, "tables"),
        vec!["  funcref 2.. elements"],
        "{out}"
    );
    assert!(out.contains("\nfunctions defined: 2\n"), "{out}");
    assert!(out.contains("\nglobals defined: 1\n"), "{out}");
    // The fixture is text: the wat crate adds a `name` section for its $identifiers.
    let custom = section(&out, "custom sections");
    assert!(
        custom.len() == 1 && custom[0].starts_with("  name ("),
        "{out}"
    );
}

#[test]
fn text_report_of_hello_lists_wasi_imports() {
    let o = run(["inspect", "fixtures/hello.wasm"]);
    assert_code(&o, 0);
    let out = stdout(&o);
    let imports = section(&out, "imports");
    assert!(
        imports.contains(&"  wasi_snapshot_preview1.fd_write: func (i32, i32, i32, i32) -> i32"),
        "{out}"
    );
    assert!(
        imports.contains(&"  wasi_snapshot_preview1.proc_exit: func (i32) -> ()"),
        "{out}"
    );
    assert!(
        imports
            .iter()
            .all(|i| i.starts_with("  wasi_snapshot_preview1.")),
        "{out}"
    );
    let exports = section(&out, "exports");
    assert!(exports.contains(&"  _start: func () -> ()"), "{out}");
    assert!(
        exports.iter().any(|e| e.starts_with("  memory: memory ")),
        "{out}"
    );
    let custom = section(&out, "custom sections");
    assert!(custom.iter().any(|c| c.starts_with("  name (")), "{out}");
}

#[test]
fn json_report_of_lib() {
    let report = json(&["inspect", "--json", "fixtures/link/lib.wat"]);
    assert_eq!(report["module"], "fixtures/link/lib.wat");
    assert!(items(&report, "imports").is_empty(), "{report:#}");
    let exports = items(&report, "exports");
    assert_eq!(exports.len(), 5, "{report:#}");
    for (name, kind, ty) in [
        ("add", "func", "func (i32, i32) -> i32"),
        ("mul", "func", "func (i32, i32) -> i32"),
        ("mem", "memory", "memory 1.. pages"),
        ("tab", "table", "table funcref 2.. elements"),
        ("counter", "global", "global mut i32"),
    ] {
        let item = find(exports, None, name);
        assert_eq!(item["kind"], kind, "{item:#}");
        assert_eq!(item["type"], ty, "{item:#}");
    }
    assert_eq!(report["memories"], serde_json::json!(["1.. pages"]));
    assert_eq!(
        report["tables"],
        serde_json::json!(["funcref 2.. elements"])
    );
    assert_eq!(report["functions"], 2);
    assert_eq!(report["globals"], 1);
}

#[test]
fn json_report_of_hello_includes_fd_write_import() {
    let report = json(&["inspect", "--json", "fixtures/hello.wasm"]);
    let imports = items(&report, "imports");
    let fd_write = find(imports, Some("wasi_snapshot_preview1"), "fd_write");
    assert_eq!(fd_write["kind"], "func");
    assert_eq!(fd_write["type"], "func (i32, i32, i32, i32) -> i32");
    assert!(
        imports
            .iter()
            .all(|i| i["module"] == "wasi_snapshot_preview1"),
        "{report:#}"
    );
    let exports = items(&report, "exports");
    assert_eq!(find(exports, None, "_start")["type"], "func () -> ()");
    assert_eq!(find(exports, None, "memory")["kind"], "memory");
}

#[test]
fn json_report_of_main_lists_every_import_kind() {
    let report = json(&["inspect", "--json", "fixtures/link/main.wat"]);
    let imports = items(&report, "imports");
    assert_eq!(find(imports, Some("lib"), "add")["kind"], "func");
    assert_eq!(find(imports, Some("lib"), "mem")["kind"], "memory");
    assert_eq!(find(imports, Some("lib"), "tab")["kind"], "table");
    assert_eq!(find(imports, Some("lib"), "counter")["kind"], "global");
    assert_eq!(
        find(imports, Some("wasi_snapshot_preview1"), "fd_write")["kind"],
        "func"
    );
    let exports = items(&report, "exports");
    assert_eq!(
        find(exports, None, "add3")["type"],
        "func (i32, i32, i32) -> i32"
    );
}

#[test]
fn json_report_of_add_wat() {
    let report = json(&["inspect", "--json", "fixtures/add.wat"]);
    assert!(items(&report, "imports").is_empty());
    let exports = items(&report, "exports");
    assert_eq!(find(exports, None, "add")["type"], "func (i32, i32) -> i32");
    assert_eq!(
        find(exports, None, "fadd")["type"],
        "func (f64, f64) -> f64"
    );
    assert_eq!(find(exports, None, "noop")["type"], "func () -> ()");
}

#[test]
fn inspect_of_random_bytes_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "random.wasm", pseudo_random_bytes(300, 7));
    let o = run(["inspect", s(&path)]);
    assert_one_line_error(&o, EXIT_USAGE, "error: invalid module", &["random.wasm"]);
    // Under --json the error is one JSON object (still on stderr).
    let o = run(["inspect", "--json", s(&path)]);
    assert_eq!(code(&o), EXIT_USAGE);
    let error: serde_json::Value = serde_json::from_str(&stderr(&o)).expect("one JSON object");
    let message = error["error"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("invalid module") && message.contains("random.wasm"),
        "{error}"
    );
}

#[test]
fn inspect_of_a_missing_file_fails() {
    let o = run(["inspect", "fixtures/no-such-module.wasm"]);
    assert_one_line_error(
        &o,
        EXIT_USAGE,
        "error: cannot read module",
        &["fixtures/no-such-module.wasm"],
    );
}

#[test]

fn inspect_into_a_closed_pipe_does_not_panic() {
    // `true` exits at once; brine starts 0.5 s later and writes into a pipe
    // nobody reads. Observed: "thread 'main' panicked ... failed printing to
    // stdout: Broken pipe (os error 32)", exit 101.
    // Expected: no panic (exit quietly, like other Unix tools).
    let brine = env!("CARGO_BIN_EXE_brine");
    let o = std::process::Command::new("sh")
        .current_dir(ROOT)
        .env_remove("RUST_BACKTRACE")
        .arg("-c")
        .arg(format!(
            "(sleep 0.5; '{brine}' inspect --json fixtures/hello.wasm; echo \"status=$?\" >&2) | true"
        ))
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("status=101"), "{err}");
}

#[test]
fn hostile_names_are_escaped_in_text_and_kept_exact_in_json() {
    // An export named with a terminal escape (clear screen) and a custom section
    // with a right-to-left override and a newline.
    let wat = "(module (func (export \"run\\1b[2J\")) (@custom \"\\e2\\80\\aeevil\\0a\" \"x\"))";
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("hostile.wasm");
    std::fs::write(&module, wat::parse_str(wat).unwrap()).unwrap();
    let out = run(["inspect".as_ref(), module.as_os_str()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains('\x1b') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert_eq!(
        section(&text, "exports"),
        ["  run\\u{1b}[2J: func () -> ()"]
    );
    assert_eq!(
        section(&text, "custom sections"),
        ["  \\u{202e}evil\\u{a} (1 bytes)"]
    );
    let out = run(["inspect".as_ref(), "--json".as_ref(), module.as_os_str()]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["exports"][0]["name"], "run\u{1b}[2J");
}
