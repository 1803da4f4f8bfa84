//! The copy verify runs: the model Compose resolved, changed so that it cannot reach,
//! change or delete anything outside itself. Every change is listed for the report.

use serde_json::{json, Map, Value};

/// The label on everything a verify run creates; `--cleanup` finds leftovers by it.
pub const LABEL: &str = "io.compose-harden.verify";
/// The pid of the verify that made it: `--cleanup` spares the copy of a verify still running.
pub const PID_LABEL: &str = "io.compose-harden.verify.pid";

/// Labels that make a proxy or updater act on a container (routing, certificates, updates).
const ROUTING_LABELS: &[&str] = &[
    "traefik.",
    "caddy",
    "com.centurylinklabs.watchtower.",
    "com.github.jrcs.letsencrypt_nginx_proxy_companion.",
    "ofelia.",
    "autoheal",
    "diun.",
];

/// Environment that nginx-proxy and its companion read off running containers.
const ROUTING_ENV: &[&str] = &["VIRTUAL_HOST", "VIRTUAL_PORT", "LETSENCRYPT_HOST", "LETSENCRYPT_EMAIL"];

/// What the user allows the copy to keep.
#[derive(Clone, Copy, Default)]
pub struct Allow {
    pub writable_binds: bool,
    pub host: bool,
}

pub struct Copy {
    pub model: Value,
    pub adjustments: Vec<String>,
}

/// `model` is `config --format json` under the user's own project name; `ours` is the fresh
/// project name the copy runs under; `empty` an empty file of the copy's, which stands in for
/// external secrets. Refusals are returned all at once.
pub fn make(model: &Value, ours: &str, allow: Allow, empty: &str) -> Result<Copy, Vec<String>> {
    let mut model = model.clone();
    let original = model.get("name").and_then(Value::as_str).unwrap_or("").to_string();
    let mut adjust = Vec::new();
    let mut refuse = Vec::new();
    if let Some(top) = model.as_object_mut() {
        top.insert("name".into(), json!(ours));
    }
    volumes(&mut model, &original, ours, &mut adjust);
    networks(&mut model, &original, ours, &mut adjust);
    for kind in ["secrets", "configs"] {
        secrets(&mut model, kind, empty, &mut adjust);
    }
    if let Some(services) = model.get_mut("services").and_then(Value::as_object_mut) {
        for (name, service) in services.iter_mut() {
            if let Some(service) = service.as_object_mut() {
                one_service(name, service, &original, ours, allow, &mut adjust, &mut refuse);
            }
        }
    }
    if refuse.is_empty() {
        Ok(Copy { model, adjustments: adjust })
    } else {
        Err(refuse)
    }
}

/// The model's top-level networks, with `default` written out where a service uses it
/// without naming it, so that the copy's own replaces it too.
pub(super) fn every_network(model: &mut Value) -> Option<&mut Map<String, Value>> {
    let uses_default = model
        .get("services")
        .and_then(Value::as_object)
        .is_some_and(|s| s.values().any(|svc| svc.get("networks").is_none_or(|n| n.get("default").is_some())));
    let networks = model.as_object_mut()?.entry("networks").or_insert_with(|| json!({})).as_object_mut()?;
    if uses_default && !networks.contains_key("default") {
        networks.insert("default".into(), json!({}));
    }
    Some(networks)
}

pub(super) fn label(ours: &str) -> Value {
    json!({ LABEL: ours, PID_LABEL: std::process::id().to_string() })
}

fn volumes(model: &mut Value, original: &str, ours: &str, adjust: &mut Vec<String>) {
    let Some(volumes) = model.get_mut("volumes").and_then(Value::as_object_mut) else { return };
    for (key, volume) in volumes.iter_mut() {
        let name = volume.get("name").and_then(Value::as_str).unwrap_or("");
        let fresh = format!("{ours}_{key}");
        if volume.get("external").and_then(Value::as_bool) == Some(true) {
            adjust.push(format!("volume {key}: external volume \"{name}\" -> a fresh, empty volume {fresh}"));
        } else if name != format!("{original}_{key}") {
            adjust.push(format!("volume {key}: fixed name \"{name}\" -> a fresh, empty volume {fresh}"));
        }
        let driver = volume.get("driver").and_then(Value::as_str).unwrap_or("local");
        if driver != "local" || volume.get("driver_opts").is_some() {
            adjust.push(format!("volume {key}: driver {driver} and its options dropped (a local volume instead)"));
        }
        *volume = json!({ "name": fresh, "labels": label(ours) });
    }
}

fn networks(model: &mut Value, original: &str, ours: &str, adjust: &mut Vec<String>) {
    let Some(networks) = every_network(model) else { return };
    for (key, network) in networks.iter_mut() {
        let name = network.get("name").and_then(Value::as_str).unwrap_or("");
        let fresh = format!("{ours}_{key}");
        if network.get("external").and_then(Value::as_bool) == Some(true) {
            adjust.push(format!("network {key}: external network \"{name}\" -> a fresh network {fresh}"));
        } else if !name.is_empty() && name != format!("{original}_{key}") {
            adjust.push(format!("network {key}: fixed name \"{name}\" -> a fresh network {fresh}"));
        }
        if network.pointer("/ipam/config").is_some_and(|c| c.as_array().is_some_and(|c| !c.is_empty())) {
            adjust.push(format!("network {key}: fixed subnet dropped"));
        }
        *network = json!({ "name": fresh, "internal": true, "labels": label(ours) });
    }
    if !networks.is_empty() {
        adjust.push("every network is internal: no egress, so nothing in the copy reaches an outside service".into());
    }
}

fn secrets(model: &mut Value, kind: &str, empty: &str, adjust: &mut Vec<String>) {
    let Some(all) = model.get_mut(kind).and_then(Value::as_object_mut) else { return };
    let one = kind.trim_end_matches('s');
    for (key, secret) in all.iter_mut() {
        let Some(secret) = secret.as_object_mut() else { continue };
        if secret.get("external").and_then(Value::as_bool) == Some(true) {
            adjust.push(format!(
                "{one} {key}: external -> an empty file of the copy's own (the service reads no real {one})"
            ));
            secret.clear();
            secret.insert("file".into(), json!(empty));
        } else if let Some(name) = secret.remove("name") {
            if name.as_str().is_some_and(|n| !n.ends_with(&format!("_{key}"))) {
                adjust.push(format!("{one} {key}: fixed name {name} dropped"));
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn one_service(
    name: &str,
    service: &mut Map<String, Value>,
    original: &str,
    ours: &str,
    allow: Allow,
    adjust: &mut Vec<String>,
    refuse: &mut Vec<String>,
) {
    // Only the services Compose selected are in the model: no profile gate is left to pass.
    service.remove("profiles");
    if let Some(fixed) = service.remove("container_name") {
        adjust.push(format!("service {name}: container_name {fixed} dropped"));
    }
    if let Some(ports) = service.remove("ports") {
        let shown: Vec<String> = ports.as_array().into_iter().flatten().map(port).collect();
        adjust.push(format!("service {name}: published ports {} dropped", shown.join(", ")));
    }
    for key in ["external_links", "pull_policy"] {
        if service.remove(key).is_some() {
            adjust.push(format!("service {name}: {key} dropped"));
        }
    }
    if service.remove("build").is_some() {
        let image = match service.get("image").and_then(Value::as_str) {
            Some(image) => image.to_string(),
            None => {
                let image = format!("{original}-{name}");
                service.insert("image".into(), json!(image));
                image
            }
        };
        adjust.push(format!("service {name}: build dropped; runs the image {image}, as built for the project"));
    }
    routing(name, service, ours, adjust);
    host_access(name, service, allow, refuse);
    if allow.host {
        if let Some(kind) = service.get("provider").map(|p| p.get("type").and_then(Value::as_str).unwrap_or("")) {
            adjust.push(format!(
                "service {name}: run by the `{kind}` provider, outside the copy (--allow-host); not verified"
            ));
        }
    }
    if let Some(networks) = service.get_mut("networks").and_then(Value::as_object_mut) {
        for (net, attach) in networks.iter_mut() {
            let Some(attach) = attach.as_object_mut() else { continue };
            for key in ["ipv4_address", "ipv6_address", "link_local_ips", "mac_address"] {
                if let Some(address) = attach.remove(key) {
                    adjust.push(format!("service {name}: static {key} {address} on {net} dropped"));
                }
            }
        }
    }
}

pub(super) fn port(p: &Value) -> String {
    // Compose's model gives `published` as a string, the v3 model as a number.
    let published = match p.get("published") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let target = p.get("target").map(Value::to_string).unwrap_or_default();
    if published.is_empty() {
        target
    } else {
        format!("{published}:{target}")
    }
}

pub(super) fn routing(name: &str, service: &mut Map<String, Value>, ours: &str, adjust: &mut Vec<String>) {
    let routes = |key: &String| ROUTING_LABELS.iter().any(|p| key.starts_with(p));
    let labels = service.entry("labels").or_insert_with(|| json!({}));
    if let Some(labels) = labels.as_object_mut() {
        let dropped: Vec<String> = labels.keys().filter(|k| routes(k)).cloned().collect();
        for key in &dropped {
            labels.remove(key);
        }
        if !dropped.is_empty() {
            adjust.push(format!("service {name}: routing labels dropped: {}", dropped.join(", ")));
        }
        if let Some(ours) = label(ours).as_object() {
            labels.extend(ours.clone());
        }
    }
    // Under Swarm the proxy reads the service's labels: those are the ones that route.
    if let Some(labels) = service.get_mut("deploy").and_then(|d| d.get_mut("labels")).and_then(Value::as_object_mut) {
        let dropped: Vec<String> = labels.keys().filter(|k| routes(k)).cloned().collect();
        labels.retain(|k, _| !routes(k));
        if !dropped.is_empty() {
            adjust.push(format!("service {name}: routing labels dropped from deploy.labels: {}", dropped.join(", ")));
        }
    }
    if let Some(env) = service.get_mut("environment").and_then(Value::as_object_mut) {
        for key in ROUTING_ENV {
            if env.remove(*key).is_some() {
                adjust.push(format!("service {name}: environment {key} dropped (a proxy routes by it)"));
            }
        }
    }
}

/// What reaches the host: refused unless the user allows it.
fn host_access(name: &str, service: &Map<String, Value>, allow: Allow, refuse: &mut Vec<String>) {
    let host = "allow it with --allow-host";
    let str_of = |key: &str| service.get(key).and_then(Value::as_str).unwrap_or("");
    if !allow.host {
        if service.get("privileged").and_then(Value::as_bool) == Some(true) {
            refuse.push(format!("service {name}: privileged ({host})"));
        }
        let mode = str_of("network_mode");
        if mode == "host" || mode.starts_with("container:") {
            refuse.push(format!("service {name}: network_mode {mode} shares a namespace outside the copy ({host})"));
        }
        for key in ["pid", "ipc", "uts", "userns_mode", "cgroup"] {
            let value = str_of(key);
            if value == "host" || value.starts_with("container:") {
                refuse.push(format!("service {name}: {key}: {value} shares a namespace outside the copy ({host})"));
            }
        }
        if service.get("devices").and_then(Value::as_array).is_some_and(|d| !d.is_empty()) {
            refuse.push(format!("service {name}: devices give the container the host's devices ({host})"));
        }
        if service.get("use_api_socket").and_then(Value::as_bool) == Some(true) {
            refuse.push(format!(
                "service {name}: use_api_socket mounts the Docker API socket, which controls the host ({host})"
            ));
        }
        for hook in ["pre_start", "post_start", "pre_stop"] {
            for (i, step) in service.get(hook).and_then(Value::as_array).into_iter().flatten().enumerate() {
                if step.get("privileged").and_then(Value::as_bool) == Some(true) {
                    refuse.push(format!("service {name}: {hook}[{i}] runs privileged ({host})"));
                }
            }
        }
        if let Some(provider) = service.get("provider") {
            let kind = provider.get("type").and_then(Value::as_str).unwrap_or("");
            refuse.push(format!(
                "service {name}: the `{kind}` provider runs a plugin outside the copy, which verify cannot contain \
                 ({host})"
            ));
        }
        let volumes_from = service.get("volumes_from").and_then(Value::as_array).into_iter().flatten();
        for from in volumes_from.filter_map(Value::as_str).filter(|f| f.starts_with("container:")) {
            refuse.push(format!("service {name}: volumes_from {from} mounts another container's volumes ({host})"));
        }
    }
    mounts(name, service, allow, refuse);
}

/// Mounts that reach the host: sockets (refused unless host access is allowed) and writable
/// binds (unless allowed).
pub(super) fn mounts(name: &str, service: &Map<String, Value>, allow: Allow, refuse: &mut Vec<String>) {
    let host = "allow it with --allow-host";
    for volume in service.get("volumes").and_then(Value::as_array).into_iter().flatten() {
        let kind = volume.get("type").and_then(Value::as_str).unwrap_or("");
        let source = volume.get("source").and_then(Value::as_str).unwrap_or("");
        let read_only = volume.get("read_only").and_then(Value::as_bool) == Some(true);
        let socket = source.ends_with(".sock") || kind == "npipe";
        if socket && !allow.host {
            refuse.push(format!("service {name}: mounts the socket {source}, which controls the host ({host})"));
        } else if kind == "bind" && !read_only && !socket && !allow.writable_binds {
            refuse.push(format!(
                "service {name}: a writable bind mount of {source} (the copy would write to it; allow it with --allow-writable-binds)"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Value {
        json!({
            "name": "shop",
            "services": {
                "web": {
                    "image": "nginx", "container_name": "web", "ports": [{"target": 80, "published": "8080"}],
                    "labels": {"traefik.enable": "true", "keep": "1"},
                    "environment": {"VIRTUAL_HOST": "shop.example", "MODE": "prod"},
                    "networks": {"front": {"ipv4_address": "10.5.0.5"}},
                    "volumes": [{"type": "bind", "source": "/srv/conf", "target": "/etc/nginx", "read_only": true}],
                    "profiles": ["web"]
                },
                "app": {"build": {"context": "/src"}, "volumes": [{"type": "volume", "source": "data", "target": "/data"}]}
            },
            "volumes": {"data": {"name": "prod-data"}, "cache": {"name": "shop_cache"}},
            "networks": {"front": {"name": "edge", "external": true}, "default": {"name": "shop_default", "ipam": {"config": [{"subnet": "10.9.0.0/16"}]}}}
        })
    }

    #[test]
    fn the_copy_has_its_own_names_and_no_way_out() {
        let copy = make(&model(), "chv-x", Allow::default(), "/tmp/empty").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            copy.adjustments,
            [
                "volume data: fixed name \"prod-data\" -> a fresh, empty volume chv-x_data",
                "network default: fixed subnet dropped",
                "network front: external network \"edge\" -> a fresh network chv-x_front",
                "every network is internal: no egress, so nothing in the copy reaches an outside service",
                "service app: build dropped; runs the image shop-app, as built for the project",
                "service web: container_name \"web\" dropped",
                "service web: published ports 8080:80 dropped",
                "service web: routing labels dropped: traefik.enable",
                "service web: environment VIRTUAL_HOST dropped (a proxy routes by it)",
                "service web: static ipv4_address \"10.5.0.5\" on front dropped",
            ]
        );
        let m = &copy.model;
        assert_eq!(m["name"], "chv-x");
        assert_eq!(m["volumes"]["cache"]["name"], "chv-x_cache");
        assert_eq!(m["networks"]["front"], json!({"name": "chv-x_front", "internal": true, "labels": label("chv-x")}));
        let web = &m["services"]["web"];
        assert_eq!(web["labels"]["keep"], "1");
        assert_eq!(web["labels"][LABEL], "chv-x");
        assert_eq!(web["environment"], json!({"MODE": "prod"}));
        assert!(web.get("ports").is_none() && web.get("profiles").is_none());
        assert_eq!(m["services"]["app"]["image"], "shop-app");
    }

    #[test]
    fn host_access_is_refused_unless_allowed() {
        let mut m = model();
        m["services"]["app"]["privileged"] = json!(true);
        m["services"]["app"]["pid"] = json!("host");
        m["services"]["web"]["volumes"] = json!([
            {"type": "bind", "source": "/srv/data", "target": "/data"},
            {"type": "bind", "source": "/var/run/docker.sock", "target": "/var/run/docker.sock", "read_only": true}
        ]);
        let refused = make(&m, "chv-x", Allow::default(), "/tmp/empty").err().unwrap_or_default();
        assert_eq!(
            refused,
            [
                "service app: privileged (allow it with --allow-host)",
                "service app: pid: host shares a namespace outside the copy (allow it with --allow-host)",
                "service web: a writable bind mount of /srv/data (the copy would write to it; allow it with --allow-writable-binds)",
                "service web: mounts the socket /var/run/docker.sock, which controls the host (allow it with --allow-host)",
            ]
        );
        assert!(make(&m, "chv-x", Allow { writable_binds: true, host: true }, "/tmp/empty").is_ok());
    }

    /// What Compose adds only at `up` (the API socket), what runs beside the container
    /// (privileged hooks) and what runs outside it (a provider's plugin) are host access.
    #[test]
    fn the_api_socket_privileged_hooks_and_providers_are_refused_unless_allowed() {
        let mut m = model();
        m["services"]["app"]["use_api_socket"] = json!(true);
        m["services"]["app"]["post_start"] = json!([{"command": ["true"]}, {"command": ["chown"], "privileged": true}]);
        m["services"]["app"]["pre_start"] = json!([{"image": "busybox", "privileged": true}]);
        m["services"]["llm"] = json!({"provider": {"type": "model", "options": {"model": "ai/smollm2"}}});
        let refused = make(&m, "chv-x", Allow::default(), "/tmp/empty").err().unwrap_or_default();
        assert_eq!(
            refused,
            [
                "service app: use_api_socket mounts the Docker API socket, which controls the host (allow it with --allow-host)",
                "service app: pre_start[0] runs privileged (allow it with --allow-host)",
                "service app: post_start[1] runs privileged (allow it with --allow-host)",
                "service llm: the `model` provider runs a plugin outside the copy, which verify cannot contain (allow it with --allow-host)",
            ]
        );
        let allowed = make(&m, "chv-x", Allow { writable_binds: false, host: true }, "/tmp/empty");
        let adjustments = allowed.map(|c| c.adjustments).unwrap_or_default();
        let provider = "service llm: run by the `model` provider, outside the copy (--allow-host); not verified";
        assert!(adjustments.iter().any(|a| a == provider), "{adjustments:?}");
    }
}
