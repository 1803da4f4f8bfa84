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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    const SETTINGS: &str = "restart:
  policy: unless-stopped
  one_shot: {policy: on-failure, commands: [db:migrate]}
";

    #[test]
    fn a_service_gets_the_policy_and_a_job_one_that_does_not_rerun_it() {
        let compose = "services:
  app: {image: example/app:1}
  set: {image: example/app:1, restart: always}
  db-migrate: {image: example/app:1}
  seed: {image: example/app:1, command: [rake, db:migrate]}
  once: {image: example/app:1}
  web: {image: example/app:1, restart: always, depends_on: {once: {condition: service_completed_successfully}}}
";
        check(plan(&Restart, &profile(SETTINGS), compose), r#"
+ app: restart = "unless-stopped"  [restart/missing]
+ db-migrate: restart = "unless-stopped"  [restart/missing]
+ seed: restart = "on-failure"  [restart/missing]
info[restart/one-shot] seed: `restart: on-failure` instead of `unless-stopped`: the service looks like a job that runs once (the last step of its command runs `db:migrate`, and nothing is started after it), and `unless-stopped` would rerun it each time it exits; give it `restart: unless-stopped` if it is a long-running service
info[restart/one-shot] once: restart not added: service `web` waits for this one to complete (service_completed_successfully), so a restart policy would run it in a loop
"#);
    }

    #[test]
    fn under_swarm_the_condition_is_written_and_without_a_job_policy_none_is() {
        let settings = "restart: {policy: any, swarm: true, one_shot: {policy: null, commands: [db:migrate]}}";
        let compose = "services:
  app: {image: example/app:1}
  db-migrate: {image: example/app:1, command: [rake, db:migrate]}
  given: {image: example/app:1, deploy: {restart_policy: {condition: none}}}
";
        check(plan(&Restart, &profile(settings), compose), r#"
+ app: deploy.restart_policy.condition = "any"  [restart/missing]
info[restart/one-shot] db-migrate: restart not added: the service looks like a job that runs once (the last step of its command runs `db:migrate`, and nothing is started after it), and `any` would rerun it each time it exits; give it `deploy.restart_policy.condition: any` if it is a long-running service
"#);
    }
}
