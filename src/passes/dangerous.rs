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
         `pre_stop`) that runs privileged is reported the same way.";
    DANGEROUS_HOST_NAMESPACE = "dangerous/host-namespace", Error, None,
        "the container shares a host namespace",
        "`network_mode: host`, `pid: host` and `ipc: host` share the host's network, processes or IPC.";
    DANGEROUS_DOCKER_SOCKET = "dangerous/docker-socket", Error, None,
        "the Docker socket is mounted",
        "Whoever controls the container controls the Docker daemon, and so the host.";
    DANGEROUS_API_SOCKET = "dangerous/api-socket", Error, None,
        "use_api_socket: the Docker API socket is mounted at start",
        "`use_api_socket: true` makes Compose mount the engine's API socket, with the user's registry \
         credentials, into the container when it starts (it is not in `config`'s model): whoever controls the \
         container controls the Docker daemon, and so the host, as with a `docker.sock` bind.";
    DANGEROUS_CAP_ADD_ALL = "dangerous/cap-add-all", Warning, None,
        "cap_add: ALL",
        "The container gets every capability.";
    DANGEROUS_UNCONFINED = "dangerous/unconfined", Warning, None,
        "a security option turns a kernel protection off",
        "`seccomp:unconfined` or `apparmor:unconfined` removes a protection the engine applies by default.";
    DANGEROUS_PORT_ALL_INTERFACES = "dangerous/port-all-interfaces", Info, None,
        "a port is published on all interfaces",
        "Bind it to 127.0.0.1 if only this host needs it.";
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
            if source.ends_with("docker.sock") {
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
        if caps.iter().any(|c| c.as_str().is_some_and(|c| c.eq_ignore_ascii_case("ALL"))) {
            out.report(&DANGEROUS_CAP_ADD_ALL, &["cap_add"], "cap_add: ALL gives the container every capability");
        }
        let options =
            service.get(&["security_opt"]).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default();
        for option in options.iter().filter_map(Value::as_str).filter(|o| o.contains("unconfined")) {
            out.report(
                &DANGEROUS_UNCONFINED,
                &["security_opt"],
                format!("security_opt `{option}` turns a kernel protection off"),
            );
        }
        if settings.ports_on_all_interfaces {
            let ports = service.get(&["ports"]).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default();
            for (i, port) in ports.iter().enumerate() {
                if let Some(published) = published_on_all_interfaces(port) {
                    out.report(
                        &DANGEROUS_PORT_ALL_INTERFACES,
                        &["ports", &i.to_string()],
                        format!("port {published} is published on all interfaces; bind it to 127.0.0.1 if only this host needs it"),
                    );
                }
            }
        }
    }
}

/// A boolean that is on: `true`, or the string Compose reads as true.
fn on(value: &Value) -> bool {
    value.as_bool() == Some(true) || value.as_str() == Some("true")
}

/// The published port of a mapping without a host address (`8080:80`, `{published: 8080}`),
/// with its protocol where one is named (`53/udp`: tcp and udp on one port are two findings).
fn published_on_all_interfaces(port: &Value) -> Option<String> {
    match port {
        Value::String(s) => {
            let (spec, protocol) = match s.split_once('/') {
                Some((spec, p)) => (spec, format!("/{p}")),
                None => (s.as_str(), String::new()),
            };
            let parts: Vec<&str> = spec.rsplitn(3, ':').collect();
            match parts.as_slice() {
                [_, published] => Some(format!("{published}{protocol}")),
                [_, published, ip] if ip.is_empty() || *ip == "0.0.0.0" || *ip == "[::]" => {
                    Some(format!("{published}{protocol}"))
                }
                _ => None,
            }
        }
        Value::Mapping(m) => {
            let published = lookup::get(m, "published")?;
            let ip = lookup::get(m, "host_ip").and_then(Value::as_str).unwrap_or("");
            let protocol =
                lookup::get(m, "protocol").and_then(Value::as_str).map(|p| format!("/{p}")).unwrap_or_default();
            (ip.is_empty() || ip == "0.0.0.0").then(|| match published {
                Value::Number(n) => format!("{n}{protocol}"),
                other => format!("{}{protocol}", other.as_str().unwrap_or("")),
            })
        }
        _ => None,
    }
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
}
