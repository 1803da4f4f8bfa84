//! What a service is, decided once before any pass runs: a long-running container, or a
//! service that is not one (a provider's, one that exists to be built on, an interactive
//! tool), which gets no container hardening; and the `pre_start` steps that run once
//! beside it. Each is reported as a `load` finding that says why.

use super::Relations;
use crate::document::lookup;
use crate::plan::{Finding, Plan};
use crate::rule::{rules, Rule};
use std::collections::HashMap;
use yaml_serde::{Mapping, Value};

rules! {
    LOAD_PROVIDER = "load/provider", Info, None,
        "a provider's service is not a container",
        "A service with `provider:` is handed to a plugin (a model runner, a cloud resource) that runs outside \
         the project's containers: init, healthcheck, restart, logging, limits and ulimits mean nothing there, \
         and none is written. The `dangerous` reports still run.";
    LOAD_BUILD_ONLY = "load/build-only", Info, None,
        "a service that exists to be built on gets no container hardening",
        "A service another names in `build.additional_contexts` (`service:NAME`) is an image for that build; \
         its command usually exits at once, and `restart: unless-stopped` would start it in a loop (7 restarts \
         in 10 s measured). Nothing is written for it; the `dangerous` reports still run.";
    LOAD_INTERACTIVE = "load/interactive", Info, None,
        "an interactive tool in a Compose profile gets no container hardening",
        "A service with `stdin_open` or `tty` that runs only under a Compose profile is a tool started by hand \
         (`docker compose --profile tools run cli`) and done when its user leaves it: a restart policy would \
         start it again, and a healthcheck or limits are for long-running services. Nothing is written for it. \
         `tty` outside any profile is a long-running service that asked for a terminal, hardened as usual.";
    LOAD_HOOK = "load/hook", Info, None,
        "a pre_start step runs once, in a container of its own",
        "Each `pre_start` step runs to completion in an ephemeral container (with its own `image`, or the \
         service's) before the service starts; the service's hardening does not apply to it, and nothing is \
         written into it. A privileged step is reported by `dangerous/privileged`.";
}

/// What a service is, as far as hardening goes.
pub enum Kind {
    /// A long-running container: every pass applies.
    Container,
    /// Compose hands it to a plugin: the provider's type.
    Provider(String),
    /// Another service builds on it: that service's name.
    BuildOnly(String),
    /// A tool run by hand: the flags that make it interactive, and its Compose profiles.
    Interactive { flags: Vec<&'static str>, profiles: Vec<String> },
}

impl Kind {
    pub fn of(name: &str, service: &Mapping, relations: &Relations) -> Kind {
        // One pass over the service's keys: every service is asked.
        let (mut flags, mut profiles, mut provider) = (Vec::new(), None, None);
        for (key, value) in service {
            match key.as_str() {
                Some("provider") => provider = Some(value),
                Some(flag @ ("stdin_open" | "tty"))
                    if value.as_bool() == Some(true) || value.as_str() == Some("true") =>
                {
                    flags.push(if flag == "tty" { "tty" } else { "stdin_open" })
                }
                Some("profiles") => profiles = value.as_sequence(),
                _ => {}
            }
        }
        if let Some(provider) = provider {
            let kind = lookup::field(provider, "type").and_then(Value::as_str).unwrap_or("");
            return Kind::Provider(kind.to_string());
        }
        if let Some(builder) = relations.built_on.get(name) {
            return Kind::BuildOnly(builder.clone());
        }
        let profiles: Vec<String> =
            profiles.into_iter().flatten().filter_map(|p| p.as_str().map(str::to_string)).collect();
        if !flags.is_empty() && !profiles.is_empty() {
            flags.sort_unstable(); // `stdin_open` before `tty`, whatever the file's order.
            return Kind::Interactive { flags, profiles };
        }
        Kind::Container
    }

    pub fn is_container(&self) -> bool {
        matches!(self, Kind::Container)
    }

    /// Why a service that is not a container gets none of a container's hardening.
    fn why(&self, name: &str) -> Option<(&'static Rule, String)> {
        let message = match self {
            Kind::Container => return None,
            Kind::Provider(kind) => (
                &LOAD_PROVIDER,
                format!(
                    "no container hardening: Compose hands it to the `{kind}` provider, a plugin that runs outside the \
                     project's containers"
                ),
            ),
            Kind::BuildOnly(builder) => (
                &LOAD_BUILD_ONLY,
                format!(
                    "no container hardening: service `{builder}` builds on it (`build.additional_contexts`: \
                     `service:{name}`); it exists to be built, its command exits at once, and a restart policy would \
                     start it in a loop"
                ),
            ),
            Kind::Interactive { flags, profiles } => {
                let flags: Vec<String> = flags.iter().map(|f| format!("`{f}: true`")).collect();
                let names: Vec<String> = profiles.iter().map(|p| format!("`{p}`")).collect();
                let profile = if names.len() == 1 { "profile" } else { "profiles" };
                (
                    &LOAD_INTERACTIVE,
                    format!(
                        "no container hardening: an interactive tool ({}) in the Compose {profile} {}, run by hand and \
                         done when its user leaves it; a restart policy would start it again, and a healthcheck or \
                         limits are for long-running services",
                        flags.join(", "),
                        names.join(", ")
                    ),
                )
            }
        };
        Some(message)
    }
}

/// Reports what the service is, where it is not a container, and each `pre_start` step.
pub(super) fn report(name: &str, service: &Mapping, kind: &Kind, plan: &mut Plan) {
    if let Some((rule, message)) = kind.why(name) {
        plan.findings.push(Finding::new(rule, name, Vec::new(), message));
    }
    let steps = lookup::get(service, "pre_start").and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default();
    for (i, step) in steps.iter().enumerate() {
        let image = match lookup::field(step, "image").and_then(Value::as_str) {
            Some(image) => format!("image `{image}`"),
            None => "the service's image".to_string(),
        };
        let message = format!(
            "`pre_start[{i}]` runs once, to completion, in a container of its own ({image}) before the service starts; \
             the service's hardening does not apply to it"
        );
        plan.findings.push(Finding::new(&LOAD_HOOK, name, vec!["pre_start".to_string(), i.to_string()], message));
    }
}

/// Service -> the first service that builds on it: `build.additional_contexts` naming
/// `service:NAME`, as a mapping (`base: service:base`) or a list (`base=service:base`).
pub(super) fn build_bases(services: &Mapping) -> HashMap<String, String> {
    let mut bases = HashMap::new();
    for (builder, service) in services {
        let Some(builder) = builder.as_str() else { continue };
        let contexts = lookup::field(service, "build").and_then(|b| lookup::field(b, "additional_contexts"));
        let sources: Vec<&str> = match contexts {
            Some(Value::Mapping(m)) => m.values().filter_map(Value::as_str).collect(),
            Some(Value::Sequence(items)) => {
                items.iter().filter_map(Value::as_str).filter_map(|i| Some(i.split_once('=')?.1)).collect()
            }
            _ => Vec::new(),
        };
        for base in sources.into_iter().filter_map(|s| s.strip_prefix("service:")) {
            bases.entry(base.to_string()).or_insert_with(|| builder.to_string());
        }
    }
    bases
}
