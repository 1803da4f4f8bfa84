//! Host paths, runtime sockets and devices a service mounts: reported, never changed (only
//! the user knows whether the service needs them).
//!
//! Which host paths count, and how: a path in [`EXACT`] counts only as itself (`/etc`, but
//! not `/etc/letsencrypt`; `/home`, but not `/home/u/media`: those are an app's data); a
//! path in [`PREFIXES`] counts with everything below it (`/proc/1/root`, `/var/lib/docker/
//! volumes`). Read-only or not, each is reported: reading `/etc` reads its secrets. The
//! exceptions: `/proc` and `/sys` (and below) read-only are info (monitoring agents such as
//! node-exporter read them by design), and `/etc/localtime` and `/etc/timezone` are no
//! finding (neither is in either list).

use super::{Out, Pass, Service};
use crate::document::lookup;
use crate::profile::{MountsSettings, Profile};
use crate::rule::{rules, Rule};
use yaml_serde::Value;

pub struct Mounts;

rules! {
    MOUNTS_HOST_PATH = "mounts/host-path", Error, None,
        "a host path that holds the host is mounted",
        "A bind of the host's root `/`, `/etc`, `/home`, `/usr`, `/lib`, `/var`, `/run` or `/var/run` (they \
         hold the engine's socket), or of `/root`, `/boot` or anything below them or below `/proc`, `/sys`, `/dev`, `/lib/modules` or `/var/lib/docker`, \
         gives the container the host's secrets, kernel or containers, read-only or not (reading `/etc` reads \
         `/etc/shadow`). `/etc`, `/home`, `/run` and `/var/run` count only as themselves: `/etc/letsencrypt` or \
         `/home/u/media` are an app's data. `/etc/localtime` and `/etc/timezone` are no finding.",
        refs "CIS Docker Benchmark v1.7.0 5.6; OWASP Docker Security Cheat Sheet, rule 8";
    MOUNTS_HOST_READ = "mounts/host-read", Info, None,
        "the host's /proc or /sys is mounted read-only",
        "Monitoring agents (node-exporter, cAdvisor) read the host's `/proc` and `/sys` by design, mounted \
         read-only; they still see every process and the kernel's settings of the host.",
        refs "CIS Docker Benchmark v1.7.0 5.6";
    MOUNTS_RUNTIME_SOCKET = "mounts/runtime-socket", Error, None,
        "a container runtime's socket is mounted",
        "The API socket of containerd, Podman, CRI-O or libvirt (as the Docker socket, `dangerous/docker-socket`) \
         lets whoever controls the container start privileged containers or machines, and so own the host.",
        refs "CIS Docker Benchmark v1.7.0 5.32; OWASP Docker Security Cheat Sheet, rule 1";
    MOUNTS_TMPFS_EXEC = "mounts/tmpfs-exec", Warning, None,
        "a tmpfs is mounted with exec, suid or dev",
        "Docker mounts a tmpfs `noexec,nosuid,nodev` unless told otherwise: `exec` lets a dropped binary run, \
         `suid` lets a setuid one gain privileges, `dev` lets a device node open the host's device. Leave them \
         out unless the service needs them (a JIT that unpacks native code into /tmp needs `exec`).",
        refs "OWASP Docker Security Cheat Sheet, rule 8";
    MOUNTS_PROPAGATION_SHARED = "mounts/propagation-shared", Warning, None,
        "a bind mount propagates mounts both ways",
        "`shared` or `rshared` propagation makes mounts made in the container appear on the host, and the \
         other way. Only a storage driver or a mount helper needs it.",
        refs "CIS Docker Benchmark v1.7.0 5.20";
    MOUNTS_DEVICE_DISK = "mounts/device-disk", Error, None,
        "a host disk or memory device is given to the container",
        "`devices` with a block device (`/dev/sda`, `/dev/nvme0n1`, `/dev/mapper/...`) or `/dev/mem`, \
         `/dev/kmem`, `/dev/port` lets the container read and write the host's disks or memory, past every \
         file permission.",
        refs "CIS Docker Benchmark v1.7.0 5.18";
    MOUNTS_DEVICE = "mounts/device", Info, None,
        "a host device is given to the container",
        "A GPU (`/dev/dri`, `/dev/nvidia*`), `/dev/net/tun`, `/dev/kvm`, `/dev/fuse` or a serial port is what \
         media servers, VPNs and emulators need; it still widens what the container reaches on the host.",
        refs "CIS Docker Benchmark v1.7.0 5.18";
}

/// Host paths that count only as themselves.
const EXACT: &[&str] = &["/", "/etc", "/home", "/usr", "/lib", "/var", "/run", "/var/run"];
/// Host paths that count with everything below them.
const PREFIXES: &[&str] = &["/proc", "/sys", "/dev", "/lib/modules", "/var/lib/docker", "/boot", "/root"];
/// Read access by design, where mounted read-only.
const READ: &[&str] = &["/proc", "/sys"];
/// The file names of runtime sockets other than Docker's (which `dangerous` reports).
const SOCKETS: &[&str] = &["containerd.sock", "podman.sock", "crio.sock", "libvirt-sock", "libvirt-sock-ro"];
/// Device names (below `/dev/`) that are disks or memory.
const DISKS: &[&str] = &["sd", "hd", "vd", "xvd", "nvme", "mmcblk", "loop", "dm-", "md", "mapper/", "disk/", "mem", "kmem", "port"];

impl Pass for Mounts {
    const NAME: &'static str = "mounts";
    const CONTAINER: bool = false;
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p MountsSettings;

    fn settings(profile: &Profile) -> Option<&MountsSettings> {
        profile.mounts.as_ref()
    }

    fn run(&self, _: &MountsSettings, service: &Service, out: &mut Out) {
        for (i, volume) in items(service, "volumes").iter().enumerate() {
            let Some(bind) = Bind::of(volume) else { continue };
            let at = ["volumes", &i.to_string()];
            let path = normal(&bind.source);
            let under = |p: &&str| path == *p || path.strip_prefix(*p).is_some_and(|r| r.starts_with('/'));
            let file = path.rsplit('/').next().unwrap_or("");
            if SOCKETS.contains(&file) || path.ends_with("/containerd") {
                out.report(
                    &MOUNTS_RUNTIME_SOCKET,
                    &at,
                    format!("mounts `{path}`: whoever controls the container controls that runtime, and so the host"),
                );
            } else if bind.read_only && READ.iter().any(under) {
                out.report(
                    &MOUNTS_HOST_READ,
                    &at,
                    format!("mounts the host's `{path}` read-only: it sees every process and kernel setting of the host"),
                );
            } else if EXACT.contains(&path.as_str()) || PREFIXES.iter().any(under) {
                let how = if bind.read_only { "read-only" } else { "writable" };
                out.report(
                    &MOUNTS_HOST_PATH,
                    &at,
                    format!("mounts the host's `{path}` ({how}): the container reaches the host's files, kernel or containers"),
                );
            }
            if let Some(mode) = bind.propagation.as_deref().filter(|p| *p == "shared" || *p == "rshared") {
                out.report(
                    &MOUNTS_PROPAGATION_SHARED,
                    &at,
                    format!("`{mode}` propagation: mounts made in the container appear on the host"),
                );
            }
        }
        tmpfs(service, out);
        for (i, device) in items(service, "devices").iter().enumerate() {
            let source = match device {
                Value::String(s) => s.split(':').next().unwrap_or(""),
                Value::Mapping(m) => lookup::get(m, "source").and_then(Value::as_str).unwrap_or(""),
                _ => continue,
            };
            let Some(name) = source.strip_prefix("/dev/") else { continue };
            let at = ["devices", &i.to_string()];
            if DISKS.iter().any(|d| name.starts_with(d) && disk(name, d)) {
                out.report(
                    &MOUNTS_DEVICE_DISK,
                    &at,
                    format!("gives the container `{source}`: it reads and writes the host's disk or memory directly"),
                );
            } else {
                out.report(&MOUNTS_DEVICE, &at, format!("gives the container the host's `{source}`"));
            }
        }
    }
}

/// Whether `/dev/{name}`, which starts with `prefix`, is a disk: `sd` must be followed by
/// a letter (`sda`), `mem` and `port` must be the whole name (not `memory_bandwidth`).
fn disk(name: &str, prefix: &str) -> bool {
    let rest = &name[prefix.len()..];
    match prefix {
        "sd" | "hd" | "vd" | "xvd" => rest.starts_with(|c: char| c.is_ascii_lowercase()),
        "md" | "loop" | "nvme" | "mmcblk" => rest.starts_with(|c: char| c.is_ascii_digit()),
        "mem" | "kmem" | "port" => rest.is_empty(),
        _ => true,
    }
}

fn items<'a>(service: &'a Service, key: &str) -> &'a [Value] {
    service.get(&[key]).and_then(Value::as_sequence).map(Vec::as_slice).unwrap_or_default()
}

/// A bind mount of a host path, short (`/src:/dst:ro,rshared`) or long syntax.
struct Bind {
    source: String,
    read_only: bool,
    propagation: Option<String>,
}

impl Bind {
    fn of(volume: &Value) -> Option<Bind> {
        match volume {
            Value::String(s) => {
                let mut parts = s.splitn(3, ':');
                let source = parts.next()?;
                parts.next()?; // A lone path is an anonymous volume.
                let options: Vec<&str> = parts.next().unwrap_or("").split(',').collect();
                source.starts_with('/').then(|| Bind {
                    source: source.to_string(),
                    read_only: options.contains(&"ro"),
                    propagation: options
                        .iter()
                        .find(|o| ["shared", "rshared", "slave", "rslave", "private", "rprivate"].contains(o))
                        .map(|o| o.to_string()),
                })
            }
            Value::Mapping(m) => {
                let kind = lookup::get(m, "type").and_then(Value::as_str);
                let source = lookup::get(m, "source").and_then(Value::as_str)?;
                if kind.is_some_and(|k| k != "bind") || !source.starts_with('/') {
                    return None;
                }
                let read_only = lookup::get(m, "read_only").is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"));
                let propagation = lookup::get(m, "bind")
                    .and_then(|b| lookup::field(b, "propagation"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                Some(Bind { source: source.to_string(), read_only, propagation })
            }
            _ => None,
        }
    }
}

/// The path with `//`, `.` and `..` resolved and no trailing `/` (`/` stays `/`).
fn normal(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `tmpfs: [/run:exec,size=64m]`: the options Docker leaves off by default.
fn tmpfs(service: &Service, out: &mut Out) {
    let entries: Vec<(String, &str)> = match service.get(&["tmpfs"]) {
        Some(Value::String(s)) => vec![("tmpfs".to_string(), s.as_str())],
        Some(Value::Sequence(items)) => {
            items.iter().enumerate().filter_map(|(i, v)| Some((format!("tmpfs.{i}"), v.as_str()?))).collect()
        }
        _ => Vec::new(),
    };
    for (at, entry) in entries {
        let Some((target, options)) = entry.split_once(':') else { continue };
        let on: Vec<&str> = options.split(',').filter(|o| ["exec", "suid", "dev"].contains(o)).collect();
        if !on.is_empty() {
            let path: Vec<&str> = at.split('.').collect();
            out.report(
                &MOUNTS_TMPFS_EXEC,
                &path,
                format!("tmpfs `{target}` is mounted `{}`: Docker's default is noexec,nosuid,nodev", on.join(",")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, plan, profile};

    #[test]
    fn host_paths_count_exactly_or_with_what_is_below_them() {
        let compose = "services:
  agent:
    image: prom/node-exporter:v1
    volumes: ['/proc:/host/proc:ro', '/sys/:/host/sys:ro', '/:/rootfs:ro', /etc/localtime:/etc/localtime:ro, /etc/timezone:/etc/timezone:ro]
  app:
    image: example/app:1
    volumes:
      - /etc:/host/etc
      - /etc/letsencrypt:/certs
      - /home/u/media:/media
      - /var/lib/docker/volumes:/v:ro
      - data:/data
      - ./conf:/conf
      - {type: bind, source: /root/.ssh, target: /keys, read_only: true}
      - {type: bind, source: /mnt/shared, target: /shared, bind: {propagation: rshared}}
      - /mnt/a:/a:rw,shared
  runtime: {image: example/app:1, volumes: ['/run/containerd/containerd.sock:/c.sock', '/run/podman/podman.sock:/p.sock']}
";
        check(plan(&Mounts, &profile("mounts: {}"), compose), r#"
info[mounts/host-read] agent at volumes.0: mounts the host's `/proc` read-only: it sees every process and kernel setting of the host
info[mounts/host-read] agent at volumes.1: mounts the host's `/sys` read-only: it sees every process and kernel setting of the host
error[mounts/host-path] agent at volumes.2: mounts the host's `/` (read-only): the container reaches the host's files, kernel or containers
error[mounts/host-path] app at volumes.0: mounts the host's `/etc` (writable): the container reaches the host's files, kernel or containers
error[mounts/host-path] app at volumes.3: mounts the host's `/var/lib/docker/volumes` (read-only): the container reaches the host's files, kernel or containers
error[mounts/host-path] app at volumes.6: mounts the host's `/root/.ssh` (read-only): the container reaches the host's files, kernel or containers
warning[mounts/propagation-shared] app at volumes.7: `rshared` propagation: mounts made in the container appear on the host
warning[mounts/propagation-shared] app at volumes.8: `shared` propagation: mounts made in the container appear on the host
error[mounts/runtime-socket] runtime at volumes.0: mounts `/run/containerd/containerd.sock`: whoever controls the container controls that runtime, and so the host
error[mounts/runtime-socket] runtime at volumes.1: mounts `/run/podman/podman.sock`: whoever controls the container controls that runtime, and so the host
"#);
    }

    #[test]
    fn devices_and_tmpfs_options() {
        let compose = "services:
  media:
    image: example/app:1
    devices: [/dev/dri:/dev/dri, /dev/net/tun, '/dev/sda:/dev/xvda:rwm', /dev/nvme0n1, /dev/mem, /dev/ttyUSB0]
    tmpfs: [/tmp, '/run:exec,size=64m', '/cache:rw,noexec']
  one: {image: example/app:1, tmpfs: '/x:suid,dev'}
";
        check(plan(&Mounts, &profile("mounts: {}"), compose), r#"
warning[mounts/tmpfs-exec] media at tmpfs.1: tmpfs `/run` is mounted `exec`: Docker's default is noexec,nosuid,nodev
info[mounts/device] media at devices.0: gives the container the host's `/dev/dri`
info[mounts/device] media at devices.1: gives the container the host's `/dev/net/tun`
error[mounts/device-disk] media at devices.2: gives the container `/dev/sda`: it reads and writes the host's disk or memory directly
error[mounts/device-disk] media at devices.3: gives the container `/dev/nvme0n1`: it reads and writes the host's disk or memory directly
error[mounts/device-disk] media at devices.4: gives the container `/dev/mem`: it reads and writes the host's disk or memory directly
info[mounts/device] media at devices.5: gives the container the host's `/dev/ttyUSB0`
warning[mounts/tmpfs-exec] one at tmpfs: tmpfs `/x` is mounted `suid,dev`: Docker's default is noexec,nosuid,nodev
"#);
    }
}
