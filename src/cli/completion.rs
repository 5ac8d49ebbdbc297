//! `brine completion SHELL` and `brine man`: shell completions and the manual
//! page, generated from the same clap definitions the parser uses, so they
//! cannot drift from the real flags.

use super::{Cli, Failure};
use clap::CommandFactory;
use clap_complete::Shell;

/// Arguments of `brine completion`.
#[derive(Debug, clap::Args)]
pub struct CompletionArgs {
    /// The shell to write completions for.
    shell: Shell,
}

/// Writes the completion script for the shell to stdout.
pub fn completion(args: CompletionArgs) -> Result<i32, Failure> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "brine", &mut std::io::stdout());
    Ok(0)
}

/// Arguments of `brine man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {}

/// Writes the manual page (roff, section 1) to stdout.
pub fn man(_args: ManArgs) -> Result<i32, Failure> {
    let page = clap_mangen::Man::new(Cli::command());
    let mut roff = Vec::new();
    page.render(&mut roff).map_err(Failure::usage)?;
    outbytes(&roff);
    Ok(0)
}

/// Writes bytes to stdout, ignoring a closed pipe (`brine man | head`).
fn outbytes(bytes: &[u8]) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}
