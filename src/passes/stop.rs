//! Stop behaviour: `docker stop` sends the stop signal, waits 10 s, then kills. Databases
//! and brokers that flush on shutdown get longer; images that do not set the signal they
//! shut down gracefully on get it. Where Docker's defaults are right, nothing is written.

use super::{Out, Pass, Service};
use crate::profile::{glob_match, Profile, StopSettings};
use crate::rule::{rules, Rule};

pub struct Stop;

rules! {
    STOP_GRACE_PERIOD = "stop/grace-period", Warning, Safe,
        "a database gets a longer stop grace period",
        "Databases finish a checkpoint and flush on SIGTERM; killed at the 10 s default they start with crash \
         recovery.";
    STOP_SIGNAL = "stop/signal", Warning, Safe,
        "the image stops gracefully only on another signal",
        "Some images shut down cleanly on a signal other than SIGTERM (nginx: SIGQUIT) and do not set it \
         themselves.";
    STOP_SIGKILL = "stop/sigkill", Warning, None,
        "stop_signal SIGKILL cannot be caught",
        "The service never shuts down gracefully.";
}

impl Pass for Stop {
    const NAME: &'static str = "stop";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p StopSettings;

    fn settings(profile: &Profile) -> Option<&StopSettings> {
        profile.stop.as_ref()
    }

    fn run(&self, settings: &StopSettings, service: &Service, out: &mut Out) {
        let repo = service.repo();
        let matches = |images: &[String]| repo.is_some_and(|r| images.iter().any(|p| glob_match(p, r)));
        if !service.is_set(&["stop_grace_period"]) {
            if let Some(entry) = settings.grace_periods.iter().find(|e| matches(&e.images)) {
                out.add(&STOP_GRACE_PERIOD, &["stop_grace_period"], entry.stop_grace_period.as_str());
            }
        }
        match service.get(&["stop_signal"]) {
            Some(signal) => {
                let signal = match signal {
                    yaml_serde::Value::Number(n) => n.to_string(),
                    other => other.as_str().unwrap_or("").to_ascii_uppercase(),
                };
                if matches!(signal.as_str(), "SIGKILL" | "KILL" | "9") {
                    out.report(
                        &STOP_SIGKILL,
                        &["stop_signal"],
                        "stop_signal SIGKILL cannot be caught: the service never shuts down gracefully",
                    );
                }
            }
            None => {
                if let Some(entry) = settings.signals.iter().find(|e| matches(&e.images)) {
                    out.add(&STOP_SIGNAL, &["stop_signal"], entry.stop_signal.as_str());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    const SETTINGS: &str = "stop:
  grace_periods: [{images: [postgres], stop_grace_period: 60s, why: it flushes on SIGTERM.}]
  signals: [{images: [nginx], stop_signal: SIGQUIT, why: SIGQUIT is its graceful stop.}]
";

    #[test]
    fn databases_get_time_and_images_their_signal_unless_set() {
        let compose = "services:
  db: {image: postgres:16}
  web: {image: nginx:1.27}
  set: {image: nginx:1.27, stop_signal: SIGTERM, stop_grace_period: 5s}
  killed: {image: example/app:1, stop_signal: KILL}
";
        check(plan(&Stop, &profile(SETTINGS), compose), r#"
+ db: stop_grace_period = "60s"  [stop/grace-period]
+ web: stop_signal = "SIGQUIT"  [stop/signal]
warning[stop/sigkill] killed at stop_signal: stop_signal SIGKILL cannot be caught: the service never shuts down gracefully
"#);
    }
}
