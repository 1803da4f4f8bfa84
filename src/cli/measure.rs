//! `measure`: attach to a Compose project that is already running on the local engine,
//! sample every container of every service (each replica on its own) through the
//! engine's streamed stats while the user's load test runs, and write a sizing file that
//! `apply --sizing` turns into limits.

use crate::engine::{self, stats, Cancel, Container, Docker, Project};
use clap::Args;
use compose_harden::sizing::{self, Event, Figures, Host, Sizing, Window};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

#[derive(Args)]
pub struct Measure {
    /// The compose file of the running project.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The project's name (default: the one Compose gives FILE).
    #[arg(short = 'p', long = "project-name", value_name = "NAME")]
    project: Option<String>,
    /// How long to sample (`10m`, `90s`); default: until Ctrl-C.
    #[arg(long, value_name = "DURATION")]
    duration: Option<String>,
    /// Write the sizing file here (default: standard output).
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    /// The Docker Compose v2 to read FILE's project name with (as `verify --compose`).
    #[arg(long, value_name = "PATH")]
    compose: Option<PathBuf>,
}

/// Samples by container id, with what the container is.
#[derive(Default)]
struct Seen {
    containers: Vec<Followed>,
    /// Containers that appeared after the first look (a scale-up, a replacement), and when.
    appeared: Vec<(String, SystemTime)>,
}

struct Followed {
    id: String,
    name: String,
    service: String,
    image: String,
    digest: String,
    samples: Arc<Mutex<Vec<stats::Sample>>>,
    closer: Option<std::os::unix::net::UnixStream>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Followed {
    /// The readings so far (the stream's thread keeps adding to them).
    fn readings(&self) -> Vec<stats::Sample> {
        self.samples.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

pub fn run(args: &Measure) -> u8 {
    match measure(args) {
        Ok(code) => code,
        Err(e) => {
            super::say(&format!("error: {e}"));
            2
        }
    }
}

fn measure(args: &Measure) -> Result<u8, String> {
    let cancel = Cancel::on_signals();
    let limit = match &args.duration {
        Some(d) => Some(Duration::from_secs_f64(
            compose_harden::units::seconds(d)
                .ok_or_else(|| format!("--duration {d}: not a duration (`10m`, `90s`)"))?,
        )),
        None => None,
    };
    let (docker, endpoint, version) = engine::local(false)?;
    let socket = stats::socket(&endpoint)?;
    let project = match &args.project {
        Some(p) => p.clone(),
        None => project_name(&docker, args)?,
    };
    let info = docker.info()?;
    let host = Host {
        cpus: info["NCPU"].as_u64().unwrap_or(1),
        memory_bytes: info["MemTotal"].as_u64().unwrap_or(0),
        cgroup_version: info["CgroupVersion"].as_str().unwrap_or("1").to_string(),
        engine: version,
    };
    let label = format!("com.docker.compose.project={project}");
    if docker.containers(&label)?.is_empty() {
        return Err(format!(
            "no container of project `{project}` runs on the engine; start it first (docker compose up -d)"
        ));
    }
    let events = docker.events(&format!("com.docker.compose.project={project}"))?;
    let started = (SystemTime::now(), Instant::now());
    let mut seen = Seen::default();
    let live = std::io::stderr().is_terminal();
    let until = limit.map_or("Ctrl-C".to_string(), |d| format!("{} s", d.as_secs()));
    super::say(&format!("measuring project {project} until {until}; run the load test now"));
    let mut drawn = 0;
    loop {
        follow_new(&docker, &socket, &label, &mut seen);
        if live {
            drawn = draw(&seen, started.1.elapsed(), drawn);
        }
        if cancel.is_set() || limit.is_some_and(|l| started.1.elapsed() >= l) {
            break;
        }
        cancel.sleep(Duration::from_secs(1));
    }
    for c in &mut seen.containers {
        if let Some(closer) = c.closer.take() {
            let _ = closer.shutdown(std::net::Shutdown::Both);
        }
        if let Some(t) = c.thread.take() {
            let _ = t.join();
        }
    }
    let oom_now: Vec<String> = docker
        .inspect(&seen.containers.iter().map(|c| c.id.clone()).collect::<Vec<_>>())
        .unwrap_or_default()
        .iter()
        .filter(|c| c.oom_killed())
        .map(|c| c.id().to_string())
        .collect();
    let sizing = summarize(&project, &seen, &events.seen(), &oom_now, host, started.0);
    let text = format!("{}{}", sizing::HEADER, yaml_serde::to_string(&sizing).map_err(|e| e.to_string())?);
    super::say(&summary(&sizing, &seen));
    match &args.output {
        Some(path) => {
            super::output::clean_up_on_signals();
            super::output::output(path, &text, &path.display().to_string()).map_err(|e| e.to_string())?;
            super::say(&format!("wrote {}", path.display()));
            Ok(0)
        }
        None => Ok(super::print(&text)),
    }
}

fn project_name(docker: &Docker, args: &Measure) -> Result<String, String> {
    let compose = engine::Compose::find(args.compose.as_deref(), docker)?;
    let directory = args.file.parent().map_or_else(|| PathBuf::from("."), PathBuf::from);
    let directory = if directory.as_os_str().is_empty() { PathBuf::from(".") } else { directory };
    let project = Project { name: None, directory, layers: Vec::new(), file: args.file.clone(), profiles: Vec::new() };
    let mut cmd = compose.project(&project);
    cmd.args(["config", "--format", "json"]);
    let done = engine::run(cmd, None, Some(Instant::now() + Duration::from_secs(60)), None)?;
    if !done.ok {
        return Err(format!("Docker Compose cannot read {}: {}", args.file.display(), done.stderr.trim()));
    }
    let model: serde_json::Value = serde_json::from_str(&done.stdout).map_err(|e| e.to_string())?;
    model["name"].as_str().map(str::to_string).ok_or_else(|| "Compose gave the project no name".to_string())
}

/// Starts a stream for each container not followed yet (a scaled or restarted service
/// brings new ones; a restart keeps its container, and its stream goes on).
fn follow_new(docker: &Docker, socket: &std::path::Path, label: &str, seen: &mut Seen) {
    let ids = docker.containers(label).unwrap_or_default();
    let new: Vec<String> = ids.into_iter().filter(|id| !seen.containers.iter().any(|c| c.id == *id)).collect();
    if new.is_empty() {
        return;
    }
    let later = !seen.containers.is_empty();
    for c in docker.inspect(&new).unwrap_or_default() {
        if later {
            seen.appeared.push((c.id().to_string(), SystemTime::now()));
        }
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (closer, thread) = match stats::Stream::open(socket, c.id()) {
            Ok(mut stream) => {
                let closer = stream.closer();
                let into = Arc::clone(&samples);
                let thread = std::thread::spawn(move || {
                    while let Some(s) = stream.next_sample() {
                        if let Ok(mut v) = into.lock() {
                            v.push(s);
                        }
                    }
                });
                (closer, Some(thread))
            }
            Err(e) => {
                super::say(&format!("notice: {}: {e}", c.name()));
                (None, None)
            }
        };
        seen.containers.push(followed(&c, samples, closer, thread));
    }
}

fn followed(
    c: &Container,
    samples: Arc<Mutex<Vec<stats::Sample>>>,
    closer: Option<std::os::unix::net::UnixStream>,
    thread: Option<std::thread::JoinHandle<()>>,
) -> Followed {
    let (image, digest) = c.image();
    Followed {
        id: c.id().to_string(),
        name: c.name().to_string(),
        service: c.service().to_string(),
        image: image.to_string(),
        digest: digest.to_string(),
        samples,
        closer,
        thread,
    }
}

/// The live table (on a terminal): services, samples and current peaks; the lines drawn.
fn draw(seen: &Seen, elapsed: Duration, drawn: usize) -> usize {
    let mut lines =
        vec![format!("{:<24} {:>8} {:>12} {:>8} {:>6}", "container", "samples", "peak memory", "cpu", "pids")];
    for c in &seen.containers {
        let samples = c.readings();
        let peak = samples.iter().map(|s| s.memory).max().unwrap_or(0);
        let cpu = samples.iter().filter_map(|s| s.cpu).fold(0.0, f64::max);
        let pids = samples.iter().map(|s| s.pids).max().unwrap_or(0);
        lines.push(format!("{:<24} {:>8} {:>8} MiB {:>8.2} {:>6}", c.name, samples.len(), peak >> 20, cpu, pids));
    }
    lines.push(format!("{} s", elapsed.as_secs()));
    let mut out = String::new();
    if drawn > 0 {
        out.push_str(&format!("\x1b[{drawn}A"));
    }
    for l in &lines {
        out.push_str(&format!("\x1b[2K{l}\n"));
    }
    use std::io::Write;
    let _ = std::io::stderr().write_all(out.as_bytes());
    lines.len()
}

fn summarize(
    project: &str,
    seen: &Seen,
    events: &[engine::Event],
    oom_now: &[String],
    host: Host,
    start: SystemTime,
) -> Sizing {
    let mut services: indexmap::IndexMap<String, sizing::Service> = indexmap::IndexMap::new();
    let mut by_service: HashMap<&str, Vec<&Followed>> = HashMap::new();
    for c in &seen.containers {
        by_service.entry(&c.service).or_default().push(c);
    }
    let mut names: Vec<&str> = by_service.keys().copied().collect();
    names.sort();
    let mut window = 0.0f64;
    for name in names {
        let containers = &by_service[name];
        let mut memory = Vec::new();
        let mut cpu = Vec::new();
        let mut pids = Vec::new();
        let mut fewest = usize::MAX;
        let mut throttled = false;
        let (mut first, mut last) = (None::<SystemTime>, None::<SystemTime>);
        let mut max_usage = None;
        let mut peak: Option<(u64, SystemTime, &str)> = None;
        for c in containers {
            let samples = c.readings();
            for s in &samples {
                if peak.is_none_or(|(m, _, _)| s.memory > m) {
                    peak = Some((s.memory, s.at, c.name.as_str()));
                }
            }
            fewest = fewest.min(samples.len());
            memory.extend(samples.iter().map(|s| s.memory as f64));
            cpu.extend(samples.iter().filter_map(|s| s.cpu));
            pids.extend(samples.iter().map(|s| s.pids as f64));
            if let (Some(a), Some(b)) = (samples.first(), samples.last()) {
                throttled |= b.throttled_periods > a.throttled_periods;
                first = Some(first.map_or(a.at, |f| f.min(a.at)));
                last = Some(last.map_or(b.at, |l| l.max(b.at)));
            }
            max_usage = samples.iter().filter_map(|s| s.max_usage).max().max(max_usage);
        }
        let seconds = match (first, last) {
            (Some(a), Some(b)) => b.duration_since(a).map_or(0.0, |d| d.as_secs_f64()),
            _ => 0.0,
        };
        window = window.max(seconds);
        let ids: Vec<&str> = containers.iter().map(|c| c.id.as_str()).collect();
        let mine: Vec<Event> = events
            .iter()
            .filter(|e| {
                ids.contains(&e.id.as_str()) && matches!(e.action.as_str(), "start" | "restart" | "die" | "oom")
            })
            .map(|e| Event {
                at: rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs((e.nanos / 1_000_000_000) as u64)),
                container: containers.iter().find(|c| c.id == e.id).map(|c| c.name.clone()).unwrap_or_default(),
                what: e.action.clone(),
            })
            .collect();
        let mut mine = mine;
        for (id, at) in seen.appeared.iter().filter(|(id, _)| ids.contains(&id.as_str())) {
            let container = containers.iter().find(|c| c.id == *id).map(|c| c.name.clone()).unwrap_or_default();
            mine.push(Event { at: rfc3339(*at), container, what: "appeared".into() });
        }
        // A restart: the engine's `restart`, or a `start` after the same container died.
        let restarts = mine
            .iter()
            .enumerate()
            .filter(|(i, e)| {
                e.what == "restart"
                    || (e.what == "start" && mine[..*i].iter().any(|d| d.what == "die" && d.container == e.container))
            })
            .count() as u64;
        let oom = mine.iter().any(|e| e.what == "oom") || ids.iter().any(|id| oom_now.iter().any(|o| o == id));
        let first_container = containers[0];
        services.insert(
            name.to_string(),
            sizing::Service {
                image: first_container.image.clone(),
                digest: first_container.digest.clone(),
                containers: containers.iter().map(|c| c.name.clone()).collect(),
                samples: if fewest == usize::MAX { 0 } else { fewest },
                seconds: (seconds * 10.0).round() / 10.0,
                memory_bytes: Figures::of(&memory),
                cpu: rounded(Figures::of(&cpu)),
                pids: Figures::of(&pids),
                max_usage_bytes: max_usage,
                memory_peak: peak.map(|(_, at, name)| sizing::Peak { container: name.to_string(), at: rfc3339(at) }),
                cpu_throttled: throttled,
                oom_killed: oom,
                restarts,
                events: mine,
            },
        );
    }
    Sizing {
        version: sizing::VERSION,
        project: project.to_string(),
        window: Window { start: rfc3339(start), seconds: (window * 10.0).round() / 10.0, interval_seconds: 1.0 },
        host,
        services,
    }
}

fn rounded(f: Figures) -> Figures {
    let r = |v: f64| (v * 1000.0).round() / 1000.0;
    Figures { peak: r(f.peak), p95: r(f.p95), p50: r(f.p50), mean: r(f.mean) }
}

/// Each service's memory over the window as a sparkline, with its figures.
fn summary(sizing: &Sizing, seen: &Seen) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let mut out = String::new();
    for (name, s) in &sizing.services {
        let mut series: Vec<u64> = Vec::new();
        for c in seen.containers.iter().filter(|c| c.service == *name) {
            let samples = c.readings();
            for (i, v) in samples.iter().enumerate() {
                match series.get_mut(i) {
                    Some(old) => *old = (*old).max(v.memory),
                    None => series.push(v.memory),
                }
            }
        }
        let width = 40usize;
        let step = series.len().div_ceil(width).max(1);
        let points: Vec<u64> = series.chunks(step).map(|c| c.iter().copied().max().unwrap_or(0)).collect();
        let top = points.iter().copied().max().unwrap_or(0).max(1);
        let line: String = points.iter().map(|v| BARS[((*v * 7) / top) as usize]).collect();
        let mib = |b: f64| (b / 1048576.0).round() as u64;
        let mut notes = Vec::new();
        if s.oom_killed {
            notes.push("OOM-killed: the peak is only a floor".to_string());
        }
        if s.cpu_throttled {
            notes.push("CPU throttled: the p95 is only a floor".to_string());
        }
        if s.restarts > 0 {
            notes.push(format!("{} restart{}", s.restarts, if s.restarts == 1 { "" } else { "s" }));
        }
        let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) };
        out.push_str(&format!(
            "{name:<16} {line}  peak {} MiB, p50 {} MiB, cpu p95 {:.2}, pids peak {}, {} samples x {} container{}{notes}\n",
            mib(s.memory_bytes.peak),
            mib(s.memory_bytes.p50),
            s.cpu.p95,
            s.pids.peak,
            s.samples,
            s.containers.len(),
            if s.containers.len() == 1 { "" } else { "s" },
        ));
    }
    out.trim_end().to_string()
}

/// A time as RFC 3339 in UTC, to the second.
fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}
