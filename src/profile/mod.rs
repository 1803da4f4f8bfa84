//! Profiles are data: each pass's settings, read from YAML; settings left out turn their pass
//! off.
//! Profile files are read and checked by [`crate::profiles`].

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

mod image;
pub mod merge;
mod services;
mod swarm;
pub use image::{glob_match, image_parts, major_version, reference, Globs, Reference};
pub use merge::{finish, merge};
pub use services::{Match, ServiceOverride, Source};
pub use swarm::{FailureAction, Order, RollbackFailure, Rollout, SwarmRestart, SwarmSettings, UpdateFailure};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile this one builds on: a built-in name or a path relative to this file.
    /// Without it, a profile stands alone and a pass it leaves out is off; with it, a pass
    /// left out is inherited, and `false` turns one off.
    #[serde(default)]
    pub extends: Option<String>,
    #[serde(default)]
    pub description: String,
    pub init: Option<InitSettings>,
    pub healthcheck: Option<HealthcheckSettings>,
    pub restart: Option<RestartSettings>,
    pub logging: Option<LoggingSettings>,
    pub resources: Option<ResourcesSettings>,
    pub ulimits: Option<IndexMap<String, Ulimit>>,
    pub dangerous: Option<DangerousSettings>,
    /// Report host paths, sockets and devices a service mounts.
    pub mounts: Option<MountsSettings>,
    /// Report images on tags that move.
    pub image: Option<ImageSettings>,
    /// Report credentials written into the file.
    pub credentials: Option<CredentialsSettings>,
    pub stop: Option<StopSettings>,
    pub limits: Option<LimitsSettings>,
    pub probe: Option<ProbeSettings>,
    /// Detect `sh -c` commands that keep SIGTERM from the app (no settings).
    pub shell: Option<ShellSettings>,
    /// For `docker stack deploy`: keys Swarm refuses or ignores, rolling updates (the `swarm` profile).
    pub swarm: Option<SwarmSettings>,
    /// Least privilege (the `strict` profile).
    pub security: Option<SecuritySettings>,
    /// Limits sized from a measurement, as `apply --sizing` (the flag comes first).
    pub sizing: Option<SizingSettings>,
    /// Ulimits some images need beyond the general ones.
    #[serde(default)]
    pub image_ulimits: Vec<ImageUlimits>,
    /// Rule ids (`healthcheck/no-probe`) whose findings and changes a team does not want,
    /// in every file: as if each file skipped them.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// The severity this team gives a rule in `check`'s reports (`image/latest: error`).
    #[serde(default)]
    pub severity: IndexMap<String, Level>,
    /// Rule ids whose fixes this team counts as safe, though the tool counts them unsafe.
    #[serde(default)]
    pub safe_fixes: Vec<String>,
    /// Rule ids whose fixes this team counts as unsafe: held back unless `--unsafe-fixes`.
    #[serde(default)]
    pub unsafe_fixes: Vec<String>,
    /// Per-service overrides, in order: each matches services (`match: {name, image,
    /// label}`) and merges its keys over the profile for them; a later override wins. `skip`
    /// skips passes or rule ids there.
    #[serde(default)]
    #[schemars(with = "Vec<ServiceOverride>")]
    pub services: Vec<yaml_serde::Value>,
    /// What the profile was merged from, for per-service overrides.
    #[serde(skip)]
    #[schemars(skip)]
    pub source: services::Source,
    /// What a sizing file measured, by service (`apply --sizing`).
    #[serde(skip)]
    #[schemars(skip)]
    pub measured: std::collections::HashMap<String, Measured>,
}

/// What a measurement says of one service: the evidence of its limits, or why it is not
/// sized; its peak; the image it was measured with.
#[derive(Debug, Clone)]
pub struct Measured {
    pub sized: Result<String, String>,
    pub peak_bytes: f64,
    pub image: String,
    /// The measured memory limit, where the service is sized.
    pub limit: Option<String>,
    /// `--enforce` may lower a user's limit to it, not only raise one.
    pub allow_lower: bool,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShellSettings {
    /// Write `exec` before a single simple `sh -c` command where init is in effect (a
    /// repair); off: report it only.
    #[serde(default = "yes")]
    pub repair: bool,
}

fn yes() -> bool {
    true
}

/// Repairs of healthchecks the user wrote.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeSettings {
    /// Images (besides `*-alpine` tags) built on Alpine, which has wget and no curl.
    pub alpine_images: Vec<String>,
    /// Alpine-based `repo:tag` patterns known to add curl (`nginx:*alpine`).
    #[serde(default)]
    pub alpine_with_curl: Vec<String>,
    /// `repo:tag` patterns known to ship no curl (checked before `alpine_with_curl`).
    #[serde(default)]
    pub without_curl: Vec<String>,
    /// Slow starters that need a `start_period` before failures count.
    pub slow_start: Vec<SlowStart>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlowStart {
    #[serde(default)]
    pub images: Vec<String>,
    /// Also any service that sets JAVA_OPTS or JAVA_TOOL_OPTIONS.
    #[serde(default)]
    pub jvm: bool,
    pub start_period: String,
    pub why: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageUlimits {
    pub images: Vec<String>,
    pub ulimits: IndexMap<String, Ulimit>,
    /// Reported where they are added: why, and what else the image needs to use them.
    pub why: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsSettings {
    /// Write `memswap_limit` equal to the memory limit (`--memory-swap = --memory`).
    pub disable_swap: bool,
    /// The share of the memory limit a JVM heap may take, in percent.
    pub max_heap_percent: f64,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopSettings {
    /// Images that need longer than Docker's 10 s to stop cleanly.
    pub grace_periods: Vec<GracePeriod>,
    /// Images that shut down gracefully on a signal their image does not set as STOPSIGNAL.
    #[serde(default)]
    pub signals: Vec<StopSignal>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GracePeriod {
    pub images: Vec<String>,
    pub stop_grace_period: String,
    pub why: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopSignal {
    pub images: Vec<String>,
    pub stop_signal: String,
    pub why: String,
}

/// Reports settings that hand the container the host.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DangerousSettings {
    /// Also report ports published without a host address (on every interface).
    pub ports_on_all_interfaces: bool,
}

/// A severity a profile gives a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Info,
}

/// Reports host paths, runtime sockets and devices a service mounts (no settings).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MountsSettings {}

/// Reports images that name no tag, `latest` or a tag that moves.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageSettings {
    /// Also report, as info, an image not pinned by digest (`@sha256:...`).
    #[serde(default)]
    pub digest: bool,
}

/// Reports passwords, tokens and keys written into the file (no settings).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsSettings {}

/// `init: true`, except where the image brings its own init.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InitSettings {
    /// Image patterns (`*` matches any run of characters) whose images run their own init.
    #[serde(default)]
    pub own_init_images: Vec<String>,
    /// Images that run their own init, each with why (s6-overlay fails under tini).
    #[serde(default)]
    pub own_init: Vec<OwnInit>,
    /// Programs that, as the first word of `entrypoint`, are an init already.
    pub own_init_entrypoints: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnInit {
    pub images: Vec<String>,
    pub why: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthcheckSettings {
    pub interval: String,
    pub timeout: String,
    pub retries: u32,
    pub start_period: String,
    /// Known images and the probe that works inside each.
    pub probes: Vec<ProbeEntry>,
    /// The HTTP endpoint a team declares its services answer: probed (with a tool the image
    /// has) for a service with exactly one TCP container port and no catalogue entry. No
    /// built-in profile declares one.
    pub http_fallback: Option<HttpFallback>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeEntry {
    /// Image repositories this entry covers, without registry `docker.io` or `library/`.
    pub images: Vec<String>,
    /// The healthcheck `test`; null when the image has no tool a probe could use, or
    /// defines its own HEALTHCHECK.
    pub test: Option<Vec<String>>,
    /// The image defines a HEALTHCHECK, which a compose healthcheck would replace.
    #[serde(default)]
    pub own_healthcheck: bool,
    /// The image starts its own init (tini, dumb-init, s6), so `init: true` is not added.
    #[serde(default)]
    pub own_init: bool,
    /// Where `own_healthcheck` and `own_init` are known from (the image's Dockerfile).
    #[serde(default)]
    pub source: String,
    /// Why this probe works there (or why there is none).
    pub why: String,
    /// Tags that need another probe: by major version or by a word in the tag.
    #[serde(default)]
    pub variants: Vec<ProbeVariant>,
    /// Where variants differ and the tag is known only once interpolated (`${TAG}`
    /// without a default): the probe that works for every tag, or null for none.
    pub any_tag: Option<AnyTag>,
    /// What starts the image's own server: words of a command, one or several in a row
    /// (`redis-server`, `rails server`). A service whose command runs none of them (nor
    /// only flags, which the image's entrypoint hands to its server) gets no probe. Empty:
    /// not known, and any command keeps the probe.
    #[serde(default)]
    pub servers: Vec<String>,
    /// How the server takes another port from its command, and how the probe is told.
    pub port: Option<ProbePort>,
    /// How the server takes a password from its command, and how the probe passes it.
    pub password: Option<ProbePassword>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbePort {
    /// The server's options that set its port: `--port 6380`, or `port=5433` (after
    /// postgres's `-c`) for `port`.
    pub flags: Vec<String>,
    pub default: u16,
    /// The probe program's option for the port (`-p`), written after the program.
    pub option: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbePassword {
    /// The server's options that set a password (`--requirepass`).
    pub flags: Vec<String>,
    /// The variable the probe program reads a password from (`REDISCLI_AUTH`); null where
    /// none is known, and no probe is written for a server with a password.
    pub variable: Option<String>,
    /// The first version whose probe program reads that variable (`5.0.3`).
    pub since: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnyTag {
    pub test: Option<Vec<String>>,
    pub why: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeVariant {
    /// Applies to tags whose major version is below this number.
    pub below_major: Option<u32>,
    /// Applies to tags that contain this text (`fpm`, `ubuntu`).
    pub tag_contains: Option<String>,
    /// Applies to tags that match this pattern (`*alpine*slim*`).
    pub tag_matches: Option<String>,
    pub test: Option<Vec<String>>,
    pub why: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpFallback {
    /// `{port}` is replaced by the container port.
    pub test: Vec<String>,
    /// The comment written beside the probe.
    pub note: String,
}

/// A sizing file the profile uses (`compose-harden measure` writes one).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SizingSettings {
    /// Relative to the profile file.
    pub file: String,
    /// The limit is the measured peak times this (1.2 to 1.5).
    #[serde(default = "default_headroom")]
    pub headroom: f64,
    /// Under `--enforce`, also lower a user's memory limit to the measured one.
    #[serde(default)]
    pub allow_lower: bool,
}

fn default_headroom() -> f64 {
    1.3
}

/// Least privilege (the `strict` profile): a pids limit, no-new-privileges, dropped
/// capabilities and a read-only root, each as far as the catalogue knows the image.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// The pids limit for a service no entry of `pids_images` matches.
    pub pids: Option<u32>,
    /// Images that run many tasks (threads count), with their limit and why.
    #[serde(default)]
    pub pids_images: Vec<PidsImage>,
    /// Write `no-new-privileges:true` (a safe addition where the catalogue says so).
    #[serde(default)]
    pub no_new_privileges: bool,
    /// Write `cap_drop: [ALL]` with the catalogue's `cap_add` (unsafe).
    #[serde(default)]
    pub cap_drop: bool,
    /// Write `read_only: true` with the catalogue's `tmpfs` (unsafe).
    #[serde(default)]
    pub read_only: bool,
    /// What images need, each entry with its proof.
    #[serde(default)]
    pub images: Vec<SecurityImage>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PidsImage {
    pub images: Vec<String>,
    pub pids: u32,
    pub why: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityImage {
    pub images: Vec<String>,
    /// Capabilities the image needs once all are dropped (null: not known).
    pub cap_add: Option<Vec<String>>,
    /// Paths the image writes outside its volumes, for `tmpfs` under `read_only` (null: not known).
    pub tmpfs: Option<Vec<String>>,
    /// Paths the image declares as VOLUME: never covered by a tmpfs.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// The image gains no privilege after its first exec, so no-new-privileges is safe.
    #[serde(default)]
    pub no_new_privileges: bool,
    pub why: String,
    /// What proves it: the test that runs it, or the image's documentation.
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartSettings {
    /// `no`, `always`, `on-failure[:N]` or `unless-stopped`; with `swarm`, a Swarm condition:
    /// `any`, `on-failure` or `none`.
    pub policy: String,
    /// Write `deploy.restart_policy.condition`, as Swarm reads it, instead of `restart`.
    #[serde(default)]
    pub swarm: bool,
    /// Services that run once and exit: `policy` would rerun them for ever.
    pub one_shot: Option<OneShot>,
}

/// The one-shot steps a job's command ends in (a migration, a seed, a setup step). A
/// service's name is no evidence: only a waiter or its command decides.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OneShot {
    /// Written instead of `policy` (`on-failure`); null writes none.
    pub policy: Option<String>,
    /// Words (one or several in a row: `mc mb`) that make a command's last step a job
    /// that runs once, where nothing is started after it.
    pub commands: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoggingSettings {
    pub driver: String,
    pub options: IndexMap<String, String>,
    /// Drivers that rotate with `max-size`/`max-file` and so get the missing options.
    pub rotated_drivers: Vec<String>,
    /// Drivers that ship logs off the host: kept, and reported as information.
    #[serde(default)]
    pub remote_drivers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourcesSettings {
    /// For a service no class matches.
    pub limits: Resources,
    pub reservations: Resources,
    /// A memory limit sized from a JVM heap is rounded up to a multiple of this; one sized
    /// from a measurement to this or a half of it (down to 1 MiB), whichever keeps it at most
    /// 1.5 times the peak.
    #[serde(default = "default_unit")]
    pub unit: String,
    /// Classes of images, matched in order by image pattern; the first match wins.
    #[serde(default)]
    pub classes: Vec<ResourceClass>,
}

fn default_unit() -> String {
    crate::units::MEMORY_UNIT.to_string()
}

/// What a class of images needs, and why (a reviewer checks it against the image's
/// documentation).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceClass {
    pub name: String,
    pub images: Vec<String>,
    /// Left out: no limit (a class writes only what it names).
    #[serde(default)]
    pub limits: Resources,
    #[serde(default)]
    pub reservations: Resources,
    /// The share of the memory limit a JVM heap may take here, in percent (otherwise
    /// the `limits` settings' `max_heap_percent`).
    pub max_heap_percent: Option<f64>,
    /// No blanket limit is safe: none is written, and a finding asks for one sized from
    /// the service's measured peak.
    #[serde(default)]
    pub measure: bool,
    pub why: String,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    pub cpus: Option<String>,
    pub memory: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ulimit {
    pub soft: i64,
    pub hard: i64,
}
