//! The `swarm` profile on a real swarm: a two-service stack hardened with it deploys with
//! `docker stack deploy`, converges and turns healthy; `docker service inspect` holds what the
//! file says; a task killed from outside is replaced; an update whose new task never turns
//! healthy is rolled back by Swarm on its own, within the bound the profile documents, while
//! the old tasks keep serving; the service with a writable volume is updated `stop-first`.
//! Then `verify --swarm` proves the same on its own (and refuses an engine in no swarm),
//! `verify --harden --swarm` names what hardening fixed, and its teardown leaves nothing,
//! on SIGINT too, and `--cleanup` removes what a killed run left.
//! A single-node swarm is made when the engine is in none, and left afterwards only then
//! (with the `docker_gwbridge` network `swarm leave` keeps). Images are built here
//! (tests/engine/images.sh base), no registry. Skipped with a notice where no engine answers.

mod common;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BUSYBOX: &str = "compose-harden-test/busybox:1";
const STACK: &str = "chswarmtest";

fn docker(args: &[&str]) -> Result<String, String> {
    let out = Command::new("docker").args(args).output().map_err(|e| e.to_string())?;
    match out.status.success() {
        true => Ok(String::from_utf8_lossy(&out.stdout).trim().to_string()),
        false => Err(format!("docker {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim())),
    }
}

/// The swarm the test runs on: made here (and so left at the end) or found.
struct Swarm {
    made: bool,
}

impl Swarm {
    fn join() -> Option<Swarm> {
        if docker(&["version", "--format", "{{.Server.Version}}"]).is_err() {
            common::missing("a Docker engine");
            return None;
        }
        let built = Command::new("bash").args(["tests/engine/images.sh", "base"]).status().is_ok_and(|s| s.success());
        if !built {
            common::missing("the engine test images (tests/engine/images.sh base failed)");
            return None;
        }
        let state = docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]).unwrap_or_default();
        match state.as_str() {
            "active" => Some(Swarm { made: false }),
            "inactive" => {
                refused_in_no_swarm();
                docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]).expect("a single-node swarm starts");
                Some(Swarm { made: true })
            }
            other => panic!("the engine's swarm is `{other}`: neither in one nor in none"),
        }
    }
}

impl Drop for Swarm {
    fn drop(&mut self) {
        tear_down();
        if self.made {
            let _ = docker(&["swarm", "leave", "--force"]);
            let _ = docker(&["network", "rm", "docker_gwbridge"]);
        }
    }
}

/// `stack rm` returns before its tasks are gone and leaves the stack's volumes: wait for the
/// tasks, then remove what carries the stack's namespace label.
fn tear_down() {
    let _ = docker(&["stack", "rm", STACK]);
    let label = format!("label=com.docker.stack.namespace={STACK}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline && !docker(&["ps", "-aq", "--filter", &label]).unwrap_or_default().is_empty() {
        std::thread::sleep(Duration::from_millis(500));
    }
    for volume in docker(&["volume", "ls", "-q", "--filter", &label]).unwrap_or_default().lines() {
        let _ = docker(&["volume", "rm", volume]);
    }
    // The stack's network goes once its last task's endpoint is released.
    while Instant::now() < deadline
        && !docker(&["network", "ls", "-q", "--filter", &label]).unwrap_or_default().is_empty()
    {
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn left_behind(stack: &str) -> Vec<String> {
    let label = format!("label=com.docker.stack.namespace={stack}");
    let kinds: [&[&str]; 6] = [
        &["service", "ls", "-q"],
        &["ps", "-aq"],
        &["network", "ls", "-q"],
        &["volume", "ls", "-q"],
        &["secret", "ls", "-q"],
        &["config", "ls", "-q"],
    ];
    let mut left = Vec::new();
    for kind in kinds {
        let mut args = kind.to_vec();
        args.extend(["--filter", &label]);
        let found = docker(&args).unwrap_or_default();
        if !found.is_empty() {
            left.push(format!("{}: {}", kind[0], found.replace('\n', " ")));
        }
    }
    left
}

fn inspect(service: &str) -> Value {
    let text = docker(&["service", "inspect", &format!("{STACK}_{service}")]).expect("service inspect");
    serde_json::from_str::<Value>(&text).expect("json")[0].clone()
}

/// Running tasks of a service whose container reports healthy, by container id.
fn healthy_tasks(service: &str) -> Vec<String> {
    let filter = format!("label=com.docker.swarm.service.name={STACK}_{service}");
    let listed = docker(&["ps", "--filter", &filter, "--filter", "health=healthy", "--format", "{{.ID}}"]);
    listed.unwrap_or_default().lines().map(str::to_string).collect()
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
    start.elapsed()
}

/// A web server with a fast probe (two replicas: start-first), and a store that writes a
/// named volume (stop-first). The probes' timing is the user's: the profile keeps it.
const INPUT: &str = r#"services:
  web:
    image: compose-harden-test/busybox:1
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:8080/"]
      interval: 1s
      timeout: 1s
      retries: 2
      start_period: 1s
    deploy:
      replicas: 2
  store:
    image: compose-harden-test/busybox:1
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do date > /data/last; sleep 1; done"]
    healthcheck:
      test: ["CMD", "test", "-s", "/data/last"]
      interval: 1s
      timeout: 1s
      retries: 2
      start_period: 1s
    volumes:
      - data:/data
volumes:
  data:
"#;

/// One test, so that one swarm serves every part: made once, left once.
#[test]
fn on_a_swarm() {
    let Some(swarm) = Swarm::join() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    by_hand(dir.path());
    verified(dir.path());
    before_and_after(dir.path());
    interrupted(dir.path());
    cleaned_up(dir.path());
    drop(swarm);
    if docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]).unwrap_or_default() == "inactive" {
        let networks = docker(&["network", "ls", "--format", "{{.Name}}"]).unwrap_or_default();
        assert!(!networks.lines().any(|n| n == "docker_gwbridge" || n == "ingress"), "{networks}");
    }
}

/// The hardened stack deployed with `docker stack deploy` and checked with the docker CLI.
fn by_hand(dir: &std::path::Path) {
    tear_down(); // What an interrupted run left.
                 // The swarm profile, with nofile within what this engine grants a container.
    let granted = docker(&["run", "--rm", BUSYBOX, "sh", "-c", "ulimit -Hn"]).expect("ulimit read");
    let nofile: u64 = granted.trim().parse().unwrap_or(1024).min(65536);
    let profile = format!("extends: swarm\nulimits:\n  nofile:\n    soft: {nofile}\n    hard: {nofile}\n");
    std::fs::write(dir.join("team.yml"), profile).expect("profile written");
    std::fs::write(dir.join("compose.yml"), INPUT).expect("input written");
    let out = common::run(dir, &["apply", "--profile", "team.yml", "compose.yml"], b"");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let findings = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!findings.contains("error["), "{findings}");
    assert!(
        findings.contains(
            "info[swarm/stop-first]: service `store`: tasks are replaced `stop-first`: volume `data:/data` is writable"
        ),
        "{findings}"
    );
    std::fs::write(dir.join("stack.yml"), &out.stdout).expect("output written");
    let hardened: yaml_serde::Value = yaml_serde::from_slice(&out.stdout).expect("the output reads");

    let started = Instant::now();
    let stack = dir.join("stack.yml");
    let stack = stack.to_str().expect("a path");
    docker(&["stack", "deploy", "--resolve-image", "never", "-c", stack, STACK]).expect("the stack deploys");
    let converged = wait_for("two healthy web tasks and one store task", Duration::from_secs(120), || {
        healthy_tasks("web").len() == 2 && healthy_tasks("store").len() == 1
    });
    println!("deployed, converged and healthy in {:.1}s", (started.elapsed()).as_secs_f64());

    // What the service runs is what the file says.
    for name in ["web", "store"] {
        let spec = &inspect(name)["Spec"];
        let file = &hardened["services"][name];
        let task = &spec["TaskTemplate"];
        let deploy = &file["deploy"];
        let bytes = |v: &yaml_serde::Value| size(v.as_str().expect("a size"));
        let cpus = |v: &yaml_serde::Value| (v.as_str().expect("cpus").parse::<f64>().expect("a number") * 1e9) as u64;
        let limits = &deploy["resources"]["limits"];
        let reservations = &deploy["resources"]["reservations"];
        assert_eq!(task["Resources"]["Limits"]["MemoryBytes"], bytes(&limits["memory"]), "{name} memory limit");
        assert_eq!(task["Resources"]["Limits"]["NanoCPUs"], cpus(&limits["cpus"]), "{name} cpu limit");
        assert_eq!(task["Resources"]["Reservations"]["MemoryBytes"], bytes(&reservations["memory"]), "{name}");
        assert_eq!(task["Resources"]["Reservations"]["NanoCPUs"], cpus(&reservations["cpus"]), "{name}");
        let restart = &deploy["restart_policy"];
        assert_eq!(task["RestartPolicy"]["Condition"], restart["condition"].as_str().expect("a condition"));
        assert_eq!(task["RestartPolicy"]["Delay"], nanos(&restart["delay"]), "{name} restart delay");
        for (key, field) in [("update_config", "UpdateConfig"), ("rollback_config", "RollbackConfig")] {
            let (want, got) = (&deploy[key], &spec[field]);
            assert_eq!(got["Parallelism"], want["parallelism"].as_u64().expect("parallelism"), "{name} {key}");
            assert_eq!(got["Monitor"], nanos(&want["monitor"]), "{name} {key}");
            assert_eq!(got["FailureAction"], want["failure_action"].as_str().expect("an action"), "{name} {key}");
            assert_eq!(got["Order"], want["order"].as_str().expect("an order"), "{name} {key}");
        }
        let container = &task["ContainerSpec"];
        let check = &file["healthcheck"];
        assert_eq!(container["Healthcheck"]["Interval"], nanos(&check["interval"]), "{name} probe interval");
        assert_eq!(container["Healthcheck"]["Retries"], check["retries"].as_u64().expect("retries"), "{name}");
        assert_eq!(container["Init"], file["init"].as_bool().expect("init"), "{name} init");
        if let Some(grace) = file.get("stop_grace_period") {
            assert_eq!(container["StopGracePeriod"], nanos(grace), "{name} grace");
        }
        assert_eq!(container["Ulimits"][0]["Name"], "nofile", "{name} ulimits");
        assert_eq!(container["Ulimits"][0]["Soft"], nofile, "{name} ulimits");
        let logging = &file["logging"];
        assert_eq!(task["LogDriver"]["Name"], logging["driver"].as_str().expect("a driver"), "{name}");
        assert_eq!(
            task["LogDriver"]["Options"]["max-size"],
            logging["options"]["max-size"].as_str().expect("max-size")
        );
    }
    assert_eq!(inspect("web")["Spec"]["UpdateConfig"]["Order"], "start-first");
    assert_eq!(inspect("store")["Spec"]["UpdateConfig"]["Order"], "stop-first");

    // A task killed from outside is replaced.
    let before = healthy_tasks("web");
    docker(&["kill", &before[0]]).expect("a task killed");
    let replaced = wait_for("the killed task replaced", Duration::from_secs(60), || {
        let now = healthy_tasks("web");
        now.len() == 2 && !now.contains(&before[0])
    });
    println!("a killed task replaced by a healthy one in {:.1}s", replaced.as_secs_f64());

    // An update whose new task never turns healthy is rolled back by Swarm on its own,
    // within start_period + retries x (interval + timeout) + the failed task's stop + the
    // rollback's monitor; the old tasks serve throughout.
    let web = format!("{STACK}_web");
    docker(&["service", "update", "--detach", "--health-cmd", "exit 1", &web]).expect("an update starts");
    let mut serving_min = usize::MAX;
    let state =
        || docker(&["service", "inspect", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}", &web]);
    let rolled_back = wait_for("the failed update rolled back", Duration::from_secs(180), || {
        serving_min = serving_min.min(healthy_tasks("web").len());
        state().unwrap_or_default() == "rollback_completed"
    });
    let check = &hardened["services"]["web"]["healthcheck"];
    let probe = secs(&check["start_period"])
        + check["retries"].as_u64().expect("retries") as f64 * (secs(&check["interval"]) + secs(&check["timeout"]));
    let rollback_monitor = secs(&hardened["services"]["web"]["deploy"]["rollback_config"]["monitor"]);
    // The engine's default grace where the file sets none.
    let stop = hardened["services"]["web"].get("stop_grace_period").map_or(10.0, secs);
    let bound = probe + stop + rollback_monitor;
    println!(
        "a failed update rolled back on its own in {:.1}s (bound {bound:.0}s: probe {probe:.0}s + stop {stop:.0}s + \
         rollback monitor {rollback_monitor:.0}s); healthy web tasks never below {serving_min}",
        rolled_back.as_secs_f64()
    );
    assert!(rolled_back.as_secs_f64() <= bound + 15.0, "rolled back in {rolled_back:?}, bound {bound}s");
    assert!(serving_min >= 1, "the old tasks stopped serving during the failed update");
    let after = inspect("web");
    let test = &after["Spec"]["TaskTemplate"]["ContainerSpec"]["Healthcheck"]["Test"];
    assert_eq!(test[1], "wget", "the rolled-back spec is the file's: {test}");
    wait_for("two healthy web tasks after the rollback", Duration::from_secs(60), || healthy_tasks("web").len() == 2);

    // The store, with its writable volume, is updated stop-first: never two copies at once.
    let store = format!("{STACK}_store");
    let old = healthy_tasks("store");
    let filter = format!("label=com.docker.swarm.service.name={store}");
    docker(&["service", "update", "--detach", "--force", &store]).expect("an update starts");
    let mut most = 0;
    let swapped = wait_for("the store's new task healthy", Duration::from_secs(90), || {
        let running = docker(&["ps", "-q", "--filter", &filter]).unwrap_or_default();
        most = most.max(running.lines().count());
        let now = healthy_tasks("store");
        now.len() == 1 && now != old
    });
    println!("the store updated stop-first in {:.1}s, at most {most} copy running", swapped.as_secs_f64());
    assert_eq!(most, 1, "two copies of the store ran at once");

    let torn = Instant::now();
    tear_down();
    println!(
        "torn down in {:.1}s; converged {:.1}s after deploy",
        torn.elapsed().as_secs_f64(),
        converged.as_secs_f64()
    );
    assert_eq!(left_behind(STACK), Vec::<String>::new(), "left behind");
}

/// `verify --swarm` on an engine in no swarm: exit 2, and how to make one, nothing made.
fn refused_in_no_swarm() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("compose.yml"), INPUT).expect("input written");
    let out = common::run(dir.path(), &["verify", "--swarm", "compose.yml"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: the engine is in no swarm (its swarm state is `inactive`); verify --swarm deploys on the swarm the \
         engine belongs to and never makes or leaves one. To make a single-node swarm: `docker swarm init \
         --advertise-addr 127.0.0.1` (and `docker swarm leave --force` to leave it afterwards)"
    );
    let state = docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]).unwrap_or_default();
    assert_eq!(state, "inactive", "verify made a swarm");
}

fn verify(dir: &std::path::Path, args: &[&str]) -> Value {
    let out = common::run(dir, args, b"");
    let report = serde_json::from_slice::<Value>(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    println!("{}", String::from_utf8_lossy(&out.stderr).trim());
    assert_eq!(out.status.code(), Some(if report["ok"] == true { 0 } else { 1 }), "{report:#}");
    report
}

fn service<'r>(run: &'r Value, name: &str) -> &'r Value {
    let services = run["services"].as_array().expect("services");
    services.iter().find(|s| s["service"] == name).unwrap_or_else(|| panic!("{name} in {run:#}"))
}

/// `verify --swarm --update-check` proves the hardened stack on its own, and leaves nothing.
fn verified(dir: &std::path::Path) {
    let report = verify(dir, &["verify", "--swarm", "--update-check", "--format", "json", "stack.yml"]);
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["swarm"], true);
    let run = &report["runs"][0];
    let stack = run["project"].as_str().expect("the stack's name");
    for name in ["web", "store"] {
        let s = service(run, name);
        let swarm = &s["swarm"];
        assert_eq!(swarm["tasks_done"], swarm["tasks_wanted"], "{name}: {s:#}");
        assert_eq!(s["health"], "healthy", "{name}: {s:#}");
        assert_eq!(s["mismatches"], serde_json::json!([]), "{name}: service inspect differs from the file");
        assert_eq!(swarm["killed_task"], "replaced", "{name}: {s:#}");
        let update = &swarm["update"];
        assert_eq!(update["rolled_back"], true, "{name}: {s:#}");
        let (took, bound) =
            (update["seconds"].as_f64().expect("seconds"), update["bound_seconds"].as_f64().expect("bound"));
        assert!(took <= bound + 15.0, "{name}: rolled back in {took} s, bound {bound} s");
        assert_eq!(s["stopped_by"], "signal", "{name}: {s:#}");
        let figure = |v: &Value| v.as_f64().map_or("-".into(), |t| format!("{t:.1} s"));
        println!(
            "verify --swarm: {name} converged in {}, a killed task replaced in {}, a failing update rolled back in \
             {took:.1} s (bound {bound:.0} s), stopped in {}",
            figure(&swarm["seconds_to_converge"]),
            figure(&swarm["seconds_to_replace"]),
            figure(&s["stop_seconds"])
        );
    }
    // start-first keeps every old task serving; stop-first the store's one goes first.
    let web = &service(run, "web")["swarm"]["update"];
    assert!(web["fewest_serving"].as_u64() >= Some(2), "web stopped serving during the failed update: {web:#}");
    assert_eq!(left_behind(stack), Vec::<String>::new(), "verify left behind");
}

/// `verify --harden --swarm`: as written, the web server runs as PID 1 and ignores SIGTERM;
/// hardened, it stops on its signal, and nothing regresses.
fn before_and_after(dir: &std::path::Path) {
    // `docker stack deploy` reads no default override: nor does verify --swarm (it would
    // refuse this writable bind).
    let over = dir.join("compose.override.yml");
    std::fs::write(&over, "services:\n  web:\n    volumes: [\"/tmp:/tmp\"]\n").expect("override written");
    let args = ["verify", "--harden", "--swarm", "--profile", "team.yml", "--format", "json", "compose.yml"];
    let report = verify(dir, &args);
    let runs = report["runs"].as_array().expect("runs");
    let labels: Vec<&str> = runs.iter().filter_map(|r| r["label"].as_str()).collect();
    assert_eq!(labels, ["before", "after"]);
    let stop = |run: &Value| service(run, "web")["stop_seconds"].as_f64().unwrap_or(-1.0);
    println!("verify --harden --swarm: web stopped in {:.1} s before, {:.1} s after", stop(&runs[0]), stop(&runs[1]));
    assert_eq!(service(&runs[0], "web")["stopped_by"], "kill", "{:#}", runs[0]);
    assert_eq!(service(&runs[1], "web")["stopped_by"], "signal", "{:#}", runs[1]);
    for run in runs {
        for s in run["services"].as_array().expect("services") {
            assert_eq!(s["regression"], false, "{s:#}");
        }
        assert_eq!(left_behind(run["project"].as_str().expect("a name")), Vec::<String>::new());
    }
    assert_eq!(report["ok"], true, "{report:#}");
    std::fs::remove_file(over).expect("override removed");
}

/// Starts `verify --swarm` on the hardened stack and waits until its services exist.
fn started(dir: &std::path::Path) -> (Child, String) {
    let mut child = common::bin()
        .args(["verify", "--swarm", "stack.yml"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("verify starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(name) = line.split("as stack ").nth(1) {
                let _ = tx.send(name.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let stack = rx.recv_timeout(Duration::from_secs(60)).expect("verify names its stack");
    let filter = format!("label=com.docker.stack.namespace={stack}");
    wait_for("the stack's tasks running", Duration::from_secs(60), || {
        !docker(&["ps", "-q", "--filter", &filter]).unwrap_or_default().is_empty()
    });
    (child, stack)
}

fn interrupted(dir: &std::path::Path) {
    let (mut child, stack) = started(dir);
    let start = Instant::now();
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    let status = child.wait().expect("verify ends");
    println!("SIGINT: verify --swarm ended in {:.1} s with {status}", start.elapsed().as_secs_f64());
    assert_eq!(status.code(), Some(130));
    assert_eq!(left_behind(&stack), Vec::<String>::new(), "left behind after SIGINT");
}

fn cleaned_up(dir: &std::path::Path) {
    let (mut child, stack) = started(dir);
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_ne!(left_behind(&stack), Vec::<String>::new(), "a killed run leaves its stack");
    let start = Instant::now();
    let out = common::bin().args(["verify", "--cleanup"]).output().expect("cleanup runs");
    let said = String::from_utf8_lossy(&out.stdout);
    println!("cleanup in {:.1} s: {}", start.elapsed().as_secs_f64(), said.trim());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains(&format!("removed stack {stack}")), "{said}");
    assert_eq!(left_behind(&stack), Vec::<String>::new(), "left behind after --cleanup");
}

/// A duration as the file writes it (`5s`, `1m30s`, `500ms`), in nanoseconds.
fn nanos(value: &yaml_serde::Value) -> u64 {
    (secs(value) * 1e9).round() as u64
}

fn secs(value: &yaml_serde::Value) -> f64 {
    let text = value.as_str().unwrap_or_else(|| panic!("a duration: {value:?}"));
    let (mut total, mut number) = (0.0, String::new());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
            continue;
        }
        let n: f64 = number.parse().expect("a number");
        number.clear();
        total += match (c, chars.peek()) {
            ('m', Some('s')) => {
                chars.next();
                n / 1000.0
            }
            ('h', _) => n * 3600.0,
            ('m', _) => n * 60.0,
            _ => n,
        };
    }
    total
}

/// A size as the file writes it (`512M`, `128m`), in bytes.
fn size(text: &str) -> u64 {
    let (number, unit) = text.split_at(text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len()));
    let n: f64 = number.parse().expect("a number");
    let scale = match unit.to_ascii_lowercase().trim_end_matches('b') {
        "k" => 1u64 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => 1,
    };
    (n * scale as f64) as u64
}
