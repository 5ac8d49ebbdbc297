//! Guest paths: targets, result paths and module paths, normalized to start
//! with `/`, without empty or `.` components, and never with `..`.

/// Why a guest path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PathError {
    /// The path is empty.
    #[error("expected a path, found an empty string")]
    Empty,
    /// The path holds a NUL character.
    #[error("a path must not contain a NUL character")]
    Nul,
    /// The path climbs with `..`.
    #[error("`{0}` must not contain `..`")]
    DotDot(String),
    /// The path is the root, where nothing may be mounted.
    #[error("`{0}` is the root; expected a path below it (like /inputs)")]
    Root(String),
}

/// Normalizes a guest path: `wasm//main.wasm/` becomes `/wasm/main.wasm`.
/// `..` is refused (a mount must not climb out of where it is put); the root
/// itself comes back as `/`.
pub(crate) fn normalize(path: &str) -> Result<String, PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    if path.contains('\0') {
        return Err(PathError::Nul);
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(PathError::DotDot(path.to_string())),
            other => parts.push(other),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// Like [`normalize`], but the root is refused: nothing may be mounted over `/`.
pub(crate) fn mount_point(path: &str) -> Result<String, PathError> {
    let normalized = normalize(path)?;
    if normalized == "/" {
        return Err(PathError::Root(path.to_string()));
    }
    Ok(normalized)
}

/// Whether normalized `path` is `dir` or lies under it.
pub(crate) fn is_within(path: &str, dir: &str) -> bool {
    path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize("wasm//main.wasm/"), Ok("/wasm/main.wasm".into()));
        assert_eq!(normalize("/./a"), Ok("/a".into()));
        assert_eq!(normalize("/"), Ok("/".into()));
        assert!(normalize("/a/../b").is_err());
        assert!(normalize("").is_err());
        assert!(mount_point("/").is_err());
    }

    #[test]
    fn within() {
        assert!(is_within("/wasm/a.wasm", "/wasm"));
        assert!(is_within("/wasm", "/wasm"));
        assert!(!is_within("/wasmx/a.wasm", "/wasm"));
    }
}
