//! Probing one service's running container: what it listens on (read from the host), which
//! candidates pass, and which of them fail against the frozen app.

use super::candidates::{self, Candidate, Kind, Trial, Verdict};
use super::Written;
use crate::engine::exec::{exec, Frozen, Ran};
use crate::engine::sockets::{self, Socket};
use crate::engine::{Cancel, Container, Engine};
use compose_harden::facts::{Evidence, Facts, Image, Proven, ProvenProbe};
use compose_harden::profile::ProbeEntry;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// The healthcheck timeout a probe is proven under, and each run's deadline.
const TIMEOUT: Duration = Duration::from_secs(3);
/// Between the runs that must pass in a row.
const BETWEEN: Duration = Duration::from_millis(500);

pub struct Context<'a> {
    pub socket: &'a Path,
    pub engine: &'a Engine,
    pub cancel: &'a Cancel,
    /// Seconds a service has to listen and pass a first probe.
    pub timeout: u64,
    pub catalogue: &'a [ProbeEntry],
}

/// What probing one service gave.
pub struct Outcome {
    pub service: String,
    /// Not probed, and why (it has a check of its own).
    pub skipped: Option<String>,
    /// Not probed for want of something the user must give (image facts, a container).
    pub blocked: bool,
    /// What goes into the facts file: the probe, or why there is none.
    pub proven: Option<Proven>,
}

pub fn probe_all(
    cx: &Context,
    containers: &[Container],
    wanted: &[String],
    written: &BTreeMap<String, Written>,
    known: &Facts,
) -> Vec<Outcome> {
    // Each service on its own thread: the time to a first pass is measured from its start.
    let mut out: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = wanted
            .iter()
            .filter_map(|name| Some((name, written.get(name)?)))
            .map(|(name, w)| scope.spawn(move || one(cx, containers, name, w, known)))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    out.sort_by(|a, b| a.service.cmp(&b.service));
    if std::io::stderr().is_terminal() {
        let _ = write!(std::io::stderr(), "\r\x1b[K");
    }
    out
}

fn one(cx: &Context, containers: &[Container], name: &str, w: &Written, known: &Facts) -> Outcome {
    {
        let name = &name.to_string();
        let mut outcome = Outcome { service: name.clone(), skipped: None, blocked: false, proven: None };
        let image = known.for_service(name, w.image.as_deref(), w.builds);
        let container = containers.iter().find(|c| c.service() == name && c.number() == 1);
        match (image, container) {
            _ if w.own_check => {
                outcome.skipped =
                    Some("has a healthcheck of its own in the compose file (the user's check wins)".into())
            }
            (Some(image), _) if image.healthcheck.as_ref().is_some_and(|h| !h.disabled()) => {
                outcome.skipped = Some("its image has a HEALTHCHECK of its own, which is kept".into())
            }
            (None, _) => {
                outcome.blocked = true;
                outcome.skipped = Some("no image facts for it: run `compose-harden inspect` first".into());
            }
            (_, None) => {
                outcome.blocked = true;
                outcome.skipped = Some("no container was created for it in the copy".into())
            }
            (Some(image), Some(c)) if c.image().1 != image.id => {
                outcome.blocked = true;
                outcome.skipped = Some(format!(
                "the image facts are stale (the copy ran {}, the facts are of {}): run `compose-harden inspect` first",
                short(c.image().1),
                short(&image.id)
            ))
            }
            (Some(image), Some(c)) => {
                let mut proven = probe(cx, c, containers, image, w);
                proven.decided_by = w.decided_by.clone();
                outcome.proven = Some(proven);
            }
        }
        outcome
    }
}

fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    hex.get(..12).unwrap_or(hex)
}

fn progress(service: &str, what: &str) {
    let mut err = std::io::stderr();
    if err.is_terminal() {
        let _ = write!(err, "\r\x1b[K{service}: {what}");
        let _ = err.flush();
    }
}

fn none(image: &str, why: String, evidence: Evidence) -> Proven {
    Proven { image: image.to_string(), none: Some(why), evidence, ..Proven::default() }
}

fn probe(cx: &Context, c: &Container, all: &[Container], image: &Image, w: &Written) -> Proven {
    let service = c.service();
    let id = c.image().1.to_string();
    let proc = Path::new("/proc");
    if c.status() != "running" {
        let state = match c.status() {
            "exited" | "dead" => format!("exited with code {}", c.exit_code()),
            other => other.to_string(),
        };
        return none(
            &id,
            format!("never ready in the copy ({state}): it may need the outside or its data (the copy has no way out and empty volumes)"),
            Evidence::default(),
        );
    }
    let started = started_at(c);
    let pids =
        |c: &Container| cx.engine.docker.top(c.id()).map(|p| p.iter().map(|p| p.pid).collect()).unwrap_or_default();
    let own_pids: Vec<u64> = pids(c);
    // The containers sharing this one's network namespace, and the one that made it.
    let namespace = |c: &Container| {
        let mode = c.host_config().get("NetworkMode").and_then(|m| m.as_str()).unwrap_or("");
        mode.strip_prefix("container:").unwrap_or(c.id()).to_string()
    };
    let ns = namespace(c);
    let members: Vec<&Container> = all.iter().filter(|o| namespace(o) == ns).collect();
    let others: Vec<u64> = members.iter().filter(|o| o.id() != c.id()).flat_map(|o| pids(o)).collect();
    let owns = |socket: &Socket, held: &BTreeMap<u64, std::collections::BTreeSet<u64>>| {
        // Docker's embedded DNS resolver: the engine's, not the app's.
        if socket.address == std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 11)) {
            return false;
        }
        let holders = sockets::holders(held, socket.inode);
        if holders.is_empty() {
            // Where no descriptor could be read (not root), the namespace's maker's; else
            // held outside the containers (the engine's).
            held.is_empty() && c.id() == ns
        } else {
            holders.iter().any(|p| own_pids.contains(p))
        }
    };
    // Wait for it to listen.
    let deadline = Instant::now() + Duration::from_secs(cx.timeout);
    let (mut listening, mut held);
    loop {
        progress(service, "waiting for a socket");
        listening = sockets::listening(proc, c.pid()).unwrap_or_default();
        let everyone: Vec<u64> = own_pids.iter().chain(others.iter()).copied().collect();
        held = sockets::held(proc, &everyone);
        listening.retain(|s| owns(s, &held));
        if !listening.is_empty() || Instant::now() >= deadline || cx.cancel.is_set() {
            break;
        }
        cx.cancel.sleep(Duration::from_millis(250));
    }
    let mut evidence =
        Evidence { listening: listening.iter().map(ToString::to_string).collect(), ..Evidence::default() };
    if let Some(why) = candidates::why_none(image, &listening) {
        return none(&id, why, evidence);
    }
    let candidates = candidates::build(image, w.image.as_deref(), &listening, cx.catalogue);
    // The first pass of any candidate, in the order preferred.
    let mut last: BTreeMap<usize, String> = BTreeMap::new();
    let mut dead = Dead::default();
    let mut first_pass = None;
    while first_pass.is_none() && Instant::now() < deadline && !cx.cancel.is_set() {
        for (i, candidate) in candidates.iter().enumerate() {
            if let Some(why) = dead.why(candidate) {
                last.insert(i, why);
                continue;
            }
            progress(service, &format!("trying {}", candidate.shown()));
            let ran = run(cx, c, candidate);
            if ran.passed() {
                first_pass = Some(since(started));
                break;
            }
            dead.learn(candidate, &ran);
            last.insert(i, refusal(&ran));
        }
        if first_pass.is_none() {
            cx.cancel.sleep(BETWEEN);
        }
    }
    let Some(first_pass) = first_pass else {
        evidence.refused = candidates
            .iter()
            .enumerate()
            .map(|(i, cand)| format!("{}: {}", cand.shown(), last.get(&i).map_or("not tried", String::as_str)))
            .collect();
        return none(
            &id,
            format!(
                "no candidate passed within {} s of listening: check it from outside, or write its healthcheck",
                cx.timeout
            ),
            evidence,
        );
    };
    evidence.first_pass_seconds = Some((first_pass * 10.0).round() / 10.0);
    let mut fallback: Option<(Candidate, Trial, String)> = None;
    for candidate in &candidates {
        if cx.cancel.is_set() {
            break;
        }
        // Once TCP connects are reached, a socket-only HTTP probe found earlier ranks alike.
        if candidate.kind == Kind::Tcp && fallback.is_some() {
            break;
        }
        if let Some(why) = dead.why(candidate) {
            evidence.refused.push(format!("{}: {why}", candidate.shown()));
            continue;
        }
        progress(service, &format!("proving {}", candidate.shown()));
        let mut http_status = None;
        if candidate.path.is_some() {
            match http_evidence(cx, c, candidate) {
                Ok(status) => http_status = status,
                Err(why) => {
                    evidence.refused.push(format!("{}: {why}", candidate.shown()));
                    continue;
                }
            }
        }
        let mut trial = Trial { runs: Vec::new(), frozen_passed: None };
        let mut slowest = Duration::ZERO;
        let mut failed = None;
        for n in 0..candidates::IN_A_ROW {
            if n > 0 {
                cx.cancel.sleep(BETWEEN);
            }
            let ran = run(cx, c, candidate);
            slowest = slowest.max(ran.took);
            trial.runs.push((ran.passed(), ran.took));
            if !ran.passed() {
                failed = Some(refusal(&ran));
                break;
            }
        }
        let frozen_said = if failed.is_none() {
            let freeze = app_pids(candidate, &listening, &held, &own_pids);
            match Frozen::freeze(&freeze) {
                Ok(frozen) => {
                    let ran = run(cx, c, candidate);
                    drop(frozen);
                    trial.frozen_passed = Some(ran.passed());
                    match ran.passed() {
                        true => "passed".to_string(),
                        false if ran.code.is_none() => format!("failed ({})", ran.describe(TIMEOUT)),
                        false => format!("failed ({} after {:.1} s)", ran.describe(TIMEOUT), ran.took.as_secs_f64()),
                    }
                }
                Err(e) => format!("not tried: {e}"),
            }
        } else {
            String::new()
        };
        let verdict = match failed {
            Some(why) => Verdict::Refused(why),
            None => candidates::judge(&trial, TIMEOUT),
        };
        let keep = |evidence: &mut Evidence| {
            evidence.address = candidate.address.map(|a| a.to_string());
            evidence.port = candidate.port;
            evidence.path = candidate.path.clone();
            evidence.status = http_status;
            evidence.run_ms = Some(slowest.as_millis() as u64);
            evidence.frozen = Some(frozen_said.clone());
        };
        match verdict {
            Verdict::Proven => {
                keep(&mut evidence);
                return proven(&id, candidate, first_pass, false, evidence);
            }
            Verdict::SocketOnly => {
                if fallback.is_none() {
                    fallback = Some((candidate.clone(), trial, frozen_said.clone()));
                    let mut e = evidence.clone();
                    keep(&mut e);
                    evidence = Evidence { refused: evidence.refused.clone(), ..e };
                }
                evidence.refused.push(format!("{}: passed while the app was frozen (socket only)", candidate.shown()));
            }
            Verdict::Refused(why) => evidence.refused.push(format!("{}: {why}", candidate.shown())),
        }
    }
    match fallback {
        Some((candidate, _, _)) => {
            let shown = candidate.shown();
            evidence.refused.retain(|r| !r.starts_with(&format!("{shown}: passed while")));
            proven(&id, &candidate, first_pass, true, evidence)
        }
        None => none(
            &id,
            "no candidate passed three times in a row: check it from outside, or write its healthcheck".into(),
            evidence,
        ),
    }
}

/// What failed runs showed of whole groups of candidates, so that they are not run again:
/// an address the container cannot use (no IPv6 on its loopback), a port that does not
/// answer HTTP (a hung or garbled response).
#[derive(Default)]
struct Dead {
    addresses: Vec<(std::net::IpAddr, String)>,
    not_http: Vec<(std::net::IpAddr, u16, String)>,
}

impl Dead {
    fn why(&self, candidate: &Candidate) -> Option<String> {
        let address = candidate.address?;
        if let Some((_, why)) = self.addresses.iter().find(|(a, _)| *a == address) {
            return Some(format!("not run: {why}"));
        }
        let port = candidate.port?;
        candidate.path.as_ref()?;
        self.not_http.iter().find(|(a, p, _)| *a == address && *p == port).map(|(_, _, why)| format!("not run: {why}"))
    }

    fn learn(&mut self, candidate: &Candidate, ran: &Ran) {
        let Some(address) = candidate.address else { return };
        let said = format!("{}{}", ran.stdout, ran.stderr);
        if said.contains("Cannot assign requested address") || said.contains("Network is unreachable") {
            self.addresses.push((address, format!("{address} cannot be reached in the container")));
            return;
        }
        let (Some(port), Some(_)) = (candidate.port, &candidate.path) else { return };
        let hung = ran.code.is_none();
        let garbled = ran.code.is_some_and(|c| c != 0)
            && !said.contains("HTTP/")
            && !said.contains("returned error")
            && !said.contains("refused");
        if hung || garbled {
            let why = match hung {
                true => format!("port {port} gives no HTTP answer within {} s", TIMEOUT.as_secs()),
                false => format!("port {port} does not answer HTTP"),
            };
            self.not_http.push((address, port, why));
        }
    }
}

fn proven(image: &str, candidate: &Candidate, first_pass: f64, socket_only: bool, evidence: Evidence) -> Proven {
    let probe = ProvenProbe {
        test: candidate.test.clone(),
        interval: "10s".into(),
        timeout: super::duration(TIMEOUT.as_secs()),
        start_period: candidates::start_period(first_pass),
        retries: 3,
        socket_only,
    };
    Proven { image: image.to_string(), probe: Some(probe), evidence, ..Proven::default() }
}

fn run(cx: &Context, c: &Container, candidate: &Candidate) -> Ran {
    let words: Vec<String> = match candidate.test.first().map(String::as_str) {
        Some("CMD-SHELL") => vec!["/bin/sh".into(), "-c".into(), candidate.test[1..].join(" ")],
        _ => candidate.words().to_vec(),
    };
    exec(cx.socket, c.id(), &words, TIMEOUT).unwrap_or_else(|e| Ran {
        code: None,
        stdout: String::new(),
        stderr: e,
        took: Duration::ZERO,
    })
}

fn refusal(ran: &Ran) -> String {
    let said = ran.stderr.lines().chain(ran.stdout.lines()).map(str::trim).find(|l| !l.is_empty());
    match said {
        Some(said) => format!("{} ({})", ran.describe(TIMEOUT), said.chars().take(120).collect::<String>()),
        None => ran.describe(TIMEOUT),
    }
}

/// The app: the processes that hold the probed socket, else every process of the container.
fn app_pids(
    candidate: &Candidate,
    listening: &[Socket],
    held: &BTreeMap<u64, std::collections::BTreeSet<u64>>,
    own: &[u64],
) -> Vec<u64> {
    let mut pids: Vec<u64> = listening
        .iter()
        .filter(|s| candidate.port.is_none_or(|p| p == s.port))
        .flat_map(|s| sockets::holders(held, s.inode))
        .filter(|p| own.contains(p))
        .collect();
    pids.sort();
    pids.dedup();
    if pids.is_empty() {
        own.to_vec()
    } else {
        pids
    }
}

/// The HTTP status a path answers, read with the same tool; refused where a redirect leads
/// out of the container.
fn http_evidence(cx: &Context, c: &Container, candidate: &Candidate) -> Result<Option<u16>, String> {
    let Some(url) = candidate.url() else { return Ok(None) };
    let words = candidate.words();
    let tool: Vec<String> = words.iter().take_while(|w| !w.starts_with('-')).cloned().collect();
    let mut cmd = tool.clone();
    if tool.last().map(String::as_str) == Some("curl") {
        cmd.extend(["-sS", "-o", "/dev/null", "-D", "-", &url].map(String::from));
    } else {
        cmd.extend(["-S", "-O", "/dev/null", &url].map(String::from));
    }
    let ran = exec(cx.socket, c.id(), &cmd, TIMEOUT)?;
    let said = format!("{}\n{}", ran.stdout, ran.stderr);
    for line in said.lines().map(str::trim) {
        let lower = line.to_ascii_lowercase();
        if let Some(location) = lower.strip_prefix("location:") {
            let location = location.trim();
            let leaves = location.starts_with("http")
                && !["http://127.0.0.1", "http://localhost", "http://[::1]", "https://127.0.0.1", "https://localhost"]
                    .iter()
                    .any(|l| location.starts_with(l));
            if leaves {
                return Err(format!("redirects out of the container ({location})"));
            }
        }
    }
    let status = said
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("HTTP/"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .next_back();
    Ok(status)
}

/// When the container started (`State.StartedAt`), as a time on this host's clock.
fn started_at(c: &Container) -> Option<SystemTime> {
    let text = c.0.pointer("/State/StartedAt")?.as_str()?;
    let seconds = rfc3339(text)?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs_f64(seconds))
}

fn since(started: Option<SystemTime>) -> f64 {
    started.and_then(|s| SystemTime::now().duration_since(s).ok()).map_or(0.0, |d| d.as_secs_f64())
}

/// `2026-12-04T20:11:54.123456789Z` as seconds since 1970 (UTC only, as the engine writes it).
fn rfc3339(text: &str) -> Option<f64> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min, s) = (t.next()??, t.next()??, t.next()??);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let fraction: f64 = format!("0.{fraction}").parse().unwrap_or(0.0);
    Some((days * 86400 + h * 3600 + min * 60 + s) as f64 + fraction)
}

#[cfg(test)]
mod tests {
    #[test]
    fn engine_times_read_as_seconds_since_1970() {
        assert_eq!(super::rfc3339("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(super::rfc3339("2026-12-04T20:11:54.5Z"), Some(1_796_415_114.5));
        assert_eq!(super::rfc3339("2000-03-01T00:00:00.000000001Z").map(|s| s.floor()), Some(951_868_800.0));
        assert_eq!(super::rfc3339("yesterday"), None);
    }
}
