//! Subcommand arguments clap builds only for the subcommand given.
//!
//! clap's derive builds every subcommand's arguments (help texts, value
//! parsers, defaults) before it parses anything, and drops them all after:
//! for `brine run` that was a fifth of its own start-up instructions. Wrapping
//! a subcommand's `Args` in [`Lazy`] defers that work with
//! `Command::defer`, which clap runs only when it enters that subcommand
//! (or renders help, completions or the manual, which build everything).

use clap::{ArgMatches, Args, Command, FromArgMatches};
use std::ops::{Deref, DerefMut};

/// `T`'s arguments, added to its subcommand only when that subcommand runs.
#[derive(Debug)]
pub struct Lazy<T>(pub T);

impl<T> Lazy<T> {
    /// The arguments themselves.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Lazy<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Lazy<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: Args> Args for Lazy<T> {
    fn augment_args(cmd: Command) -> Command {
        cmd.defer(|cmd| keeping_about(cmd, T::augment_args))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        cmd.defer(|cmd| keeping_about(cmd, T::augment_args_for_update))
    }

    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

/// Runs `augment` on `cmd` but keeps the subcommand's own about texts: the
/// derive sets them from the enum variant's doc comment after `augment_args`,
/// so eagerly the variant's wins over the `Args` struct's, and so it must here.
fn keeping_about(cmd: Command, augment: fn(Command) -> Command) -> Command {
    let about = cmd.get_about().cloned();
    let long_about = cmd.get_long_about().cloned();
    let mut cmd = augment(cmd);
    if let Some(about) = about {
        cmd = cmd.about(about);
    }
    if let Some(long_about) = long_about {
        cmd = cmd.long_about(long_about);
    }
    cmd
}

impl<T: FromArgMatches> FromArgMatches for Lazy<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Lazy)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Lazy)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}
