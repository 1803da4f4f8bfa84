//! `restart: unless-stopped` brings a crashed service back. A one-shot job (one that
//! another service waits to complete) would loop under it, so it gets none.

use super::{Out, Pass, Service};
use crate::document::kept_by_merge;
use crate::rule as rules;
use yaml_serde::Value;

pub struct Restart;

impl Pass for Restart {
    fn name(&self) -> &'static str {
        "restart"
    }

    fn run(&self, service: &Service, out: &mut Out) {
        let Some(rule) = &service.profile.restart else {
            return;
        };
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
        let key: &[&str] = if rule.swarm { &["deploy", "restart_policy", "condition"] } else { &["restart"] };
        let shown = |p: &str| match rule.swarm {
            true => format!("deploy.restart_policy.condition: {p}"),
            false => format!("restart: {p}"),
        };
        if let Some(waiter) = service.relations.completion_waiter.get(service.name) {
            out.report(
                &rules::RESTART_JOB,
                &[],
                format!(
                    "restart not added: service `{waiter}` waits for this one to complete \
                     (service_completed_successfully), so a restart policy would run it in a loop"
                ),
            );
            return;
        }
        let one_shot = rule.one_shot.as_ref().and_then(|o| Some((o, service.one_shot()?)));
        match one_shot {
            Some((o, why)) => {
                let what = match &o.policy {
                    Some(p) => {
                        out.add(&rules::RESTART_MISSING, key, p.as_str());
                        format!("`{}` instead of `{}`", shown(p), rule.policy)
                    }
                    None => "restart not added".to_string(),
                };
                out.report(
                    &rules::RESTART_JOB,
                    &[],
                    format!(
                        "{what}: the service looks like a job that runs once ({why}), and `{}` would rerun it each \
                         time it exits; give it `{}` if it is a long-running service",
                        rule.policy,
                        shown(&rule.policy)
                    ),
                );
            }
            None => out.add(&rules::RESTART_MISSING, key, rule.policy.as_str()),
        }
    }
}
