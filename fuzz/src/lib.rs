//! What brine's fuzz targets share: the limits a fuzzed guest runs under, the
//! temporary trees they run in, and snapshots that show whether anything a
//! guest or an archive must not touch was changed.

use brine::fuzzing::{mount, ModuleRun, PREVIEW1};
use brine::module::Limits;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Fuel for one call of a fuzzed guest: enough for real work, little enough
/// that a loop ends in milliseconds.
pub const FUEL: u64 = 2_000_000;

/// Wall-clock limit of one fuzzed call (well under libFuzzer's `-timeout=10`).
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Memory all of a fuzzed guest's memories and tables may hold (the fuzzer
/// runs with `-rss_limit_mb=512`).
pub const MAX_MEMORY: u64 = 64 << 20;

/// The limits every fuzzed guest runs under: fuel, a deadline and a memory cap.
pub fn limits() -> Limits {
    Limits {
        fuel: Some(FUEL),
        timeout: Some(TIMEOUT),
        max_memory: Some(MAX_MEMORY),
        deterministic: false,
        cancel: None,
    }
}

/// A fresh private temporary directory (removed when dropped).
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("brine-fuzz-")
        .tempdir()
        .expect("a temporary directory for the fuzz run")
}

/// A module run over one empty writable mount at `/out` (the module targets).
pub fn empty_tree_run(root: &Path) -> ModuleRun {
    let out = root.join("out");
    std::fs::create_dir(&out).expect("the /out mount");
    ModuleRun {
        limits: limits(),
        mounts: vec![mount("/out", out, false)],
        ..ModuleRun::default()
    }
}

/// What a snapshot records of one file-system entry (atime and ctime are
/// left out: reading changes the first, and nothing the guest may do should
/// change anything else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A directory and its mode, owner and mtime.
    Dir {
        mode: u32,
        uid: u32,
        gid: u32,
        mtime: (i64, i64),
    },
    /// A file: its bytes, mode, owner, mtime and link count.
    File {
        bytes: Vec<u8>,
        mode: u32,
        uid: u32,
        gid: u32,
        mtime: (i64, i64),
        nlink: u64,
    },
    /// A symbolic link and its target.
    Link { target: PathBuf },
    /// Anything else (FIFO, socket, device), by its mode.
    Other { mode: u32 },
}

/// Every entry under `root` (itself included, links not followed), skipping
/// the subtrees in `skip`, by path relative to `root`.
pub fn snapshot(root: &Path, skip: &[PathBuf]) -> BTreeMap<PathBuf, Entry> {
    let mut entries = BTreeMap::new();
    walk(root, root, skip, &mut entries);
    entries
}

fn walk(root: &Path, path: &Path, skip: &[PathBuf], out: &mut BTreeMap<PathBuf, Entry>) {
    if skip.iter().any(|s| s == path) {
        return;
    }
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    let rel = path.strip_prefix(root).unwrap_or(path).to_path_buf();
    let mtime = (meta.mtime(), meta.mtime_nsec());
    let (mode, uid, gid) = (meta.mode(), meta.uid(), meta.gid());
    let entry = if meta.file_type().is_symlink() {
        Entry::Link {
            target: std::fs::read_link(path).unwrap_or_default(),
        }
    } else if meta.is_dir() {
        let mut names: Vec<PathBuf> = std::fs::read_dir(path)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        names.sort();
        for child in names {
            walk(root, &child, skip, out);
        }
        Entry::Dir {
            mode,
            uid,
            gid,
            mtime,
        }
    } else if meta.is_file() {
        Entry::File {
            bytes: std::fs::read(path).unwrap_or_default(),
            mode,
            uid,
            gid,
            mtime,
            nlink: meta.nlink(),
        }
    } else {
        Entry::Other { mode }
    };
    out.insert(rel, entry);
}

/// Panics, naming the first difference, when `before` and `after` differ.
pub fn assert_unchanged(
    what: &str,
    before: &BTreeMap<PathBuf, Entry>,
    after: &BTreeMap<PathBuf, Entry>,
) {
    if before == after {
        return;
    }
    for (path, entry) in before {
        match after.get(path) {
            None => panic!("{what}: {} was removed", path.display()),
            Some(now) if now != entry => {
                panic!("{what}: {} changed: {entry:?} -> {now:?}", path.display())
            }
            _ => {}
        }
    }
    let added: Vec<_> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    panic!("{what}: entries appeared: {added:?}");
}

fn val_types(letters: &str) -> Vec<wasm_encoder::ValType> {
    letters
        .chars()
        .map(|c| {
            if c == 'I' {
                wasm_encoder::ValType::I64
            } else {
                wasm_encoder::ValType::I32
            }
        })
        .collect()
}

/// The parameter and result types of `signature`.
fn signature_types(signature: &str) -> (Vec<wasm_encoder::ValType>, Vec<wasm_encoder::ValType>) {
    let (params, results) = signature.split_once(' ').unwrap_or_default();
    (val_types(params), val_types(results))
}

/// Type section entries and imports of every preview1 function (type `i` and
/// function `i` are import `i` of [`PREVIEW1`]).
fn preview1_sections() -> (wasm_encoder::TypeSection, wasm_encoder::ImportSection) {
    let mut types = wasm_encoder::TypeSection::new();
    let mut imports = wasm_encoder::ImportSection::new();
    for (index, (name, signature)) in PREVIEW1.iter().enumerate() {
        let (params, results) = signature_types(signature);
        types.ty().function(params, results);
        imports.import(
            "wasi_snapshot_preview1",
            name,
            wasm_encoder::EntityType::Function(index as u32),
        );
    }
    (types, imports)
}

/// A module that imports every preview1 function: what wasm-smith may import.
pub fn wasi_imports() -> Vec<u8> {
    let (types, imports) = preview1_sections();
    let mut module = wasm_encoder::Module::new();
    module.section(&types).section(&imports);
    module.finish()
}

/// Paths (and other names) a WASI call may point at: they name the mount
/// tree of the `wasi` target ([`wasi_tree`]), its links and ways out of it.
pub const STRINGS: &[&str] = &[
    "ro",
    "rw",
    "ro/a.txt",
    "rw/c.txt",
    "rw/new",
    "rw/dir",
    "..",
    "../..",
    "/",
    ".",
    "ro/sub/b.txt",
    "ro/link_out",
    "rw/link_out",
    "single.txt",
    "rw/dir/x",
    "ro/abs_link",
    "rw/../ro/a.txt",
    "rw/hard",
    "",
    "rw/link_ro",
    "ro/sub",
    "rw/abs_link",
    "ro/../rw/new",
    "rw/dir/../../ro/sub/b.txt",
    "../outside/secret.txt",
    "rw/link_out/secret.txt",
];

/// Where [`STRINGS`] start in the guest's memory (each NUL-terminated).
const STRINGS_AT: u32 = 0x4000;
/// An array of [`IOVECS`] iovecs over buffers at [`BUFFERS_AT`].
const IOVS_AT: u32 = 0x6000;
const IOVECS: u32 = 4;
const BUFFERS_AT: u32 = 0x8000;
const BUFFER_LEN: u32 = 1024;
/// Where out-pointers point (results the functions write).
const OUT_AT: u32 = 0xA000;
/// How many bytes of the fuzzer's memory image are loaded at address 0.
pub const MEMORY_IMAGE: usize = 0x4000;

/// One argument of a fuzzed WASI call: mostly values that mean something to
/// the function (a descriptor, a path and its length, an iovec array), some raw.
#[derive(Debug, Clone, Copy, arbitrary::Arbitrary)]
pub enum Arg {
    /// A descriptor 0..16 (3 is the preopen `/`).
    Fd(u8),
    /// The address of one of [`STRINGS`].
    Str(u8),
    /// The length of one of [`STRINGS`].
    Len(u8),
    /// The address of the iovec array.
    Iovs,
    /// A count of iovecs 0..=4.
    IovCount(u8),
    /// An address where a result may be written.
    Out(u8),
    /// Any address in the first page of memory and beyond.
    Ptr(u16),
    /// A small number (flags, whence, lengths).
    Small(u8),
    /// Any value.
    Raw(u64),
}

impl Arg {
    fn value(self) -> u64 {
        let at = |i: u8| STRINGS[i as usize % STRINGS.len()];
        match self {
            Arg::Fd(n) => u64::from(n % 16),
            Arg::Str(i) => u64::from(string_offset(i as usize % STRINGS.len())),
            Arg::Len(i) => at(i).len() as u64,
            Arg::Iovs => u64::from(IOVS_AT),
            Arg::IovCount(n) => u64::from(n) % u64::from(IOVECS + 1),
            Arg::Out(n) => u64::from(OUT_AT + u32::from(n % 64) * 64),
            Arg::Ptr(p) => u64::from(p) * 2,
            Arg::Small(n) => u64::from(n),
            Arg::Raw(v) => v,
        }
    }
}

fn string_offset(index: usize) -> u32 {
    let before: usize = STRINGS[..index].iter().map(|s| s.len() + 1).sum();
    STRINGS_AT + before as u32
}

/// One fuzzed call: which preview1 function (modulo their number) and its arguments.
#[derive(Debug, Clone, arbitrary::Arbitrary)]
pub struct Call {
    /// Index into [`PREVIEW1`], modulo its length.
    pub function: u8,
    /// The arguments (as many as the function takes are used).
    pub args: [Arg; 9],
}

/// A guest that makes `calls` in order from `_start`, with `image` loaded at
/// address 0 of its memory beside the fixed strings, iovecs and buffers.
pub fn wasi_program(image: &[u8], calls: &[Call]) -> Vec<u8> {
    use wasm_encoder::{
        CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, Function, FunctionSection,
        Instruction, MemorySection, MemoryType, Module,
    };
    let (mut types, imports) = preview1_sections();
    let start_type = PREVIEW1.len() as u32;
    types.ty().function([], []);
    let mut functions = FunctionSection::new();
    functions.function(start_type);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: Some(2),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export("_start", ExportKind::Func, PREVIEW1.len() as u32);
    exports.export("memory", ExportKind::Memory, 0);
    let mut body = Function::new([]);
    for call in calls {
        let index = call.function as usize % PREVIEW1.len();
        let (params, results) = signature_types(PREVIEW1[index].1);
        for (ty, arg) in params.iter().zip(call.args) {
            body.instruction(&match ty {
                wasm_encoder::ValType::I64 => Instruction::I64Const(arg.value() as i64),
                _ => Instruction::I32Const(arg.value() as u32 as i32),
            });
        }
        body.instruction(&Instruction::Call(index as u32));
        for _ in results {
            body.instruction(&Instruction::Drop);
        }
    }
    body.instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&body);
    let mut data = DataSection::new();
    let image = &image[..image.len().min(MEMORY_IMAGE)];
    data.active(0, &ConstExpr::i32_const(0), image.iter().copied());
    let strings: Vec<u8> = STRINGS.iter().flat_map(|s| s.bytes().chain([0])).collect();
    data.active(0, &ConstExpr::i32_const(STRINGS_AT as i32), strings);
    let iovs: Vec<u8> = (0..IOVECS)
        .flat_map(|i| {
            let ptr = BUFFERS_AT + i * BUFFER_LEN;
            ptr.to_le_bytes()
                .into_iter()
                .chain(BUFFER_LEN.to_le_bytes())
        })
        .collect();
    data.active(0, &ConstExpr::i32_const(IOVS_AT as i32), iovs);
    data.active(
        0,
        &ConstExpr::i32_const(BUFFERS_AT as i32),
        b"written by the fuzzed guest\n".iter().copied(),
    );
    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&functions)
        .section(&memories)
        .section(&exports)
        .section(&code)
        .section(&data);
    module.finish()
}

/// The `wasi` target's world in `root`: `outside/` (which no guest may
/// reach), `ro/` mounted read-only at `/ro`, `rw/` writable at `/rw`, and
/// the file `single.txt` mounted read-only at `/single.txt`; links in both
/// mounts point out of them (relative and absolute) and into each other.
pub fn wasi_tree(root: &Path) -> std::io::Result<ModuleRun> {
    use std::os::unix::fs::symlink;
    let (outside, ro, rw) = (root.join("outside"), root.join("ro"), root.join("rw"));
    std::fs::create_dir_all(ro.join("sub"))?;
    std::fs::create_dir_all(rw.join("dir"))?;
    std::fs::create_dir(&outside)?;
    std::fs::write(outside.join("secret.txt"), "outside the tree\n")?;
    std::fs::write(ro.join("a.txt"), "read-only a\n")?;
    std::fs::write(ro.join("sub/b.txt"), "read-only b\n")?;
    std::fs::write(rw.join("c.txt"), "writable c\n")?;
    std::fs::write(root.join("single.txt"), "a single-file mount\n")?;
    symlink("../outside/secret.txt", ro.join("link_out"))?;
    symlink(outside.join("secret.txt"), ro.join("abs_link"))?;
    symlink("../outside", rw.join("link_out"))?;
    symlink(&outside, rw.join("abs_link"))?;
    symlink("../ro/a.txt", rw.join("link_ro"))?;
    Ok(ModuleRun {
        limits: limits(),
        mounts: vec![
            mount("/ro", ro, true),
            mount("/rw", rw, false),
            mount("/single.txt", root.join("single.txt"), true),
        ],
        ..ModuleRun::default()
    })
}
