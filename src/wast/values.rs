//! Script values: arguments to wasmi values, and results checked against
//! what the script expects (NaN patterns, bit-exact floats, v128 lanes, references).

use wasmi::{AsContext, AsContextMut, ExternRef, Nullable, RefType, Val, F32, F64, V128};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::{WastArg, WastRet};

/// A script argument wasmi has no value for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentError {
    /// A component-model value.
    #[error("component-model values are not supported")]
    Component,
    /// A null reference of a heap type wasmi does not implement.
    #[error("{heap} is not supported by wasmi")]
    Heap {
        /// The heap type, as the script writes it.
        heap: String,
    },
    /// `ref.host`.
    #[error("ref.host is not supported by wasmi")]
    RefHost,
}

/// Converts a script argument to a wasmi value (externrefs are allocated in `store`).
pub fn argument(mut store: impl AsContextMut, arg: &WastArg<'_>) -> Result<Val, ArgumentError> {
    let WastArg::Core(core) = arg else {
        return Err(ArgumentError::Component);
    };
    Ok(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(F32::from_bits(v.bits)),
        WastArgCore::F64(v) => Val::F64(F64::from_bits(v.bits)),
        WastArgCore::V128(v) => Val::V128(V128::from(u128::from_le_bytes(v.to_le_bytes()))),
        WastArgCore::RefNull(heap) => match null_kind(heap) {
            Some(RefType::Func) => Val::FuncRef(Nullable::Null),
            Some(RefType::Extern) => Val::ExternRef(Nullable::Null),
            None => {
                return Err(ArgumentError::Heap {
                    heap: show_heap(heap),
                })
            }
        },
        WastArgCore::RefExtern(n) => {
            Val::ExternRef(Nullable::Val(ExternRef::new(store.as_context_mut(), *n)))
        }
        WastArgCore::RefHost(_) => return Err(ArgumentError::RefHost),
    })
}

/// Which wasmi reference type a `ref.null HEAPTYPE` is, if wasmi has it.
fn null_kind(heap: &HeapType<'_>) -> Option<RefType> {
    match heap {
        HeapType::Abstract { shared: false, ty } => match ty {
            AbstractHeapType::Func | AbstractHeapType::NoFunc => Some(RefType::Func),
            AbstractHeapType::Extern | AbstractHeapType::NoExtern => Some(RefType::Extern),
            _ => None,
        },
        _ => None,
    }
}

fn show_heap(heap: &HeapType<'_>) -> String {
    match heap {
        HeapType::Abstract { ty, .. } => format!("ref.null {ty:?}").to_lowercase(),
        HeapType::Concrete(_) | HeapType::Exact(_) => "a typed function reference".to_string(),
    }
}

/// Whether `actual` is what `expected` describes.
pub fn matches(store: impl AsContext, actual: &Val, expected: &WastRet<'_>) -> bool {
    match expected {
        WastRet::Core(core) => matches_core(&store, actual, core),
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

fn matches_core(store: &impl AsContext, actual: &Val, expected: &WastRetCore<'_>) -> bool {
    match (expected, actual) {
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(e), Val::F32(a)) => f32_matches(a.to_bits(), e),
        (WastRetCore::F64(e), Val::F64(a)) => f64_matches(a.to_bits(), e),
        (WastRetCore::V128(e), Val::V128(a)) => v128_matches(a.as_u128(), e),
        (WastRetCore::RefNull(heap), a) => null_matches(heap.as_ref(), a),
        (WastRetCore::RefFunc(_), Val::FuncRef(r)) => !r.is_null(),
        (WastRetCore::RefExtern(want), Val::ExternRef(r)) => extern_matches(store, r, *want),
        (WastRetCore::Either(options), a) => options.iter().any(|o| matches_core(store, a, o)),
        _ => false,
    }
}

fn null_matches(heap: Option<&HeapType<'_>>, actual: &Val) -> bool {
    match (heap.map(null_kind), actual) {
        (None, Val::FuncRef(r)) | (Some(Some(RefType::Func)), Val::FuncRef(r)) => r.is_null(),
        (None, Val::ExternRef(r)) | (Some(Some(RefType::Extern)), Val::ExternRef(r)) => r.is_null(),
        _ => false,
    }
}

fn extern_matches(store: &impl AsContext, actual: &Nullable<ExternRef>, want: Option<u32>) -> bool {
    match (actual, want) {
        (Nullable::Null, _) => false,
        (Nullable::Val(_), None) => true,
        (Nullable::Val(r), Some(n)) => host_value(store, r) == Some(n),
    }
}

/// The `u32` a script's `ref.extern N` carried, if this externref is one.
fn host_value(store: &impl AsContext, r: &ExternRef) -> Option<u32> {
    r.data(store.as_context()).downcast_ref::<u32>().copied()
}

/// Whether f32 `bits` match the pattern (canonical NaN: only the quiet bit set;
/// arithmetic NaN: the quiet bit set, any payload; otherwise bit-exact).
pub fn f32_matches(bits: u32, expected: &NanPattern<wast::token::F32>) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => bits == v.bits,
    }
}

/// Like [`f32_matches`], for f64.
pub fn f64_matches(bits: u64, expected: &NanPattern<wast::token::F64>) -> bool {
    const QUIET: u64 = 0x7ff8_0000_0000_0000;
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == QUIET,
        NanPattern::ArithmeticNan => bits & QUIET == QUIET,
        NanPattern::Value(v) => bits == v.bits,
    }
}

fn lanes<const N: usize>(bits: u128) -> [u64; N] {
    let width = 128 / N;
    let mask = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    std::array::from_fn(|i| ((bits >> (i * width)) as u64) & mask)
}

fn v128_matches(bits: u128, expected: &V128Pattern) -> bool {
    match expected {
        V128Pattern::I8x16(e) => e
            .iter()
            .zip(lanes::<16>(bits))
            .all(|(e, a)| *e as u8 as u64 == a),
        V128Pattern::I16x8(e) => e
            .iter()
            .zip(lanes::<8>(bits))
            .all(|(e, a)| *e as u16 as u64 == a),
        V128Pattern::I32x4(e) => e
            .iter()
            .zip(lanes::<4>(bits))
            .all(|(e, a)| *e as u32 as u64 == a),
        V128Pattern::I64x2(e) => e.iter().zip(lanes::<2>(bits)).all(|(e, a)| *e as u64 == a),
        V128Pattern::F32x4(e) => e
            .iter()
            .zip(lanes::<4>(bits))
            .all(|(e, a)| f32_matches(a as u32, e)),
        V128Pattern::F64x2(e) => e
            .iter()
            .zip(lanes::<2>(bits))
            .all(|(e, a)| f64_matches(a, e)),
    }
}

/// A float for messages: `1.5`, `-0`, `inf`, or `nan:0x400000` (the payload).
fn show_f32_bits(bits: u32) -> String {
    let f = f32::from_bits(bits);
    if f.is_nan() {
        let sign = if bits >> 31 == 1 { "-" } else { "" };
        format!("{sign}nan:0x{:x}", bits & 0x007f_ffff)
    } else {
        f.to_string()
    }
}

fn show_f64_bits(bits: u64) -> String {
    let f = f64::from_bits(bits);
    if f.is_nan() {
        let sign = if bits >> 63 == 1 { "-" } else { "" };
        format!("{sign}nan:0x{:x}", bits & 0x000f_ffff_ffff_ffff)
    } else {
        f.to_string()
    }
}

/// A value as the script would write it: `i32.const 5`, `f32.const nan:0x1`, `ref.null func`.
pub fn show_val(store: impl AsContext, value: &Val) -> String {
    match value {
        Val::I32(v) => format!("i32.const {v}"),
        Val::I64(v) => format!("i64.const {v}"),
        Val::F32(v) => format!("f32.const {}", show_f32_bits(v.to_bits())),
        Val::F64(v) => format!("f64.const {}", show_f64_bits(v.to_bits())),
        Val::V128(v) => format!("v128.const i32x4 {}", show_lanes(&lanes::<4>(v.as_u128()))),
        Val::FuncRef(r) if r.is_null() => "ref.null func".to_string(),
        Val::FuncRef(_) => "ref.func".to_string(),
        Val::ExternRef(Nullable::Null) => "ref.null extern".to_string(),
        Val::ExternRef(Nullable::Val(r)) => match host_value(&store, r) {
            Some(n) => format!("ref.extern {n}"),
            None => "ref.extern".to_string(),
        },
    }
}

fn show_lanes(lanes: &[u64]) -> String {
    let hex: Vec<String> = lanes.iter().map(|l| format!("0x{l:x}")).collect();
    hex.join(" ")
}

fn show_nan_f32(p: &NanPattern<wast::token::F32>) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => show_f32_bits(v.bits),
    }
}

fn show_nan_f64(p: &NanPattern<wast::token::F64>) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".to_string(),
        NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
        NanPattern::Value(v) => show_f64_bits(v.bits),
    }
}

/// What the script expects, as it wrote it.
pub fn show_expected(expected: &WastRet<'_>) -> String {
    match expected {
        WastRet::Core(core) => show_core(core),
        #[allow(unreachable_patterns)]
        _ => "a component-model value".to_string(),
    }
}

fn show_core(expected: &WastRetCore<'_>) -> String {
    match expected {
        WastRetCore::I32(v) => format!("i32.const {v}"),
        WastRetCore::I64(v) => format!("i64.const {v}"),
        WastRetCore::F32(p) => format!("f32.const {}", show_nan_f32(p)),
        WastRetCore::F64(p) => format!("f64.const {}", show_nan_f64(p)),
        WastRetCore::V128(p) => format!("v128.const {}", show_v128_pattern(p)),
        WastRetCore::RefNull(None) => "ref.null".to_string(),
        WastRetCore::RefNull(Some(heap)) => show_heap(heap),
        WastRetCore::RefFunc(_) => "ref.func".to_string(),
        WastRetCore::RefExtern(None) => "ref.extern".to_string(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::Either(options) => {
            let all: Vec<String> = options.iter().map(show_core).collect();
            format!("either ({})", all.join(") or ("))
        }
        other => format!("{other:?} (a GC reference; wasmi has no GC)"),
    }
}

fn show_v128_pattern(p: &V128Pattern) -> String {
    fn join<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
        items
            .into_iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
    match p {
        V128Pattern::I8x16(l) => format!("i8x16 {}", join(l)),
        V128Pattern::I16x8(l) => format!("i16x8 {}", join(l)),
        V128Pattern::I32x4(l) => format!("i32x4 {}", join(l)),
        V128Pattern::I64x2(l) => format!("i64x2 {}", join(l)),
        V128Pattern::F32x4(l) => format!("f32x4 {}", join(l.iter().map(show_nan_f32))),
        V128Pattern::F64x2(l) => format!("f64x2 {}", join(l.iter().map(show_nan_f64))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wast::token::{F32 as WF32, F64 as WF64};

    #[test]
    fn nan_patterns() {
        let canonical = NanPattern::<WF32>::CanonicalNan;
        let arithmetic = NanPattern::<WF32>::ArithmeticNan;
        assert!(f32_matches(0x7fc0_0000, &canonical));
        assert!(f32_matches(0xffc0_0000, &canonical));
        assert!(!f32_matches(0x7fc0_0001, &canonical));
        assert!(f32_matches(0x7fc0_0001, &arithmetic));
        assert!(!f32_matches(0x7f80_0001, &arithmetic));
        assert!(!f32_matches(0x7f80_0000, &arithmetic));
        let canonical64 = NanPattern::<WF64>::CanonicalNan;
        assert!(f64_matches(0x7ff8_0000_0000_0000, &canonical64));
        assert!(!f64_matches(0x7ff8_0000_0000_0001, &canonical64));
    }

    #[test]
    fn floats_compare_bit_exact() {
        let zero = NanPattern::Value(WF32 { bits: 0 });
        assert!(f32_matches(0, &zero));
        assert!(!f32_matches(0x8000_0000, &zero), "-0 is not +0");
        let nan1 = NanPattern::Value(WF64 {
            bits: 0x7ff0_0000_0000_0001,
        });
        assert!(f64_matches(0x7ff0_0000_0000_0001, &nan1));
        assert!(!f64_matches(0x7ff8_0000_0000_0000, &nan1));
    }

    #[test]
    fn v128_lanes_are_little_endian() {
        let bits =
            u128::from_le_bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(v128_matches(bits, &V128Pattern::I32x4([1, 2, 3, -1])));
        assert!(!v128_matches(bits, &V128Pattern::I32x4([1, 2, 3, 4])));
        assert!(v128_matches(
            bits,
            &V128Pattern::I16x8([1, 0, 2, 0, 3, 0, -1, -1])
        ));
    }

    #[test]
    fn values_show_as_wat() {
        let store = wasmi::Store::new(&wasmi::Engine::default(), ());
        assert_eq!(show_val(&store, &Val::I32(-3)), "i32.const -3");
        let nan = Val::F32(F32::from_bits(0x7fc0_0001));
        assert_eq!(show_val(&store, &nan), "f32.const nan:0x400001");
        assert_eq!(
            show_val(&store, &Val::F64(F64::from_float(-0.0))),
            "f64.const -0"
        );
    }
}
