//! The commands: one module each, the arguments they take, and what they share (reading
//! and writing files, the work pool).

mod apply;
mod check;
mod completions;
mod config;
mod discover;
mod images;
mod inspect;
mod io;
mod measure;
mod output;
mod parallel;
mod probes;
mod profiles;
mod rules;
mod schema;
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
    /// Report what `apply` would change and what it cannot fix, as findings with rule ids
    /// (text, json, sarif, github, gitlab); write nothing.
    Check(check::Check),
    /// Run a copy of a stack on the local Docker engine and prove it starts, becomes
    /// healthy, matches its settings and stops on its signal (with --harden: before and after).
    Verify(verify::Verify),
    /// Read every image the project uses from the local engine (config, probe tools, init)
    /// into the facts file apply, check and verify decide from.
    Inspect(inspect::Inspect),
    /// Run a copy of the project and find, for each service, a healthcheck that passes and
    /// fails when the app is frozen; write it to the facts file apply reads.
    Probes(probes::Probes),
    /// Sample a running project's containers under load and write a sizing file that
    /// `apply --sizing` turns into limits.
    Measure(measure::Measure),
    /// List the rules every finding names, or explain one (`rules healthcheck/missing`).
    Rules(rules::Rules),
    /// List the built-in profiles, or show one resolved (`profiles show team.yml --origins`).
    Profiles(profiles::Profiles),
    /// Print the JSON schema of a file the tool reads (`schema profile`).
    Schema(schema::Schema),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::Completions),
}

/// Runs a command; its exit code.
pub fn run(cli: Cli) -> u8 {
    // A closed stdout ends a filter quietly, as Unix tools do (`apply big.yml | head`):
    // killed by SIGPIPE. verify keeps ignoring it: its teardown must run whatever happens.
    if !matches!(cli.command, Command::Verify(_) | Command::Probes(_)) {
        // SAFETY: sets the process-wide action of one signal, which nothing else sets.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    match cli.command {
        Command::Apply(args) => apply::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Probes(args) => probes::run(&args),
        Command::Measure(args) => measure::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Profiles(args) => profiles::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Completions(args) => completions::run(&args),
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

/// A line on stderr; false where stderr cannot take it (the caller fails with exit 2).
/// Never a panic, unlike `eprintln!`.
pub fn say(line: &str) -> bool {
    use std::io::Write;
    writeln!(std::io::stderr(), "{line}").is_ok()
}
