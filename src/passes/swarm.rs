//! For files deployed with `docker stack deploy`, which reads them with the docker CLI's own
//! v3 schema: a key it refuses stops the deploy (an error, with its Swarm spelling), a key
//! Swarm drops without a word is reported, and each long-running service gets the rolling
//! update, rollback and restart delay Swarm reads, `start-first` only where two copies of
//! it can run side by side. A job runs as `replicated-job`, and ordering by `depends_on`,
//! which Swarm ignores, is reported.

use super::{versions, Out, Pass, Service};
use crate::plan::{Finding, Plan};
use crate::profile::{FailureAction, Order, Profile, Rollout, SwarmSettings};
use crate::rule::{rules, Rule};
use yaml_serde::Value;

pub struct Swarm;

rules! {
    SWARM_REFUSED_KEY = "swarm/refused-key", Error, Replace,
        "`docker stack deploy` refuses this key: the file does not deploy",
        "`docker stack deploy` reads the file with the docker CLI's v3 schema, which refuses keys Compose \
         accepts: `mem_limit`, `memswap_limit`, `cpu_quota`, `cpu_shares`, `cpuset`, `extends` and \
         `volumes_from` as forbidden properties; `cpus`, `mem_reservation`, `pids_limit`, `profiles`, \
         `pull_policy`, `gpus` and more as not allowed; `depends_on` in its long form; `host_ip`, `name` and \
         `app_protocol` in a long-form port (Swarm publishes on every interface of every node whatever the \
         address); `priority`, `mac_address`, `link_local_ips`, `gw_priority` and `interface_name` in a \
         service's network attachment (these are reported, to delete by hand); a top-level `name` (the stack \
         is named on the command line, `docker stack deploy -c FILE NAME`). Where Swarm has a \
         spelling of its own (`mem_limit` is `deploy.resources.limits.memory`, `cpus` is \
         `deploy.resources.limits.cpus`, `mem_reservation` is `deploy.resources.reservations.memory`, \
         `pids_limit` is `deploy.resources.limits.pids` where the file names no `version` or 3.9 and later, \
         `scale` is `deploy.replicas`), `--enforce` writes it and deletes the key (with its comments), each \
         reported with the old value; where the Swarm key is \
         set already, it deletes the key alone. It deletes only text the service alone reads: a key that \
         comes through `<<` or `extends`, sits in a mapping another service merges, or is set by more than \
         one file of a project stays, an error that says why, to delete by hand. `memswap_limit` (Swarm sets \
         no swap limit) and `cpu_quota`, `cpu_shares`, `cpuset` (another model than Swarm's CPU limit) are \
         never deleted: what replaces them is the user's call.";
    SWARM_REFUSED_VALUE = "swarm/refused-value", Error, Replace,
        "`docker stack deploy` refuses this value as written: the file does not deploy",
        "The docker CLI's v3 schema is stricter than Compose about some values: a long-form port's \
         `published` and `target` must be integers (`published: \"8080\"` is refused), and \
         `deploy.resources.reservations.devices` (GPUs) is not allowed (Swarm reserves \
         `generic_resources`). It also refuses values Compose converts: a boolean in `environment`, \
         `labels`, `deploy.labels`, `sysctls` or `build.args` (`DEBUG: true`); a number in \
         `deploy.resources.*.cpus` (`cpus: 0.5`); a quoted integer in `deploy.replicas`, `healthcheck.retries`, \
         `parallelism`, `max_attempts`, `max_replicas_per_node`, `deploy.resources.limits.pids` or \
         `oom_score_adj`; a long-form `env_file` item; `command: null` and `entrypoint: null`; and a `$` its \
         interpolation does not read (`$(date)`, `5$`, `${NAME:+x}`), anywhere in the file, `x-` blocks \
         included: write `$$`. `--enforce` writes a quoted port number or other integer as the integer \
         (`published: 8080`, `replicas: 2`), a boolean as the same string (`DEBUG: \"true\"`) and a numeric \
         CPU count quoted (`cpus: \"0.5\"`), each reported; a range, a variable, a `$` and the other forms \
         stay, reported, as do GPU reservations.";
    SWARM_IGNORED_KEY = "swarm/ignored-key", Info, None,
        "Swarm ignores this key",
        "`docker stack deploy` accepts and drops keys Swarm does not read (`build`, `security_opt`, \
         `devices`, `privileged`, `container_name`, ...). The `swarm` profile reports each such key a service \
         sets and writes the Swarm form where it writes anything. (`restart` is read where no \
         `deploy.restart_policy` is set: see `restart/swarm`.)";
    SWARM_DEPENDS_ON = "swarm/depends-on", Info, None,
        "Swarm ignores `depends_on`: services start in no order",
        "`docker stack deploy` starts every service at once and never waits for another, healthy or \
         completed: a service must retry what it needs until it answers (its restart policy restarts it \
         meanwhile).";
    SWARM_UPDATE_CONFIG = "swarm/update-config", Warning, Safe,
        "no update_config: a failed update stays half-done",
        "Swarm's default `failure_action` is `pause`: an update whose new tasks fail stops half-way, old and \
         new tasks side by side, until someone acts. The profile writes `deploy.update_config` with \
         `failure_action: rollback`, a `monitor` that watches each new task, and `order: start-first` only \
         where two copies can run side by side (see `swarm/stop-first`).";
    SWARM_ROLLBACK_CONFIG = "swarm/rollback-config", Info, Safe,
        "no rollback_config: a rollback runs with Swarm's defaults",
        "The rollback an update's failure starts replaces tasks as `deploy.rollback_config` says; the \
         profile writes it, with the same rule for `order` as the update.";
    SWARM_STOP_FIRST = "swarm/stop-first", Info, None,
        "the service's tasks are updated stop-first: two copies cannot run side by side",
        "`order: start-first` starts the new task before the old one stops: no gap, but two copies run at \
         once. The tool writes it only where that is safe: the service has a healthcheck (the new task \
         takes over once healthy), no writable named volume or bind mount (two copies would write it at \
         once), no port published in `mode: host` (the new task could not bind it), and not \
         `max_replicas_per_node: 1` (on one node the new task could never be placed). Otherwise it writes \
         `stop-first` and says why.";
    SWARM_START_FIRST_UNSAFE = "swarm/start-first-unsafe", Warning, Replace,
        "`order: start-first` where two copies cannot run side by side",
        "The file asks for `start-first`, but the service fails the rule in `swarm/stop-first`: a writable \
         volume written by two copies, a host port the new task cannot bind, or a task that can never be \
         placed. `--enforce` writes `stop-first`.";
    SWARM_RESTART_DELAY = "swarm/restart-delay", Info, Safe,
        "no restart delay: the file does not say how fast a failed task is replaced",
        "`deploy.restart_policy.delay` is the pause between a task's exit and its replacement. The profile \
         writes it (`window` is left out: it only matters with `max_attempts`, which would leave a service \
         down for good after an outage that passes).";
    SWARM_JOB = "swarm/job", Info, Safe,
        "a job that runs once is deployed as a `replicated-job`",
        "Swarm's default mode, `replicated`, keeps a task running: a job that exits is started again. \
         `deploy.mode: replicated-job` runs it to completion once, and its restart policy retries it only \
         on failure. It gets no update or rollback config, which Swarm does not apply to jobs.";
    SWARM_PORT_ADDRESS = "swarm/port-address", Warning, None,
        "Swarm ignores the host address of a published port: it is open on every interface of every node",
        "`docker stack deploy` drops the address of a short-form port (`\"127.0.0.1:8080:80\"`, with a warning) \
         and publishes it through the routing mesh on every interface of every node: a port bound to \
         127.0.0.1 for this host alone is open to the network. To keep it private, drop the publish and reach \
         the service over an overlay network; or publish it in `mode: host` (the long form) with a placement \
         constraint, which binds it on the chosen node only (on all of that node's interfaces).";
    SWARM_NO_IMAGE = "swarm/no-image", Error, None,
        "the service has `build` and no `image`: Swarm has nothing to run",
        "`docker stack deploy` ignores `build`: each node pulls the service's `image`, and a service without \
         one is refused when the stack is deployed (`docker stack config` accepts it). Add `image:`, build and \
         push it to a registry every node can pull from.";
    SWARM_VERSION_TOO_OLD = "swarm/version-too-old", Info, None,
        "a key the profile would add is not in the schema of the file's `version`",
        "`docker stack deploy` validates the file against the v3 schema of the `version` it declares (3.13 \
         where it declares none), and refuses a key an older 3.x lacks: `healthcheck.start_period` and \
         `deploy.update_config.order` came in 3.4, `init` and `deploy.rollback_config` in 3.7, \
         `deploy.resources.limits.pids` in 3.9 (measured with `docker stack config -c`). Under the `swarm` \
         profile no pass adds such a key; this says what was not added and which version adds it. A \
         healthcheck whose `start_period` cannot be written is not added at all: Swarm replaces a task that \
         turns unhealthy, and without the grace period a slow start would be replaced before it is up.";
}

impl Pass for Swarm {
    const NAME: &'static str = "swarm";
    /// A refused key stops the deploy of any service, container or not.
    const CONTAINER: bool = false;
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p SwarmSettings;

    fn settings(profile: &Profile) -> Option<&SwarmSettings> {
        profile.swarm.as_ref()
    }

    fn run(&self, settings: &SwarmSettings, service: &Service, out: &mut Out) {
        for key in &settings.refused {
            if service.is_set(&[key.as_str()]) {
                refused(key, service, out);
            }
        }
        for (key, since) in versions::SINCE.iter().filter(|(key, _)| service.get(key).is_some()) {
            if versions::lacks(service.version, key).is_some() {
                let (dotted, version) = (key.join("."), service.version.map(scalar).unwrap_or_default());
                let message = format!(
                    "`docker stack deploy` refuses `{dotted}` under `version: {version}`: the file does not deploy; \
                     3.{since} adds it: raise `version` to 3.{since} or delete it"
                );
                out.report(&SWARM_REFUSED_KEY, key, message);
            }
        }
        depends_on(service, out);
        values(service, out);
        for key in &settings.ignored {
            if service.is_set(&[key.as_str()]) {
                out.report(&SWARM_IGNORED_KEY, &[key.as_str()], format!("Swarm ignores `{key}`"));
            }
        }
        if !service.signs.kind.is_container() {
            return;
        }
        if service.str(&["deploy", "mode"]).is_some_and(|m| m.ends_with("-job")) {
            return;
        }
        if service.one_shot().is_some() {
            if service.is_set(&["deploy", "mode"]) {
                return;
            }
            // Swarm refuses a job with an update config: the user's choice stays, said so.
            match service.is_set(&["deploy", "update_config"]) {
                true => out.report(
                    &SWARM_JOB,
                    &["deploy", "update_config"],
                    "not made a `replicated-job`: it sets `deploy.update_config`, which Swarm refuses on a job; \
                     delete it and set `deploy.mode: replicated-job` if it runs once",
                ),
                false if settings.jobs => out.add(&SWARM_JOB, &["deploy", "mode"], "replicated-job"),
                false => {}
            }
            return;
        }
        if let Some(delay) = settings.restart_policy.as_ref().and_then(|r| r.delay.as_deref()) {
            let condition = service.str(&["deploy", "restart_policy", "condition"]);
            if condition.is_some_and(|c| c != "none") && !service.is_set(&["deploy", "restart_policy", "delay"]) {
                out.add(&SWARM_RESTART_DELAY, &["deploy", "restart_policy", "delay"], delay);
            }
        }
        let apart = side_by_side(service).err();
        let mut stop_first = false;
        if let Some(update) = &settings.update_config {
            stop_first |= rollout(service, out, "update_config", update, &apart, &SWARM_UPDATE_CONFIG);
        }
        if let Some(rollback) = &settings.rollback_config {
            stop_first |= rollout(service, out, "rollback_config", rollback, &apart, &SWARM_ROLLBACK_CONFIG);
        }
        if let (true, Some(why)) = (stop_first, &apart) {
            out.report(&SWARM_STOP_FIRST, &["deploy"], format!("tasks are replaced `stop-first`: {why}"));
        }
    }
}

/// Fills what `deploy.<key>` lacks; whether `order` was written `stop-first` by the rule.
fn rollout<F: FailureAction>(
    service: &Service,
    out: &mut Out,
    key: &str,
    wanted: &Rollout<F>,
    apart: &Option<String>,
    rule: &'static Rule,
) -> bool {
    let mut add = |field: &str, value: Value| {
        if !service.is_set(&["deploy", key, field]) {
            out.add(rule, &["deploy", key, field], value);
        }
    };
    add("parallelism", wanted.parallelism.into());
    if let Some(delay) = &wanted.delay {
        add("delay", delay.as_str().into());
    }
    add("monitor", wanted.monitor.as_str().into());
    add("failure_action", wanted.failure_action.as_str().into());
    let path = ["deploy", key, "order"];
    match (service.str(&path), apart) {
        (Some("start-first"), Some(why)) => {
            let message = format!("`{key}.order: start-first`, but two copies cannot run side by side: {why}");
            if service.enforce {
                let old = Value::from("start-first");
                out.replace(&SWARM_START_FIRST_UNSAFE, &path, &old, "stop-first".into(), message);
            } else {
                out.report_enforceable(&SWARM_START_FIRST_UNSAFE, &path, message);
            }
            false
        }
        _ if service.is_set(&path) => false,
        _ => {
            let order = if apart.is_some() { Order::StopFirst } else { wanted.order };
            out.add(rule, &path, order.as_str());
            order == Order::StopFirst && wanted.order == Order::StartFirst
        }
    }
}

/// Whether two copies of the service can run at once (`start-first`), or why not.
fn side_by_side(service: &Service) -> Result<(), String> {
    if !healthy(service) {
        return Err("it has no healthcheck, so Swarm cannot tell when the new task is ready".into());
    }
    for volume in service.get(&["volumes"]).and_then(Value::as_sequence).into_iter().flatten() {
        if let Some(shown) = writable(volume) {
            return Err(format!("volume `{shown}` is writable, and two copies would write it at once"));
        }
    }
    for port in service.get(&["ports"]).and_then(Value::as_sequence).into_iter().flatten() {
        if port.get("mode").and_then(Value::as_str) == Some("host") {
            let shown = port.get("published").map_or_else(|| "a port".into(), |p| format!("port {}", scalar(p)));
            return Err(format!("{shown} is published in `mode: host`, which the new task could not bind"));
        }
    }
    let per_node = service.get(&["deploy", "placement", "max_replicas_per_node"]);
    if per_node.and_then(Value::as_u64) == Some(1) {
        return Err("`max_replicas_per_node: 1` leaves no room on a node for the new task beside the old".into());
    }
    Ok(())
}

/// A healthcheck in the file (planned ones included), or one the image defines.
fn healthy(service: &Service) -> bool {
    if let Some(check) = service.get(&["healthcheck"]) {
        let disabled = check.get("disable").and_then(Value::as_bool) == Some(true)
            || check.get("test").and_then(Value::as_sequence).and_then(|t| t.first()).and_then(Value::as_str)
                == Some("NONE");
        return !disabled && check.get("test").is_some();
    }
    // The image's own, from its facts where they are at hand; else the catalogue's word.
    if let Some(image) = service.facts {
        return image.healthcheck.as_ref().is_some_and(|h| !h.disabled());
    }
    let probes = service.profile.healthcheck.as_ref().map(|h| &h.probes[..]).unwrap_or_default();
    service.signs.probe.and_then(|i| probes.get(i)).is_some_and(|p| p.own_healthcheck)
}

/// The volume as the file writes it, where it is a named volume or a bind mount that is not
/// read-only (an anonymous volume or a tmpfs is each task's own).
fn writable(volume: &Value) -> Option<String> {
    match volume {
        Value::String(text) => {
            let parts: Vec<&str> = text.split(':').collect();
            let read_only = parts.get(2).is_some_and(|mode| mode.split(',').any(|m| m == "ro"));
            (parts.len() >= 2 && !read_only).then(|| text.clone())
        }
        Value::Mapping(_) => {
            let kind = volume.get("type").and_then(Value::as_str).unwrap_or("volume");
            let source = volume.get("source").map(scalar);
            let read_only = volume.get("read_only").and_then(Value::as_bool) == Some(true);
            let shared = matches!(kind, "volume" | "bind") && source.is_some();
            let target = volume.get("target").map(scalar).unwrap_or_default();
            (shared && !read_only).then(|| format!("{}:{target}", source.unwrap_or_default()))
        }
        _ => None,
    }
}

pub(super) fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// Values the v3 schema refuses in a form Compose accepts.
fn values(service: &Service, out: &mut Out) {
    let ports = service.get(&["ports"]).and_then(Value::as_sequence).into_iter().flatten();
    for (i, port) in ports.enumerate() {
        for key in ["published", "target"] {
            let Some(text) = port.get(key).and_then(Value::as_str).filter(|t| !t.contains('$')) else { continue };
            let index = i.to_string();
            let path = ["ports", index.as_str(), key];
            let refuses = format!("`docker stack deploy` refuses `{key}: \"{text}\"`: it must be an integer");
            let number = text.parse::<u16>().ok().filter(|_| text.bytes().all(|b| b.is_ascii_digit()));
            match number {
                Some(n) if service.enforce => {
                    let message = format!("{refuses}: written `{key}: {n}`");
                    out.replace(&SWARM_REFUSED_VALUE, &path, &Value::from(text), n.into(), message);
                }
                Some(n) => {
                    let message = format!("{refuses}: the file does not deploy; write `{key}: {n}`");
                    out.report_enforceable(&SWARM_REFUSED_VALUE, &path, message);
                }
                None => {
                    let message = format!("{refuses}: the file does not deploy; write one item per port");
                    out.report(&SWARM_REFUSED_VALUE, &path, message);
                }
            }
        }
    }
    if service.is_set(&["deploy", "resources", "reservations", "devices"]) {
        out.report(
            &SWARM_REFUSED_VALUE,
            &["deploy", "resources", "reservations", "devices"],
            "`docker stack deploy` refuses `deploy.resources.reservations.devices`: the file does not deploy; \
             Swarm reserves devices as `generic_resources` that each node advertises",
        );
    }
    port_forms(service, out);
    attachments(service, out);
    env_files(service, out);
    typed(service, out);
    for key in ["command", "entrypoint"] {
        if service.get(&[key]).is_some_and(Value::is_null) {
            let message = format!(
                "`docker stack deploy` refuses `{key}: null`: it must be a string or a list: the file does not \
                 deploy; delete the key (the image's own {key} runs either way)"
            );
            out.report(&SWARM_REFUSED_VALUE, &[key], message);
        }
    }
    if service.is_set(&["build"]) && !service.is_set(&["image"]) {
        out.report(
            &SWARM_NO_IMAGE,
            &["build"],
            "Swarm ignores `build` and the service names no `image`: the deploy is refused; add `image:`, build \
             it and push it where every node can pull it",
        );
    }
    let mut path = Vec::new();
    for (key, value) in service.value {
        path.push(scalar(key));
        interpolations(value, &mut path, &mut |path, message| {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            out.report(&SWARM_REFUSED_VALUE, &path, message);
        });
        path.pop();
    }
}

/// The top-level keys `docker stack deploy` refuses beside `services` (a file-level error).
pub(super) fn top_level(top: Option<&Value>, profile: &Profile, skips: &[String], plan: &mut Plan) {
    let (Some(top), Some(_)) = (top, &profile.swarm) else { return };
    let off = |id: &str| skips.iter().chain(&profile.ignore).any(|s| s == id || s == "swarm");
    if !off(SWARM_REFUSED_VALUE.id) {
        top_interpolations(top, plan);
    }
    if off(SWARM_REFUSED_KEY.id) {
        return;
    }
    let mut refused = |path: Vec<String>, what: String, advice: &str| {
        let message = format!("`docker stack deploy` refuses {what}: the file does not deploy; {advice}");
        plan.findings.push(Finding::new(&SWARM_REFUSED_KEY, "", path, message));
    };
    if top.get("name").is_some() {
        let advice = "Swarm names the stack on its command line: delete the key, and deploy with \
                      `docker stack deploy -c FILE NAME`";
        refused(vec!["name".into()], "a top-level `name`".into(), advice);
    }
    if top.get("include").is_some() {
        let advice = "merge the files into one first (`docker compose config`)";
        refused(vec!["include".into()], "`include`".into(), advice);
    }
    // A number (`version: 3.10` unquoted) is refused before this, by Compose's own schema.
    if let Some(version) = top.get("version").filter(|v| v.is_string() && versions::minor(v).is_none()) {
        let shown = scalar(version);
        let advice = match (shown.contains('$'), shown.starts_with('3')) {
            (true, _) => "it does not interpolate `version`: write 3.0 to 3.13, or delete the key",
            (false, true) => "it reads 3.0 to 3.13: write one of those, or delete the key",
            (false, false) => "it reads version 3 files: delete the key",
        };
        refused(vec!["version".into()], format!("`version: {shown}`"), advice);
    }
    for section in ["configs", "secrets"] {
        for (name, entry) in top.get(section).and_then(Value::as_mapping).into_iter().flatten() {
            for key in ["content", "environment"] {
                if entry.get(key).is_some() {
                    let path = vec![section.to_string(), scalar(name), key.to_string()];
                    refused(path, format!("`{key}` in `{section}`"), "Swarm reads a `file` or an `external` one");
                }
            }
        }
    }
}

/// `depends_on`: its long form is refused; either way Swarm orders nothing.
fn depends_on(service: &Service, out: &mut Out) {
    let Some(deps) = service.get(&["depends_on"]) else { return };
    let names: Vec<String> = match deps {
        Value::Sequence(items) => items.iter().map(scalar).collect(),
        Value::Mapping(m) => m.keys().map(scalar).collect(),
        _ => return,
    };
    let listed = names.join(", ");
    let waits: Vec<String> = deps
        .as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(name, how)| {
            let condition = how.get("condition").and_then(Value::as_str)?;
            (condition != "service_started").then(|| format!("`{}` ({condition})", scalar(name)))
        })
        .collect();
    if deps.is_mapping() {
        let lost = match waits.is_empty() {
            true => String::new(),
            false => format!(", and its wait for {} is lost: Swarm waits for nothing", waits.join(", ")),
        };
        let message = format!(
            "`docker stack deploy` refuses the long form of `depends_on` (it must be a list): the file does not \
             deploy; write `depends_on: [{listed}]`{lost}"
        );
        out.report(&SWARM_REFUSED_KEY, &["depends_on"], message);
    }
    let message = format!(
        "Swarm ignores `depends_on` and starts every service at once: this one must retry {listed} until it \
         answers"
    );
    out.report(&SWARM_DEPENDS_ON, &["depends_on"], message);
}

/// A refused key. Where Swarm has a spelling of its own, `--enforce` writes it (where the
/// file has none) and deletes the key: the setting then lives where Swarm reads it. Keys
/// without one (`memswap_limit`, the `cpu_*` family) say what Swarm has no word for, or
/// say it in another model: they are reported, for the user to decide.
fn refused(key: &str, service: &Service, out: &mut Out) {
    let refuses = format!("`docker stack deploy` refuses `{key}`: the file does not deploy");
    let (Some(path), Some(old)) = (swarm_key(key), service.get(&[key])) else {
        let advice = match key {
            "memswap_limit" => "; Swarm sets no swap limit: delete it",
            "cpu_quota" | "cpu_shares" | "cpuset" => "; Swarm reads `deploy.resources.limits.cpus` alone",
            "volumes_from" => "; share a named volume through `volumes` instead",
            "extends" => "; write what it inherits into the service (`docker compose config` shows it)",
            _ => "",
        };
        return out.report(&SWARM_REFUSED_KEY, &[key], format!("{refuses}{advice}"));
    };
    let dotted = path.join(".");
    if let Some((_, since)) = versions::lacks(service.version, path) {
        let version = service.version.map(scalar).unwrap_or_default();
        let message = format!(
            "{refuses}; Swarm reads `{dotted}` from version 3.{since} of its schema, and the file says \
             `version: {version}`: raise it, and write that"
        );
        return out.report(&SWARM_REFUSED_KEY, &[key], message);
    }
    let was = scalar(old);
    if service.get(path).is_some_and(|v| !v.is_null()) {
        // Swarm reads the setting there already: the refused key adds nothing it reads.
        if service.enforce {
            let message = format!(
                "`docker stack deploy` refuses `{key}`: deleted (it was `{was}`); `{dotted}` is set already, \
                 which Swarm reads"
            );
            return out.remove(&SWARM_REFUSED_KEY, &[key], old, message);
        }
        let message = format!("{refuses}; `{dotted}` is set already, which Swarm reads: delete `{key}`");
        return out.report_enforceable(&SWARM_REFUSED_KEY, &[key], message);
    }
    if service.is_set(path) {
        let message = format!("{refuses}; `{dotted}` is set already, which Swarm reads: delete `{key}`");
        return out.report(&SWARM_REFUSED_KEY, &[key], message);
    }
    let Some(value) = spelling(key, old) else {
        let advice = "its value is not one the tool can write again: spell it under `deploy` by hand";
        return out.report(&SWARM_REFUSED_KEY, &[key], format!("{refuses}; {advice}"));
    };
    let spelled = format!("`{dotted}: {}`", scalar(&value));
    if service.enforce {
        out.add(&SWARM_REFUSED_KEY, path, value);
        let message = format!(
            "`docker stack deploy` refuses `{key}`: deleted (it was `{was}`), and written as {spelled}, which \
             Swarm reads"
        );
        out.remove(&SWARM_REFUSED_KEY, &[key], old, message);
    } else {
        let message = format!("{refuses}; Swarm reads it as {spelled}: write that, and delete `{key}`");
        out.report_enforceable(&SWARM_REFUSED_KEY, &[key], message);
    }
}

/// Where Swarm reads a refused key, where it has a spelling of its own.
fn swarm_key(key: &str) -> Option<&'static [&'static str]> {
    Some(match key {
        "mem_limit" => &["deploy", "resources", "limits", "memory"],
        "mem_reservation" => &["deploy", "resources", "reservations", "memory"],
        "cpus" => &["deploy", "resources", "limits", "cpus"],
        "pids_limit" => &["deploy", "resources", "limits", "pids"],
        "scale" => &["deploy", "replicas"],
        _ => return None,
    })
}

/// A refused key's value as Swarm's spelling of it is written; None where it is not one
/// to copy (interpolated, not a plain size or number).
fn spelling(key: &str, value: &Value) -> Option<Value> {
    let text = match value {
        Value::String(s) if !s.contains('$') => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(match key {
        "pids_limit" | "scale" => text.parse::<u64>().ok()?.into(),
        _ => text.into(),
    })
}

/// Long-form port keys the v3 schema lacks, and short-form ports whose address Swarm drops.
fn port_forms(service: &Service, out: &mut Out) {
    let ports = service.get(&["ports"]).and_then(Value::as_sequence).into_iter().flatten();
    for (i, port) in ports.enumerate() {
        let index = i.to_string();
        if let Value::String(text) = port {
            if let Some(address) = bound_address(text) {
                let message = format!(
                    "Swarm ignores the address in `{text}` ({address}) and publishes the port on every interface \
                     of every node: to keep it private, drop the publish and reach the service over an overlay \
                     network; or publish it in `mode: host` (long form) with a placement constraint"
                );
                out.report(&SWARM_PORT_ADDRESS, &["ports", &index], message);
            }
            continue;
        }
        for (key, _) in port.as_mapping().into_iter().flatten() {
            let key = scalar(key);
            if ["mode", "target", "published", "protocol"].contains(&key.as_str()) {
                continue;
            }
            let advice = match key.as_str() {
                "host_ip" => {
                    "; Swarm publishes on every interface of every node whatever the address: delete it, and to \
                     keep the port private drop the publish and reach the service over an overlay network, or \
                     publish in `mode: host` with a placement constraint"
                }
                _ => "; Swarm reads `target`, `published`, `protocol` and `mode` alone: delete it",
            };
            let message =
                format!("`docker stack deploy` refuses `{key}` in a port: the file does not deploy{advice}");
            out.report(&SWARM_REFUSED_KEY, &["ports", &index, &key], message);
        }
    }
}

/// The host address of a short-form port (`127.0.0.1:8080:80`), where it is not every
/// interface; a variable counts by its default.
fn bound_address(text: &str) -> Option<String> {
    let spec = text.rsplit_once('/').map_or(text, |(spec, _)| spec);
    let mut parts = super::dangerous::split_outside_braces(spec);
    if parts.len() < 3 {
        return None;
    }
    parts.truncate(parts.len() - 2);
    let written = parts.join(":");
    let address = super::dangerous::default_of(&written)?;
    let all = ["", "0.0.0.0", "::", "[::]"].contains(&address.as_str());
    (!all).then_some(written)
}

/// Keys of a service's network attachment the v3 schema lacks (`priority`, `mac_address`,
/// `link_local_ips`, `gw_priority`, `interface_name`).
fn attachments(service: &Service, out: &mut Out) {
    let networks = service.get(&["networks"]).and_then(Value::as_mapping).into_iter().flatten();
    for (name, attachment) in networks {
        let name = scalar(name);
        for (key, _) in attachment.as_mapping().into_iter().flatten() {
            let key = scalar(key);
            if ["aliases", "ipv4_address", "ipv6_address", "driver_opts"].contains(&key.as_str()) {
                continue;
            }
            let message = format!(
                "`docker stack deploy` refuses `{key}` in a network attachment: the file does not deploy; delete \
                 it: Swarm attaches a service with `aliases`, `ipv4_address`, `ipv6_address` and `driver_opts` alone"
            );
            out.report(&SWARM_REFUSED_KEY, &["networks", &name, &key], message);
        }
    }
}

/// `env_file` items in the long form (`{path: ..., required: false}`): the v3 schema reads paths.
fn env_files(service: &Service, out: &mut Out) {
    let items = service.get(&["env_file"]).and_then(Value::as_sequence).into_iter().flatten();
    for (i, item) in items.enumerate() {
        if !item.is_mapping() {
            continue;
        }
        let write = match item.get("path") {
            Some(path) => format!("write the path alone, `- {}`", scalar(path)),
            None => "write the path alone".into(),
        };
        let optional = item.get("required").and_then(Value::as_bool) == Some(false);
        let lost = if optional { ", and the file must then exist where you deploy" } else { "" };
        let message = format!(
            "`docker stack deploy` refuses the long form of an `env_file` item (it must be a path): the file does \
             not deploy; {write}{lost}"
        );
        out.report(&SWARM_REFUSED_VALUE, &["env_file", &i.to_string()], message);
    }
}

/// Where the v3 schema wants a string or a number that Compose reads from another YAML type.
const INTEGERS: &[&[&str]] = &[
    &["deploy", "replicas"],
    &["deploy", "update_config", "parallelism"],
    &["deploy", "rollback_config", "parallelism"],
    &["deploy", "restart_policy", "max_attempts"],
    &["deploy", "placement", "max_replicas_per_node"],
    &["deploy", "resources", "limits", "pids"],
    &["healthcheck", "retries"],
    &["oom_score_adj"],
];
const CPUS: &[&[&str]] = &[&["deploy", "resources", "limits", "cpus"], &["deploy", "resources", "reservations", "cpus"]];
/// Mappings whose values must be strings, numbers or null (`list_or_dict`).
const DICTS: &[&[&str]] = &[&["environment"], &["labels"], &["deploy", "labels"], &["sysctls"], &["build", "args"]];

/// Booleans where strings are read, quoted integers where integers are, numeric CPUs: each
/// written again in the type the v3 schema wants under `--enforce`, where that is exact.
fn typed(service: &Service, out: &mut Out) {
    for path in INTEGERS {
        let Some(Value::String(text)) = service.get(path) else { continue };
        if text.contains('$') {
            // The docker CLI casts an interpolated value where it reads a number.
            continue;
        }
        let number = text.parse::<i64>().ok().filter(|n| n.to_string() == *text);
        let must = if path[0] == "healthcheck" { "a number" } else { "an integer" };
        retype(service, out, path, must, number.map(Value::from));
    }
    for path in CPUS {
        let Some(Value::Number(n)) = service.get(path) else { continue };
        retype(service, out, path, "a string", Some(Value::from(n.to_string())));
    }
    for dict in DICTS {
        for (key, value) in service.get(dict).and_then(Value::as_mapping).into_iter().flatten() {
            let Value::Bool(b) = value else { continue };
            let key = scalar(key);
            let path: Vec<&str> = dict.iter().copied().chain([key.as_str()]).collect();
            retype(service, out, &path, "a string, a number or null", Some(Value::from(b.to_string())));
        }
    }
}

/// A value the v3 schema refuses in its YAML type; `new`, where given, is the same value in
/// the type it wants, written under `--enforce`.
fn retype(service: &Service, out: &mut Out, path: &[&str], must: &str, new: Option<Value>) {
    let Some(old) = service.get(path) else { return };
    let key = path.last().copied().unwrap_or_default();
    let refuses = format!("`docker stack deploy` refuses `{key}: {}`: it must be {must}", shown(old));
    match new {
        Some(new) if service.enforce => {
            let message = format!("{refuses}: written `{key}: {}`", shown(&new));
            out.replace(&SWARM_REFUSED_VALUE, path, old, new, message);
        }
        Some(new) => {
            let message = format!("{refuses}: the file does not deploy; write `{key}: {}`", shown(&new));
            out.report_enforceable(&SWARM_REFUSED_VALUE, path, message);
        }
        None => out.report(&SWARM_REFUSED_VALUE, path, format!("{refuses}: the file does not deploy; write {must}")),
    }
}

/// A scalar as YAML shows it: a string quoted, so that `"2"` and `2` differ.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Bool(b) => b.to_string(),
        other => scalar(other),
    }
}

/// Each string under `value` that the docker CLI's interpolation refuses, with its path.
fn interpolations(value: &Value, path: &mut Vec<String>, found: &mut dyn FnMut(&[String], String)) {
    match value {
        Value::String(text) => {
            if let Some(bad) = refused_dollar(text) {
                let message = format!(
                    "`docker stack deploy` refuses `{bad}` in `{}`: its interpolation reads only `$NAME`, \
                     `${{NAME}}`, `${{NAME:-default}}`, `${{NAME:?error}}` and `$$`: the file does not deploy; write \
                     `$$` for a `$` meant as it is",
                    path.join(".")
                );
                found(path, message);
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                interpolations(item, path, found);
                path.pop();
            }
        }
        Value::Mapping(m) => {
            for (key, item) in m {
                path.push(scalar(key));
                interpolations(item, path, found);
                path.pop();
            }
        }
        Value::Tagged(t) => interpolations(&t.value, path, found),
        _ => {}
    }
}

/// The first `$` the docker CLI's template refuses (`$(`, `$ `, `$1`, `${A:+x}`, a `$` at the
/// end), shown with what follows it: its pattern reads `$$`, `$NAME`, and `${NAME}` with an
/// optional `-`, `:-`, `?` or `:?` and text up to the first `}` (not read again).
fn refused_dollar(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = bytes[i..].iter().position(|&b| b == b'$').map(|p| p + i) {
        let read = match bytes.get(at + 1) {
            Some(b'$') => Some(2),
            Some(&b) if b == b'_' || b.is_ascii_alphabetic() => Some(2),
            Some(b'{') => braced(&bytes[at + 2..]).map(|len| 2 + len),
            _ => None,
        };
        match read {
            Some(len) => i = at + len,
            None => return Some(refused_part(&text[at..])),
        }
    }
    None
}

/// What a refused `$` is shown as: `${...}` whole (up to 24 characters), else the `$` and
/// the character after it, where that is not a space.
fn refused_part(from: &str) -> String {
    if from.starts_with("${") {
        let end = from.find('}').map_or(from.len(), |i| i + 1);
        return from[..end].chars().take(24).collect();
    }
    from.chars().take(2).filter(|c| !c.is_whitespace()).collect()
}

/// The length of `NAME}` or `NAME<op>text}` at the start of `rest`, where the docker CLI
/// reads it.
fn braced(rest: &[u8]) -> Option<usize> {
    rest.first().filter(|&&b| b == b'_' || b.is_ascii_alphabetic())?;
    let name = rest.iter().take_while(|&&b| b == b'_' || b.is_ascii_alphanumeric()).count();
    let after = &rest[name..];
    if after.first() == Some(&b'}') {
        return Some(name + 1);
    }
    let op = [&b":-"[..], b":?", b"-", b"?"].into_iter().find(|op| after.starts_with(op))?;
    let close = after[op.len()..].iter().position(|&b| b == b'}')?;
    Some(name + op.len() + close + 1)
}

/// The top-level sections beside `services` (`x-` blocks, networks, volumes, configs,
/// secrets), read for what the docker CLI's interpolation refuses.
fn top_interpolations(top: &Value, plan: &mut Plan) {
    let mut path = Vec::new();
    for (key, value) in top.as_mapping().into_iter().flatten() {
        if key.as_str() == Some("services") {
            continue;
        }
        path.push(scalar(key));
        interpolations(value, &mut path, &mut |path, message| {
            plan.findings.push(Finding::new(&SWARM_REFUSED_VALUE, "", path.to_vec(), message));
        });
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, enforced, plan, profile};

    const LISTS: &str = "refused: [mem_limit, cpus, memswap_limit, pids_limit, scale, extends], \
                         ignored: [build, container_name], source: measured";

    #[test]
    fn each_key_swarm_ignores_is_reported() {
        let settings = format!("swarm: {{{LISTS}}}");
        let compose = "services:
  app: {image: example/app:1, build: ., container_name: app}
  plain: {image: example/app:1}
";
        check(plan(&Swarm, &profile(&settings), compose), r#"
info[swarm/ignored-key] app at build: Swarm ignores `build`
info[swarm/ignored-key] app at container_name: Swarm ignores `container_name`
"#);
    }

    #[test]
    fn a_refused_key_is_an_error_and_under_enforce_moves_where_swarm_reads_it() {
        let settings = format!("swarm: {{{LISTS}}}");
        let compose = "services:
  app: {image: example/app:1, mem_limit: 256m, cpus: 0.5, memswap_limit: 1g, pids_limit: 100, scale: 2}
  spelled: {image: example/app:1, mem_limit: 1g, deploy: {resources: {limits: {memory: 1g}}}}
  varied: {image: example/app:1, mem_limit: '${MEM}'}
  unread: {image: example/app:1, mem_limit: 1g, deploy: {resources: {limits: {memory: null}}}}
";
        check(plan(&Swarm, &profile(&settings), compose), r#"
error[swarm/refused-key] app at mem_limit: `docker stack deploy` refuses `mem_limit`: the file does not deploy; Swarm reads it as `deploy.resources.limits.memory: 256m`: write that, and delete `mem_limit` (enforceable)
error[swarm/refused-key] app at cpus: `docker stack deploy` refuses `cpus`: the file does not deploy; Swarm reads it as `deploy.resources.limits.cpus: 0.5`: write that, and delete `cpus` (enforceable)
error[swarm/refused-key] app at memswap_limit: `docker stack deploy` refuses `memswap_limit`: the file does not deploy; Swarm sets no swap limit: delete it
error[swarm/refused-key] app at pids_limit: `docker stack deploy` refuses `pids_limit`: the file does not deploy; Swarm reads it as `deploy.resources.limits.pids: 100`: write that, and delete `pids_limit` (enforceable)
error[swarm/refused-key] app at scale: `docker stack deploy` refuses `scale`: the file does not deploy; Swarm reads it as `deploy.replicas: 2`: write that, and delete `scale` (enforceable)
error[swarm/refused-key] spelled at mem_limit: `docker stack deploy` refuses `mem_limit`: the file does not deploy; `deploy.resources.limits.memory` is set already, which Swarm reads: delete `mem_limit` (enforceable)
error[swarm/refused-key] varied at mem_limit: `docker stack deploy` refuses `mem_limit`: the file does not deploy; its value is not one the tool can write again: spell it under `deploy` by hand
error[swarm/refused-key] unread at mem_limit: `docker stack deploy` refuses `mem_limit`: the file does not deploy; `deploy.resources.limits.memory` is set already, which Swarm reads: delete `mem_limit`
"#);
        // The spelling written and the key deleted; where Swarm reads it already, the key
        // deleted alone; keys without a spelling of their own stay, reported.
        check(enforced(&Swarm, &profile(&settings), compose), r#"
+ app: deploy.resources.limits.memory = "256m"  [swarm/refused-key]
- app: mem_limit (was "256m")  [swarm/refused-key]: `docker stack deploy` refuses `mem_limit`: deleted (it was `256m`), and written as `deploy.resources.limits.memory: 256m`, which Swarm reads
+ app: deploy.resources.limits.cpus = "0.5"  [swarm/refused-key]
- app: cpus (was 0.5)  [swarm/refused-key]: `docker stack deploy` refuses `cpus`: deleted (it was `0.5`), and written as `deploy.resources.limits.cpus: 0.5`, which Swarm reads
+ app: deploy.resources.limits.pids = 100  [swarm/refused-key]
- app: pids_limit (was 100)  [swarm/refused-key]: `docker stack deploy` refuses `pids_limit`: deleted (it was `100`), and written as `deploy.resources.limits.pids: 100`, which Swarm reads
+ app: deploy.replicas = 2  [swarm/refused-key]
- app: scale (was 2)  [swarm/refused-key]: `docker stack deploy` refuses `scale`: deleted (it was `2`), and written as `deploy.replicas: 2`, which Swarm reads
- spelled: mem_limit (was "1g")  [swarm/refused-key]: `docker stack deploy` refuses `mem_limit`: deleted (it was `1g`); `deploy.resources.limits.memory` is set already, which Swarm reads
error[swarm/refused-key] app at memswap_limit: `docker stack deploy` refuses `memswap_limit`: the file does not deploy; Swarm sets no swap limit: delete it
error[swarm/refused-key] varied at mem_limit: `docker stack deploy` refuses `mem_limit`: the file does not deploy; its value is not one the tool can write again: spell it under `deploy` by hand
error[swarm/refused-key] unread at mem_limit: `docker stack deploy` refuses `mem_limit`: the file does not deploy; `deploy.resources.limits.memory` is set already, which Swarm reads: delete `mem_limit`
"#);
    }

    #[test]
    fn a_pids_limit_moves_only_where_the_files_schema_reads_it() {
        let settings = format!("swarm: {{{LISTS}}}");
        let compose = "version: '3.7'\nservices:\n  app: {image: example/app:1, pids_limit: 100, mem_limit: 1g}\n";
        check(enforced(&Swarm, &profile(&settings), compose), r#"
+ app: deploy.resources.limits.memory = "1g"  [swarm/refused-key]
- app: mem_limit (was "1g")  [swarm/refused-key]: `docker stack deploy` refuses `mem_limit`: deleted (it was `1g`), and written as `deploy.resources.limits.memory: 1g`, which Swarm reads
error[swarm/refused-key] app at pids_limit: `docker stack deploy` refuses `pids_limit`: the file does not deploy; Swarm reads `deploy.resources.limits.pids` from version 3.9 of its schema, and the file says `version: 3.7`: raise it, and write that
"#);
        let compose = "version: '3.9'\nservices:\n  app: {image: example/app:1, pids_limit: 100}\n";
        let planned = enforced(&Swarm, &profile(&settings), compose);
        assert!(planned.starts_with("+ app: deploy.resources.limits.pids = 100"), "{planned}");
    }

    #[test]
    fn depends_on_is_reported_and_its_long_form_refused() {
        let settings = format!("swarm: {{{LISTS}}}");
        let compose = "services:
  api: {image: example/app:1, depends_on: [db]}
  web: {image: example/app:1, depends_on: {api: {condition: service_healthy}, db: {condition: service_started}}}
  db: {image: example/db:1}
";
        check(plan(&Swarm, &profile(&settings), compose), r#"
info[swarm/depends-on] api at depends_on: Swarm ignores `depends_on` and starts every service at once: this one must retry db until it answers
error[swarm/refused-key] web at depends_on: `docker stack deploy` refuses the long form of `depends_on` (it must be a list): the file does not deploy; write `depends_on: [api, db]`, and its wait for `api` (service_healthy) is lost: Swarm waits for nothing
info[swarm/depends-on] web at depends_on: Swarm ignores `depends_on` and starts every service at once: this one must retry api, db until it answers
"#);
    }

    #[test]
    fn values_the_v3_schema_refuses_are_errors() {
        let settings = format!("swarm: {{{LISTS}}}");
        let compose = "name: shop
version: '2.4'
services:
  app:
    image: example/app:1
    ports: [{target: 80, published: '8080'}, {target: 81, published: '9000-9001'}]
    deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}
configs:
  site: {content: hello}
";
        check(plan(&Swarm, &profile(&settings), compose), r#"
error[swarm/refused-key] (file) at name: `docker stack deploy` refuses a top-level `name`: the file does not deploy; Swarm names the stack on its command line: delete the key, and deploy with `docker stack deploy -c FILE NAME`
error[swarm/refused-key] (file) at version: `docker stack deploy` refuses `version: 2.4`: the file does not deploy; it reads version 3 files: delete the key
error[swarm/refused-key] (file) at configs.site.content: `docker stack deploy` refuses `content` in `configs`: the file does not deploy; Swarm reads a `file` or an `external` one
error[swarm/refused-value] app at ports.0.published: `docker stack deploy` refuses `published: "8080"`: it must be an integer: the file does not deploy; write `published: 8080` (enforceable)
error[swarm/refused-value] app at ports.1.published: `docker stack deploy` refuses `published: "9000-9001"`: it must be an integer: the file does not deploy; write one item per port
error[swarm/refused-value] app at deploy.resources.reservations.devices: `docker stack deploy` refuses `deploy.resources.reservations.devices`: the file does not deploy; Swarm reserves devices as `generic_resources` that each node advertises
"#);
    }

    #[test]
    fn a_quoted_port_number_is_written_as_an_integer_under_enforce() {
        let settings = format!("swarm: {{{LISTS}}}");
        let compose = "services:
  app:
    image: example/app:1
    ports: [{target: '80', published: '8080'}, {target: 81, published: '9000-9001'}, {target: 82, published: '${PORT}'}]
";
        check(enforced(&Swarm, &profile(&settings), compose), r#"
~ app: ports.0.published = 8080 (was "8080")  [swarm/refused-value]: `docker stack deploy` refuses `published: "8080"`: it must be an integer: written `published: 8080`
~ app: ports.0.target = 80 (was "80")  [swarm/refused-value]: `docker stack deploy` refuses `target: "80"`: it must be an integer: written `target: 80`
error[swarm/refused-value] app at ports.1.published: `docker stack deploy` refuses `published: "9000-9001"`: it must be an integer: the file does not deploy; write one item per port
"#);
    }

    const ROLLOUT: &str = "update_config: {parallelism: 1, monitor: 30s, failure_action: rollback, order: start-first}, \
         rollback_config: {parallelism: 1, monitor: 30s, failure_action: pause, order: start-first}, \
         restart_policy: {delay: 5s}, jobs: true";

    #[test]
    fn start_first_only_where_two_copies_can_run_side_by_side() {
        let settings = format!("swarm: {{{LISTS}, {ROLLOUT}}}");
        let compose = "services:
  web:
    image: example/web:1
    healthcheck: {test: [CMD, true]}
    volumes: [/cache, 'conf:/etc/web:ro', {type: tmpfs, target: /tmp}]
    ports: ['8080:80']
    deploy: {restart_policy: {condition: any}}
  db:
    image: example/db:1
    healthcheck: {test: [CMD, true]}
    volumes: ['data:/var/lib/db']
";
        check(plan(&Swarm, &profile(&settings), compose), r#"
+ web: deploy.restart_policy.delay = "5s"  [swarm/restart-delay]
+ web: deploy.update_config.parallelism = 1  [swarm/update-config]
+ web: deploy.update_config.monitor = "30s"  [swarm/update-config]
+ web: deploy.update_config.failure_action = "rollback"  [swarm/update-config]
+ web: deploy.update_config.order = "start-first"  [swarm/update-config]
+ web: deploy.rollback_config.parallelism = 1  [swarm/rollback-config]
+ web: deploy.rollback_config.monitor = "30s"  [swarm/rollback-config]
+ web: deploy.rollback_config.failure_action = "pause"  [swarm/rollback-config]
+ web: deploy.rollback_config.order = "start-first"  [swarm/rollback-config]
+ db: deploy.update_config.parallelism = 1  [swarm/update-config]
+ db: deploy.update_config.monitor = "30s"  [swarm/update-config]
+ db: deploy.update_config.failure_action = "rollback"  [swarm/update-config]
+ db: deploy.update_config.order = "stop-first"  [swarm/update-config]
+ db: deploy.rollback_config.parallelism = 1  [swarm/rollback-config]
+ db: deploy.rollback_config.monitor = "30s"  [swarm/rollback-config]
+ db: deploy.rollback_config.failure_action = "pause"  [swarm/rollback-config]
+ db: deploy.rollback_config.order = "stop-first"  [swarm/rollback-config]
info[swarm/stop-first] db at deploy: tasks are replaced `stop-first`: volume `data:/var/lib/db` is writable, and two copies would write it at once
"#);
    }

    #[test]
    fn each_reason_for_stop_first_is_given() {
        let settings = format!("swarm: {{{LISTS}, {ROLLOUT}}}");
        let compose = "services:
  plain: {image: example/app:1}
  disabled: {image: example/app:1, healthcheck: {disable: true}}
  bound: {image: example/app:1, healthcheck: {test: [CMD, true]}, volumes: [{type: bind, source: ./data, target: /data}]}
  host: {image: example/app:1, healthcheck: {test: [CMD, true]}, ports: [{target: 80, published: 8080, mode: host}]}
  single: {image: example/app:1, healthcheck: {test: [CMD, true]}, deploy: {placement: {max_replicas_per_node: 1}}}
";
        let planned = plan(&Swarm, &profile(&settings), compose);
        let findings: Vec<&str> = planned.lines().filter(|l| !l.starts_with('+')).collect();
        check(findings.join("\n"), r#"
info[swarm/stop-first] plain at deploy: tasks are replaced `stop-first`: it has no healthcheck, so Swarm cannot tell when the new task is ready
info[swarm/stop-first] disabled at deploy: tasks are replaced `stop-first`: it has no healthcheck, so Swarm cannot tell when the new task is ready
info[swarm/stop-first] bound at deploy: tasks are replaced `stop-first`: volume `./data:/data` is writable, and two copies would write it at once
info[swarm/stop-first] host at deploy: tasks are replaced `stop-first`: port 8080 is published in `mode: host`, which the new task could not bind
info[swarm/stop-first] single at deploy: tasks are replaced `stop-first`: `max_replicas_per_node: 1` leaves no room on a node for the new task beside the old
"#);
    }

    #[test]
    fn the_users_rollout_is_kept_and_an_unsafe_start_first_replaced_under_enforce() {
        let settings = format!("swarm: {{{LISTS}, {ROLLOUT}}}");
        let compose = "services:
  db:
    image: example/db:1
    volumes: ['data:/var/lib/db']
    deploy:
      update_config: {parallelism: 2, monitor: 1m, failure_action: pause, order: start-first}
      rollback_config: ${ROLLBACK}
";
        check(plan(&Swarm, &profile(&settings), compose), r#"
warning[swarm/start-first-unsafe] db at deploy.update_config.order: `update_config.order: start-first`, but two copies cannot run side by side: it has no healthcheck, so Swarm cannot tell when the new task is ready (enforceable)
"#);
        check(enforced(&Swarm, &profile(&settings), compose), r#"
~ db: deploy.update_config.order = "stop-first" (was "start-first")  [swarm/start-first-unsafe]: `update_config.order: start-first`, but two copies cannot run side by side: it has no healthcheck, so Swarm cannot tell when the new task is ready
"#);
    }

    #[test]
    fn a_job_runs_as_a_replicated_job_without_a_rollout() {
        let compose = "services:
  migrate: {image: example/app:1, command: [migrate], deploy: {restart_policy: {condition: on-failure}}}
  seed: {image: example/app:1, deploy: {mode: replicated}}
  app: {image: example/app:1, depends_on: {seed: {condition: service_completed_successfully}}}
";
        let profile = profile(&format!("swarm: {{{LISTS}, {ROLLOUT}}}\nrestart: {{policy: any, swarm: true, one_shot: {{policy: on-failure, commands: [migrate]}}}}"));
        let planned = plan(&Swarm, &profile, compose);
        let shown: Vec<&str> = planned.lines().filter(|l| !l.starts_with("+ app:")).collect();
        check(shown.join("\n"), r#"
+ migrate: deploy.mode = "replicated-job"  [swarm/job]
error[swarm/refused-key] app at depends_on: `docker stack deploy` refuses the long form of `depends_on` (it must be a list): the file does not deploy; write `depends_on: [seed]`, and its wait for `seed` (service_completed_successfully) is lost: Swarm waits for nothing
info[swarm/depends-on] app at depends_on: Swarm ignores `depends_on` and starts every service at once: this one must retry seed until it answers
info[swarm/stop-first] app at deploy: tasks are replaced `stop-first`: it has no healthcheck, so Swarm cannot tell when the new task is ready
"#);
    }

    #[test]
    fn dollars_are_read_as_the_docker_clis_template_reads_them() {
        // Each measured with `docker stack config -c` (docker CLI 28).
        for accepted in ["$A", "${A}", "${A:-x}", "${A-x}", "${A:?e}", "${A?e}", "$$(x)", "${A:-$(x)}", "a$$", "$_b1"] {
            assert_eq!(refused_dollar(accepted), None, "{accepted}");
        }
        let refused = [("$(date)", "$("), ("5$", "$"), ("a $ b", "$"), ("$1", "$1"), ("${A:+x}", "${A:+x}"), ("$-", "$-")];
        for (text, shown) in refused {
            assert_eq!(refused_dollar(text).as_deref(), Some(shown), "{text}");
        }
    }

    #[test]
    fn values_in_the_wrong_yaml_type_are_written_in_the_right_one_under_enforce() {
        let settings = format!("swarm: {{{LISTS}}}");
        let compose = "services:
  app:
    image: example/app:1
    environment: {DEBUG: true, N: 1}
    deploy: {replicas: '2', resources: {limits: {cpus: 0.5}}, restart_policy: {max_attempts: two}}
";
        check(enforced(&Swarm, &profile(&settings), compose), r#"
~ app: deploy.replicas = 2 (was "2")  [swarm/refused-value]: `docker stack deploy` refuses `replicas: "2"`: it must be an integer: written `replicas: 2`
~ app: deploy.resources.limits.cpus = "0.5" (was 0.5)  [swarm/refused-value]: `docker stack deploy` refuses `cpus: 0.5`: it must be a string: written `cpus: "0.5"`
~ app: environment.DEBUG = "true" (was true)  [swarm/refused-value]: `docker stack deploy` refuses `DEBUG: true`: it must be a string, a number or null: written `DEBUG: "true"`
error[swarm/refused-value] app at deploy.restart_policy.max_attempts: `docker stack deploy` refuses `max_attempts: "two"`: it must be an integer: the file does not deploy; write an integer
"#);
    }
}
