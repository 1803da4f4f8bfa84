//! `restart: unless-stopped` brings a crashed service back. A one-shot job (one that
//! another service waits to complete) would loop under it, so it gets none.

use super::{Out, Pass, Service};
use crate::document::kept_by_merge;
use crate::profile::{Profile, RestartSettings};
use crate::rule::{rules, Rule};
use yaml_serde::Value;

pub struct Restart;

rules! {
    RESTART_MISSING = "restart/missing", Warning, Safe,
        "no restart policy: a crashed service stays down",
        "`restart: unless-stopped` brings a crashed service back (Docker never restarts an unhealthy one). \
         One-shot jobs get `on-failure` or none, since `unless-stopped` would rerun them. The profile \
         `orchestrated` leaves restarts to the orchestrator.";
    RESTART_ONE_SHOT = "restart/one-shot", Info, None,
        "a one-shot job gets no restart policy that reruns it",
        "A service another waits to complete (service_completed_successfully), or one whose command's last \
         step is a known one-shot step (`migrate`, `mc mb`) with nothing started after it, would loop under \
         `unless-stopped`. A name alone never makes a service a job.";
}

impl Pass for Restart {
    const NAME: &'static str = "restart";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p RestartSettings;

    fn settings(profile: &Profile) -> Option<&RestartSettings> {
        profile.restart.as_ref()
    }

    fn run(&self, settings: &RestartSettings, service: &Service, out: &mut Out) {
        // A `deploy: !reset` has no restart_policy: Compose drops it, unless `<<` merges a
        // `deploy` in beside it, which Compose keeps.
        let policy = match service.get(&["deploy"]) {
            Some(deploy @ Value::Tagged(t)) if t.tag == "reset" => {
                kept_by_merge(deploy).is_some_and(|kept| kept.get("restart_policy").is_some())
            }
            _ => service.is_set(&["deploy", "restart_policy"]),
        };
        if service.is_set(&["restart"]) || policy {
            return;
        }
        // Swarm reads `deploy.restart_policy`; Compose would read it too, outside Swarm.
        let key: &[&str] = if settings.swarm { &["deploy", "restart_policy", "condition"] } else { &["restart"] };
        let shown = |p: &str| match settings.swarm {
            true => format!("deploy.restart_policy.condition: {p}"),
            false => format!("restart: {p}"),
        };
        if let Some(waiter) = service.relations.completion_waiter.get(service.name) {
            out.report(
                &RESTART_ONE_SHOT,
                &[],
                format!(
                    "restart not added: service `{waiter}` waits for this one to complete \
                     (service_completed_successfully), so a restart policy would run it in a loop"
                ),
            );
            return;
        }
        let one_shot = settings.one_shot.as_ref().and_then(|o| Some((o, service.one_shot()?)));
        match one_shot {
            Some((o, why)) => {
                let what = match &o.policy {
                    Some(p) => {
                        out.add(&RESTART_MISSING, key, p.as_str());
                        format!("`{}` instead of `{}`", shown(p), settings.policy)
                    }
                    None => "restart not added".to_string(),
                };
                out.report(
                    &RESTART_ONE_SHOT,
                    &[],
                    format!(
                        "{what}: the service looks like a job that runs once ({why}), and `{}` would rerun it each \
                         time it exits; give it `{}` if it is a long-running service",
                        settings.policy,
                        shown(&settings.policy)
                    ),
                );
            }
            None => out.add(&RESTART_MISSING, key, settings.policy.as_str()),
        }
    }
}
