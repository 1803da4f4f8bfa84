//! The `docker` client: state as `docker inspect` JSON, process trees, logs, events.

use super::process::{run, Finished};
use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const QUICK: Duration = Duration::from_secs(30);

pub struct Docker {
    program: PathBuf,
}

impl Docker {
    pub fn find() -> Result<Docker, String> {
        let program = PathBuf::from("docker");
        let found = Command::new(&program).arg("--version").output();
        match found {
            Ok(out) if out.status.success() => Ok(Docker { program }),
            _ => Err("the docker client is not on PATH; verify reads the engine's state through it".into()),
        }
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    pub fn command(&self) -> Command {
        Command::new(&self.program)
    }

    fn quick(&self, args: &[&str]) -> Result<Finished, String> {
        let mut cmd = self.command();
        cmd.args(args);
        run(cmd, None, Some(Instant::now() + QUICK), None)
    }

    fn quick_ok(&self, args: &[&str]) -> Result<String, String> {
        let done = self.quick(args)?;
        if done.ok {
            Ok(done.stdout)
        } else {
            Err(first_line(&done.stderr))
        }
    }

    /// The endpoint the client talks to: `DOCKER_HOST`, else the current context's.
    pub fn endpoint(&self) -> Result<String, String> {
        if let Some(host) = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty()) {
            return Ok(host);
        }
        let host = self.quick_ok(&["context", "inspect", "--format", "{{.Endpoints.docker.Host}}"])?;
        Ok(host.trim().to_string())
    }

    /// `docker info` as JSON: CPUs, memory, cgroup version, engine version.
    pub fn info(&self) -> Result<Value, String> {
        let out = self.quick_ok(&["info", "--format", "{{json .}}"])?;
        serde_json::from_str(out.trim()).map_err(|e| format!("docker info printed no JSON: {e}"))
    }

    pub fn server_version(&self) -> Result<String, String> {
        Ok(self.quick_ok(&["version", "--format", "{{.Server.Version}}"])?.trim().to_string())
    }

    /// The image's own HEALTHCHECK (`Config.Healthcheck`: durations in ns), `Null` without
    /// one; `None` when the image is not on the engine.
    pub fn image_healthcheck(&self, image: &str) -> Option<Value> {
        let done = self.quick(&["image", "inspect", "--format", "{{json .Config.Healthcheck}}", image]).ok()?;
        done.ok.then(|| serde_json::from_str(done.stdout.trim()).unwrap_or(Value::Null))
    }

    /// Every container (running or not) that carries `label` (`key=value`).
    pub fn containers(&self, label: &str) -> Result<Vec<String>, String> {
        let out = self.quick_ok(&["ps", "-a", "-q", "--no-trunc", "--filter", &format!("label={label}")])?;
        Ok(out.split_whitespace().map(str::to_string).collect())
    }

    pub fn inspect(&self, ids: &[String]) -> Result<Vec<Container>, String> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec!["inspect", "--type", "container"];
        args.extend(ids.iter().map(String::as_str));
        let done = self.quick(&args)?;
        // A container removed meanwhile fails the call but its peers are still listed.
        let all: Vec<Value> = serde_json::from_str(&done.stdout).map_err(|e| {
            if done.ok {
                format!("docker inspect printed what is not JSON: {e}")
            } else {
                first_line(&done.stderr)
            }
        })?;
        Ok(all.into_iter().map(Container).collect())
    }

    /// The processes of a running container, by host pid.
    pub fn top(&self, id: &str) -> Result<Vec<Process>, String> {
        let out = self.quick_ok(&["top", id, "-o", "pid,ppid,comm,args"])?;
        Ok(out.lines().skip(1).filter_map(Process::parse).collect())
    }

    /// What the container printed (both streams) since `since`.
    pub fn logs_since(&self, id: &str, since: SystemTime) -> String {
        let secs = since.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        let since = format!("{secs:.3}");
        match self.quick(&["logs", "--since", &since, id]) {
            Ok(done) => done.stdout + &done.stderr,
            Err(_) => String::new(),
        }
    }

    /// `docker stop`, with the container's own grace period.
    pub fn stop(&self, id: &str) -> Result<Finished, String> {
        let mut cmd = self.command();
        cmd.args(["stop", id]);
        run(cmd, None, Some(Instant::now() + Duration::from_secs(600)), None)
    }

    /// Follows the engine's events for the containers that carry `label` (`key=value`) until
    /// dropped.
    pub fn events(&self, label: &str) -> Result<Events, String> {
        let mut child = self
            .command()
            .args(["events", "--format", "{{json .}}", "--filter", "type=container"])
            .args(["--filter", &format!("label={label}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run docker events: {e}"))?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                    if let Some(event) = Event::parse(&line) {
                        if let Ok(mut seen) = seen.lock() {
                            seen.push(event);
                        }
                    }
                }
            });
        }
        Ok(Events { child, seen })
    }

    /// Removes every container, network and volume that carries `label`, except those whose
    /// `spare` label's value `keep` accepts; what was removed.
    pub fn remove_labelled(&self, label: &str, spare: &str, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let filter = format!("label={label}");
        let format = format!("{{{{.ID}}}} {{{{.Label \"{spare}\"}}}}");
        let volume_format = format!("{{{{.Name}}}} {{{{.Label \"{spare}\"}}}}");
        let mut removed = Vec::new();
        // Containers first: a network or volume in use cannot be removed.
        let kinds: [(&[&str], &[&str], &str, &str); 3] = [
            (&["ps", "-a"], &["rm", "-f", "-v"], "container", &format),
            (&["network", "ls"], &["network", "rm"], "network", &format),
            (&["volume", "ls"], &["volume", "rm", "-f"], "volume", &volume_format),
        ];
        for (list, remove, kind, format) in kinds {
            let mut args = list.to_vec();
            args.extend(["--filter", &filter, "--format", format]);
            let Ok(out) = self.quick_ok(&args) else { continue };
            let names: Vec<&str> = out
                .lines()
                .filter_map(|l| {
                    let (name, value) = l.split_once(' ').unwrap_or((l, ""));
                    (!name.is_empty() && !keep(value.trim())).then_some(name)
                })
                .collect();
            if names.is_empty() {
                continue;
            }
            let mut args = remove.to_vec();
            args.extend(&names);
            if self.quick(&args).is_ok_and(|d| d.ok) {
                removed.extend(names.iter().map(|n| format!("{kind} {n}")));
            }
        }
        removed
    }
}

fn first_line(text: &str) -> String {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("failed with no message").trim().to_string()
}

/// One `docker inspect` entry.
pub struct Container(pub Value);

impl Container {
    fn str_at(&self, path: &[&str]) -> Option<&str> {
        at(&self.0, path).and_then(Value::as_str)
    }
    pub fn id(&self) -> &str {
        self.str_at(&["Id"]).unwrap_or("")
    }
    /// Its name, without the leading `/`.
    pub fn name(&self) -> &str {
        self.str_at(&["Name"]).unwrap_or("").trim_start_matches('/')
    }
    /// The image as the service names it, and the image's ID (its content digest).
    pub fn image(&self) -> (&str, &str) {
        (self.str_at(&["Config", "Image"]).unwrap_or(""), self.str_at(&["Image"]).unwrap_or(""))
    }
    pub fn label(&self, key: &str) -> Option<&str> {
        at(&self.0, &["Config", "Labels", key]).and_then(Value::as_str)
    }
    pub fn service(&self) -> &str {
        self.label("com.docker.compose.service").unwrap_or("")
    }
    pub fn number(&self) -> u32 {
        self.label("com.docker.compose.container-number").and_then(|n| n.parse().ok()).unwrap_or(1)
    }
    /// created, running, restarting, exited, dead.
    pub fn status(&self) -> &str {
        self.str_at(&["State", "Status"]).unwrap_or("")
    }
    /// starting, healthy or unhealthy; none without a check.
    pub fn health(&self) -> Option<&str> {
        self.str_at(&["State", "Health", "Status"])
    }
    pub fn last_probe_output(&self) -> Option<&str> {
        at(&self.0, &["State", "Health", "Log"])?.as_array()?.last()?.get("Output")?.as_str()
    }
    pub fn exit_code(&self) -> i64 {
        at(&self.0, &["State", "ExitCode"]).and_then(Value::as_i64).unwrap_or(0)
    }
    pub fn error(&self) -> Option<&str> {
        self.str_at(&["State", "Error"]).filter(|e| !e.is_empty())
    }
    pub fn oom_killed(&self) -> bool {
        at(&self.0, &["State", "OOMKilled"]).and_then(Value::as_bool).unwrap_or(false)
    }
    pub fn restart_count(&self) -> u64 {
        at(&self.0, &["RestartCount"]).and_then(Value::as_u64).unwrap_or(0)
    }
    pub fn pid(&self) -> u64 {
        at(&self.0, &["State", "Pid"]).and_then(Value::as_u64).unwrap_or(0)
    }
    /// The grace period `docker stop` gives: the container's StopTimeout, else 10 s.
    pub fn stop_timeout(&self) -> u64 {
        at(&self.0, &["Config", "StopTimeout"]).and_then(Value::as_u64).unwrap_or(10)
    }
    pub fn host_config(&self) -> &Value {
        at(&self.0, &["HostConfig"]).unwrap_or(&Value::Null)
    }
    pub fn config(&self) -> &Value {
        at(&self.0, &["Config"]).unwrap_or(&Value::Null)
    }
}

pub fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

/// One process of `docker top`.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub pid: u64,
    pub ppid: u64,
    pub comm: String,
    pub args: String,
}

impl Process {
    fn parse(line: &str) -> Option<Process> {
        let mut parts = line.split_whitespace();
        let pid = parts.next()?.parse().ok()?;
        let ppid = parts.next()?.parse().ok()?;
        let comm = parts.next()?.to_string();
        let args = parts.collect::<Vec<_>>().join(" ");
        Some(Process { pid, ppid, comm, args })
    }
}

/// An engine event about a container.
#[derive(Debug, Clone)]
pub struct Event {
    /// oom, die, start, restart, kill...
    pub action: String,
    pub id: String,
    /// When, in nanoseconds since 1970.
    pub nanos: u128,
    /// A kill's signal (`15`, `9`...); a die's exit code.
    pub signal: Option<String>,
    pub exit_code: Option<i64>,
}

impl Event {
    fn parse(line: &str) -> Option<Event> {
        let v: Value = serde_json::from_str(line).ok()?;
        let action = v.get("Action").or(v.get("status"))?.as_str()?.to_string();
        let id = v.get("id").and_then(Value::as_str).unwrap_or("").to_string();
        let nanos = v.get("timeNano").and_then(Value::as_u64).map(u128::from);
        let nanos = nanos.unwrap_or(v.get("time").and_then(Value::as_u64).unwrap_or(0) as u128 * 1_000_000_000);
        let attribute = |key: &str| v.pointer(&format!("/Actor/Attributes/{key}")).and_then(Value::as_str);
        let signal = attribute("signal").map(str::to_string);
        let exit_code = attribute("exitCode").and_then(|c| c.parse().ok());
        Some(Event { action, id, nanos, signal, exit_code })
    }
}

/// The events seen so far; the follower stops when this is dropped.
pub struct Events {
    child: Child,
    seen: Arc<Mutex<Vec<Event>>>,
}

impl Events {
    pub fn seen(&self) -> Vec<Event> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_lines_keep_their_arguments() {
        let p = Process::parse("13883   13861   sh   sh -c sleep 100 & wait").unwrap();
        assert_eq!(p, Process { pid: 13883, ppid: 13861, comm: "sh".into(), args: "sh -c sleep 100 & wait".into() });
    }

    #[test]
    fn events_name_their_container() {
        let e = Event::parse(
            r#"{"status":"oom","id":"abc","Action":"oom","Actor":{"Attributes":{"com.docker.compose.service":"app"}}}"#,
        )
        .unwrap();
        assert_eq!((e.action.as_str(), e.id.as_str()), ("oom", "abc"));
    }

    #[test]
    fn a_kill_gives_its_signal_and_its_time_in_nanoseconds() {
        let e = Event::parse(
            r#"{"status":"kill","id":"c1","Type":"container","Action":"kill","Actor":{"ID":"c1","Attributes":{"name":"s_web.1","signal":"15"}},"scope":"local","time":1700000000,"timeNano":1700000000123456789}"#,
        )
        .unwrap();
        assert_eq!(e.nanos, 1_700_000_000_123_456_789);
        assert_eq!((e.signal.as_deref(), e.exit_code), (Some("15"), None));
    }

    #[test]
    fn a_die_gives_its_exit_code_and_an_older_engine_its_time_in_seconds() {
        let e = Event::parse(
            r#"{"status":"die","id":"c1","Action":"die","Actor":{"Attributes":{"exitCode":"137"}},"time":1700000001}"#,
        )
        .unwrap();
        assert_eq!((e.nanos, e.exit_code, e.signal), (1_700_000_001_000_000_000, Some(137), None));
    }

    #[test]
    fn a_line_that_is_no_event_is_skipped() {
        assert!(Event::parse("Error response from daemon").is_none());
        assert!(Event::parse(r#"{"id":"c1"}"#).is_none());
    }
}
