//! `brine inspect`: what a module imports, exports, defines and carries.

use super::Failure;
use crate::engine::describe::{extern_kind, extern_type};
use crate::engine::{load, new_engine, Limits};
use anyhow::Context;
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `brine inspect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The module to inspect (.wasm or .wat).
    module: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub(super) json: bool,
}

#[derive(Debug, Serialize)]
struct Item {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    module: Option<String>,
    name: String,
    #[serde(rename = "type")]
    ty: String,
}

#[derive(Debug, Serialize)]
struct CustomSection {
    name: String,
    size: usize,
}

/// What `brine inspect` reports about one module.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    module: String,
    imports: Vec<Item>,
    exports: Vec<Item>,
    memories: Vec<String>,
    tables: Vec<String>,
    globals: usize,
    functions: usize,
    custom_sections: Vec<CustomSection>,
}

/// Prints the report and returns the exit status.
pub fn run(args: Args) -> Result<i32, Failure> {
    let bytes = std::fs::read(&args.module)
        .with_context(|| format!("cannot read module {}", args.module.display()))
        .map_err(Failure::usage)?;
    let report = describe(&bytes, &args.module.display().to_string())?;
    if args.json {
        let text = serde_json::to_string_pretty(&report).map_err(Failure::usage)?;
        outln!("{text}");
    } else {
        print_text(&report);
    }
    Ok(0)
}

/// What the module `bytes` (named `display`) imports, exports, defines and carries.
pub(crate) fn describe(bytes: &[u8], display: &str) -> Result<Report, Failure> {
    let engine = new_engine(&Limits::default());
    // Compiling validates the module, so the section walk below sees a valid binary.
    let module = load::compile(&engine, bytes, display).map_err(Failure::usage)?;
    let binary = wat::parse_bytes(bytes)
        .map(|b| b.into_owned())
        .map_err(|e| Failure::usage(anyhow::anyhow!("{display}: {e}")))?;
    let mut report = Report {
        module: display.to_string(),
        imports: module
            .imports()
            .map(|i| Item {
                kind: extern_kind(i.ty()),
                module: Some(i.module().to_string()),
                name: i.name().to_string(),
                ty: extern_type(i.ty()),
            })
            .collect(),
        exports: module
            .exports()
            .map(|e| Item {
                kind: extern_kind(e.ty()),
                module: None,
                name: e.name().to_string(),
                ty: extern_type(e.ty()),
            })
            .collect(),
        memories: Vec::new(),
        tables: Vec::new(),
        globals: 0,
        functions: 0,
        custom_sections: Vec::new(),
    };
    walk_sections(&binary, &mut report)
        .map_err(|e| Failure::usage(anyhow::anyhow!("{display}: {e}")))?;
    Ok(report)
}

/// Fills in what wasmi does not expose: defined memories, tables, counts, custom sections.
fn walk_sections(binary: &[u8], report: &mut Report) -> Result<(), wasmparser::BinaryReaderError> {
    use wasmparser::{Parser, Payload};
    for payload in Parser::new(0).parse_all(binary) {
        match payload? {
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let m = memory?;
                    let max = m.maximum.map_or(String::new(), |x| x.to_string());
                    let bits = if m.memory64 { " (memory64)" } else { "" };
                    report
                        .memories
                        .push(format!("{}..{max} pages{bits}", m.initial));
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    let t = table?.ty;
                    let max = t.maximum.map_or(String::new(), |x| x.to_string());
                    report
                        .tables
                        .push(format!("{} {}..{max} elements", t.element_type, t.initial));
                }
            }
            Payload::GlobalSection(reader) => report.globals += reader.count() as usize,
            Payload::FunctionSection(reader) => report.functions += reader.count() as usize,
            Payload::CustomSection(section) => report.custom_sections.push(CustomSection {
                name: section.name().to_string(),
                size: section.data().len(),
            }),
            _ => {}
        }
    }
    Ok(())
}

fn print_text(report: &Report) {
    use crate::text::printable;
    outln!("module {}", report.module);
    outln!("imports ({}):", report.imports.len());
    for i in &report.imports {
        outln!(
            "  {}.{}: {}",
            printable(i.module.as_deref().unwrap_or("")),
            printable(&i.name),
            i.ty
        );
    }
    outln!("exports ({}):", report.exports.len());
    for e in &report.exports {
        outln!("  {}: {}", printable(&e.name), e.ty);
    }
    outln!("memories ({}):", report.memories.len());
    for m in &report.memories {
        outln!("  {m}");
    }
    outln!("tables ({}):", report.tables.len());
    for t in &report.tables {
        outln!("  {t}");
    }
    outln!("functions defined: {}", report.functions);
    outln!("globals defined: {}", report.globals);
    outln!("custom sections ({}):", report.custom_sections.len());
    for c in &report.custom_sections {
        outln!("  {} ({} bytes)", printable(&c.name), c.size);
    }
}
