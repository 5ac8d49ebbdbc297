//! Start functions that run under the run's limits.
//!
//! wasmi runs a module's `start` function inside instantiation, where it can
//! be neither sliced nor interrupted: a `(start $s)` looping forever would
//! outlast every timeout. So before compiling, brine removes the start section
//! and exports the start function under [`DEFERRED_START`] instead; the
//! instantiator calls that export right after instantiation, under the same
//! deadline and fuel slicing as the entrypoint (see `link.rs`), and hides it
//! from every listing and from other modules.

/// The export name a module's start function is moved to. It begins with a NUL,
/// which no command line can pass, and brine refuses modules exporting it themselves.
pub const DEFERRED_START: &str = "\0brine:start";

const START_SECTION: u8 = 8;
const EXPORT_SECTION: u8 = 7;
const FUNC_EXTERNAL_KIND: u8 = 0;

/// `bytes` (a binary module) with its start section replaced by an export of the
/// start function as [`DEFERRED_START`]; `None` when there is no start section,
/// or the bytes are not a well-formed binary (compiling them reports why).
pub fn defer_start(bytes: &[u8]) -> Option<Vec<u8>> {
    let sections = split_sections(bytes)?;
    let start = sections.iter().find(|s| s.id == START_SECTION)?;
    let start_func = read_u32(start.contents, &mut 0)?;
    let has_exports = sections.iter().any(|s| s.id == EXPORT_SECTION);
    let mut out = bytes[..8].to_vec();
    for section in &sections {
        match section.id {
            EXPORT_SECTION => write_section(
                &mut out,
                EXPORT_SECTION,
                &add_export(section.contents, start_func)?,
            ),
            // The export section comes right before the start section (custom
            // sections aside), so a new one may take the start section's place.
            START_SECTION if !has_exports => {
                write_section(&mut out, EXPORT_SECTION, &add_export(&[0], start_func)?)
            }
            START_SECTION => {}
            _ => out.extend_from_slice(section.raw),
        }
    }
    Some(out)
}

/// One section of a module binary.
struct Section<'a> {
    id: u8,
    /// The section's contents (after its size).
    contents: &'a [u8],
    /// The whole section: id, size and contents.
    raw: &'a [u8],
}

fn split_sections(bytes: &[u8]) -> Option<Vec<Section<'_>>> {
    if bytes.len() < 8 || !bytes.starts_with(b"\0asm") {
        return None;
    }
    let mut sections = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        let begin = at;
        let id = bytes[at];
        at += 1;
        let size = usize::try_from(read_u32(bytes, &mut at)?).ok()?;
        let end = at.checked_add(size).filter(|&end| end <= bytes.len())?;
        sections.push(Section {
            id,
            contents: &bytes[at..end],
            raw: &bytes[begin..end],
        });
        at = end;
    }
    Some(sections)
}

/// Export-section contents with one more export: the start function.
fn add_export(contents: &[u8], start_func: u32) -> Option<Vec<u8>> {
    let mut at = 0;
    let count = read_u32(contents, &mut at)?.checked_add(1)?;
    let mut out = Vec::with_capacity(contents.len() + 24);
    write_leb(&mut out, u64::from(count));
    out.extend_from_slice(&contents[at..]);
    write_leb(&mut out, DEFERRED_START.len() as u64);
    out.extend_from_slice(DEFERRED_START.as_bytes());
    out.push(FUNC_EXTERNAL_KIND);
    write_leb(&mut out, u64::from(start_func));
    Some(out)
}

/// Appends section `id` holding `contents`.
pub(super) fn write_section(out: &mut Vec<u8>, id: u8, contents: &[u8]) {
    out.push(id);
    write_leb(out, contents.len() as u64);
    out.extend_from_slice(contents);
}

/// Reads an unsigned LEB128 u32 at `*at`, advancing it.
fn read_u32(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let mut value: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        let bits = u32::from(byte & 0x7f);
        if shift == 28 && bits > 0x0f {
            return None;
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Appends `value` as unsigned LEB128 (how wasm binaries write counts,
/// indices and sizes).
pub(super) fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exports_of(wasm: &[u8]) -> Vec<String> {
        let engine = wasmi::Engine::default();
        let module = wasmi::Module::new(&engine, wasm).unwrap();
        module.exports().map(|e| e.name().to_string()).collect()
    }

    #[test]
    fn the_start_function_becomes_an_export() {
        for text in [
            "(module (func $s) (start $s))",
            "(module (func $s) (func (export \"f\")) (start $s) (@custom \"c\" \"x\"))",
            "(module (import \"m\" \"f\" (func $i)) (start $i))",
        ] {
            let wasm = wat::parse_str(text).unwrap();
            let rewritten = defer_start(&wasm).expect("has a start section");
            assert!(
                exports_of(&rewritten).contains(&DEFERRED_START.to_string()),
                "{text}"
            );
            assert!(wasmparser::Parser::new(0)
                .parse_all(&rewritten)
                .all(|p| !matches!(p, Ok(wasmparser::Payload::StartSection { .. }))));
        }
    }

    #[test]
    fn modules_without_a_start_section_are_left_alone() {
        assert!(defer_start(&wat::parse_str("(module (func (export \"f\")))").unwrap()).is_none());
        assert!(defer_start(b"(module)").is_none());
        assert!(defer_start(b"\0asm\x01\0\0\0\x08\x05").is_none());
    }

    #[test]
    fn leb128_round_trips() {
        for value in [0, 1, 127, 128, 300, 1 << 21, u32::MAX] {
            let mut out = Vec::new();
            write_leb(&mut out, u64::from(value));
            assert_eq!(read_u32(&out, &mut 0), Some(value));
        }
        assert_eq!(read_u32(&[0xff, 0xff, 0xff, 0xff, 0x7f], &mut 0), None);
    }
}
