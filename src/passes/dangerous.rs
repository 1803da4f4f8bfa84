//! Settings that hand a container the host: reported, never changed (only the user
//! knows whether the service needs them).

use super::{Out, Pass, Service};
use crate::document::lookup;
use crate::profile::{DangerousSettings, Profile};
use crate::rule::{rules, Rule};
use yaml_serde::Value;

pub struct Dangerous;

rules! {
    DANGEROUS_PRIVILEGED = "dangerous/privileged", Error, None,
        "privileged: the container holds the host",
        "`privileged: true` gives every capability and the host's devices. Only the user knows whether the \
         service needs it; it is reported, never changed. A lifecycle hook (`pre_start`, `post_start`, \
         `pre_stop`) that runs privileged is reported the same way.",
        refs "CIS Docker Benchmark v1.7.0 5.5";
    DANGEROUS_HOST_NAMESPACE = "dangerous/host-namespace", Error, None,
        "the container shares a host namespace",
        "`network_mode: host`, `pid: host` and `ipc: host` share the host's network, processes or IPC.",
        refs "CIS Docker Benchmark v1.7.0 5.10 (network), 5.16 (PID), 5.17 (IPC)";
    DANGEROUS_DOCKER_SOCKET = "dangerous/docker-socket", Error, None,
        "the Docker socket is mounted",
        "Whoever controls the container controls the Docker daemon, and so the host.",
        refs "CIS Docker Benchmark v1.7.0 5.32; OWASP Docker Security Cheat Sheet, rule 1";
    DANGEROUS_SOCKET_PROXY = "dangerous/socket-proxy", Info, None,
        "a Docker socket proxy mounts the Docker socket",
        "A socket proxy (tecnativa/docker-socket-proxy, linuxserver/socket-proxy, wollomatic/socket-proxy) \
         holds the socket so that other services reach only the API calls it allows: that is its purpose, \
         and it is reported as info. The proxy itself still controls the daemon: keep it on an internal \
         network, its allowed calls few, and the socket read-only where it can be.",
        refs "CIS Docker Benchmark v1.7.0 5.32; OWASP Docker Security Cheat Sheet, rule 1";
    DANGEROUS_API_SOCKET = "dangerous/api-socket", Error, None,
        "use_api_socket: the Docker API socket is mounted at start",
        "`use_api_socket: true` makes Compose mount the engine's API socket, with the user's registry \
         credentials, into the container when it starts (it is not in `config`'s model): whoever controls the \
         container controls the Docker daemon, and so the host, as with a `docker.sock` bind.",
        refs "CIS Docker Benchmark v1.7.0 5.32; OWASP Docker Security Cheat Sheet, rule 1";
    DANGEROUS_CAP_ADD_ALL = "dangerous/cap-add-all", Warning, None,
        "cap_add: ALL",
        "The container gets every capability.",
        refs "CIS Docker Benchmark v1.7.0 5.4; OWASP Docker Security Cheat Sheet, rule 3";
    DANGEROUS_CAP_HOST = "dangerous/cap-host", Error, None,
        "a capability that amounts to root on the host",
        "SYS_ADMIN (mount, namespaces, most of the kernel), SYS_MODULE (load kernel modules), SYS_RAWIO (raw \
         I/O ports and memory), DAC_READ_SEARCH (read any file by handle: the shocker escape), BPF and PERFMON \
         (kernel programs and memory), and SYS_PTRACE beside `pid: host` (attach to the host's processes) each \
         lets the container take the host. Names are read as Docker reads them (`CAP_` prefix and case \
         aside).",
        refs "CIS Docker Benchmark v1.7.0 5.4; OWASP Docker Security Cheat Sheet, rule 3";
    DANGEROUS_CAP_RISKY = "dangerous/cap-risky", Warning, None,
        "a capability beyond Docker's defaults that reaches outside the container",
        "NET_ADMIN (the container's network, firewall and routes: a VPN or a router needs it), SYS_PTRACE \
         (debug the container's processes), SYS_TIME (the host's clock), SYS_BOOT, SYS_NICE, SYS_RESOURCE, \
         SYSLOG, IPC_LOCK, LINUX_IMMUTABLE, MAC_ADMIN, MAC_OVERRIDE, NET_BROADCAST, AUDIT_CONTROL, \
         WAKE_ALARM, BLOCK_SUSPEND and the rest that Docker does not grant by default. The capabilities it \
         grants by default (CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, \
         NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP) added again are no finding.",
        refs "CIS Docker Benchmark v1.7.0 5.4; OWASP Docker Security Cheat Sheet, rule 3";
    DANGEROUS_USER_ROOT = "dangerous/user-root", Warning, None,
        "the service runs as root, by its own choice",
        "`user: root`, `0` or `0:0` runs the process as root, where the image may have chosen another user: \
         a process that breaks out is root on the host unless user namespaces remap it.",
        refs "CIS Docker Benchmark v1.7.0 4.1; OWASP Docker Security Cheat Sheet, rule 2";
    DANGEROUS_USERNS_HOST = "dangerous/userns-host", Warning, None,
        "the container shares the host's user namespace",
        "`userns_mode: host` turns off the user-namespace remapping the daemon applies: root in the \
         container is root on the host.",
        refs "CIS Docker Benchmark v1.7.0 5.31; OWASP Docker Security Cheat Sheet, rule 11";
    DANGEROUS_SHARED_NAMESPACE = "dangerous/shared-namespace", Warning, None,
        "the container shares the host's UTS or cgroup namespace",
        "`uts: host` lets the container change the host's hostname; `cgroup: host` shows it the host's \
         cgroup tree.",
        refs "CIS Docker Benchmark v1.7.0 5.21 (UTS), 5.25 (cgroup)";
    DANGEROUS_UNCONFINED = "dangerous/unconfined", Warning, None,
        "a security option turns a kernel protection off",
        "`seccomp:unconfined` or `apparmor:unconfined` removes a protection the engine applies by default, as \
         `label:disable` turns SELinux separation off.",
        refs "CIS Docker Benchmark v1.7.0 5.2 (AppArmor), 5.3 (SELinux), 5.22 (seccomp); OWASP Docker Security Cheat Sheet, rule 6";
    DANGEROUS_PORT_ALL_INTERFACES = "dangerous/port-all-interfaces", Info, None,
        "a port is published on all interfaces",
        "Bind it to 127.0.0.1 if only this host needs it. A bare container port (`\"8008\"`) is published on a \
         random host port on all interfaces, and a host address written as a variable counts by its default \
         (`${BIND:-0.0.0.0}`). Under a profile with `swarm` settings the advice is Swarm's: it ignores a host \
         address and publishes on every interface of every node, so a port only other services need is not \
         published at all and reached over an overlay network (see `swarm/port-address`).",
        refs "CIS Docker Benchmark v1.7.0 5.14; OWASP Docker Security Cheat Sheet, rule 5";
}

impl Pass for Dangerous {
    const NAME: &'static str = "dangerous";
    /// It reports settings, and runs for every service, container or not.
    const CONTAINER: bool = false;
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p DangerousSettings;

    fn settings(profile: &Profile) -> Option<&DangerousSettings> {
        profile.dangerous.as_ref()
    }

    fn run(&self, settings: &DangerousSettings, service: &Service, out: &mut Out) {
        if service.get(&["privileged"]).is_some_and(on) {
            out.report(
                &DANGEROUS_PRIVILEGED,
                &["privileged"],
                "privileged: true gives the container every capability and the host's devices",
            );
        }
        for hook in ["pre_start", "post_start", "pre_stop"] {
            let steps = service.get(&[hook]).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default();
            for (i, step) in steps.iter().enumerate() {
                if lookup::field(step, "privileged").is_some_and(on) {
                    out.report(
                        &DANGEROUS_PRIVILEGED,
                        &[hook, &i.to_string(), "privileged"],
                        format!(
                            "`{hook}[{i}]` runs with `privileged: true`: the hook gets every capability and the host's \
                             devices"
                        ),
                    );
                }
            }
        }
        if service.get(&["use_api_socket"]).is_some_and(on) {
            out.report(
                &DANGEROUS_API_SOCKET,
                &["use_api_socket"],
                "use_api_socket: true mounts the Docker API socket into the container when it starts (with the user's \
                 registry credentials): whoever controls the container controls the Docker daemon, and so the host",
            );
        }
        if let Some(user) = service.get(&["user"]).and_then(|u| match u {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }) {
            let name = user.split(':').next().unwrap_or("");
            if name == "root" || name == "0" {
                out.report(&DANGEROUS_USER_ROOT, &["user"], format!("user: {user} runs the process as root"));
            }
        }
        if service.str(&["userns_mode"]) == Some("host") {
            out.report(&DANGEROUS_USERNS_HOST, &["userns_mode"], "userns_mode: host turns the daemon's user-namespace remapping off");
        }
        for (key, what) in [("uts", "can change the host's hostname"), ("cgroup", "sees the host's cgroup tree")] {
            if service.str(&[key]) == Some("host") {
                out.report(&DANGEROUS_SHARED_NAMESPACE, &[key], format!("{key}: host {what}"));
            }
        }
        for key in ["network_mode", "pid", "ipc"] {
            if service.str(&[key]) == Some("host") {
                let what = match key {
                    "network_mode" => "shares the host's network stack: every port it opens is open on the host",
                    "pid" => "sees and can signal every process of the host",
                    _ => "shares the host's IPC namespace (shared memory, semaphores)",
                };
                out.report(&DANGEROUS_HOST_NAMESPACE, &[key], format!("{key}: host {what}"));
            }
        }
        let volumes = service.get(&["volumes"]).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default();
        for (i, volume) in volumes.iter().enumerate() {
            let source = match volume {
                Value::String(s) => s.split(':').next().unwrap_or(""),
                Value::Mapping(m) => lookup::get(m, "source").and_then(Value::as_str).unwrap_or(""),
                _ => "",
            };
            if source.ends_with("docker.sock") && service.repo().is_some_and(socket_proxy) {
                out.report(
                    &DANGEROUS_SOCKET_PROXY,
                    &["volumes", &i.to_string()],
                    format!("mounts `{source}` for a socket proxy: keep the calls it allows few, and it on an internal network"),
                );
            } else if source.ends_with("docker.sock") {
                out.report(
                    &DANGEROUS_DOCKER_SOCKET,
                    &["volumes", &i.to_string()],
                    format!(
                        "mounts `{source}`: whoever controls the container controls the Docker daemon, and so the host"
                    ),
                );
            }
        }
        let caps = service.get(&["cap_add"]).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default();
        let pid_host = service.str(&["pid"]) == Some("host");
        for (i, cap) in caps.iter().enumerate() {
            let Some(written) = cap.as_str() else { continue };
            let at = ["cap_add", &i.to_string()];
            match Tier::of(&capability(written), pid_host) {
                Tier::All => {
                    out.report(&DANGEROUS_CAP_ADD_ALL, &["cap_add"], "cap_add: ALL gives the container every capability")
                }
                Tier::Host(why) => out.report(&DANGEROUS_CAP_HOST, &at, format!("cap_add `{written}` {why}")),
                Tier::Risky(why) => out.report(&DANGEROUS_CAP_RISKY, &at, format!("cap_add `{written}` {why}")),
                Tier::Default | Tier::Unknown => {}
            }
        }
        let options =
            service.get(&["security_opt"]).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default();
        let off = |o: &&str| o.contains("unconfined") || *o == "label:disable" || *o == "label=disable";
        for option in options.iter().filter_map(Value::as_str).filter(off) {
            out.report(
                &DANGEROUS_UNCONFINED,
                &["security_opt"],
                format!("security_opt `{option}` turns a kernel protection off"),
            );
        }
        if settings.ports_on_all_interfaces {
            let ports = service.get(&["ports"]).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default();
            // Swarm drops a host address: binding to 127.0.0.1 is no advice there.
            let advice = match service.profile.swarm.is_some() {
                true => " of every node (Swarm ignores a host address); if only other services need it, drop the \
                         publish and reach it over an overlay network",
                false => "; bind it to 127.0.0.1 if only this host needs it",
            };
            for (i, port) in ports.iter().enumerate() {
                if let Some(published) = published_on_all_interfaces(port) {
                    out.report(
                        &DANGEROUS_PORT_ALL_INTERFACES,
                        &["ports", &i.to_string()],
                        format!("{published} is published on all interfaces{advice}"),
                    );
                }
            }
        }
    }
}

/// Socket proxies: they hold the socket so that nothing else needs to.
fn socket_proxy(repo: &str) -> bool {
    ["tecnativa/docker-socket-proxy", "linuxserver/socket-proxy", "lscr.io/linuxserver/socket-proxy", "wollomatic/socket-proxy", "ghcr.io/wollomatic/socket-proxy", "ghcr.io/tecnativa/docker-socket-proxy"]
        .contains(&repo)
}

/// A capability as Docker reads it: any case, with or without `CAP_`.
fn capability(written: &str) -> String {
    let upper = written.trim().to_ascii_uppercase();
    upper.strip_prefix("CAP_").map_or(upper.clone(), str::to_string)
}

/// How much a capability added hands over.
enum Tier {
    All,
    Host(&'static str),
    Risky(&'static str),
    /// Granted by default: adding it again changes nothing.
    Default,
    Unknown,
}

impl Tier {
    fn of(cap: &str, pid_host: bool) -> Tier {
        const DEFAULTS: &[&str] = &[
            "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE",
            "NET_RAW", "SYS_CHROOT", "MKNOD", "AUDIT_WRITE", "SETFCAP",
        ];
        match cap {
            "ALL" => Tier::All,
            "SYS_ADMIN" => Tier::Host("mounts file systems and enters namespaces: root on the host in effect"),
            "SYS_MODULE" => Tier::Host("loads kernel modules: the host's kernel is the container's"),
            "SYS_RAWIO" => Tier::Host("reads and writes I/O ports and raw memory of the host"),
            "DAC_READ_SEARCH" => Tier::Host("opens any host file by handle, past the container's root"),
            "BPF" | "PERFMON" => Tier::Host("loads kernel programs or reads kernel memory"),
            "SYS_PTRACE" if pid_host => Tier::Host("beside `pid: host` attaches to every process of the host"),
            "SYS_PTRACE" => Tier::Risky("lets the container debug and read the memory of its processes"),
            "NET_ADMIN" => Tier::Risky("changes the container's interfaces, routes and firewall (a VPN needs it; most services do not)"),
            "SYS_TIME" => Tier::Risky("sets the host's clock"),
            "SYS_BOOT" => Tier::Risky("reboots the host"),
            "SYSLOG" => Tier::Risky("reads and clears the kernel log"),
            c if DEFAULTS.contains(&c) => Tier::Default,
            "SYS_NICE" | "SYS_RESOURCE" | "IPC_LOCK" | "IPC_OWNER" | "LINUX_IMMUTABLE" | "MAC_ADMIN" | "MAC_OVERRIDE"
            | "NET_BROADCAST" | "AUDIT_CONTROL" | "AUDIT_READ" | "WAKE_ALARM" | "BLOCK_SUSPEND" | "SYS_PACCT"
            | "SYS_TTY_CONFIG" | "LEASE" | "CHECKPOINT_RESTORE" => Tier::Risky("is beyond what Docker grants by default"),
            _ => Tier::Unknown,
        }
    }
}

/// A boolean that is on: `true`, or the string Compose reads as true.
fn on(value: &Value) -> bool {
    value.as_bool() == Some(true) || value.as_str() == Some("true")
}

/// What a port published on all interfaces is called in the message: `port 8080`, or
/// `container port 8008 (on a random host port)` where no host port is named. A mapping
/// without a host address counts (`8080:80`, `{published: 8080}`, a bare `"8008"`), as does
/// a host address written as a variable whose default is all interfaces
/// (`${BIND:-0.0.0.0}`); one whose value is known only at run time does not. The protocol
/// is named where given (`53/udp`: tcp and udp on one port are two findings).
fn published_on_all_interfaces(port: &Value) -> Option<String> {
    let all = |ip: &str| ip.is_empty() || ip == "0.0.0.0" || ip == "[::]" || ip == "::";
    match port {
        Value::Number(n) => Some(format!("container port {n} (on a random host port)")),
        Value::String(s) => {
            let (spec, protocol) = match s.rsplit_once('/') {
                Some((spec, p)) if !p.contains('}') => (spec, format!("/{p}")),
                _ => (s.as_str(), String::new()),
            };
            let mut parts = split_outside_braces(spec);
            let target = parts.pop()?;
            match parts.as_slice() {
                [] => Some(format!("container port {target}{protocol} (on a random host port)")),
                [published] => Some(format!("port {published}{protocol}")),
                [ip @ .., published] => {
                    let ip = ip.join(":");
                    all(&default_of(&ip)?).then(|| match published.is_empty() {
                        true => format!("container port {target}{protocol} (on a random host port)"),
                        false => format!("port {published}{protocol}"),
                    })
                }
            }
        }
        Value::Mapping(m) => {
            let ip = lookup::get(m, "host_ip").and_then(Value::as_str).unwrap_or("");
            let protocol =
                lookup::get(m, "protocol").and_then(Value::as_str).map(|p| format!("/{p}")).unwrap_or_default();
            if !all(&default_of(ip)?) {
                return None;
            }
            Some(match lookup::get(m, "published") {
                Some(Value::Number(n)) => format!("port {n}{protocol}"),
                Some(Value::String(p)) => format!("port {p}{protocol}"),
                _ => {
                    let target = lookup::get(m, "target").map(|t| match t {
                        Value::Number(n) => n.to_string(),
                        other => other.as_str().unwrap_or("").to_string(),
                    })?;
                    format!("container port {target}{protocol} (on a random host port)")
                }
            })
        }
        _ => None,
    }
}

/// `spec` split at each `:` that is not inside `${...}`.
pub(super) fn split_outside_braces(spec: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut from) = (Vec::new(), 0usize, 0);
    let bytes = spec.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'{' if i > 0 && bytes[i - 1] == b'$' => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                parts.push(&spec[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&spec[from..]);
    parts
}

/// A host address as Compose reads it where it is a variable: its default
/// (`${BIND:-0.0.0.0}`, `${BIND-}`); None where only the run knows it (`${BIND}`).
pub(super) fn default_of(ip: &str) -> Option<String> {
    let Some(inner) = ip.strip_prefix("${").and_then(|r| r.strip_suffix('}')) else {
        return (!ip.contains('$')).then(|| ip.to_string());
    };
    let name = inner.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
    let op = &inner[name..];
    op.strip_prefix(":-").or_else(|| op.strip_prefix('-')).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    #[test]
    fn settings_that_hand_over_the_host_are_reported_and_nothing_is_written() {
        let compose = "services:
  root: {image: example/app:1, privileged: true, pid: host, cap_add: [ALL]}
  net: {image: example/app:1, network_mode: host, security_opt: ['seccomp:unconfined']}
  socket: {image: example/app:1, volumes: ['/var/run/docker.sock:/var/run/docker.sock']}
  ports: {image: example/app:1, ports: ['8080:80', '127.0.0.1:9090:90', '53:53/udp']}
";
        check(plan(&Dangerous, &profile("dangerous: {ports_on_all_interfaces: true}"), compose), r#"
error[dangerous/privileged] root at privileged: privileged: true gives the container every capability and the host's devices
error[dangerous/host-namespace] root at pid: pid: host sees and can signal every process of the host
warning[dangerous/cap-add-all] root at cap_add: cap_add: ALL gives the container every capability
error[dangerous/host-namespace] net at network_mode: network_mode: host shares the host's network stack: every port it opens is open on the host
warning[dangerous/unconfined] net at security_opt: security_opt `seccomp:unconfined` turns a kernel protection off
error[dangerous/docker-socket] socket at volumes.0: mounts `/var/run/docker.sock`: whoever controls the container controls the Docker daemon, and so the host
info[dangerous/port-all-interfaces] ports at ports.0: port 8080 is published on all interfaces; bind it to 127.0.0.1 if only this host needs it
info[dangerous/port-all-interfaces] ports at ports.2: port 53/udp is published on all interfaces; bind it to 127.0.0.1 if only this host needs it
"#);
        check(plan(&Dangerous, &profile("dangerous: {ports_on_all_interfaces: false}"), "services:\n  a: {image: x, ports: ['80:80']}\n"), r#""#);
    }

    #[test]
    fn capabilities_by_tier_as_docker_reads_their_names() {
        let compose = "services:
  vpn: {image: example/vpn:1, cap_add: [net_admin, CAP_SYS_MODULE, NET_RAW, chown, CAP_MKNOD, WAKE_ALARM, NOT_A_CAP]}
  debug: {image: example/app:1, cap_add: [SYS_PTRACE]}
  spy: {image: example/app:1, pid: host, cap_add: [sys_ptrace, BPF, cap_dac_read_search]}
";
        check(plan(&Dangerous, &profile("dangerous: {ports_on_all_interfaces: false}"), compose), r#"
warning[dangerous/cap-risky] vpn at cap_add.0: cap_add `net_admin` changes the container's interfaces, routes and firewall (a VPN needs it; most services do not)
error[dangerous/cap-host] vpn at cap_add.1: cap_add `CAP_SYS_MODULE` loads kernel modules: the host's kernel is the container's
warning[dangerous/cap-risky] vpn at cap_add.5: cap_add `WAKE_ALARM` is beyond what Docker grants by default
warning[dangerous/cap-risky] debug at cap_add.0: cap_add `SYS_PTRACE` lets the container debug and read the memory of its processes
error[dangerous/host-namespace] spy at pid: pid: host sees and can signal every process of the host
error[dangerous/cap-host] spy at cap_add.0: cap_add `sys_ptrace` beside `pid: host` attaches to every process of the host
error[dangerous/cap-host] spy at cap_add.1: cap_add `BPF` loads kernel programs or reads kernel memory
error[dangerous/cap-host] spy at cap_add.2: cap_add `cap_dac_read_search` opens any host file by handle, past the container's root
"#);
    }

    #[test]
    fn root_users_namespaces_labels_and_socket_proxies() {
        let compose = "services:
  a: {image: example/app:1, user: root, uts: host, cgroup: host, userns_mode: host, security_opt: ['label:disable']}
  b: {image: example/app:1, user: '0:0', security_opt: ['label=disable', 'no-new-privileges:true']}
  c: {image: example/app:1, user: 0}
  d: {image: example/app:1, user: '1000:0'}
  proxy: {image: 'tecnativa/docker-socket-proxy:0.3', volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro']}
";
        check(plan(&Dangerous, &profile("dangerous: {ports_on_all_interfaces: false}"), compose), r#"
warning[dangerous/user-root] a at user: user: root runs the process as root
warning[dangerous/userns-host] a at userns_mode: userns_mode: host turns the daemon's user-namespace remapping off
warning[dangerous/shared-namespace] a at uts: uts: host can change the host's hostname
warning[dangerous/shared-namespace] a at cgroup: cgroup: host sees the host's cgroup tree
warning[dangerous/unconfined] a at security_opt: security_opt `label:disable` turns a kernel protection off
warning[dangerous/user-root] b at user: user: 0:0 runs the process as root
warning[dangerous/unconfined] b at security_opt: security_opt `label=disable` turns a kernel protection off
warning[dangerous/user-root] c at user: user: 0 runs the process as root
info[dangerous/socket-proxy] proxy at volumes.0: mounts `/var/run/docker.sock` for a socket proxy: keep the calls it allows few, and it on an internal network
"#);
    }

    #[test]
    fn ports_on_all_interfaces_as_compose_publishes_them() {
        let compose = "services:
  a:
    image: example/app:1
    ports:
      - '8008'
      - 9000
      - '${BIND:-0.0.0.0}:8080:80'
      - '${BIND:-127.0.0.1}:8081:80'
      - '${BIND}:8082:80'
      - '${PORT:-8083}:80'
      - '[::1]:8084:80'
      - '127.0.0.1::80'
      - {target: 443}
      - {target: 444, host_ip: 127.0.0.1}
";
        check(plan(&Dangerous, &profile("dangerous: {ports_on_all_interfaces: true}"), compose), r#"
info[dangerous/port-all-interfaces] a at ports.0: container port 8008 (on a random host port) is published on all interfaces; bind it to 127.0.0.1 if only this host needs it
info[dangerous/port-all-interfaces] a at ports.1: container port 9000 (on a random host port) is published on all interfaces; bind it to 127.0.0.1 if only this host needs it
info[dangerous/port-all-interfaces] a at ports.2: port 8080 is published on all interfaces; bind it to 127.0.0.1 if only this host needs it
info[dangerous/port-all-interfaces] a at ports.5: port ${PORT:-8083} is published on all interfaces; bind it to 127.0.0.1 if only this host needs it
info[dangerous/port-all-interfaces] a at ports.8: container port 443 (on a random host port) is published on all interfaces; bind it to 127.0.0.1 if only this host needs it
"#);
    }
}
