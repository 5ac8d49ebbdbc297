//! Checks across fields: environment names and values (Bacalhau's rules), the
//! mount table (unique targets, result paths that are not inputs, modules that
//! some input covers) and result names.

use super::error::{Collector, Site};
use super::fields::MapEntry;
use super::paths::is_within;
use super::source::Located;
use super::task::LocatedResult;
use std::collections::BTreeMap;

/// Checks both environments and merges them: the spec form's
/// EnvironmentVariables first, then Task.Env, which wins on a conflict.
pub(crate) fn merge_env(
    cx: &mut Collector,
    legacy: &[MapEntry],
    task: &[MapEntry],
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for entry in legacy.iter().chain(task) {
        check_env(cx, entry);
        env.insert(entry.key.clone(), entry.value.clone());
        let site = entry.value_site.clone();
        cx.sites.env.insert(entry.key.clone(), site);
    }
    env
}

/// Bacalhau's rules for one user variable.
fn check_env(cx: &mut Collector, entry: &MapEntry) {
    if let Err(error) = env_name(&entry.key) {
        cx.at(&entry.key_site, error.to_string());
    }
    if entry.value.is_empty() {
        let msg = format!(
            "`{}` has an empty value; expected a non-empty string",
            entry.key
        );
        cx.at(&entry.value_site, msg);
    } else if entry.value.strip_prefix("env:") == Some("") {
        let msg = "`env:` needs the name of a variable to take the value from (env:NAME)";
        cx.at(&entry.value_site, msg);
    }
}

/// Why a user variable name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum EnvNameError {
    /// Not uppercase letters, digits and `_` starting with a letter; `hint`
    /// suggests the upper-cased name when that would be valid.
    #[error("`{name}` is not a valid environment variable name: expected uppercase letters, digits and _, starting with a letter{hint}")]
    Invalid {
        /// The name.
        name: String,
        /// "; did you mean `X`? ..." or nothing.
        hint: String,
    },
    /// Starts with the reserved `BACALHAU_`.
    #[error("`{0}` uses the reserved prefix BACALHAU_ (system variables are set by the runner)")]
    Reserved(String),
}

/// Whether `name` is a valid user variable name: uppercase letters, digits
/// and `_`, starting with a letter, without the `BACALHAU_` prefix.
pub(crate) fn env_name(name: &str) -> Result<(), EnvNameError> {
    let valid = |n: &str| {
        n.starts_with(|c: char| c.is_ascii_uppercase())
            && n.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    if !valid(name) {
        let upper = name.to_ascii_uppercase();
        let hint = if valid(&upper) {
            format!("; did you mean `{upper}`? (names are not upper-cased for you)")
        } else {
            String::new()
        };
        return Err(EnvNameError::Invalid {
            name: name.to_string(),
            hint,
        });
    }
    if name.starts_with("BACALHAU_") {
        return Err(EnvNameError::Reserved(name.to_string()));
    }
    Ok(())
}

/// The result names brine writes itself in the results directory.
const RESERVED_RESULTS: &[&str] = &["stdout", "stderr", "exitCode", "brine.json"];

/// Checks a result name: one safe path component, not a reserved name.
pub(crate) fn result_name(cx: &mut Collector, site: &Site, name: String) -> Option<String> {
    let problem = if name.is_empty() {
        Some("expected the result's name, found an empty string".to_string())
    } else if name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        Some(format!(
            "expected a single file name for the result, found `{name}` (no /, \\, . or ..)"
        ))
    } else if RESERVED_RESULTS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(&name))
    {
        Some(format!(
            "`{name}` is reserved in the results directory (stdout, stderr, exitCode, brine.json)"
        ))
    } else {
        None
    };
    match problem {
        Some(msg) => {
            cx.at(site, msg);
            None
        }
        None => Some(name),
    }
}

/// Checks the mount table: input targets unique, result names unique, result
/// paths not input targets, and every current-form module under some input.
pub(crate) fn mounts(
    cx: &mut Collector,
    inputs: &[Located],
    results: &[LocatedResult],
    modules: &[(String, Site)],
) {
    let targets: Vec<(&str, &Site)> = inputs
        .iter()
        .filter_map(|i| Some((i.target.as_deref()?, &i.site)))
        .collect();
    for (i, (target, site)) in targets.iter().enumerate() {
        let mut earlier = targets.iter().take(i);
        if let Some((_, first)) = earlier.find(|(t, _)| t == target) {
            let owner = first.path.trim_end_matches(".Target");
            cx.at(site, format!("`{target}` is already the target of {owner}"));
        }
    }
    check_results(cx, &targets, results);
    if targets.len() < inputs.len() {
        return; // an input without a valid target: coverage cannot be judged
    }
    for (module, site) in modules {
        if !targets.iter().any(|(t, _)| is_within(module, t)) {
            let msg = format!(
                "no input source is mounted at {module} (add an InputSource with that Target, or one for a directory above it)"
            );
            cx.at(site, msg);
        }
    }
}

/// Result names unique; result paths not input targets.
fn check_results(cx: &mut Collector, targets: &[(&str, &Site)], results: &[LocatedResult]) {
    for (i, r) in results.iter().enumerate() {
        let mut earlier = results.iter().take(i);
        if let Some(first) = earlier.find(|e| e.result.name == r.result.name) {
            let msg = format!(
                "the result name `{}` is already used by {}",
                r.result.name, first.name_site.path
            );
            cx.at(&r.name_site, msg);
        }
        if let Some((_, input)) = targets.iter().find(|(t, _)| *t == r.result.path) {
            let owner = input.path.trim_end_matches(".Target");
            let msg = format!(
                "`{}` is the target of {owner}; a result path must not be an input",
                r.result.path
            );
            cx.at(&r.path_site, msg);
        } else if let Some((target, input)) = targets
            .iter()
            .find(|(t, _)| is_within(&r.result.path, t) || is_within(t, &r.result.path))
        {
            let owner = input.path.trim_end_matches(".Target");
            let msg = format!(
                "`{}` overlaps `{target}`, the target of {owner}; a result path must neither lie in an input nor hold one (the guest would write into the input, or the input would hide part of the result)",
                r.result.path
            );
            cx.at(&r.path_site, msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        assert!(env_name("EXIT_CODE").is_ok());
        assert!(env_name("A1").is_ok());
        let lower = env_name("exit_code").unwrap_err().to_string();
        assert!(lower.contains("did you mean `EXIT_CODE`?"), "{lower}");
        assert!(env_name("1A").is_err());
        assert!(env_name("").is_err());
        assert!(env_name("A-B").is_err());
        assert!(env_name("BACALHAU_JOB_ID")
            .unwrap_err()
            .to_string()
            .contains("reserved prefix"));
    }
}
