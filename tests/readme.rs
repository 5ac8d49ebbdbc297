//! The README cannot drift: every command of its usage section runs here, in a
//! scratch copy of `fixtures/` and `spec-tests/`, and a comment `# → TEXT`
//! after a command is output it must print.

mod common;

use common::{brine, ROOT};
use std::path::Path;
use std::process::Command;

/// The lines of the first ```sh block under "## Usage".
fn usage_commands(readme: &str) -> Vec<String> {
    let usage = readme.find("## Usage").expect("README has a Usage section");
    let block = readme[usage..]
        .find("```sh")
        .expect("Usage has an sh block")
        + usage;
    let body = &readme[block + "```sh".len()..];
    let end = body.find("```").expect("the sh block ends");
    body[..end]
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// The command and the output its comment promises (`# → TEXT`), if any.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    match line.split_once(" # ") {
        Some((command, comment)) => (command.trim(), comment.trim().strip_prefix("→ ")),
        None => (line, None),
    }
}

/// Copies a tree, keeping links as links (the WASI fixtures hold hostile ones).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creates the copy");
    for entry in std::fs::read_dir(from).expect("reads the fixtures") {
        let entry = entry.expect("entry");
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().expect("file type");
        if kind.is_symlink() {
            let link = std::fs::read_link(&source).expect("reads the link");
            std::os::unix::fs::symlink(link, &target).expect("copies the link");
        } else if kind.is_dir() {
            copy_tree(&source, &target);
        } else {
            std::fs::copy(&source, &target).expect("copies the file");
        }
    }
}

#[test]
fn every_usage_command_in_the_readme_runs() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README");
    let commands = usage_commands(&readme);
    assert!(commands.len() >= 10, "usage commands: {commands:?}");
    let scratch = tempfile::tempdir().unwrap();
    for dir in ["fixtures", "spec-tests"] {
        copy_tree(&Path::new(ROOT).join(dir), &scratch.path().join(dir));
    }
    let bin_dir = Path::new(brine().get_program())
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in &commands {
        let (command, expected) = split_comment(line);
        let out = Command::new("sh")
            .args(["-c", command])
            .current_dir(scratch.path())
            .env("PATH", &path)
            .env_remove("RUST_LOG")
            .output()
            .expect("sh runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "README: `{command}` failed ({}):\n{stdout}\n{stderr}",
            out.status
        );
        if let Some(text) = expected {
            assert!(
                stdout.contains(text),
                "README: `{command}` should print {text:?}, printed:\n{stdout}"
            );
        }
    }
}
