//! `profiles`: the built-in profiles, and any profile shown as it resolves.

use clap::{Args, Subcommand};
use compose_harden::profiles::{self, BUILTIN};

#[derive(Args)]
pub struct Profiles {
    #[command(subcommand)]
    command: ProfilesCommand,
}

#[derive(Subcommand)]
enum ProfilesCommand {
    /// The built-in profiles, one line each.
    List,
    /// A profile with its `extends` chain (and further layers) merged, as YAML.
    Show {
        /// Built-in names or paths; later ones are merged over earlier ones.
        #[arg(required = true, value_name = "NAME|PATH")]
        profiles: Vec<String>,
        /// Say which file and line each value came from.
        #[arg(long)]
        origins: bool,
    },
}

pub fn run(args: &Profiles) -> u8 {
    match &args.command {
        ProfilesCommand::List => {
            let width = BUILTIN.iter().map(|(n, ..)| n.len()).max().unwrap_or(0);
            let mut text = String::new();
            for (name, ..) in BUILTIN {
                let description = compose_harden::Profile::load(name).map(|p| p.description).unwrap_or_default();
                text.push_str(&format!("{name:<width$}  {description}\n"));
            }
            super::print(&text)
        }
        ProfilesCommand::Show { profiles, origins } => {
            let names: Vec<&str> = profiles.iter().map(String::as_str).collect();
            match profiles::show(&names, *origins) {
                Ok(text) => super::print(&text),
                Err(e) => {
                    super::say(&e.to_string());
                    2
                }
            }
        }
    }
}
