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
    pub compose_version: String,
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
    pub problems: Vec<String>,
    pub regression: bool,
    pub ok: bool,
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
            problems.push(format!("crash-looping: restarted {} times", self.restarts));
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

pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"version\": 1, \"error\": \"{e}\"}}")) + "\n"
}

/// The rows of the table, one cell per run.
fn cells(s: &Service) -> [(&'static str, String); 6] {
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
    [
        ("started", started),
        ("health", health),
        ("restarts", restarts),
        ("stop", stop),
        ("SIGTERM", signal),
        ("settings", settings),
    ]
}

pub fn text(report: &Report) -> String {
    let mut out = format!(
        "engine: {} (Docker Engine {}), Docker Compose {}\n",
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
        for line in 0..6 {
            let mut label = "";
            let mut row = String::new();
            for s in &rows {
                let cell = match s {
                    Some(s) => {
                        let c = cells(s);
                        label = c[line].0;
                        c[line].1.clone()
                    }
                    None => "-".into(),
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
    if report.ok {
        out.push_str("ok: every service started, was healthy where it has a check, matched its settings and stopped on its signal\n");
    } else if failed.is_empty() {
        out.push_str(&format!("failed: the {last} run did not complete\n"));
    } else {
        out.push_str(&format!("failed ({last}): {}\n", failed.join(", ")));
    }
    out
}
