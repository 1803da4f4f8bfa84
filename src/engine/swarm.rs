//! The engine's swarm, through the `docker` client: stacks, services and their tasks.

use super::docker::{at, Docker};
use super::process::{run, Finished};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const QUICK: Duration = Duration::from_secs(30);

/// Where the engine stands in a swarm.
pub enum Membership {
    /// A manager: stacks can be deployed from here.
    Manager,
    /// A worker: stacks are deployed from a manager.
    Worker,
    /// In no swarm (or one it is still joining or leaving: the state is given).
    None(String),
}

/// One task of a service, as `docker inspect --type task` gives it.
pub struct Task(pub Value);

impl Task {
    fn str_at(&self, path: &[&str]) -> &str {
        at(&self.0, path).and_then(Value::as_str).unwrap_or("")
    }
    pub fn service_id(&self) -> &str {
        self.str_at(&["ServiceID"])
    }
    /// new, pending, assigned, preparing, starting, running, complete, failed, rejected,
    /// shutdown, orphaned...
    pub fn state(&self) -> &str {
        self.str_at(&["Status", "State"])
    }
    pub fn desired(&self) -> &str {
        self.str_at(&["DesiredState"])
    }
    /// Why the task failed or waits (`no suitable node`, `task: non-zero exit (1)`...).
    pub fn error(&self) -> Option<&str> {
        at(&self.0, &["Status", "Err"]).and_then(Value::as_str).filter(|e| !e.is_empty())
    }
    pub fn container(&self) -> Option<&str> {
        at(&self.0, &["Status", "ContainerStatus", "ContainerID"]).and_then(Value::as_str).filter(|c| !c.is_empty())
    }
}

impl Docker {
    fn swarm_call(&self, args: &[&str], input: Option<&[u8]>, dir: Option<&Path>) -> Result<Finished, String> {
        let mut cmd = self.command();
        cmd.args(args);
        if let Some(dir) = dir {
            cmd.current_dir(dir);
        }
        run(cmd, input, Some(Instant::now() + QUICK), None)
    }

    fn swarm_ok(&self, args: &[&str]) -> Result<String, String> {
        let done = self.swarm_call(args, None, None)?;
        match done.ok {
            true => Ok(done.stdout),
            false => Err(done.stderr.trim().to_string()),
        }
    }

    pub fn client_version(&self) -> String {
        let out = self.swarm_ok(&["version", "--format", "{{.Client.Version}}"]);
        out.map(|v| v.trim().to_string()).unwrap_or_default()
    }

    pub fn membership(&self) -> Result<Membership, String> {
        let out = self.swarm_ok(&["info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"])?;
        let (state, manager) = out.trim().split_once(' ').unwrap_or((out.trim(), "false"));
        Ok(match (state, manager) {
            ("active", "true") => Membership::Manager,
            ("active", _) => Membership::Worker,
            (other, _) => Membership::None(other.to_string()),
        })
    }

    /// `docker stack config`: the files as `docker stack deploy` reads them (merged,
    /// interpolated from this process's environment, paths made absolute), or its refusal.
    /// `-` among `files` reads `input`; relative paths are taken from `dir`.
    pub fn stack_config(&self, files: &[String], input: Option<&[u8]>, dir: &Path) -> Result<Finished, String> {
        let mut args = vec!["stack", "config"];
        for file in files {
            args.extend(["-c", file]);
        }
        self.swarm_call(&args, input, Some(dir))
    }

    /// Deploys `file` as the stack `name` without asking a registry (images are local).
    pub fn stack_deploy(&self, file: &Path, name: &str) -> Result<(), String> {
        let file = file.to_string_lossy();
        // Not `--detach=true`, which CLIs before 26 lack: their notice about it is dropped.
        let notice = |l: &&str| l.starts_with("Since --detach=false") || l.starts_with("In a future release, --detach");
        self.swarm_ok(&["stack", "deploy", "--resolve-image", "never", "-c", &file, name])
            .map(|_| ())
            .map_err(|e| e.lines().filter(|l| !notice(l)).collect::<Vec<_>>().join("\n"))
    }

    /// `stack rm`: it returns before the stack's tasks are gone.
    pub fn stack_rm(&self, name: &str) {
        let _ = self.swarm_call(&["stack", "rm", name], None, None);
    }

    /// The stack's services: (id, name).
    pub fn stack_services(&self, stack: &str) -> Vec<(String, String)> {
        let filter = format!("label=com.docker.stack.namespace={stack}");
        let out = self.swarm_ok(&["service", "ls", "--filter", &filter, "--format", "{{.ID}} {{.Name}}"]);
        let pairs = out.unwrap_or_default();
        pairs.lines().filter_map(|l| l.split_once(' ')).map(|(i, n)| (i.to_string(), n.to_string())).collect()
    }

    /// Every task of the stack, those that ended too (a stack with none yet has none).
    pub fn stack_tasks(&self, stack: &str) -> Vec<Task> {
        let Ok(ids) = self.swarm_ok(&["stack", "ps", stack, "-q", "--no-trunc"]) else { return Vec::new() };
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if ids.is_empty() {
            return Vec::new();
        }
        let mut args = vec!["inspect", "--type", "task"];
        args.extend(ids);
        let done = self.swarm_call(&args, None, None);
        let all: Vec<Value> = done.ok().and_then(|d| serde_json::from_str(&d.stdout).ok()).unwrap_or_default();
        all.into_iter().map(Task).collect()
    }

    pub fn service_inspect(&self, name: &str) -> Result<Value, String> {
        let out = self.swarm_ok(&["service", "inspect", name])?;
        let all: Value = serde_json::from_str(&out).map_err(|e| format!("docker service inspect: {e}"))?;
        all.get(0).cloned().ok_or_else(|| format!("no service {name}"))
    }

    /// `docker service update --detach` with `args` (it returns once the update is accepted).
    pub fn service_update(&self, name: &str, args: &[&str]) -> Result<(), String> {
        let mut all = vec!["service", "update", "--detach"];
        all.extend(args);
        all.push(name);
        self.swarm_ok(&all).map(|_| ())
    }

    pub fn kill(&self, container: &str) -> Result<(), String> {
        self.swarm_ok(&["kill", container]).map(|_| ())
    }

    /// Names of what carries `label` among services, networks, volumes, secrets and configs.
    pub fn labelled(&self, kind: &str, label: &str) -> Vec<String> {
        let filter = format!("label={label}");
        let format = if kind == "volume" { "{{.Name}}" } else { "{{.ID}}" };
        let out = self.swarm_ok(&[kind, "ls", "--filter", &filter, "--format", format]);
        out.unwrap_or_default().lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
    }

    /// Removes `names` of `kind` (service, network, volume, secret, config).
    pub fn remove(&self, kind: &str, names: &[String]) -> bool {
        let mut args = vec![kind, "rm"];
        args.extend(names.iter().map(String::as_str));
        !names.is_empty() && self.swarm_call(&args, None, None).is_ok_and(|d| d.ok)
    }

    /// The values of `label` and `spare` on each service, secret, config, network and volume
    /// of a stack that carries `label` (a copy run with Compose carries it too, but no stack's).
    pub fn labelled_stacks(&self, label: &str, spare: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let spec = format!("{{{{index .Spec.Labels \"{label}\"}}}} {{{{index .Spec.Labels \"{spare}\"}}}}");
        let plain = format!("{{{{.Label \"{label}\"}}}} {{{{.Label \"{spare}\"}}}}");
        let (ours, stack) = (format!("label={label}"), "label=com.docker.stack.namespace");
        for kind in ["service", "secret", "config", "network", "volume"] {
            let format = if kind == "volume" { "{{.Name}}" } else { "{{.ID}}" };
            let listed = self.swarm_ok(&[kind, "ls", "--filter", &ours, "--filter", stack, "--format", format]);
            let ids: Vec<String> = listed.unwrap_or_default().lines().map(str::to_string).collect();
            if ids.iter().all(|i| i.is_empty()) {
                continue;
            }
            let out = if matches!(kind, "network" | "volume") {
                self.swarm_ok(&[kind, "ls", "--filter", &ours, "--filter", stack, "--format", &plain])
            } else {
                let mut args = vec![kind, "inspect", "--format", &spec];
                args.extend(ids.iter().map(String::as_str));
                self.swarm_ok(&args)
            };
            for line in out.unwrap_or_default().lines() {
                let (stack, pid) = line.split_once(' ').unwrap_or((line, ""));
                if !stack.is_empty() {
                    found.push((stack.to_string(), pid.trim().to_string()));
                }
            }
        }
        found
    }
}
