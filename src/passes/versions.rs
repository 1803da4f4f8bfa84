//! `docker stack deploy` validates a file against the v3 schema of the `version` it
//! declares (3.13 where it declares none), and each 3.x lacks what later ones added: under
//! the `swarm` profile no pass may add a key the file's schema lacks, or the hardened file
//! would not deploy. [`gate`] holds such changes back, each with a finding that names the
//! version that has the key.

use super::swarm::{scalar, SWARM_REFUSED_KEY, SWARM_VERSION_TOO_OLD};
use super::Out;
use crate::plan::{Change, Finding};
use yaml_serde::Value;

/// The keys the passes can write that not every 3.x schema has, with the minor version
/// that adds each. Measured with `docker stack config -c` (docker CLI 28.2.2): a file
/// `version: "3.N"` with one `nginx:1.27` service and the key alone, for N from 0 to 13;
/// each key is refused below its version and accepted from it. Every 3.x accepts the rest
/// of what the passes write: `healthcheck` (test, interval, timeout, retries),
/// `deploy.restart_policy` (condition, delay), `deploy.update_config` (parallelism,
/// monitor, failure_action), `deploy.mode: replicated-job`, `deploy.replicas`,
/// `deploy.resources` limits and reservations of cpus and memory, `logging`, `ulimits`,
/// `stop_grace_period`, `stop_signal`, `cap_drop`, `cap_add`, `read_only`, `tmpfs`,
/// `security_opt`. (`pids_limit` no 3.x accepts.)
pub const SINCE: &[(&[&str], u32)] = &[
    (&["healthcheck", "start_period"], 4),
    (&["deploy", "update_config", "order"], 4),
    (&["init"], 7),
    (&["deploy", "rollback_config"], 7),
    (&["deploy", "resources", "limits", "pids"], 9),
];

/// The newest minor version of the v3 schema, which a file without `version` is read with.
pub const NEWEST: u32 = 13;

/// The 3.x minor version the docker CLI reads a file's `version` as: `"3"` is 3.0, and an
/// unquoted number is read as it prints (`3.10` unquoted is the number 3.1, measured: the
/// CLI checks the keys against 3.1, then refuses the file, "version must be a string", as
/// Compose does). None where the CLI reads no
/// 3.x (`"3.14"`, `"3.7.1"`, `${VAR}`: it refuses the file).
pub fn minor(version: &Value) -> Option<u32> {
    if !matches!(version, Value::String(_) | Value::Number(_)) {
        return None;
    }
    let text = scalar(version);
    let minor = match text.strip_prefix("3") {
        Some("") => "0",
        Some(rest) => rest.strip_prefix('.')?,
        None => return None,
    };
    let digits =
        !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()) && (minor == "0" || !minor.starts_with('0'));
    digits.then(|| minor.parse().ok()).flatten().filter(|&m| m <= NEWEST)
}

/// The minor version that adds `path` (or a key above it), where the file's schema lacks
/// it: the path of the table's entry and that version.
pub fn lacks(version: Option<&Value>, path: &[&str]) -> Option<(&'static [&'static str], u32)> {
    let have = minor(version?)?;
    SINCE.iter().copied().find(|(key, since)| have < *since && path.starts_with(key))
}

/// Holds back each key `out` adds that the file's schema lacks, with a finding per entry
/// of [`SINCE`]. A healthcheck the pass writes whole goes whole where its `start_period`
/// cannot: Swarm replaces a task that turns unhealthy, and without its grace period a slow
/// starter would be replaced before it is up.
pub fn gate(version: Option<&Value>, out: &mut Out) {
    let Some(shown) = version.map(scalar) else { return };
    let mut held: Vec<(&'static [&'static str], u32)> = Vec::new();
    out.changes.retain(|c| {
        let path: Vec<&str> = c.path.iter().map(String::as_str).collect();
        let adds = c.replaces.is_none() && !c.removes;
        match lacks(version, &path).filter(|_| adds) {
            Some(entry) => {
                if !held.contains(&entry) {
                    held.push(entry);
                }
                false
            }
            None => true,
        }
    });
    let added = |c: &Change| c.path.first().is_some_and(|k| k == "healthcheck") && c.replaces.is_none();
    let whole = held.iter().any(|(key, _)| *key == ["healthcheck", "start_period"]) && out.changes.iter().any(added);
    if whole {
        out.changes.retain(|c| !added(c));
    }
    // A key the file sets already is refused, which the swarm pass reports as an error.
    let reported = |key: &[&str], findings: &[Finding]| {
        findings.iter().any(|f| f.rule.id == SWARM_REFUSED_KEY.id && f.path.iter().eq(key.iter()))
    };
    held.retain(|(key, _)| !reported(key, &out.findings));
    for (key, since) in held {
        let schema = format!(
            "`docker stack deploy` validates the file with the v3 schema of its `version: {shown}`, which lacks"
        );
        let what = match (whole, key) {
            (true, ["healthcheck", "start_period"]) => format!(
                "healthcheck not added: {schema} `healthcheck.start_period` (3.{since} adds it), and without it \
                 Swarm would replace a slow starter before it is up"
            ),
            _ => format!("`{}` not added: {schema} it (3.{since} adds it)", key.join(".")),
        };
        let message = format!("{what}: raise `version` to 3.{since} or delete it");
        let path = key.iter().map(|k| k.to_string()).collect();
        out.findings.push(Finding::new(&SWARM_VERSION_TOO_OLD, out.service, path, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::healthcheck::Healthcheck;
    use crate::passes::init::Init;
    use crate::passes::swarm::Swarm;
    use crate::passes::testing::{check, plan, profile};

    #[test]
    fn the_version_is_read_as_the_docker_cli_reads_it() {
        let read = |yaml: &str| minor(&yaml_serde::from_str::<Value>(yaml).expect("yaml"));
        assert_eq!(read("'3'"), Some(0));
        assert_eq!(read("'3.0'"), Some(0));
        assert_eq!(read("'3.10'"), Some(10));
        // Unquoted, YAML reads a number: `3.10` is 3.1, as the CLI reads it (measured).
        assert_eq!(read("3.10"), Some(1));
        assert_eq!(read("3"), Some(0));
        for refused in ["'3.14'", "'3.7.1'", "'03.7'", "'3.07'", "'2.4'", "'${V}'", "'3.'"] {
            assert_eq!(read(refused), None, "{refused}");
        }
        assert_eq!(lacks(None, &["init"]), None);
        let v = |s: &str| Value::from(s);
        assert_eq!(
            lacks(Some(&v("3.6")), &["deploy", "rollback_config", "order"]),
            Some((&["deploy", "rollback_config"][..], 7))
        );
        assert_eq!(lacks(Some(&v("3.7")), &["deploy", "rollback_config", "order"]), None);
        assert_eq!(lacks(Some(&v("3.8")), &["deploy", "resources", "limits", "pids"]).map(|l| l.1), Some(9));
    }

    const SWARM: &str = "swarm: {refused: [], ignored: [], source: measured, \
         update_config: {parallelism: 1, monitor: 30s, failure_action: rollback, order: start-first}, \
         rollback_config: {parallelism: 1, monitor: 30s, failure_action: pause, order: start-first}}";

    #[test]
    fn no_key_the_files_version_lacks_is_added_and_each_is_reported() {
        let compose = "version: '3.3'\nservices:\n  app: {image: example/app:1, healthcheck: {test: [CMD, 'true']}}\n";
        check(
            plan(&Swarm, &profile(SWARM), compose),
            r#"
+ app: deploy.update_config.parallelism = 1  [swarm/update-config]
+ app: deploy.update_config.monitor = "30s"  [swarm/update-config]
+ app: deploy.update_config.failure_action = "rollback"  [swarm/update-config]
info[swarm/version-too-old] app at deploy.update_config.order: `deploy.update_config.order` not added: `docker stack deploy` validates the file with the v3 schema of its `version: 3.3`, which lacks it (3.4 adds it): raise `version` to 3.4 or delete it
info[swarm/version-too-old] app at deploy.rollback_config: `deploy.rollback_config` not added: `docker stack deploy` validates the file with the v3 schema of its `version: 3.3`, which lacks it (3.7 adds it): raise `version` to 3.7 or delete it
"#,
        );
        // Without `version` the schema is 3.13's: everything is written.
        let compose = "services:\n  app: {image: example/app:1, init: true}\n";
        assert!(!plan(&Swarm, &profile(SWARM), compose).contains("version-too-old"));
        // The swarm profile gates every pass; another profile gates none.
        let compose = "version: '3.6'\nservices:\n  app: {image: example/app:1}\n";
        check(
            plan(&Init, &profile(&format!("init: {{own_init_entrypoints: []}}\n{SWARM}")), compose),
            r#"
info[swarm/version-too-old] app at init: `init` not added: `docker stack deploy` validates the file with the v3 schema of its `version: 3.6`, which lacks it (3.7 adds it): raise `version` to 3.7 or delete it
"#,
        );
        check(plan(&Init, &profile("init: {own_init_entrypoints: []}"), compose), "+ app: init = true  [init/missing]");
    }

    #[test]
    fn a_healthcheck_goes_whole_where_its_start_period_cannot() {
        let settings = format!(
            "{SWARM}\nhealthcheck: {{interval: 30s, timeout: 10s, retries: 3, start_period: 15s, probes: \
             [{{images: [example/app], test: [CMD, 'true'], why: it answers, source: its Dockerfile}}]}}"
        );
        let compose = "version: '3.3'\nservices:\n  app: {image: example/app:1}\n";
        check(
            plan(&Healthcheck, &profile(&settings), compose),
            r#"
info[swarm/version-too-old] app at healthcheck.start_period: healthcheck not added: `docker stack deploy` validates the file with the v3 schema of its `version: 3.3`, which lacks `healthcheck.start_period` (3.4 adds it), and without it Swarm would replace a slow starter before it is up: raise `version` to 3.4 or delete it
"#,
        );
        let compose = "version: '3.4'\nservices:\n  app: {image: example/app:1}\n";
        assert!(plan(&Healthcheck, &profile(&settings), compose).contains("healthcheck.start_period = \"15s\""));
    }

    #[test]
    fn a_key_the_file_sets_that_its_version_lacks_is_refused_once() {
        let compose = "version: '3.6'\nservices:\n  app: {image: example/app:1, init: true, deploy: {rollback_config: {parallelism: 2}}}\n";
        let planned = plan(&Swarm, &profile(SWARM), compose);
        let shown: Vec<&str> = planned.lines().filter(|l| !l.starts_with('+')).collect();
        check(
            shown.join("\n"),
            r#"
error[swarm/refused-key] app at init: `docker stack deploy` refuses `init` under `version: 3.6`: the file does not deploy; 3.7 adds it: raise `version` to 3.7 or delete it
error[swarm/refused-key] app at deploy.rollback_config: `docker stack deploy` refuses `deploy.rollback_config` under `version: 3.6`: the file does not deploy; 3.7 adds it: raise `version` to 3.7 or delete it
info[swarm/stop-first] app at deploy: tasks are replaced `stop-first`: it has no healthcheck, so Swarm cannot tell when the new task is ready
"#,
        );
    }
}
