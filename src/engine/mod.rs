//! The local Docker engine, as the commands that run stacks (`verify`) see it: Compose v2
//! drives up, stop and down; the `docker` client reads state and events as JSON; the Engine
//! API, over the local socket, streams stats (`measure`) and reads images (`inspect`). Only
//! the commands import this module; the passes never see an engine.
//!
//! The `docker` client rather than an API crate: it is on every machine that runs Compose,
//! it resolves `DOCKER_HOST` and contexts exactly as Compose does, and an async HTTP client
//! would add minutes of build on two cores for a few calls a second.

pub mod api;
mod compose;
mod docker;
pub mod exec;
pub mod image;
mod process;
pub mod sockets;
pub mod stats;
pub mod swarm;

pub use compose::{Compose, Project};
pub use docker::{Container, Docker, Event, Events, Process};
pub use process::{run, Cancel};

/// A local engine that answers, and the Compose v2 that drives it.
pub struct Engine {
    pub docker: Docker,
    pub compose: Compose,
    /// Where the engine listens, as `DOCKER_HOST` or the context names it.
    pub endpoint: String,
    pub version: String,
}

/// The engine alone (what `--cleanup` needs): its client, endpoint and version. Refuses an
/// engine that is not local unless allowed.
pub fn local(allow_remote: bool) -> Result<(Docker, String, String), String> {
    let docker = Docker::find()?;
    let endpoint = docker.endpoint()?;
    if !is_local(&endpoint) && !allow_remote {
        return Err(format!(
            "the engine endpoint is {endpoint}, not a local socket; verify runs a copy of the stack on the engine it reaches, so pass --allow-remote to use that engine"
        ));
    }
    let version = docker.server_version().map_err(|e| format!("no Docker engine answers at {endpoint}: {e}"))?;
    Ok((docker, endpoint, version))
}

/// The engine and the Compose v2 that drives it.
pub fn connect(compose: Option<&std::path::Path>, allow_remote: bool) -> Result<Engine, String> {
    let (docker, endpoint, version) = local(allow_remote)?;
    let compose = Compose::find(compose, &docker)?;
    Ok(Engine { docker, compose, endpoint, version })
}

fn is_local(endpoint: &str) -> bool {
    endpoint.starts_with("unix://") || endpoint.starts_with("npipe://")
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_sockets_are_local() {
        assert!(super::is_local("unix:///var/run/docker.sock"));
        assert!(super::is_local("npipe:////./pipe/docker_engine"));
        assert!(!super::is_local("tcp://10.0.0.5:2376"));
        assert!(!super::is_local("ssh://me@host"));
    }
}
