//! `restart: unless-stopped` brings a crashed service back. A one-shot job (one that
//! another service waits to complete) would loop under it, so it gets none.

use super::{Out, Pass, Service};
use crate::document::kept_by_merge;
use crate::profile::{Profile, RestartSettings};
use crate::rule::{rules, Rule, Severity};
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
         `unless-stopped`. A name alone never makes a service a job. Under Swarm such a job (and one \
         `deploy.mode` declares a job) runs to completion once, and gets the profile's one-shot policy, \
         `on-failure`.";
    RESTART_SWARM = "restart/swarm", Warning, Safe,
        "`restart` is not the policy Swarm runs",
        "`docker stack deploy` reads `restart` only where `deploy.restart_policy` is absent, and reads \
         `restart: no` as no policy at all: Swarm's default, `any`, then restarts the task on every exit, the \
         opposite of what the file says. Under the `swarm` profile the file's own choice is written as \
         `deploy.restart_policy` (`no` is `none`, `always` and `unless-stopped` are `any`, `on-failure:N` is \
         `on-failure` with `max_attempts: N`), and `restart` stays for `docker compose up`.";
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
        if let (true, Some(given)) = (settings.swarm, service.get(&["restart"])) {
            match policy {
                true => out.report_as(
                    &RESTART_SWARM,
                    Severity::Info,
                    &["restart"],
                    "Swarm ignores `restart`: `deploy.restart_policy` is set, which it reads",
                ),
                false => for_swarm(given, out),
            }
            return;
        }
        if service.is_set(&["restart"]) || policy {
            return;
        }
        // Swarm reads `deploy.restart_policy`; Compose would read it too, outside Swarm.
        let key: &[&str] = if settings.swarm { &["deploy", "restart_policy", "condition"] } else { &["restart"] };
        let shown = |p: &str| match settings.swarm {
            true => format!("deploy.restart_policy.condition: {p}"),
            false => format!("restart: {p}"),
        };
        // Under Swarm a job runs to completion once: a policy that retries it on failure
        // does not loop it.
        let job = service.str(&["deploy", "mode"]).is_some_and(|m| m.ends_with("-job"));
        let waiter = service.relations.completion_waiter.get(service.name);
        if let (true, Some(p)) = (settings.swarm, settings.one_shot.as_ref().and_then(|o| o.policy.as_ref())) {
            let why = match (job, waiter) {
                (true, _) => Some("`deploy.mode` runs it as a job".to_string()),
                (false, Some(w)) => Some(format!("service `{w}` waits for this one to complete, and Swarm runs it as a job")),
                _ => None,
            };
            if let Some(why) = why {
                out.add(&RESTART_MISSING, key, p.as_str());
                let message = format!("`{}` instead of `{}`: {why}, retried only if it fails", shown(p), settings.policy);
                return out.report(&RESTART_ONE_SHOT, &[], message);
            }
        }
        if let Some(waiter) = waiter {
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

/// The file's `restart` written as the `deploy.restart_policy` Swarm reads: `docker stack
/// deploy` falls back to `restart` only where no policy is given, and takes `no` for none at
/// all, so that Swarm's default, `any`, restarts what the file says must not restart.
fn for_swarm(given: &Value, out: &mut Out) {
    let text = given.as_str().unwrap_or_default();
    let read = match text.split_once(':') {
        Some(("on-failure", n)) => n.parse::<u64>().ok().map(|n| ("on-failure", Some(n))),
        _ => match text {
            "no" => Some(("none", None)),
            "always" | "unless-stopped" => Some(("any", None)),
            "on-failure" => Some(("on-failure", None)),
            _ => None,
        },
    };
    let Some((condition, attempts)) = read else {
        let message = format!(
            "`restart: {text}` is not a policy the tool can read (a variable?): write the `deploy.restart_policy` \
             Swarm should run"
        );
        return out.report(&RESTART_SWARM, &["restart"], message);
    };
    out.add(&RESTART_SWARM, &["deploy", "restart_policy", "condition"], condition);
    let mut written = format!("`deploy.restart_policy.condition: {condition}`");
    if let Some(n) = attempts.filter(|n| *n > 0) {
        out.add(&RESTART_SWARM, &["deploy", "restart_policy", "max_attempts"], n);
        written.push_str(&format!(" with `max_attempts: {n}`"));
    }
    let why = match condition {
        "none" => "without it Swarm reads `no` as no policy and restarts the task on every exit (its default, `any`)",
        _ => "what `docker stack deploy` makes of it, written where Swarm reads it",
    };
    let message = format!("`restart: {text}` written as {written}: {why}");
    match condition {
        "none" => out.report(&RESTART_SWARM, &["restart"], message),
        _ => out.report_as(&RESTART_SWARM, Severity::Info, &["restart"], message),
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

    #[test]
    fn under_swarm_the_files_restart_is_written_as_the_policy_swarm_runs_and_a_job_retries_on_failure() {
        let settings = "restart: {policy: any, swarm: true, one_shot: {policy: on-failure, commands: []}}";
        let compose = "services:
  off: {image: example/app:1, restart: 'no'}
  poll: {image: example/app:1, restart: 'on-failure:3'}
  both: {image: example/app:1, restart: always, deploy: {restart_policy: {condition: on-failure}}}
  odd: {image: example/app:1, restart: 'on-failure:x'}
  job: {image: example/app:1, deploy: {mode: replicated-job}}
  once: {image: example/app:1}
  web: {image: example/app:1, depends_on: {once: {condition: service_completed_successfully}}}
";
        check(plan(&Restart, &profile(settings), compose), r#"
+ off: deploy.restart_policy.condition = "none"  [restart/swarm]
+ poll: deploy.restart_policy.condition = "on-failure"  [restart/swarm]
+ poll: deploy.restart_policy.max_attempts = 3  [restart/swarm]
+ job: deploy.restart_policy.condition = "on-failure"  [restart/missing]
+ once: deploy.restart_policy.condition = "on-failure"  [restart/missing]
+ web: deploy.restart_policy.condition = "any"  [restart/missing]
warning[restart/swarm] off at restart: `restart: no` written as `deploy.restart_policy.condition: none`: without it Swarm reads `no` as no policy and restarts the task on every exit (its default, `any`)
info[restart/swarm] poll at restart: `restart: on-failure:3` written as `deploy.restart_policy.condition: on-failure` with `max_attempts: 3`: what `docker stack deploy` makes of it, written where Swarm reads it
info[restart/swarm] both at restart: Swarm ignores `restart`: `deploy.restart_policy` is set, which it reads
warning[restart/swarm] odd at restart: `restart: on-failure:x` is not a policy the tool can read (a variable?): write the `deploy.restart_policy` Swarm should run
info[restart/one-shot] job: `deploy.restart_policy.condition: on-failure` instead of `any`: `deploy.mode` runs it as a job, retried only if it fails
info[restart/one-shot] once: `deploy.restart_policy.condition: on-failure` instead of `any`: service `web` waits for this one to complete, and Swarm runs it as a job, retried only if it fails
"#);
    }
}
