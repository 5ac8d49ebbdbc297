//! The `brine` command: parses arguments and hands them to [`brine::cli`].
#![forbid(unsafe_code)]

fn main() {
    std::process::exit(brine::cli::main());
}
