//! Stop behaviour: `docker stop` sends the stop signal, waits 10 s, then kills. Databases
//! and brokers that flush on shutdown get longer; images that do not set the signal they
//! shut down gracefully on get it. Where Docker's defaults are right, nothing is written.
//! The image's own STOPSIGNAL, read from the image facts, is kept: the list is a fallback.

use super::{evidence, Out, Pass, Service};
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
    STOP_SIGNAL_DIFFERS = "stop/signal-differs", Info, None,
        "the file's stop_signal differs from the image's STOPSIGNAL",
        "The image facts show the signal the image asks to be stopped with (SIGTERM where it sets none). A \
         `stop_signal` in the file that differs replaces it: right if you know the app, a graceful stop lost if \
         not. Kept as written.";
}

/// `SIGQUIT` for `quit`, `QUIT` or `SIGQUIT`; a number as it is.
fn canonical(signal: &str) -> String {
    let upper = signal.trim().to_ascii_uppercase();
    match upper.starts_with("SIG") || upper.parse::<u32>().is_ok() {
        true => upper,
        false => format!("SIG{upper}"),
    }
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
                if let Some(image) = service.facts {
                    let own = image.stop_signal.as_deref().map_or("SIGTERM".to_string(), canonical);
                    if !signal.is_empty() && !signal.contains('$') && canonical(&signal) != own {
                        let how = if image.stop_signal.is_some() { "its STOPSIGNAL" } else { "SIGTERM: it sets no STOPSIGNAL" };
                        out.report(
                            &STOP_SIGNAL_DIFFERS,
                            &["stop_signal"],
                            format!(
                                "stop_signal {signal} replaces the signal {} asks to be stopped with, {own} ({how})",
                                evidence::image(service, image)
                            ),
                        );
                    }
                }
            }
            // The image sets its own: kept, whatever the list says.
            None if service.facts.is_some_and(|i| i.stop_signal.is_some()) => {}
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
    use crate::passes::testing::{check, plan, profile, with_facts};

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

    #[test]
    fn the_images_own_stop_signal_is_kept_and_a_different_one_reported() {
        let facts = r#"version: 1
inspected: {engine: "20.10", tools: [sh]}
images:
  "nginx:1.27":
    id: sha256:1234567890ab1234567890ab1234567890ab1234567890ab1234567890ab1234
    platform: linux/amd64
    stop_signal: SIGQUIT
    path: [/bin]
    bin_sh: true
  "example/app:1":
    id: sha256:abcdef012345abcdef012345abcdef012345abcdef012345abcdef012345abcd
    platform: linux/amd64
    path: [/bin]
    bin_sh: true
"#;
        let compose = "services:
  web: {image: nginx:1.27}
  term: {image: nginx:1.27, stop_signal: SIGTERM}
  same: {image: nginx:1.27, stop_signal: quit}
  app: {image: example/app:1, stop_signal: SIGINT}
";
        check(with_facts(&Stop, &profile(SETTINGS), facts, compose), r#"
info[stop/signal-differs] term at stop_signal: stop_signal SIGTERM replaces the signal `nginx:1.27` (image ID 1234567890ab) asks to be stopped with, SIGQUIT (its STOPSIGNAL)
info[stop/signal-differs] app at stop_signal: stop_signal SIGINT replaces the signal `example/app:1` (image ID abcdef012345) asks to be stopped with, SIGTERM (SIGTERM: it sets no STOPSIGNAL)
"#);
    }
}
