//! Which profile hardens a file: the `--profile` layers; else the team's profile, a
//! `compose-harden.yml` (or `.compose-harden.yml`) beside the file or in a directory above
//! it, up to the repository root; else the built-in `production`.

use compose_harden::{Error, Profile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The names a team profile is found by, in the order they are looked for.
pub const NAMES: &[&str] = &["compose-harden.yml", ".compose-harden.yml"];

#[derive(clap::Args, Clone)]
pub struct ProfileArgs {
    /// A built-in profile name or the path of a profile file; repeat to layer them (a later
    /// one is merged over the earlier ones). Default: the team's compose-harden.yml beside
    /// the file or above it, else `production`.
    #[arg(short, long = "profile", value_name = "NAME|PATH")]
    pub profile: Vec<String>,
    /// Ignore compose-harden.yml files (use --profile, or `production`).
    #[arg(long)]
    pub no_config: bool,
    /// Size limits from a sizing file written by `compose-harden measure`.
    #[arg(long, value_name = "FILE")]
    pub sizing: Option<std::path::PathBuf>,
    /// With --sizing: the limit is the measured peak times this (1.2 to 1.5).
    #[arg(long, value_name = "FACTOR", default_value = "1.3", requires = "sizing")]
    pub headroom: f64,
    /// With --sizing and --enforce: also lower a user's memory limit to the measured one
    /// (one window rarely shows a service's worst day).
    #[arg(long, requires = "sizing")]
    pub allow_lower: bool,
}

/// A profile, and how reports name it.
pub struct Chosen {
    pub profile: Profile,
    /// The names given (joined with ` + `), the path found, or `production`.
    pub name: String,
    /// Found beside or above the file, not named on the command line.
    pub found: bool,
}

/// The profiles of a run: the layers named once, or one per team profile found.
pub struct Profiles {
    named: Option<Arc<Chosen>>,
    no_config: bool,
    by_path: Mutex<HashMap<Option<PathBuf>, Arc<Chosen>>>,
    sizing: Option<(compose_harden::sizing::Sizing, f64, bool)>,
}

impl Profiles {
    /// Reads the named layers now, so that a bad one fails before any file is read.
    pub fn new(args: &ProfileArgs) -> Result<Profiles, Error> {
        let sizing = match &args.sizing {
            None => None,
            Some(path) => {
                let shown = path.display().to_string();
                if !(1.2..=1.5).contains(&args.headroom) {
                    return Err(Error::new(
                        &shown,
                        format!(
                            "--headroom {}: the lesson puts limits 20-50% above the peak; give 1.2 to 1.5",
                            args.headroom
                        ),
                    ));
                }
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::new(&shown, format!("cannot read the sizing file: {}", compose_harden::error::io_reason(&e)))
                })?;
                Some((compose_harden::sizing::parse(&shown, &text)?, args.headroom, args.allow_lower))
            }
        };
        let mut profiles =
            Profiles { named: None, no_config: args.no_config, by_path: Mutex::new(HashMap::new()), sizing };
        if !args.profile.is_empty() {
            let names: Vec<&str> = args.profile.iter().map(String::as_str).collect();
            let profile = profiles.sized(Profile::layered(&names)?)?;
            profiles.named = Some(Arc::new(Chosen { profile, name: names.join(" + "), found: false }));
        }
        Ok(profiles)
    }

    /// The profile with the sizing file's limits: the one `--sizing` names, else the one
    /// the profile names (`sizing: {file: ...}`).
    fn sized(&self, profile: Profile) -> Result<Profile, Error> {
        if let Some((sizing, headroom, lower)) = &self.sizing {
            return Ok(profile.with_sizing(sizing, *headroom, *lower));
        }
        let Some(settings) = profile.sizing.clone() else { return Ok(profile) };
        let text = std::fs::read_to_string(&settings.file).map_err(|e| {
            let why = compose_harden::error::io_reason(&e);
            Error::new(&settings.file, format!("cannot read the sizing file the profile names (sizing.file): {why}"))
        })?;
        let sizing = compose_harden::sizing::parse(&settings.file, &text)?;
        Ok(profile.with_sizing(&sizing, settings.headroom, settings.allow_lower))
    }

    /// The profile for `file` (`-` for standard input: found from the current directory).
    pub fn for_file(&self, file: &str) -> Result<Arc<Chosen>, Error> {
        if let Some(named) = &self.named {
            return Ok(named.clone());
        }
        let found = if self.no_config { None } else { find(file, NAMES) };
        let mut cache = self.by_path.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(chosen) = cache.get(&found) {
            return Ok(chosen.clone());
        }
        let chosen = match &found {
            Some(path) => {
                let name = path.display().to_string();
                Chosen { profile: self.sized(Profile::layered(&[&name])?)?, name, found: true }
            }
            None => {
                let profile = self.sized(Profile::load("production")?)?;
                Chosen { profile, name: "production".into(), found: false }
            }
        };
        let chosen = Arc::new(chosen);
        cache.insert(found, chosen.clone());
        Ok(chosen)
    }
}

/// A file of one of `names` for `file` (the team profile, the image facts): in its
/// directory, then each one above, stopping at the repository root (a directory with
/// `.git`) or the top of the file system.
pub fn find(file: &str, names: &[&str]) -> Option<PathBuf> {
    let start = match file {
        "-" => PathBuf::from("."),
        _ => Path::new(file).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    let start = if start.as_os_str().is_empty() { PathBuf::from(".") } else { start };
    let absolute = std::fs::canonicalize(&start).ok()?;
    let mut shown = start;
    for dir in absolute.ancestors() {
        for name in names {
            if dir.join(name).is_file() {
                // As the user would write it: relative to where the search started.
                let path = shown.join(name);
                return Some(path.strip_prefix("./").map(Path::to_path_buf).unwrap_or(path));
            }
        }
        if dir.join(".git").exists() {
            return None;
        }
        shown = shown.join("..");
    }
    None
}
