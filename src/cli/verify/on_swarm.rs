//! `verify --swarm`: the same plan as on a single host (as written, or before and after
//! hardening), each run deployed as a stack on the engine's swarm.

use super::{distinct, finish, plan, report, run::Fatal, say, swarm, Verify};
use crate::engine::{self, Cancel};
use compose_harden::document::spec::Spec;
use std::path::Path;

pub fn run(args: &Verify, cancel: &Cancel) -> u8 {
    let (docker, endpoint, version) = match engine::local(args.allow_remote) {
        Ok(found) => found,
        Err(e) => {
            say(&format!("error: {e}"));
            return 2;
        }
    };
    if let Err(e) = swarm::member(&docker) {
        say(&format!("error: {e}"));
        return 2;
    }
    let client = docker.client_version();
    say(&format!("engine: {endpoint} (Docker Engine {version}), a swarm manager"));
    // As `docker stack deploy -c` reads them: no default override, no COMPOSE_FILE, no .env.
    let spec = match (&args.file, args.layers.is_empty()) {
        (_, false) => Spec::stack(&args.layers),
        (Some(file), true) => Spec::stack(&[file.display().to_string()]),
        (None, true) => {
            say("error: verify --swarm needs a compose file (FILE or -f)");
            return 2;
        }
    };
    let prepared = match prepare(args, &spec, &docker) {
        Ok(prepared) => prepared,
        Err(Fatal(e)) => {
            say(&format!("error: {e}"));
            return 2;
        }
    };
    let adjustments = distinct(prepared.iter().flat_map(|p| &p.adjustments));
    let mut runs = Vec::new();
    for p in &prepared {
        if cancel.is_set() {
            break;
        }
        say(&format!("{}: deploying the copy as stack {} (waiting up to {} s)", p.label, p.stack, p.seconds()));
        runs.push(swarm::execute(&docker, p, cancel));
    }
    let report = report::Report {
        version: 1,
        ok: false,
        endpoint,
        engine_version: version,
        compose_version: format!("docker stack deploy (docker CLI {client})"),
        swarm: true,
        adjustments,
        runs,
    };
    finish(report, args, cancel)
}

fn prepare(args: &Verify, spec: &Spec, docker: &engine::Docker) -> Result<Vec<swarm::Prepared>, Fatal> {
    let planned = plan(args, spec)?;
    let mut prepared = Vec::new();
    for (label, project, input) in planned.runs() {
        let mut files: Vec<String> = project.layers.iter().map(|f| f.display().to_string()).collect();
        files.push(project.file.display().to_string());
        let source = swarm::Source { files, input, dir: Path::new(&project.directory) };
        prepared.push(swarm::prepare(docker, label, &source, planned.allow, args.timeout, args.update_check)?);
    }
    Ok(prepared)
}
