//! The commands: one module each, the arguments they take, and what they share (reading
//! and writing files, the work pool).

mod apply;
mod io;
mod parallel;
mod rules;
mod verify;

use clap::{Parser, Subcommand};

/// Harden Docker Compose files for production, changing nothing else.
#[derive(Parser)]
#[command(name = "compose-harden", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Apply a hardening profile: init, healthcheck, restart, logging, resources, ulimits.
    Apply(apply::Apply),
    /// Run a copy of a stack on the local Docker engine and prove it starts, becomes
    /// healthy, matches its settings and stops on its signal (with --harden: before and after).
    Verify(verify::Verify),
    /// List the rules every finding names, or explain one (`rules healthcheck/missing`).
    Rules(rules::Rules),
}

/// Runs a command; its exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Apply(args) => apply::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Rules(args) => rules::run(&args),
    }
}

/// Writes a command's report to stdout; 2 where stdout cannot take it.
fn print(text: &str) -> u8 {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot write to standard output: {e}");
            2
        }
    }
}
