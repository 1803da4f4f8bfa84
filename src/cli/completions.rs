//! `completions SHELL`: the shell completion script, from clap's generator.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

#[derive(Args)]
pub struct Completions {
    /// bash, zsh, fish, elvish or powershell.
    shell: Shell,
}

pub fn run(args: &Completions) -> u8 {
    let mut command = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut command, "compose-harden", &mut out);
    super::print(&String::from_utf8_lossy(&out))
}
