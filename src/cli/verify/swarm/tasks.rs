//! What the stack's services are doing, read from Swarm: their tasks, the containers that run
//! them, and what each service asks for.

use crate::engine::swarm::Task;
use crate::engine::{Container, Docker};
use compose_harden::units::seconds;
use serde_json::Value;
use std::collections::BTreeMap;

/// The engine's stop grace period where the file sets none.
pub const GRACE: f64 = 10.0;

/// What the stack's services are doing, polled.
pub struct Tasks {
    all: Vec<Task>,
    /// Service id by the service's name in the file.
    ids: BTreeMap<String, String>,
}

impl Tasks {
    pub fn read(docker: &Docker, stack: &str) -> Tasks {
        let prefix = format!("{stack}_");
        let ids = docker
            .stack_services(stack)
            .into_iter()
            .filter_map(|(id, name)| Some((name.strip_prefix(&prefix)?.to_string(), id)))
            .collect();
        Tasks { all: docker.stack_tasks(stack), ids }
    }

    pub fn of<'a>(&'a self, service: &str) -> impl Iterator<Item = &'a Task> + 'a {
        let id = self.ids.get(service).cloned().unwrap_or_default();
        // `service ls` gives the short id, a task the full one.
        self.all.iter().filter(move |t| !id.is_empty() && t.service_id().starts_with(&id))
    }

    /// Tasks that do what the service asks: running (healthy where it has a check; Swarm
    /// holds a task in `starting` until then), or for a job, completed.
    pub fn done(&self, service: &str, job: bool) -> Vec<&Task> {
        let state = if job { "complete" } else { "running" };
        self.of(service).filter(|t| t.state() == state && (job || t.desired() == "running")).collect()
    }

    pub fn failed(&self, service: &str) -> usize {
        self.of(service).filter(|t| matches!(t.state(), "failed" | "rejected")).count()
    }

    /// Why tasks failed or wait, in Swarm's words, each once.
    pub fn errors(&self, service: &str) -> Vec<String> {
        let mut errors: Vec<String> = Vec::new();
        for t in self.of(service) {
            let said = match (t.state(), t.error()) {
                ("failed" | "rejected", Some(e)) => Some(e.to_string()),
                ("pending" | "assigned" | "preparing", Some(e)) => Some(format!("{}: {e}", t.state())),
                _ => None,
            };
            if let Some(said) = said.filter(|s| !errors.contains(s)) {
                errors.push(said);
            }
        }
        errors
    }
}

pub fn mode(service: &Value) -> String {
    service.pointer("/deploy/mode").and_then(Value::as_str).unwrap_or("replicated").to_string()
}

pub fn is_job(service: &Value) -> bool {
    mode(service).ends_with("-job")
}

/// Tasks the service asks for; a global service one per node that runs one.
pub fn wanted(service: &Value, name: &str, tasks: &Tasks) -> u64 {
    match mode(service).as_str() {
        "global" => tasks.of(name).filter(|t| t.desired() == "running").count().max(1) as u64,
        "global-job" => 1,
        _ => service.pointer("/deploy/replicas").and_then(Value::as_u64).unwrap_or(1),
    }
}

pub fn secs(value: Option<&Value>, default: f64) -> f64 {
    value.and_then(Value::as_str).and_then(seconds).unwrap_or(default)
}

/// The service's running containers, inspected.
pub fn containers(docker: &Docker, stack: &str, name: &str) -> Vec<Container> {
    every_container(docker, stack, name).into_iter().filter(|c| c.status() == "running").collect()
}

/// The service's containers, those of failed tasks too (Swarm keeps a few of them).
pub fn every_container(docker: &Docker, stack: &str, name: &str) -> Vec<Container> {
    let label = format!("com.docker.swarm.service.name={stack}_{name}");
    let ids = docker.containers(&label).unwrap_or_default();
    docker.inspect(&ids).unwrap_or_default()
}
