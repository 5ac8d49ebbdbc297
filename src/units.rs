//! Parsing the units people type: durations (`1s`, `500ms`, `2m`) and sizes
//! (`32MiB`, `1GB`, `512Mb`).

use std::time::Duration;

/// A duration or size that cannot be read; the message shows the text and what to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// The number in front of the unit does not parse.
    #[error("`{text}` is not a duration (try 1s, 500ms, 2m)")]
    NotADuration {
        /// The text as given (trimmed).
        text: String,
    },
    /// A duration unit brine does not know.
    #[error("unknown duration unit `{unit}` in `{text}` (use ms, s, m or h)")]
    DurationUnit {
        /// The unit.
        unit: String,
        /// The whole text (trimmed).
        text: String,
    },
    /// The number in front of the unit does not parse.
    #[error("`{text}` is not a size (try 32MiB, 1GB, 4096)")]
    NotASize {
        /// The text as given.
        text: String,
    },
    /// A size unit brine does not know.
    #[error("unknown size unit `{unit}` in `{text}` (use KiB, MiB, GiB, KB, MB, GB)")]
    SizeUnit {
        /// The unit.
        unit: String,
        /// The whole text as given.
        text: String,
    },
    /// The value does not fit a duration or a 64-bit byte count.
    #[error("`{text}` is out of range")]
    OutOfRange {
        /// The text.
        text: String,
    },
}

/// `text` split where its leading number (digits and dots) ends.
fn split_number(text: &str) -> (&str, &str) {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    text.split_at(split)
}

/// Parses a duration: a number with `ns`, `us`, `ms`, `s`, `m` or `h` (plain numbers are seconds).
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let text = text.trim();
    let (number, unit) = split_number(text);
    let value: f64 = number.parse().map_err(|_| UnitError::NotADuration {
        text: text.to_string(),
    })?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => value,
        "ms" => value / 1e3,
        "us" | "µs" => value / 1e6,
        "ns" => value / 1e9,
        "m" | "min" | "mins" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(UnitError::DurationUnit {
                unit: other.to_string(),
                text: text.to_string(),
            })
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| UnitError::OutOfRange {
        text: text.to_string(),
    })
}

/// Parses a size in bytes: a number with an optional unit. `K`, `M`, `G`, `T`
/// with `i` or `iB` are powers of 1024; `KB`, `MB`, ... are powers of 1000; the
/// unit is case-insensitive (`512Mb` is 512 MB), as Bacalhau reads it.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let (number, unit) = split_number(text.trim());
    let value: f64 = number.parse().map_err(|_| UnitError::NotASize {
        text: text.to_string(),
    })?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024f64.powi(2),
        "gi" | "gib" => 1024f64.powi(3),
        "ti" | "tib" => 1024f64.powi(4),
        other => {
            return Err(UnitError::SizeUnit {
                unit: other.to_string(),
                text: text.to_string(),
            })
        }
    };
    let bytes = (value * multiplier).round();
    if !(0.0..=u64::MAX as f64).contains(&bytes) {
        return Err(UnitError::OutOfRange {
            text: text.to_string(),
        });
    }
    Ok(bytes as u64)
}

/// A byte count as people read it: a whole binary or decimal unit when exact,
/// MiB and up to a tenth, bytes otherwise.
pub fn format_size(bytes: u64) -> String {
    const BINARY: [(u32, &str); 4] = [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")];
    const DECIMAL: [(u64, &str); 4] = [
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1_000, "KB"),
    ];
    // A limit reads best in the unit it was most likely written in: exact binary,
    // then exact decimal, then binary with one decimal place.
    let exact_binary = BINARY
        .into_iter()
        .map(|(shift, unit)| (1u64 << shift, unit));
    for (size, unit) in exact_binary.chain(DECIMAL) {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    for (shift, unit) in BINARY.into_iter().filter(|(shift, _)| *shift >= 20) {
        if bytes >= 1 << shift {
            return format!("{:.1} {unit}", bytes as f64 / (1u64 << shift) as f64);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("1y").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("32MiB"), Ok(32 << 20));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("512Mb"), Ok(512_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }

    #[test]
    fn sizes_are_shown_in_the_largest_exact_unit() {
        assert_eq!(format_size(64 << 20), "64 MiB");
        assert_eq!(format_size(4 << 30), "4 GiB");
        assert_eq!(format_size(1536), "1536 bytes");
        assert_eq!(format_size(0), "0 bytes");
        assert_eq!(format_size(3 << 10), "3 KiB");
        assert_eq!(format_size(80_000_001), "76.3 MiB");
        assert_eq!(format_size(1_000_000), "1 MB");
    }
}
