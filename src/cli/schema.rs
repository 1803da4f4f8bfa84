//! `schema`: the JSON schema of the files the tool reads, for editors and CI.

use clap::{Args, ValueEnum};

#[derive(Args)]
pub struct Schema {
    /// Which file format.
    #[arg(value_enum)]
    format: Kind,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    /// A profile file (`--profile`, compose-harden.yml).
    Profile,
    /// An image facts file (`compose-harden inspect`, compose-harden.images.yml).
    Facts,
}

pub fn run(args: &Schema) -> u8 {
    match args.format {
        Kind::Profile => super::print(&compose_harden::profiles::json_schema()),
        Kind::Facts => super::print(&compose_harden::facts::json_schema()),
    }
}
