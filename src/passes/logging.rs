//! Log rotation: json-file without `max-size` keeps every line, and a service that names
//! no logging gets whatever the daemon's defaults say. Logs the file already bounds
//! (json-file with `max-size`, the local driver) are left as they are: a `max-file` added
//! beside a user's `max-size` would raise their cap. Other drivers ship logs elsewhere and
//! are kept as they are.

use super::{Out, Pass, Service};
use crate::profile::{LoggingSettings, Profile};
use crate::rule::{rules, Rule};
use yaml_serde::Value;

pub struct Logging;

rules! {
    LOGGING_NO_ROTATION = "logging/no-rotation", Warning, Safe,
        "no log rotation in the file: whether the logs are bounded depends on the daemon's defaults",
        "Without `logging`, or with json-file and no `max-size`, a container's logs are bounded only if the \
         daemon's default driver and its options (`log-driver`, `log-opts` in daemon.json) bound them; Docker's \
         own default, json-file without `max-size`, keeps every line. The fix writes json-file with max-size \
         and max-file, which bound each container's logs whatever the daemon says. Logs the file already \
         bounds are left alone (json-file with `max-size` keeps one file unless `max-file` says more; the \
         local driver keeps 5 compressed files of 20 MB by default), a cap the user set is never raised, and \
         drivers that ship logs are kept.";
    LOGGING_BOUNDED = "logging/bounded", Info, None,
        "the logs are bounded already: nothing is added",
        "json-file with `max-size` keeps at most `max-file` files of that size, and `max-file` defaults to 1; \
         the local driver rotates by default (5 files of 20 MB, compressed). Nothing is added where the file \
         bounds the logs, since a `max-file` added beside a user's `max-size` would raise their cap; the \
         finding names the cap and the defaults it relies on.";
    LOGGING_NONE_DRIVER = "logging/none-driver", Warning, None,
        "logging driver `none` keeps no logs",
        "`docker logs` shows nothing when the service fails.";
    LOGGING_REMOTE_DRIVER = "logging/remote-driver", Info, None,
        "a remote logging driver is kept",
        "Logs leave the host; since Engine 20.10 `docker logs` still reads a local cache.";
    LOGGING_DEFAULT_DRIVER = "logging/default-driver", Info, None,
        "logging names no driver, so the daemon's default applies",
        "The daemon's default driver and its options are unknown here; no rotation is added.";
}

impl Pass for Logging {
    const NAME: &'static str = "logging";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p LoggingSettings;

    fn settings(profile: &Profile) -> Option<&LoggingSettings> {
        profile.logging.as_ref()
    }

    fn run(&self, settings: &LoggingSettings, service: &Service, out: &mut Out) {
        match service.get(&["logging"]) {
            None => out.add(&LOGGING_NO_ROTATION, &["logging", "driver"], settings.driver.as_str()),
            Some(Value::Mapping(_)) => match service.str(&["logging", "driver"]) {
                Some(d) if settings.rotated_drivers.iter().any(|r| r == d) => {
                    if let Some(cap) = bounded(service, d) {
                        if let Some((path, message)) = cap {
                            out.report(&LOGGING_BOUNDED, &path, message);
                        }
                        return;
                    }
                }
                Some("none") => {
                    out.report(
                        &LOGGING_NONE_DRIVER,
                        &["logging", "driver"],
                        "logging driver `none` keeps no logs at all: `docker logs` shows nothing when the service fails",
                    );
                    return;
                }
                Some(d) if settings.remote_drivers.iter().any(|r| r == d) => {
                    out.report(
                        &LOGGING_REMOTE_DRIVER,
                        &["logging", "driver"],
                        format!(
                            "logging driver `{d}` kept: logs leave the host, and since Engine 20.10 `docker logs` still reads \
                             them from dual logging's local cache, which rotates by its own defaults"
                        ),
                    );
                    return;
                }
                Some(_) => return,
                None if service.get(&["logging", "driver"]).is_some() => return,
                None => {
                    out.report(
                        &LOGGING_DEFAULT_DRIVER,
                        &["logging"],
                        "rotation not added: logging names no driver, so the daemon's default applies and its options are unknown",
                    );
                    return;
                }
            },
            // null, `!reset` or `${VAR}`: the user decided.
            Some(_) => return,
        }
        for (key, value) in &settings.options {
            if !service.is_set(&["logging", "options", key]) {
                out.add(&LOGGING_NO_ROTATION, &["logging", "options", key], value.as_str());
            }
        }
    }
}

/// Where the file bounds a rotating driver's logs: Some, with the cap in words where a
/// default decides part of it (None where the user wrote every part). json-file keeps one
/// file of `max-size` unless `max-file` says more, and nothing bounds it without
/// `max-size`; the local driver keeps 5 files of 20 MB, compressed, by default.
fn bounded(service: &Service, driver: &str) -> Option<Option<(Vec<&'static str>, String)>> {
    // `options: ${LOG_OPTS}`: the user decided, as with any other value that is not a mapping.
    if service.get(&["logging", "options"]).is_some_and(|o| !o.is_mapping()) {
        return Some(None);
    }
    let option = |key: &str| service.get(&["logging", "options", key]).map(super::resources::text);
    let (size, files) = (option("max-size"), option("max-file"));
    let files_text = |n: &str| format!("{n} file{}", if n == "1" { "" } else { "s" });
    if driver == "local" {
        let defaults = match (&size, &files) {
            (Some(_), Some(_)) => return Some(None),
            (None, None) => "its defaults".to_string(),
            (None, Some(_)) => "`max-size` defaults to 20m".to_string(),
            (Some(_), None) => "`max-file` defaults to 5".to_string(),
        };
        let compressed = if option("compress").as_deref() == Some("false") { "" } else { ", compressed" };
        let path = match size {
            Some(_) => vec!["logging", "options", "max-size"],
            None => vec!["logging", "driver"],
        };
        let message = format!(
            "logs bounded: the local driver keeps at most {} of {}{compressed} ({defaults}); nothing added",
            files_text(files.as_deref().unwrap_or("5")),
            size.as_deref().unwrap_or("20m"),
        );
        return Some(Some((path, message)));
    }
    let size = size?;
    if files.is_some() {
        return Some(None);
    }
    let name = if driver == "json-file" { driver.to_string() } else { format!("`{driver}`") };
    let message =
        format!("logs bounded: {name} keeps at most 1 file of {size} (`max-file` defaults to 1); nothing added");
    Some(Some((vec!["logging", "options", "max-size"], message)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    const SETTINGS: &str = "logging:
  driver: json-file
  options: {max-size: 10m, max-file: '5'}
  rotated_drivers: [json-file, local]
  remote_drivers: [syslog]
";

    #[test]
    fn rotation_is_added_where_logs_stay_on_the_host() {
        let compose = "services:
  none: {image: example/app:1}
  local: {image: example/app:1, logging: {driver: local, options: {max-size: 1m}}}
";
        check(plan(&Logging, &profile(SETTINGS), compose), r#"
+ none: logging.driver = "json-file"  [logging/no-rotation]
+ none: logging.options.max-size = "10m"  [logging/no-rotation]
+ none: logging.options.max-file = "5"  [logging/no-rotation]
info[logging/bounded] local at logging.options.max-size: logs bounded: the local driver keeps at most 5 files of 1m, compressed (`max-file` defaults to 5); nothing added
"#);
    }

    #[test]
    fn other_drivers_are_kept_and_reported() {
        let compose = "services:
  silent: {image: example/app:1, logging: {driver: none}}
  shipped: {image: example/app:1, logging: {driver: syslog}}
  default: {image: example/app:1, logging: {options: {max-size: 1m}}}
  journal: {image: example/app:1, logging: {driver: journald}}
";
        check(plan(&Logging, &profile(SETTINGS), compose), r#"
warning[logging/none-driver] silent at logging.driver: logging driver `none` keeps no logs at all: `docker logs` shows nothing when the service fails
info[logging/remote-driver] shipped at logging.driver: logging driver `syslog` kept: logs leave the host, and since Engine 20.10 `docker logs` still reads them from dual logging's local cache, which rotates by its own defaults
info[logging/default-driver] default at logging: rotation not added: logging names no driver, so the daemon's default applies and its options are unknown
"#);
    }
}
