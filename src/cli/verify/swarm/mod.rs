//! `verify --swarm`: the copy deployed as a stack on the swarm the engine is a manager of.
//! verify never makes or leaves a swarm on the user's engine; it says how where there is none.
//! The stack is read as `docker stack deploy` reads it (`docker stack config`), deployed with
//! `--resolve-image never` (images are local), and always removed, with what `stack rm`
//! leaves (its volumes) and what it has not removed yet when it returns.

mod copy;
mod kill;
mod run;
mod spec;
mod stop;
mod tasks;
mod update;

pub use run::execute;

use super::bound;
use super::copy::{Allow, LABEL, PID_LABEL};
use super::mask::Mask;
use super::run::{fresh_name, Fatal};
use crate::engine::swarm::Membership;
use crate::engine::Docker;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A stack ready to deploy: every check that needs no task has passed.
pub struct Prepared {
    pub label: &'static str,
    pub stack: String,
    pub adjustments: Vec<String>,
    model: Value,
    /// The copy's services, with what the image's own HEALTHCHECK gives where the file
    /// sets no check (for the bounds).
    services: serde_json::Map<String, Value>,
    file: PathBuf,
    _dir: tempfile::TempDir,
    mask: Mask,
    bound: bound::Bound,
    timeout: Option<u64>,
    update_check: bool,
}

impl Prepared {
    pub fn seconds(&self) -> u64 {
        self.timeout.unwrap_or(self.bound.seconds)
    }

    fn wait(&self) -> String {
        match self.timeout {
            Some(t) => format!("waiting up to {t} s (--timeout)"),
            None => self.bound.describe().replace(", then the longest depends_on chain", ", then the slowest service"),
        }
    }
}

/// Refuses an engine that is not a swarm manager, saying how to make one.
pub fn member(docker: &Docker) -> Result<(), String> {
    refusal(docker.membership()?).map_or(Ok(()), Err)
}

/// Why verify cannot deploy from an engine in this place in a swarm, and what to do.
fn refusal(membership: Membership) -> Option<String> {
    let state = match membership {
        Membership::Manager => return None,
        Membership::Worker => {
            return Some("this engine is a swarm worker: run verify --swarm against a manager".into())
        }
        Membership::None(state) => state,
    };
    let never = "verify --swarm deploys on the swarm the engine belongs to and never makes or leaves one";
    Some(match state.as_str() {
        // The engine is in a swarm that cannot be used yet: making one would be wrong advice.
        "locked" => format!(
            "the engine's swarm is locked (autolock, after the engine restarted); {never}. Unlock it with \
             `docker swarm unlock` and the unlock key, then run verify again"
        ),
        "pending" => format!("the engine is still joining a swarm (its swarm state is `pending`); {never}. Run verify once it has joined"),
        "error" => format!(
            "the engine's swarm is in error (`docker info` says why under Swarm); {never}. Repair or leave it \
             (`docker swarm leave --force`), then run verify again"
        ),
        _ => format!(
            "the engine is in no swarm (its swarm state is `{state}`); {never}. To make a single-node swarm: \
             `docker swarm init --advertise-addr 127.0.0.1` (and `docker swarm leave --force` to leave it afterwards)"
        ),
    })
}

/// What the run deploys: `files` as `docker stack deploy -c` takes them (`-` reads `input`),
/// relative paths from `dir`.
pub struct Source<'a> {
    pub files: Vec<String>,
    pub input: Option<&'a [u8]>,
    pub dir: &'a Path,
}

pub fn prepare(
    docker: &Docker,
    label: &'static str,
    source: &Source,
    allow: Allow,
    timeout: Option<u64>,
    update_check: bool,
) -> Result<Prepared, Fatal> {
    let done = docker.stack_config(&source.files, source.input, source.dir).map_err(Fatal)?;
    if !done.ok {
        let said = done.stderr.trim();
        return Err(Fatal(match label {
            "after" => format!(
                "docker stack deploy refuses the hardened file: {said}; the `swarm` profile writes what it accepts \
                 (--profile swarm, and --enforce to replace the keys it refuses)"
            ),
            // "forbidden properties" names no key: the swarm profile's check does.
            _ => format!(
                "docker stack deploy refuses {}: {said} (`compose-harden check --profile swarm` names each key it \
                 refuses)",
                source.files.join(", ")
            ),
        }));
    }
    let model: Value = yaml_serde::from_str(&done.stdout)
        .map_err(|e| Fatal(format!("docker stack config printed what is not YAML: {e}")))?;
    let mask = Mask::of(&model, None);
    let stack = fresh_name(&format!("swarm-{label}"));
    let dir = tempfile::tempdir().map_err(|e| Fatal(format!("cannot make a temporary directory: {e}")))?;
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "").map_err(|e| Fatal(format!("cannot write the copy: {e}")))?;
    let made = copy::make(&model, &stack, allow, &empty.to_string_lossy()).map_err(|refused| {
        Fatal(format!("verify refuses to run this stack (nothing was started):\n  - {}", refused.join("\n  - ")))
    })?;
    let mut services = made.model.get("services").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut missing = Vec::new();
    for (service, spec) in services.iter_mut() {
        let image = spec.get("image").and_then(Value::as_str).unwrap_or("").to_string();
        match docker.image_healthcheck(&image) {
            None => missing.push(format!("{image} (service {service})")),
            Some(own) => bound::inherit(spec, &own),
        }
    }
    if !missing.is_empty() {
        return Err(Fatal(format!(
            "missing images; verify never pulls or builds, and deploys with --resolve-image never, so pull or \
             build them on this node first: {}",
            missing.join(", ")
        )));
    }
    // JSON is YAML: `docker stack deploy` reads it as it is.
    let file = dir.path().join("stack.yml");
    let text = serde_json::to_string_pretty(&made.model).unwrap_or_default();
    std::fs::write(&file, text).map_err(|e| Fatal(format!("cannot write the copy: {e}")))?;
    let bound = bound::of(&services);
    Ok(Prepared {
        label,
        stack,
        adjustments: made.adjustments,
        model: made.model,
        services,
        file,
        _dir: dir,
        mask,
        bound,
        timeout,
        update_check,
    })
}

/// Removes the stack when dropped, where `execute` has not (an unwinding panic).
struct Teardown<'a> {
    docker: &'a Docker,
    stack: &'a str,
    done: bool,
}

impl Drop for Teardown<'_> {
    fn drop(&mut self) {
        if !self.done {
            remove_stack(self.docker, self.stack, Duration::from_secs(90));
        }
    }
}

/// `stack rm` returns before the stack's tasks are gone and leaves its volumes: wait for its
/// containers (up to `patience`), remove its volumes, wait for its networks, then remove
/// whatever still carries the copy's label. Returns what is still there.
fn remove_stack(docker: &Docker, stack: &str, patience: Duration) -> Vec<String> {
    docker.stack_rm(stack);
    let ours = format!("{LABEL}={stack}");
    // Where `stack rm` failed, removing the services stops their tasks.
    docker.remove("service", &docker.labelled("service", &ours));
    let namespace = format!("com.docker.stack.namespace={stack}");
    let until = Instant::now() + patience;
    let gone = |kind: &str| docker.labelled(kind, &namespace).is_empty();
    while Instant::now() < until && !docker.containers(&namespace).unwrap_or_default().is_empty() {
        std::thread::sleep(Duration::from_millis(250));
    }
    docker.remove("volume", &docker.labelled("volume", &namespace));
    while Instant::now() < until && !gone("network") {
        std::thread::sleep(Duration::from_millis(250));
    }
    for kind in KINDS {
        docker.remove(kind, &docker.labelled(kind, &ours));
    }
    let mut left = Vec::new();
    let containers = docker.containers(&namespace).unwrap_or_default().len();
    if containers > 0 {
        left.push(format!("{containers} container(s)"));
    }
    for kind in KINDS {
        let mut names = docker.labelled(kind, &namespace);
        names.extend(docker.labelled(kind, &ours));
        names.sort();
        names.dedup();
        if !names.is_empty() {
            left.push(format!("{kind} {}", names.join(" ")));
        }
    }
    left
}

/// What a stack makes, in the order it is removed.
const KINDS: [&str; 5] = ["service", "secret", "config", "network", "volume"];

/// Tears the run's stack down, waiting for its slowest stop; what is left is a failure of
/// the run, named with how to remove it.
pub fn tear_down(docker: &Docker, p: &Prepared, run: &mut super::report::Run) {
    let grace = p
        .services
        .values()
        .filter_map(|s| s.get("stop_grace_period").and_then(Value::as_str))
        .filter_map(bound::seconds)
        .fold(10.0, f64::max);
    let left = remove_stack(docker, &p.stack, Duration::from_secs_f64(grace.min(3600.0) + 60.0));
    if !left.is_empty() {
        let said = format!("the stack was not removed: {} left (`verify --cleanup` removes it)", left.join(", "));
        run.error = Some(match run.error.take() {
            Some(e) => format!("{e}; {said}"),
            None => said,
        });
        run.ok = false;
    }
}

/// `--cleanup` on a swarm manager: the services an interrupted `verify --swarm` left, then
/// their secrets, configs, networks and volumes (those of a verify still running are spared).
pub fn cleanup(docker: &Docker, alive: impl Fn(&str) -> bool) -> Vec<String> {
    if !matches!(docker.membership(), Ok(Membership::Manager)) {
        return Vec::new();
    }
    let mut stacks: Vec<String> = Vec::new();
    for (stack, pid) in docker.labelled_stacks(LABEL, PID_LABEL) {
        if !alive(&pid) && !stacks.contains(&stack) {
            stacks.push(stack);
        }
    }
    let mut removed = Vec::new();
    for stack in stacks {
        let left = remove_stack(docker, &stack, Duration::from_secs(90));
        match left.is_empty() {
            true => removed.push(format!("stack {stack}")),
            false => removed.push(format!("stack {stack}, but not its {}", left.join(", "))),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::{refusal, Membership};

    fn said(state: &str) -> String {
        refusal(Membership::None(state.into())).unwrap_or_default()
    }

    #[test]
    fn a_manager_is_used_and_a_worker_sent_to_its_manager() {
        assert_eq!(refusal(Membership::Manager), None);
        assert_eq!(
            refusal(Membership::Worker).as_deref(),
            Some("this engine is a swarm worker: run verify --swarm against a manager")
        );
    }

    #[test]
    fn a_swarm_that_cannot_be_used_yet_is_not_told_to_make_one() {
        assert_eq!(
            said("locked"),
            "the engine's swarm is locked (autolock, after the engine restarted); verify --swarm deploys on the \
             swarm the engine belongs to and never makes or leaves one. Unlock it with `docker swarm unlock` and \
             the unlock key, then run verify again"
        );
        for state in ["locked", "pending", "error"] {
            assert!(!said(state).contains("swarm init"), "{state}: {}", said(state));
        }
        assert!(said("error").contains("`docker swarm leave --force`"));
        assert!(said("inactive").contains("`docker swarm init --advertise-addr 127.0.0.1`"));
    }
}
