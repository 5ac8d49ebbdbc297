//! Showing untrusted text (names from a module, a job file, a journal) on a
//! terminal without letting it steer the terminal.

/// `text` with control characters and invisible formatting characters (bidi
/// overrides, zero-width marks) written as `\u{…}` escapes, so a hostile export
/// or section name can neither move the cursor nor hide what it is.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_invisible_format(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// `bytes` as lowercase hex, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// The message a caught panic carried (`panic!("...")` or a formatted one);
/// `None` for any other payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}

/// Unicode format characters that change how surrounding text is displayed.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
    )
}

#[cfg(test)]
mod tests {
    use super::{hex, printable};

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[0, 15, 255, 0xab]), "000fffab");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(printable("_start"), "_start");
        assert_eq!(printable("naïve ☃"), "naïve ☃");
        assert_eq!(printable("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("x\ny"), "x\\u{a}y");
        assert_eq!(printable("\u{202e}cod.exe"), "\\u{202e}cod.exe");
    }
}
