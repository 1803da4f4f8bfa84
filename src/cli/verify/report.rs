//! What verify found: the JSON it prints (version 1, documented in the README) and the
//! text table, both read from these values.

use super::expect::Mismatch;
use super::logs::Logs;
use serde::Serialize;

#[derive(Serialize)]
pub struct Report {
    pub version: u32,
    pub ok: bool,
    pub endpoint: String,
    pub engine_version: String,
    /// Docker Compose's version, or under --swarm the docker CLI that deploys the stack.
    pub compose_version: String,
    /// Runs deployed as stacks on the engine's swarm (`verify --swarm`).
    pub swarm: bool,
    /// How the copy differs from the file.
    pub adjustments: Vec<String>,
    pub runs: Vec<Run>,
}

#[derive(Serialize)]
pub struct Run {
    /// before, after or as-written.
    pub label: &'static str,
    pub project: String,
    pub ok: bool,
    pub timeout_seconds: u64,
    pub timeout_reason: String,
    /// Set when the run as a whole failed (interrupted, Compose failed to start).
    pub error: Option<String>,
    pub services: Vec<Service>,
    pub stop_phase_seconds: f64,
    /// Deployed as a stack on the engine's swarm (`verify --swarm`).
    pub swarm: bool,
}

#[derive(Serialize, Default, Clone)]
pub struct Service {
    pub service: String,
    /// Another service waits for it with service_completed_successfully: it must exit 0.
    pub job: bool,
    pub started: bool,
    pub error: Option<String>,
    /// healthy, unhealthy, starting, or none (no check).
    pub health: String,
    pub seconds_to_healthy: Option<f64>,
    pub last_probe_output: Option<String>,
    pub restarts: u64,
    pub crash_loop: bool,
    pub exit_code: Option<i64>,
    pub stop_seconds: Option<f64>,
    /// signal or kill.
    pub stopped_by: Option<&'static str>,
    pub signal_reaches_app: Option<bool>,
    /// The process SIGTERM is delivered to, and the app behind it when that is a shell.
    pub signal_receiver: Option<String>,
    pub oom_killed: bool,
    pub mismatches: Vec<Mismatch>,
    pub notes: Vec<String>,
    /// What the service printed once it was asked to stop (the last lines).
    pub last_words: Vec<String>,
    /// The json-file driver's files after the run, where the engine's disk is readable.
    pub logs: Option<Logs>,
    /// Started again by its restart policy after verify stopped it.
    pub restarted_after_stop: bool,
    /// What the swarm did with the service (`verify --swarm` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swarm: Option<Swarm>,
    pub problems: Vec<String>,
    pub regression: bool,
    pub ok: bool,
}

/// A service on a swarm: its tasks, a task killed from outside, a failing update.
#[derive(Serialize, Default, Clone)]
pub struct Swarm {
    /// replicated, global, replicated-job or global-job.
    pub mode: String,
    /// Tasks the service asks for (a job: completions), and those running (healthy where it
    /// has a check; a job: completed).
    pub tasks_wanted: u64,
    pub tasks_done: u64,
    /// Why tasks failed or wait, as Swarm says it (distinct messages).
    pub task_errors: Vec<String>,
    /// Seconds from the deploy until every task ran (and was healthy).
    pub seconds_to_converge: Option<f64>,
    /// replaced, not replaced, not tried (the reason follows).
    pub killed_task: Option<String>,
    pub seconds_to_replace: Option<f64>,
    /// With --update-check: an update whose new task never turns healthy.
    pub update: Option<Update>,
}

#[derive(Serialize, Default, Clone)]
pub struct Update {
    /// Swarm's UpdateStatus.State when the wait ended (rollback_completed when it worked).
    pub state: String,
    pub rolled_back: bool,
    pub seconds: Option<f64>,
    /// start_period + retries x (interval + timeout) + the failed task's stop + the rollback's
    /// monitor.
    pub bound_seconds: f64,
    /// The fewest healthy tasks that served while it ran, and how many the update order
    /// keeps (start-first: all; stop-first: those not being replaced).
    pub fewest_serving: u64,
    pub kept_serving: u64,
    /// Why it was not tried, where it was not.
    pub skipped: Option<String>,
}

impl Service {
    /// Judges the service from what was seen: its problems, in plain words.
    pub fn judge(&mut self) {
        let mut problems = Vec::new();
        if let Some(error) = &self.error {
            problems.push(error.clone());
        }
        match self.health.as_str() {
            "unhealthy" => problems.push(match &self.last_probe_output {
                Some(out) if !out.trim().is_empty() => format!("unhealthy; the last probe said: {}", out.trim()),
                _ => "unhealthy".into(),
            }),
            "starting" => problems.push("still starting when the wait ended (its check never passed)".into()),
            _ => {}
        }
        if self.crash_loop {
            problems.push(match self.swarm {
                Some(_) => format!("crash-looping: {} tasks failed and were replaced", self.restarts),
                None => format!("crash-looping: restarted {} times", self.restarts),
            });
        }
        if self.oom_killed {
            problems.push("OOM-killed: a process went over the memory limit".into());
        }
        if self.job && self.exit_code.is_some_and(|c| c != 0) {
            problems.push(format!("the job exited with code {}", self.exit_code.unwrap_or(0)));
        }
        for m in &self.mismatches {
            problems.push(format!("{} is {} on the container, {} in the file", m.setting, m.actual, m.expected));
        }
        if self.stopped_by == Some("kill") {
            problems.push(format!(
                "SIGTERM was ignored: the stop took the whole grace period ({:.1} s) and ended in SIGKILL",
                self.stop_seconds.unwrap_or(0.0)
            ));
        }
        if let Some(p) = self.logs.as_ref().and_then(Logs::problem) {
            problems.push(p);
        }
        if self.restarted_after_stop {
            problems.push("started again after an explicit stop".into());
        }
        if let Some(swarm) = &self.swarm {
            swarm.judge(&mut problems);
        }
        if self.signal_reaches_app == Some(false) {
            problems.push(format!(
                "SIGTERM reaches a shell, not the app ({})",
                self.signal_receiver.as_deref().unwrap_or("")
            ));
        }
        self.ok = problems.is_empty();
        self.problems = problems;
    }
}

impl Swarm {
    fn judge(&self, problems: &mut Vec<String>) {
        if self.tasks_done < self.tasks_wanted {
            let what = if self.mode.ends_with("job") { "completed" } else { "running" };
            let why =
                if self.task_errors.is_empty() { String::new() } else { format!(": {}", self.task_errors.join("; ")) };
            problems.push(format!("{} of {} tasks {what}{why}", self.tasks_done, self.tasks_wanted));
        }
        if let Some(k) = self.killed_task.as_deref().filter(|k| k.starts_with("not replaced")) {
            problems.push(format!("a task killed from outside was {k}"));
        }
        let Some(u) = &self.update else { return };
        match (&u.skipped, u.rolled_back, u.seconds) {
            (Some(why), _, _) => problems.push(format!("a failing update cannot be rolled back: {why}")),
            (None, false, _) => problems.push(format!(
                "a failing update was not rolled back within {:.0} s (update state: {})",
                u.bound_seconds + SLACK,
                if u.state.is_empty() { "none" } else { &u.state }
            )),
            (None, true, Some(t)) if t > u.bound_seconds + SLACK => problems.push(format!(
                "a failing update was rolled back in {t:.1} s, past its bound of {:.0} s",
                u.bound_seconds
            )),
            _ => {}
        }
        if u.rolled_back && u.fewest_serving < u.kept_serving {
            problems.push(format!(
                "{} healthy task{} served while the failing update ran, where its order keeps {}",
                u.fewest_serving,
                if u.fewest_serving == 1 { "" } else { "s" },
                u.kept_serving
            ));
        }
    }
}

/// What a rollback may take past its bound: Swarm's own scheduling and the polls.
pub const SLACK: f64 = 15.0;

pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"version\": 1, \"error\": \"{e}\"}}")) + "\n"
}

/// The rows of the table, one cell per run.
fn cells(s: &Service) -> Vec<(&'static str, String)> {
    let started = if s.started { "yes".to_string() } else { "no".into() };
    let health = match (s.health.as_str(), s.seconds_to_healthy) {
        ("healthy", Some(t)) => format!("healthy after {t:.1} s"),
        ("none", _) if s.job => match s.exit_code {
            Some(code) => format!("job, exit {code}"),
            None => "job".into(),
        },
        ("none", _) => "no check".into(),
        (other, _) => other.to_string(),
    };
    let stop = match (s.stop_seconds, s.stopped_by) {
        (Some(t), Some("kill")) => format!("{t:.1} s, killed"),
        (Some(t), _) => format!("{t:.1} s, by signal"),
        _ => "-".into(),
    };
    let signal = match (s.signal_reaches_app, &s.signal_receiver) {
        (Some(true), Some(r)) => format!("reaches {r}"),
        (Some(false), Some(r)) => r.clone(),
        _ => "-".into(),
    };
    let settings =
        if s.mismatches.is_empty() { "as in the file".into() } else { format!("{} differ", s.mismatches.len()) };
    let restarts = if s.crash_loop { format!("{} (crash loop)", s.restarts) } else { s.restarts.to_string() };
    let Some(swarm) = &s.swarm else {
        return vec![
            ("started", started),
            ("health", health),
            ("restarts", restarts),
            ("stop", stop),
            ("SIGTERM", signal),
            ("settings", settings),
        ];
    };
    let done = if swarm.mode.ends_with("job") { "completed" } else { "running" };
    let mut tasks = format!("{}/{} {done}", swarm.tasks_done, swarm.tasks_wanted);
    if let Some(t) = swarm.seconds_to_converge {
        tasks.push_str(&format!(" after {t:.1} s"));
    }
    if s.restarts > 0 {
        tasks.push_str(&format!(", {} failed", s.restarts));
    }
    let killed = match (swarm.killed_task.as_deref(), swarm.seconds_to_replace) {
        (Some("replaced"), Some(t)) => format!("replaced in {t:.1} s"),
        (Some(other), _) => other.split(':').next().unwrap_or(other).to_string(),
        (None, _) => "-".into(),
    };
    let update = match &swarm.update {
        None => "-".into(),
        Some(u) if u.skipped.is_some() => "not rolled back".into(),
        Some(u) => match (u.rolled_back, u.seconds) {
            (true, Some(t)) => {
                format!("rolled back in {t:.1} s (bound {:.0} s), {} serving", u.bound_seconds, u.fewest_serving)
            }
            _ => "not rolled back".into(),
        },
    };
    vec![
        ("tasks", tasks),
        ("health", health),
        ("killed task", killed),
        ("failing update", update),
        ("stop", stop),
        ("SIGTERM", signal),
        ("settings", settings),
    ]
}

pub fn text(report: &Report) -> String {
    let tool = if report.swarm { String::new() } else { "Docker Compose ".into() };
    let mut out = format!(
        "engine: {} (Docker Engine {}), {tool}{}\n",
        report.endpoint, report.engine_version, report.compose_version
    );
    if !report.adjustments.is_empty() {
        out.push_str("the copy differs from the file:\n");
        for a in &report.adjustments {
            out.push_str(&format!("  - {a}\n"));
        }
    }
    for run in &report.runs {
        out.push_str(&format!("{}: {}\n", run.label, run.timeout_reason));
        if let Some(e) = &run.error {
            out.push_str(&format!("{}: {e}\n", run.label));
        }
    }
    let mut names: Vec<&str> = Vec::new();
    for run in &report.runs {
        for s in &run.services {
            if !names.contains(&s.service.as_str()) {
                names.push(&s.service);
            }
        }
    }
    const WIDTH: usize = 28;
    for name in names {
        let rows: Vec<Option<&Service>> =
            report.runs.iter().map(|r| r.services.iter().find(|s| s.service == name)).collect();
        let mut head = format!("{:<18}", name);
        for run in &report.runs {
            head.push_str(&format!("{:<WIDTH$}", run.label));
        }
        out.push_str(&format!("\n{}\n", head.trim_end()));
        let count = rows.iter().flatten().map(|s| cells(s).len()).max().unwrap_or(0);
        for line in 0..count {
            let mut label = "";
            let mut row = String::new();
            for s in &rows {
                let cell = match s.map(cells) {
                    Some(c) if line < c.len() => {
                        label = c[line].0;
                        c[line].1.clone()
                    }
                    _ => "-".into(),
                };
                row.push_str(&format!("{:<WIDTH$}", cell));
            }
            out.push_str(&format!("  {:<16}{}\n", label, row.trim_end()));
        }
        for (run, s) in report.runs.iter().zip(&rows) {
            let Some(s) = s else { continue };
            for p in &s.problems {
                out.push_str(&format!("  {}: {p}\n", run.label));
            }
            for n in &s.notes {
                out.push_str(&format!("  {}: note: {n}\n", run.label));
            }
            if s.regression {
                out.push_str(&format!("  REGRESSION: {name} passed before hardening and fails after\n"));
            }
        }
    }
    let failed: Vec<&str> = match report.runs.last() {
        Some(run) => run.services.iter().filter(|s| !s.ok).map(|s| s.service.as_str()).collect(),
        None => Vec::new(),
    };
    let last = report.runs.last().map(|r| r.label).unwrap_or("");
    out.push('\n');
    if report.ok && report.swarm {
        out.push_str("ok: every service ran its tasks, was healthy where it has a check and matched its spec; every task killed was replaced and every stop measured was by signal\n");
    } else if report.ok {
        out.push_str("ok: every service started, was healthy where it has a check, matched its settings and stopped on its signal\n");
    } else if failed.is_empty() {
        out.push_str(&format!("failed: the {last} run did not complete\n"));
    } else {
        out.push_str(&format!("failed ({last}): {}\n", failed.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, swarm: Swarm) -> Service {
        let mut s = Service {
            service: name.into(),
            started: true,
            health: "healthy".into(),
            seconds_to_healthy: Some(2.4),
            stop_seconds: Some(0.3),
            stopped_by: Some("signal"),
            signal_reaches_app: Some(true),
            signal_receiver: Some("httpd".into()),
            swarm: Some(swarm),
            ..Service::default()
        };
        s.judge();
        s
    }

    fn report(services: Vec<Service>) -> Report {
        let ok = services.iter().all(|s| s.ok);
        let run = Run {
            label: "as-written",
            project: "chv-swarm-as-written-1".into(),
            ok,
            timeout_seconds: 22,
            timeout_reason: "waiting up to 22 s".into(),
            error: None,
            services,
            stop_phase_seconds: 0.3,
            swarm: true,
        };
        Report {
            version: 1,
            ok,
            endpoint: "unix:///var/run/docker.sock".into(),
            engine_version: "20.10.24".into(),
            compose_version: "docker stack deploy (docker CLI 28.2.2)".into(),
            swarm: true,
            adjustments: Vec::new(),
            runs: vec![run],
        }
    }

    fn update(rolled_back: bool, seconds: Option<f64>, fewest_serving: u64, kept_serving: u64) -> Update {
        let state = if rolled_back { "rollback_completed" } else { "updating" };
        Update {
            state: state.into(),
            rolled_back,
            seconds,
            bound_seconds: 45.0,
            fewest_serving,
            kept_serving,
            skipped: None,
        }
    }

    #[test]
    fn a_service_that_converged_was_replaced_and_rolled_back_passes() {
        let web = service(
            "web",
            Swarm {
                mode: "replicated".into(),
                tasks_wanted: 2,
                tasks_done: 2,
                seconds_to_converge: Some(2.4),
                killed_task: Some("replaced".into()),
                seconds_to_replace: Some(6.8),
                update: Some(update(true, Some(34.7), 2, 2)),
                ..Swarm::default()
            },
        );
        assert_eq!(
            text(&report(vec![web])),
            "engine: unix:///var/run/docker.sock (Docker Engine 20.10.24), docker stack deploy (docker CLI 28.2.2)
as-written: waiting up to 22 s

web               as-written
  tasks           2/2 running after 2.4 s
  health          healthy after 2.4 s
  killed task     replaced in 6.8 s
  failing update  rolled back in 34.7 s (bound 45 s), 2 serving
  stop            0.3 s, by signal
  SIGTERM         reaches httpd
  settings        as in the file

ok: every service ran its tasks, was healthy where it has a check and matched its spec; every task killed was replaced and every stop measured was by signal
"
        );
    }

    #[test]
    fn tasks_that_never_ran_a_task_not_replaced_and_a_late_or_missing_rollback_fail() {
        let never = service(
            "api",
            Swarm {
                mode: "replicated".into(),
                tasks_wanted: 2,
                tasks_done: 0,
                task_errors: vec!["no suitable node (insufficient resources on 1 node)".into()],
                killed_task: Some("not tried: the service never ran all its tasks".into()),
                ..Swarm::default()
            },
        );
        let late = service(
            "web",
            Swarm {
                mode: "replicated".into(),
                tasks_wanted: 2,
                tasks_done: 2,
                killed_task: Some("not replaced within 60 s".into()),
                update: Some(update(true, Some(61.0), 0, 2)),
                ..Swarm::default()
            },
        );
        let stuck = service(
            "store",
            Swarm {
                mode: "replicated".into(),
                tasks_wanted: 1,
                tasks_done: 1,
                killed_task: Some("replaced".into()),
                seconds_to_replace: Some(7.0),
                update: Some(update(false, None, 0, 0)),
                ..Swarm::default()
            },
        );
        let found = text(&report(vec![never, late, stuck]));
        let problems: Vec<&str> = found.lines().filter(|l| l.starts_with("  as-written: ")).collect();
        assert_eq!(
            problems,
            [
                "  as-written: 0 of 2 tasks running: no suitable node (insufficient resources on 1 node)",
                "  as-written: a task killed from outside was not replaced within 60 s",
                "  as-written: a failing update was rolled back in 61.0 s, past its bound of 45 s",
                "  as-written: 0 healthy tasks served while the failing update ran, where its order keeps 2",
                "  as-written: a failing update was not rolled back within 60 s (update state: updating)",
            ]
        );
        assert!(found.contains("  killed task     not tried\n"), "{found}");
        assert!(found.contains("  failing update  not rolled back\n"), "{found}");
        assert!(found.ends_with("\nfailed (as-written): api, web, store\n"), "{found}");
    }

    #[test]
    fn a_crash_loop_on_swarm_counts_failed_tasks() {
        let mut looping = Service { restarts: 3, crash_loop: true, ..service("worker", Swarm::default()) };
        looping.judge();
        assert!(looping.problems.contains(&"crash-looping: 3 tasks failed and were replaced".to_string()));
    }
}
