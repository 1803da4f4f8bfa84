//! Log rotation: the json-file driver keeps every line forever unless told otherwise,
//! until the disk is full. Other drivers ship logs elsewhere and are kept as they are.

use super::{Out, Pass, Service};
use crate::profile::{LoggingSettings, Profile};
use crate::rule::{rules, Rule};
use yaml_serde::Value;

pub struct Logging;

rules! {
    LOGGING_NO_ROTATION = "logging/no-rotation", Warning, Safe,
        "logs are not rotated: they grow until the disk is full",
        "Docker's json-file driver keeps everything by default. The fix writes the driver with max-size and \
         max-file, which bound each container's logs. Drivers that rotate or ship logs are kept.";
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
                Some(d) if settings.rotated_drivers.iter().any(|r| r == d) => {}
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
+ local: logging.options.max-file = "5"  [logging/no-rotation]
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
