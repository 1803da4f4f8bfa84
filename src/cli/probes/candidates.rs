//! The probes worth trying on a service: built only from tools its image has (the facts),
//! aimed at the address a socket listens on (127.0.0.1 or ::1, never `localhost`), in the
//! order they are preferred: the app's own CLI (the catalogue's), an HTTP health path, `/`,
//! a TCP connect. And how a tried candidate is judged.

use crate::engine::sockets::Socket;
use compose_harden::facts::{Image, Presence};
use compose_harden::profile::ProbeEntry;
use compose_harden::profile::{glob_match, reference};
use std::net::IpAddr;
use std::time::Duration;

/// Paths that apps commonly answer health on, tried before `/`.
pub const HEALTH_PATHS: &[&str] =
    &["/healthz", "/health", "/ready", "/readyz", "/livez", "/ping", "/status", "/api/health"];

/// What kind of probe, in the order they are preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Cli,
    HealthPath,
    Root,
    Tcp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub kind: Kind,
    /// The healthcheck `test`: `CMD` and the words run.
    pub test: Vec<String>,
    pub address: Option<IpAddr>,
    pub port: Option<u16>,
    pub path: Option<String>,
}

impl Candidate {
    /// The words run in the container (the test without `CMD`).
    pub fn words(&self) -> &[String] {
        &self.test[1..]
    }

    /// The test as the report and the evidence show it: `[CMD, wget, ...]`.
    pub fn shown(&self) -> String {
        format!("[{}]", self.test.join(", "))
    }

    /// The URL of an HTTP candidate.
    pub fn url(&self) -> Option<String> {
        let (address, port, path) = (self.address?, self.port?, self.path.as_deref()?);
        Some(format!("http://{}:{port}{path}", host(address)))
    }
}

fn host(address: IpAddr) -> String {
    match address {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

/// How a tool is called: by its name on PATH, or a bare busybox's applet through it.
fn tool(image: &Image, name: &str) -> Option<Vec<String>> {
    if let Presence::Found(_) = image.tool(name) {
        return Some(vec![name.to_string()]);
    }
    if matches!(image.tool("busybox"), Presence::Found(_)) && matches!(name, "wget" | "nc") {
        return Some(vec!["busybox".to_string(), name.to_string()]);
    }
    None
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// An HTTP GET that fails on an error status by the tool's own rules (curl `-f`, wget's
/// exit status); None without curl or wget.
fn http(image: &Image, address: IpAddr, port: u16, path: &str, kind: Kind) -> Option<Candidate> {
    let url = format!("http://{}:{port}{path}", host(address));
    let mut test = vec!["CMD".to_string()];
    if let Some(curl) = tool(image, "curl") {
        test.extend(curl);
        test.extend(strings(&["-fsS", "-o", "/dev/null", &url]));
    } else if let Some(wget) = tool(image, "wget") {
        test.extend(wget);
        test.extend(strings(&["-q", "-O", "/dev/null", &url]));
    } else {
        return None;
    }
    Some(Candidate { kind, test, address: Some(address), port: Some(port), path: Some(path.to_string()) })
}

/// A TCP connect: `nc -z`, else bash's `/dev/tcp`.
fn tcp(image: &Image, address: IpAddr, port: u16) -> Option<Candidate> {
    let mut test = vec!["CMD".to_string()];
    let busybox_nc = match image.tool("nc") {
        Presence::Found(found) => found.is_busybox_applet(),
        _ => true,
    };
    if let Some(nc) = tool(image, "nc") {
        test.extend(nc);
        // busybox's nc has no `-z`: it connects, reads nothing, and ends when the app closes.
        let check = if busybox_nc { "-w" } else { "-z" };
        let mut words = vec![check.to_string()];
        if busybox_nc {
            words.push("2".into());
        }
        words.extend([address.to_string(), port.to_string()]);
        test.extend(words);
    } else if let Some(bash) = tool(image, "bash") {
        test.extend(bash);
        test.extend(strings(&["-c", &format!("exec 3<>/dev/tcp/{address}/{port}")]));
    } else {
        return None;
    }
    Some(Candidate { kind: Kind::Tcp, test, address: Some(address), port: Some(port), path: None })
}

/// The catalogue's probe for the image, where its program is on the image's PATH.
fn cli(image: &Image, service_image: Option<&str>, catalogue: &[ProbeEntry]) -> Option<Candidate> {
    let repo = reference(service_image?).repo;
    let entry = catalogue.iter().find(|e| e.images.iter().any(|p| glob_match(p, &repo)))?;
    let test = entry.test.clone()?;
    let program = match test.first().map(String::as_str) {
        Some("CMD") => test.get(1)?.clone(),
        Some("CMD-SHELL") => test.get(1)?.split_whitespace().next()?.to_string(),
        _ => return None,
    };
    let found = matches!(image.tool(&program), Presence::Found(_));
    let shell_ok = test[0] != "CMD-SHELL" || image.bin_sh;
    (found && shell_ok).then_some(Candidate { kind: Kind::Cli, test, address: None, port: None, path: None })
}

/// Every candidate for a service whose image is `image` and whose own TCP sockets are
/// `sockets`, most preferred first.
pub fn build(
    image: &Image,
    service_image: Option<&str>,
    sockets: &[Socket],
    catalogue: &[ProbeEntry],
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = cli(image, service_image, catalogue).into_iter().collect();
    let mut seen_ports = Vec::new();
    for socket in sockets.iter().filter(|s| s.proto.is_tcp()) {
        if seen_ports.contains(&socket.port) {
            continue;
        }
        seen_ports.push(socket.port);
        for address in socket.targets() {
            for path in HEALTH_PATHS {
                out.extend(http(image, address, socket.port, path, Kind::HealthPath));
            }
            out.extend(http(image, address, socket.port, "/", Kind::Root));
            out.extend(tcp(image, address, socket.port));
        }
    }
    // Stable: by kind, each kind in the order of the sockets and addresses.
    out.sort_by_key(|c| c.kind);
    out
}

/// Why a service gets no candidate at all, where that is so.
pub fn why_none(image: &Image, sockets: &[Socket]) -> Option<String> {
    let shown: Vec<String> = sockets.iter().map(ToString::to_string).collect();
    if sockets.is_empty() {
        return Some("listens on nothing: no probe from inside can tell it works; check it from outside (its logs, what it writes)".into());
    }
    if sockets.iter().all(|s| !s.proto.is_tcp()) {
        return Some(format!(
            "listens on UDP only ({}): no probe from inside can tell it works; check it from outside",
            shown.join(", ")
        ));
    }
    let tools = ["curl", "wget", "nc", "bash", "busybox"];
    if !tools.iter().any(|t| matches!(image.tool(t), Presence::Found(_))) {
        return Some(format!(
            "no tool to probe with (none of curl, wget, nc, bash, busybox in the image; it listens on {}): check it from outside, or add a probe binary to the image",
            shown.join(", ")
        ));
    }
    None
}

/// What trying one candidate showed.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Each run while the service ran: passed, and how long it took.
    pub runs: Vec<(bool, Duration)>,
    /// Whether it passed against the frozen app (None: not tried).
    pub frozen_passed: Option<bool>,
}

/// The verdict on a tried candidate.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Passed three times in a row, well inside the timeout, and failed against the frozen app.
    Proven,
    /// Passed as it should, and passed against the frozen app too: a socket is open, no more.
    SocketOnly,
    Refused(String),
}

/// Runs in a row a candidate must pass.
pub const IN_A_ROW: usize = 3;

/// Judges a trial against `timeout`: each run must finish within a third of it.
pub fn judge(trial: &Trial, timeout: Duration) -> Verdict {
    let limit = timeout / 3;
    let passes = trial.runs.iter().rev().take_while(|(ok, _)| *ok).count();
    if passes < IN_A_ROW {
        let failed = trial.runs.iter().filter(|(ok, _)| !ok).count();
        return Verdict::Refused(format!("passed {passes} of {} runs in a row ({failed} failed)", trial.runs.len()));
    }
    if let Some((_, slow)) = trial.runs.iter().find(|(_, took)| *took > limit) {
        return Verdict::Refused(format!(
            "took {} ms, more than a third of the {} s timeout",
            slow.as_millis(),
            timeout.as_secs()
        ));
    }
    match trial.frozen_passed {
        Some(false) => Verdict::Proven,
        Some(true) => Verdict::SocketOnly,
        None => Verdict::Refused("not tried against the frozen app".into()),
    }
}

/// `start_period` from the seconds to the first pass: twice that, rounded up to 5 s, at
/// least 5 s, so that a start as slow as the one measured never counts as a failure.
pub fn start_period(first_pass: f64) -> String {
    let seconds = ((first_pass * 2.0 / 5.0).ceil() as u64).max(1) * 5;
    super::duration(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sockets::{parse, Proto};

    fn image(tools: &[&str]) -> Image {
        let yaml = format!(
            "id: sha256:{}\nplatform: linux/amd64\npath: [/bin]\nbin_sh: true\ntools: {{{}}}\n",
            "a".repeat(64),
            tools.iter().map(|t| format!("{t}: /bin/{t}")).collect::<Vec<_>>().join(", ")
        );
        let mut image: Image = yaml_serde::from_str(&yaml).expect("an image");
        image.searched = ["bash", "busybox", "curl", "nc", "pg_isready", "sh", "wget"].map(String::from).into();
        image
    }

    /// busybox httpd: a socket on `::` in tcp6 only.
    fn httpd() -> Vec<Socket> {
        parse(
            Proto::Tcp6,
            "h\n   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 51234 1\n",
        )
    }

    fn shown(candidates: &[Candidate]) -> Vec<String> {
        candidates.iter().map(Candidate::shown).collect()
    }

    #[test]
    fn candidates_use_only_the_tools_the_image_has_in_the_order_preferred() {
        let busybox = build(&image(&["busybox", "nc", "sh", "wget"]), Some("app:1"), &httpd(), &[]);
        let all = shown(&busybox);
        assert_eq!(all.len(), 2 * (HEALTH_PATHS.len() + 2), "{all:#?}");
        assert_eq!(all[0], "[CMD, wget, -q, -O, /dev/null, http://127.0.0.1:8080/healthz]");
        assert_eq!(all[1], "[CMD, wget, -q, -O, /dev/null, http://127.0.0.1:8080/health]");
        assert!(all.contains(&"[CMD, wget, -q, -O, /dev/null, http://[::1]:8080/healthz]".to_string()));
        let root = busybox.iter().position(|c| c.kind == Kind::Root).expect("/");
        assert_eq!(all[root], "[CMD, wget, -q, -O, /dev/null, http://127.0.0.1:8080/]");
        assert_eq!(all[all.len() - 2], "[CMD, nc, -z, 127.0.0.1, 8080]");
        assert_eq!(all[all.len() - 1], "[CMD, nc, -z, ::1, 8080]");
        let mut applets = image(&["busybox", "nc", "sh", "wget"]);
        applets.tools.get_mut("nc").expect("nc").target = Some("/bin/busybox".into());
        let applets = shown(&build(&applets, None, &httpd(), &[]));
        assert_eq!(applets.last().map(String::as_str), Some("[CMD, nc, -w, 2, ::1, 8080]"));
        assert!(!all.iter().any(|c| c.contains("localhost")));
        let curl = build(&image(&["curl", "bash"]), None, &httpd(), &[]);
        assert_eq!(shown(&curl)[0], "[CMD, curl, -fsS, -o, /dev/null, http://127.0.0.1:8080/healthz]");
        assert_eq!(shown(&curl).last().map(String::as_str), Some("[CMD, bash, -c, exec 3<>/dev/tcp/::1/8080]"));
        // A bare busybox calls its applets through itself.
        let bare = build(&image(&["busybox"]), None, &httpd(), &[]);
        assert_eq!(shown(&bare)[0], "[CMD, busybox, wget, -q, -O, /dev/null, http://127.0.0.1:8080/healthz]");
        assert!(build(&image(&[]), None, &httpd(), &[]).is_empty());
    }

    #[test]
    fn the_apps_own_cli_comes_first_where_the_image_has_it() {
        let entry: ProbeEntry = yaml_serde::from_str(
            "{images: [postgres], test: [CMD-SHELL, pg_isready -U postgres], why: its own check, any_tag: null, port: null, password: null}",
        )
        .expect("an entry");
        let tcp5432 = parse(Proto::Tcp, "h\n   0: 00000000:1538 00000000:0000 0A 0 0 0 0 0 7\n");
        let with = build(&image(&["pg_isready", "bash"]), Some("postgres:16"), &tcp5432, std::slice::from_ref(&entry));
        assert_eq!(
            shown(&with),
            ["[CMD-SHELL, pg_isready -U postgres]", "[CMD, bash, -c, exec 3<>/dev/tcp/127.0.0.1/5432]"]
        );
        let without = build(&image(&["bash"]), Some("postgres:16"), &tcp5432, &[entry]);
        assert_eq!(shown(&without), ["[CMD, bash, -c, exec 3<>/dev/tcp/127.0.0.1/5432]"]);
    }

    #[test]
    fn a_service_without_a_probe_is_told_why() {
        let udp = parse(Proto::Udp, "h\n   0: 00000000:0035 00000000:0000 07 0 0 0 0 0 9\n");
        let with_tools = image(&["wget", "nc"]);
        assert_eq!(
            why_none(&with_tools, &udp).as_deref(),
            Some("listens on UDP only (udp 0.0.0.0:53): no probe from inside can tell it works; check it from outside")
        );
        assert!(why_none(&with_tools, &[]).expect("none").starts_with("listens on nothing"));
        assert!(why_none(&image(&[]), &httpd()).expect("none").starts_with("no tool to probe with"));
        assert_eq!(why_none(&with_tools, &httpd()), None);
    }

    #[test]
    fn a_candidate_is_proven_only_when_it_fails_against_the_frozen_app() {
        let ms = Duration::from_millis;
        let timeout = Duration::from_secs(3);
        let passing = vec![(true, ms(20)); 3];
        let proven = Trial { runs: passing.clone(), frozen_passed: Some(false) };
        assert_eq!(judge(&proven, timeout), Verdict::Proven);
        let socket = Trial { runs: passing.clone(), frozen_passed: Some(true) };
        assert_eq!(judge(&socket, timeout), Verdict::SocketOnly);
        let flaky =
            Trial { runs: vec![(true, ms(20)), (false, ms(20)), (true, ms(20)), (true, ms(20))], frozen_passed: None };
        assert_eq!(judge(&flaky, timeout), Verdict::Refused("passed 2 of 4 runs in a row (1 failed)".into()));
        let slow = Trial { runs: vec![(true, ms(20)), (true, ms(1500)), (true, ms(20))], frozen_passed: Some(false) };
        assert_eq!(
            judge(&slow, timeout),
            Verdict::Refused("took 1500 ms, more than a third of the 3 s timeout".into())
        );
        assert_eq!(start_period(0.3), "5s");
        assert_eq!(start_period(8.2), "20s");
        assert_eq!(start_period(40.0), "1m20s");
    }
}
