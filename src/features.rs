//! The optional cargo features this build was compiled with, and the one
//! message for a job that needs a feature it lacks.
//!
//! The minimal build (`--no-default-features`) runs local and inline inputs
//! only; a job asking for more is refused when it is planned or checked, with
//! [`missing`]'s message, before anything is fetched or run.

/// The features compiled in, in the order `Cargo.toml` lists them; empty for
/// the minimal build.
pub const ENABLED: &[&str] = &[
    #[cfg(feature = "s3")]
    "s3",
    #[cfg(feature = "http")]
    "http",
];

/// What to say about a job that needs `feature`, after naming what needs it,
/// e.g. `urlDownload needs brine built with the "http" feature (this build
/// has: none); rebuild with default features`.
pub fn missing(feature: &str) -> String {
    format!(
        "needs brine built with the \"{feature}\" feature (this build has: {}); rebuild with default features",
        enabled_list()
    )
}

/// The enabled features joined by `, `, or `none`.
pub fn enabled_list() -> String {
    if ENABLED.is_empty() {
        "none".to_string()
    } else {
        ENABLED.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_feature_and_the_build() {
        let message = missing("http");
        assert!(
            message.starts_with("needs brine built with the \"http\" feature (this build has: ")
        );
        assert!(message.ends_with("); rebuild with default features"));
        assert_eq!(enabled_list() == "none", ENABLED.is_empty());
    }
}
