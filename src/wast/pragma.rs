//! Per-script settings written as comment lines, which other runners ignore:
//!
//! ```text
//! ;; brine: max-memory 1MiB          (largest linear memory; memory.grow past it returns -1)
//! ;; brine: fuel 100000              (fuel for each action; running out traps)
//! ;; brine: disable memory64, simd   (turn proposals off, e.g. for assert_invalid of old rules)
//! ;; brine: enable memory64          (turn them back on)
//! ```

use super::WastError;
use crate::units::{parse_size, UnitError};
use wasmi::Config;

/// A WebAssembly proposal that wasmi 2.0 implements and a script may switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// Importing and exporting mutable globals.
    MutableGlobal,
    /// `i32.extend8_s` and friends.
    SignExtension,
    /// `i32.trunc_sat_f32_s` and friends.
    SaturatingFloatToInt,
    /// Blocks and functions with several results.
    MultiValue,
    /// `memory.copy`, `memory.fill`, passive segments.
    BulkMemory,
    /// `funcref`/`externref` values, several tables.
    ReferenceTypes,
    /// Several memories.
    MultiMemory,
    /// `return_call`, `return_call_indirect`.
    TailCall,
    /// `i32.add` and friends in constant expressions.
    ExtendedConst,
    /// 128-bit SIMD.
    Simd,
    /// Relaxed SIMD.
    RelaxedSimd,
    /// 64-bit memories and tables.
    Memory64,
    /// Page sizes other than 64 KiB.
    CustomPageSizes,
    /// `i64.add128`, `i64.mul_wide_s` and friends.
    WideArithmetic,
}

impl Feature {
    /// Every feature, in a stable order.
    pub const ALL: [Feature; 14] = [
        Feature::MutableGlobal,
        Feature::SignExtension,
        Feature::SaturatingFloatToInt,
        Feature::MultiValue,
        Feature::BulkMemory,
        Feature::ReferenceTypes,
        Feature::MultiMemory,
        Feature::TailCall,
        Feature::ExtendedConst,
        Feature::Simd,
        Feature::RelaxedSimd,
        Feature::Memory64,
        Feature::CustomPageSizes,
        Feature::WideArithmetic,
    ];

    /// The proposal's name as the spec repositories spell it (`multi-memory`).
    pub fn name(self) -> &'static str {
        match self {
            Feature::MutableGlobal => "mutable-global",
            Feature::SignExtension => "sign-extension",
            Feature::SaturatingFloatToInt => "nontrapping-float-to-int",
            Feature::MultiValue => "multi-value",
            Feature::BulkMemory => "bulk-memory",
            Feature::ReferenceTypes => "reference-types",
            Feature::MultiMemory => "multi-memory",
            Feature::TailCall => "tail-call",
            Feature::ExtendedConst => "extended-const",
            Feature::Simd => "simd",
            Feature::RelaxedSimd => "relaxed-simd",
            Feature::Memory64 => "memory64",
            Feature::CustomPageSizes => "custom-page-sizes",
            Feature::WideArithmetic => "wide-arithmetic",
        }
    }

    /// The feature called `name` (see [`Feature::name`]).
    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.name() == name)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of enabled [`Feature`]s; the default is all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features(u32);

impl Default for Features {
    fn default() -> Self {
        Features(Feature::ALL.iter().fold(0, |bits, f| bits | f.bit()))
    }
}

impl Features {
    /// Whether `feature` is on.
    pub fn contains(self, feature: Feature) -> bool {
        self.0 & feature.bit() != 0
    }

    /// This set with `feature` switched `on` or off.
    pub fn with(self, feature: Feature, on: bool) -> Features {
        if on {
            Features(self.0 | feature.bit())
        } else {
            Features(self.0 & !feature.bit())
        }
    }

    /// Sets these features on a wasmi [`Config`].
    pub fn apply(self, config: &mut Config) {
        let on = |f| self.contains(f);
        config
            .wasm_mutable_global(on(Feature::MutableGlobal))
            .wasm_sign_extension(on(Feature::SignExtension))
            .wasm_saturating_float_to_int(on(Feature::SaturatingFloatToInt))
            .wasm_multi_value(on(Feature::MultiValue))
            .wasm_bulk_memory(on(Feature::BulkMemory))
            .wasm_reference_types(on(Feature::ReferenceTypes))
            .wasm_multi_memory(on(Feature::MultiMemory))
            .wasm_tail_call(on(Feature::TailCall))
            .wasm_extended_const(on(Feature::ExtendedConst))
            .wasm_simd(on(Feature::Simd))
            .wasm_relaxed_simd(on(Feature::RelaxedSimd))
            .wasm_memory64(on(Feature::Memory64))
            .wasm_custom_page_sizes(on(Feature::CustomPageSizes))
            .wasm_wide_arithmetic(on(Feature::WideArithmetic));
    }
}

/// The settings a script gives itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pragmas {
    /// `max-memory`: largest linear memory in bytes.
    pub max_memory: Option<u64>,
    /// `fuel`: fuel for each action.
    pub fuel: Option<u64>,
    /// `enable`/`disable`: the proposals on.
    pub features: Features,
}

/// Reads every `;; brine:` line of `text` (named `file` in errors); `enable`
/// and `disable` switch features of `base`.
pub fn parse(file: &str, text: &str, base: Features) -> Result<Pragmas, WastError> {
    let mut pragmas = Pragmas {
        features: base,
        ..Pragmas::default()
    };
    for (index, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix(";; brine:") else {
            continue;
        };
        apply_line(&mut pragmas, rest.trim()).map_err(|error| WastError::Pragma {
            file: file.to_string(),
            line: index + 1,
            error,
        })?;
    }
    Ok(pragmas)
}

/// A `;; brine:` setting (or a `brine wast` flag) that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PragmaError {
    /// `max-memory` is not a size.
    #[error(transparent)]
    Size(#[from] UnitError),
    /// `max-memory` is smaller than the `spectest` module's own memory.
    #[error("max-memory {bytes} is below one wasm page (64KiB), which the spectest module needs")]
    BelowOnePage {
        /// The limit asked for.
        bytes: u64,
    },
    /// `fuel` is not a whole number.
    #[error("`{value}` is not an amount of fuel")]
    Fuel {
        /// The value as written.
        value: String,
    },
    /// A proposal brine does not know.
    #[error("unknown feature `{name}` (known: {known})")]
    UnknownFeature {
        /// The name as written.
        name: String,
        /// Every known name, comma-separated.
        known: String,
    },
    /// A setting other than max-memory, fuel, enable or disable.
    #[error("unknown brine setting `{key}` (use max-memory, fuel, enable or disable)")]
    UnknownSetting {
        /// The setting as written.
        key: String,
    },
}

fn apply_line(pragmas: &mut Pragmas, line: &str) -> Result<(), PragmaError> {
    let (key, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let value = value.trim();
    match key {
        "max-memory" => pragmas.max_memory = Some(at_least_one_page(parse_size(value)?)?),
        "fuel" => {
            let fuel = value.parse().map_err(|_| PragmaError::Fuel {
                value: value.to_string(),
            })?;
            pragmas.fuel = Some(fuel);
        }
        "enable" | "disable" => {
            for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let feature = feature(name)?;
                pragmas.features = pragmas.features.with(feature, key == "enable");
            }
        }
        other => {
            return Err(PragmaError::UnknownSetting {
                key: other.to_string(),
            })
        }
    }
    Ok(())
}

/// The smallest memory limit a script can run under: the `spectest` module's
/// own memory is one 64 KiB page.
pub const MIN_MAX_MEMORY: u64 = 64 << 10;

/// `bytes`, when it is at least [`MIN_MAX_MEMORY`].
pub fn at_least_one_page(bytes: u64) -> Result<u64, PragmaError> {
    if bytes < MIN_MAX_MEMORY {
        return Err(PragmaError::BelowOnePage { bytes });
    }
    Ok(bytes)
}

/// The proposal called `name`; the error lists the known names.
pub fn feature(name: &str) -> Result<Feature, PragmaError> {
    Feature::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
        PragmaError::UnknownFeature {
            name: name.to_string(),
            known: known.join(", "),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_settings_from_comments() {
        let text = ";; brine: max-memory 1MiB\n(module)\n  ;; brine: fuel 500\n;; brine: disable simd, memory64\n";
        let p = parse("t.wast", text, Features::default()).unwrap();
        assert_eq!(p.max_memory, Some(1 << 20));
        assert_eq!(p.fuel, Some(500));
        assert!(!p.features.contains(Feature::Simd));
        assert!(!p.features.contains(Feature::Memory64));
        assert!(p.features.contains(Feature::TailCall));
    }

    #[test]
    fn unknown_settings_name_the_line() {
        let err = parse("t.wast", "\n;; brine: speed 11\n", Features::default()).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("t.wast:2: unknown brine setting `speed`"));
        assert!(parse("t.wast", ";; brine: enable gc", Features::default()).is_err());
        assert!(parse("t.wast", ";; brine: fuel lots", Features::default()).is_err());
    }
}
