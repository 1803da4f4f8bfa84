//! Which image facts a file is hardened with: the file `--images` names; with `--inspect`,
//! the engine's, read now; else a `compose-harden.images.yml` beside the compose file or in
//! a directory above it, up to the repository root (as the team profile is found), unless
//! `--no-images`.

use super::config::find;
use compose_harden::facts::{self, Facts};
use compose_harden::{Error, Profile};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(clap::Args, Clone)]
pub struct ImagesArgs {
    /// Image facts written by `compose-harden inspect`. Default: compose-harden.images.yml
    /// beside the file or above it.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["inspect", "no_images"])]
    pub images: Option<PathBuf>,
    /// Read the image facts from the local engine now, instead of from a file.
    #[arg(long, conflicts_with = "no_images")]
    pub inspect: bool,
    /// Ignore compose-harden.images.yml files.
    #[arg(long)]
    pub no_images: bool,
}

impl ImagesArgs {
    pub fn given(&self) -> bool {
        self.images.is_some() || self.inspect || self.no_images
    }
}

/// The image facts a file is hardened with, and where they came from. The passes' image
/// decisions (probe tools, the image's own healthcheck, init, stop signal, volumes, the JVM)
/// take `facts` as input, beside the profile; nothing here reaches an engine after loading.
pub struct Loaded {
    pub facts: Facts,
    /// The facts file's path as found or given, or `the engine`.
    pub source: String,
    /// Found beside or above the compose file, not named on the command line.
    pub found: bool,
}

impl Loaded {
    /// `compose-harden.images.yml (3 images)`, as notices name it.
    pub fn describe(&self) -> String {
        let count = self.facts.images.len() + self.facts.builds.len();
        format!("{} ({count} image{})", self.source, if count == 1 { "" } else { "s" })
    }
}

/// The image facts of a run: one file named, the engine, or one file per directory found.
pub struct Images {
    named: Option<Arc<Loaded>>,
    inspect: bool,
    no_images: bool,
    by_path: Mutex<HashMap<PathBuf, Arc<Loaded>>>,
}

impl Images {
    /// Reads the file `--images` names now, so that a bad one fails before any compose file
    /// is read.
    pub fn new(args: &ImagesArgs) -> Result<Images, Error> {
        let named = match &args.images {
            Some(path) => {
                Some(Arc::new(Loaded { facts: read(path)?, source: path.display().to_string(), found: false }))
            }
            None => None,
        };
        Ok(Images { named, inspect: args.inspect, no_images: args.no_images, by_path: Mutex::new(HashMap::new()) })
    }

    /// The facts for `file` (`-`: found from the current directory); `profile` names the
    /// tools `--inspect` looks for.
    pub fn for_file(&self, file: &str, profile: &Profile) -> Result<Option<Arc<Loaded>>, Error> {
        if let Some(named) = &self.named {
            return Ok(Some(named.clone()));
        }
        if self.inspect {
            if file == "-" {
                return Err(Error::new("<stdin>", "--inspect reads the images of a named file, not standard input"));
            }
            let facts = super::inspect::live(&[file.to_string()], profile, None, false, None)
                .map_err(|e| Error::new(file, format!("--inspect: {e}")))?;
            return Ok(Some(Arc::new(Loaded { facts, source: "the engine".into(), found: false })));
        }
        if self.no_images {
            return Ok(None);
        }
        let Some(path) = find(file, &[facts::FILE_NAME]) else { return Ok(None) };
        let mut cache = self.by_path.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(loaded) = cache.get(&path) {
            return Ok(Some(loaded.clone()));
        }
        let loaded = Arc::new(Loaded { facts: read(&path)?, source: path.display().to_string(), found: true });
        cache.insert(path, loaded.clone());
        Ok(Some(loaded))
    }
}

fn read(path: &std::path::Path) -> Result<Facts, Error> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(&shown, format!("cannot read the image facts: {}", compose_harden::error::io_reason(&e)))
    })?;
    facts::parse(&shown, &text)
}
