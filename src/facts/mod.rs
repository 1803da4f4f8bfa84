//! Image facts: what an image is, read from the engine by `compose-harden inspect` (its
//! config, the probe tools on its own PATH, whether its entrypoint is an init), kept in a
//! file beside the compose file (`compose-harden.images.yml`) so that a run without an
//! engine decides exactly as the host that inspected the images did. The format is
//! documented in `docs/facts.md`; `schemas/facts.schema.json` is generated from these types.
//!
//! Plain data: nothing here talks to an engine. The commands read the engine
//! (`src/engine/`) and hand what it said to [`config`] and [`search`].

pub mod config;
pub mod proven;
mod read;
pub mod search;
mod write;

pub use proven::{DecidedBy, Evidence, Proven, ProvenProbe};
pub use read::parse;
pub use write::{render, Owner};

use schemars::JsonSchema;
use serde::{de, Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The format version this build reads and writes.
pub const VERSION: u32 = 1;

/// The file's name, looked for beside the compose file (as the team profile is).
pub const FILE_NAME: &str = "compose-harden.images.yml";

/// The first lines of every facts file.
pub const HEADER: &str = "# Image facts: what `compose-harden inspect` read from the engine, for apply, check and\n\
                          # verify --harden to decide from without one (format version 1: docs/facts.md).\n\
                          # `inspect` rewrites `inspected`, `images` and `builds`; `probes` rewrites `services`.\n";

/// A facts file. Each top-level section has one owner, the command that writes it; a
/// command rewrites its own sections and keeps the others as they are (see [`Owner`]).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "compose-harden image facts", description = "A facts file (compose-harden.images.yml)")]
pub struct Facts {
    /// The format version: 1.
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// How the images were inspected (written by `compose-harden inspect`).
    #[serde(default)]
    pub inspected: Option<Inspected>,
    /// Each image the project names, by its reference exactly as the compose file writes
    /// it (`postgres:16`, `${REGISTRY}/app:1`), sorted (written by `compose-harden inspect`).
    #[serde(default, deserialize_with = "unique")]
    pub images: BTreeMap<String, Image>,
    /// The images of services that build their image and name none, by service name: Compose
    /// names such an image after the project, which differs between checkouts (written by
    /// `compose-harden inspect`).
    #[serde(default, deserialize_with = "unique")]
    pub builds: BTreeMap<String, Image>,
    /// What `compose-harden probes` proved for each service, by service name (written by
    /// `probes`; `inspect` keeps it as it is).
    #[serde(default, deserialize_with = "unique")]
    pub services: BTreeMap<String, Proven>,
}

/// How the images were inspected.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inspected {
    /// The engine's version (`docker version`'s server version).
    pub engine: String,
    /// Every tool looked for in every image, sorted: a tool listed here and not under an
    /// image's `tools` is absent from that image; a tool not listed here is unknown.
    pub tools: Vec<String>,
}

/// What one image is.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// The image ID (its config digest, `sha256:...`): the facts are stale once the engine
    /// resolves the reference to another ID.
    #[schemars(regex(pattern = r"^sha256:[0-9a-f]{64}$"))]
    pub id: String,
    /// The reference the engine was asked for, where the file's holds `${...}` (Compose
    /// interpolated it), or, under `builds`, the name Compose gave the built image.
    #[serde(default)]
    pub reference: Option<String>,
    /// Repository digests (`repo@sha256:...`); none for an image built locally.
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// `os/architecture[/variant]`.
    #[schemars(regex(pattern = r"^[^/\s]+/[^/\s]+(/[^/\s]+)?$"))]
    pub platform: String,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    /// The user it runs as; none for root (the default).
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub working_dir: Option<String>,
    /// Its STOPSIGNAL; none for SIGTERM (the engine's default).
    #[serde(default)]
    pub stop_signal: Option<String>,
    /// Its own HEALTHCHECK; `test: [NONE]` where it disables one it inherited.
    #[serde(default)]
    pub healthcheck: Option<Healthcheck>,
    /// `port/protocol`, by port.
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    /// Its VOLUMEs, sorted.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// The names of its environment variables, sorted. Never their values: they may be
    /// secrets. PATH's value is kept apart, as `path`.
    #[serde(default)]
    pub env: Vec<String>,
    /// Its OCI labels (`org.opencontainers.image.*`); other labels are left out.
    #[serde(default, deserialize_with = "unique")]
    pub labels: BTreeMap<String, String>,
    /// The directories searched for tools, in order: the image's PATH, else the engine's
    /// default.
    pub path: Vec<String>,
    /// Whether `/bin/sh` exists and is executable: `CMD-SHELL` runs it.
    pub bin_sh: bool,
    /// Each tool found, by name: where (`/usr/bin/curl`), with the file a link resolves
    /// to (`/bin/wget -> /bin/busybox`).
    #[serde(default, deserialize_with = "unique")]
    #[schemars(with = "BTreeMap<String, ToolText>")]
    pub tools: BTreeMap<String, Tool>,
    /// The init the entrypoint starts, if it is one.
    #[serde(default)]
    pub init: Option<Init>,
    /// `inspected.tools`, given to each image when the file is read.
    #[serde(skip)]
    #[schemars(skip)]
    pub searched: Arc<[String]>,
}

/// A mapping whose keys are each given once (YAML forbids a key twice; serde's maps would
/// keep the last silently).
fn unique<'de, D: Deserializer<'de>, V: Deserialize<'de>>(d: D) -> Result<BTreeMap<String, V>, D::Error> {
    struct Unique<V>(std::marker::PhantomData<V>);
    impl<'de, V: Deserialize<'de>> de::Visitor<'de> for Unique<V> {
        type Value = BTreeMap<String, V>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a mapping")
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(de::Error::custom(format!("`{key}` is given twice")));
                }
                let value = map.next_value()?;
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Unique(std::marker::PhantomData))
}

/// An image's own HEALTHCHECK, as Compose writes one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Healthcheck {
    pub test: Vec<String>,
    #[serde(default)]
    pub interval: Option<String>,
    #[serde(default)]
    pub timeout: Option<String>,
    #[serde(default)]
    pub start_period: Option<String>,
    #[serde(default)]
    pub start_interval: Option<String>,
    #[serde(default)]
    pub retries: Option<u64>,
}

impl Healthcheck {
    /// `HEALTHCHECK NONE`: the image turns off a check it inherited.
    pub fn disabled(&self) -> bool {
        self.test.first().is_some_and(|t| t == "NONE")
    }
}

/// Where a tool is: its path on PATH, and what a link there resolves to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub struct Tool {
    pub path: String,
    pub target: Option<String>,
}

/// How a tool is written: `/usr/bin/curl`, or `/bin/wget -> /bin/busybox`.
#[derive(JsonSchema)]
#[schemars(transparent)]
#[allow(dead_code)]
struct ToolText(#[schemars(regex(pattern = r"^/\S*( -> /\S*)?$"))] String);

impl Tool {
    /// A busybox applet: a link to a `busybox` binary.
    pub fn is_busybox_applet(&self) -> bool {
        self.target.as_deref().is_some_and(|t| t.rsplit('/').next() == Some("busybox"))
    }
}

impl std::fmt::Display for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.target {
            Some(target) => write!(f, "{} -> {target}", self.path),
            None => f.write_str(&self.path),
        }
    }
}

impl From<String> for Tool {
    /// The reader checks that both paths are absolute ([`Tool::is_written_well`]).
    fn from(text: String) -> Tool {
        match text.split_once(" -> ") {
            Some((path, target)) => Tool { path: path.to_string(), target: Some(target.to_string()) },
            None => Tool { path: text, target: None },
        }
    }
}

impl Tool {
    /// Both paths absolute, without blanks.
    pub fn is_written_well(&self) -> bool {
        let absolute = |p: &str| p.starts_with('/') && !p.contains(char::is_whitespace);
        absolute(&self.path) && self.target.as_deref().is_none_or(absolute)
    }
}

/// The init an image's entrypoint starts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Init {
    pub kind: InitKind,
    /// The program the entrypoint starts, where it was found.
    pub path: String,
    /// What showed the kind besides the name (s6-overlay: a directory only it installs).
    #[serde(default)]
    pub marker: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InitKind {
    Tini,
    DumbInit,
    Catatonit,
    /// s6-overlay's `/init`: refuses to run unless it is PID 1, so never under `init: true`.
    S6Overlay,
    Supervisord,
    Runit,
}

impl InitKind {
    pub fn name(self) -> &'static str {
        match self {
            InitKind::Tini => "tini",
            InitKind::DumbInit => "dumb-init",
            InitKind::Catatonit => "catatonit",
            InitKind::S6Overlay => "s6-overlay",
            InitKind::Supervisord => "supervisord",
            InitKind::Runit => "runit",
        }
    }
}

/// Whether an image has a tool, as far as the facts say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence<'a> {
    Found(&'a Tool),
    /// Looked for and not found.
    Absent,
    /// Not among the tools inspected: the facts cannot say.
    Unknown,
}

impl Image {
    /// Whether the image has `tool` (a name looked up on its PATH, or an absolute path).
    pub fn tool(&self, tool: &str) -> Presence<'_> {
        match self.tools.get(tool) {
            Some(found) => Presence::Found(found),
            None if self.searched.iter().any(|t| t == tool) => Presence::Absent,
            None => Presence::Unknown,
        }
    }

    /// A JVM: a `java` on its PATH.
    pub fn has_java(&self) -> bool {
        self.tools.contains_key("java")
    }
}

/// Whether the facts of an image still describe what the engine runs under its reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    Current,
    /// The engine now resolves the reference to another image.
    Stale {
        now: String,
    },
    /// The engine no longer has an image under the reference.
    Gone,
}

impl Facts {
    /// An empty file of this version.
    pub fn new() -> Facts {
        Facts { version: VERSION, ..Facts::default() }
    }

    /// The facts of the image a service runs: by its `image` reference exactly as the file
    /// writes it; for a service that builds its image and names none, by the service's name.
    pub fn for_service(&self, service: &str, image: Option<&str>, builds: bool) -> Option<&Image> {
        match image {
            Some(reference) => self.images.get(reference),
            None if builds => self.builds.get(service),
            None => None,
        }
    }

    /// Gives each image the list of tools inspected (done by the reader and by `inspect`).
    pub fn share_searched(&mut self) {
        let searched: Arc<[String]> = self.inspected.as_ref().map(|i| i.tools.clone()).unwrap_or_default().into();
        for image in self.images.values_mut().chain(self.builds.values_mut()) {
            image.searched = searched.clone();
        }
    }
}

impl Image {
    /// Compares the recorded ID with the one the engine gives the reference now (None: the
    /// engine has no such image).
    pub fn freshness(&self, now: Option<&str>) -> Freshness {
        match now {
            None => Freshness::Gone,
            Some(id) if id == self.id => Freshness::Current,
            Some(id) => Freshness::Stale { now: id.to_string() },
        }
    }
}

/// The facts file's JSON schema, as `schemas/facts.schema.json` holds it.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Facts);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
