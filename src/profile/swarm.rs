//! The `swarm` section: what `docker stack deploy` refuses and ignores, and how a service is
//! rolled out and restarted on a swarm.

use schemars::JsonSchema;
use serde::Deserialize;

/// For files deployed with `docker stack deploy`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwarmSettings {
    /// Service keys `docker stack deploy` refuses (the file does not deploy while one is
    /// set): each is an error, with its Swarm spelling where one exists.
    #[serde(default)]
    pub refused: Vec<String>,
    /// Service keys Swarm does not read; a service that sets one is told so.
    pub ignored: Vec<String>,
    /// Where the lists are known from.
    pub source: String,
    /// `deploy.update_config` for a long-running service; its `order` is `start-first` only
    /// where two copies of the service can run side by side.
    pub update_config: Option<Rollout<UpdateFailure>>,
    /// `deploy.rollback_config`, with the same rule for `order`.
    pub rollback_config: Option<Rollout<RollbackFailure>>,
    /// `deploy.restart_policy` beside the condition the `restart` section writes.
    pub restart_policy: Option<SwarmRestart>,
    /// Write `deploy.mode: replicated-job` for a service that runs once and exits.
    #[serde(default)]
    pub jobs: bool,
}

/// How Swarm replaces a service's tasks, one batch at a time.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rollout<F> {
    /// Tasks replaced at once (0: all).
    pub parallelism: u32,
    /// Between batches.
    pub delay: Option<String>,
    /// How long each new task is watched for a failure.
    pub monitor: String,
    pub failure_action: F,
    /// `start-first` is written only where the service can run two copies side by side
    /// (a healthcheck, no writable volume, no port in `mode: host`, not one replica per
    /// node); `stop-first` always.
    pub order: Order,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    StartFirst,
    StopFirst,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::StartFirst => "start-first",
            Order::StopFirst => "stop-first",
        }
    }
}

/// What Swarm does when an update fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateFailure {
    Pause,
    Continue,
    Rollback,
}

/// What Swarm does when a rollback fails (it cannot roll a rollback back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RollbackFailure {
    Pause,
    Continue,
}

/// A failure's label as the file writes it.
pub trait FailureAction: Copy {
    fn as_str(self) -> &'static str;
}

impl FailureAction for UpdateFailure {
    fn as_str(self) -> &'static str {
        match self {
            UpdateFailure::Pause => "pause",
            UpdateFailure::Continue => "continue",
            UpdateFailure::Rollback => "rollback",
        }
    }
}

impl FailureAction for RollbackFailure {
    fn as_str(self) -> &'static str {
        match self {
            RollbackFailure::Pause => "pause",
            RollbackFailure::Continue => "continue",
        }
    }
}

/// `deploy.restart_policy` besides its condition.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwarmRestart {
    /// Between a task's exit and its replacement.
    pub delay: Option<String>,
}
