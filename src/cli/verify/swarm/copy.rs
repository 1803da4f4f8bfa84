//! The copy `verify --swarm` deploys: the stack as `docker stack config` reads it, changed as
//! the single-host copy is, in the v3 form `docker stack deploy` accepts. Swarm names what a
//! stack creates `<stack>_<key>` and labels it with the stack's namespace, so an object of the
//! stack's own needs no name: a fixed or external one is replaced by one of the copy's.

use super::super::copy::{every_network, label, mounts, port, routing, Allow, Copy};
use serde_json::{json, Map, Value};

/// `model` is `docker stack config`'s output read as JSON; `ours` the stack's name; `empty`
/// an empty file that stands in for external secrets and configs.
pub fn make(model: &Value, ours: &str, allow: Allow, empty: &str) -> Result<Copy, Vec<String>> {
    let mut model = model.clone();
    let mut adjust = Vec::new();
    let mut refuse = Vec::new();
    volumes(&mut model, ours, &mut adjust);
    networks(&mut model, ours, &mut adjust);
    for kind in ["secrets", "configs"] {
        secrets(&mut model, kind, ours, empty, &mut adjust);
    }
    if let Some(services) = model.get_mut("services").and_then(Value::as_object_mut) {
        for (name, service) in services.iter_mut() {
            if let Some(service) = service.as_object_mut() {
                one_service(name, service, ours, allow, &mut adjust, &mut refuse);
            }
        }
    }
    match refuse.is_empty() {
        true => Ok(Copy { model, adjustments: adjust }),
        false => Err(refuse),
    }
}

fn volumes(model: &mut Value, ours: &str, adjust: &mut Vec<String>) {
    let Some(volumes) = model.get_mut("volumes").and_then(Value::as_object_mut) else { return };
    for (key, volume) in volumes.iter_mut() {
        let fresh = format!("{ours}_{key}");
        if let Some(name) = volume.get("name").and_then(Value::as_str) {
            let how = if volume.get("external").and_then(Value::as_bool) == Some(true) { "external" } else { "fixed" };
            adjust.push(format!("volume {key}: {how} volume \"{name}\" -> a fresh, empty volume {fresh}"));
        }
        let driver = volume.get("driver").and_then(Value::as_str).unwrap_or("local");
        if driver != "local" || volume.get("driver_opts").is_some() {
            adjust.push(format!("volume {key}: driver {driver} and its options dropped (a local volume instead)"));
        }
        *volume = json!({ "labels": label(ours) });
    }
}

fn networks(model: &mut Value, ours: &str, adjust: &mut Vec<String>) {
    let Some(networks) = every_network(model) else { return };
    for (key, network) in networks.iter_mut() {
        let fresh = format!("{ours}_{key}");
        if let Some(name) = network.get("name").and_then(Value::as_str) {
            let how = if network.get("external").and_then(Value::as_bool) == Some(true) { "external" } else { "fixed" };
            adjust.push(format!("network {key}: {how} network \"{name}\" -> a fresh overlay network {fresh}"));
        }
        if network.pointer("/ipam/config").is_some_and(|c| c.as_array().is_some_and(|c| !c.is_empty())) {
            adjust.push(format!("network {key}: fixed subnet dropped"));
        }
        *network = json!({ "driver": "overlay", "internal": true, "labels": label(ours) });
    }
    if !networks.is_empty() {
        adjust.push(
            "every network is an internal overlay of the copy's own: no egress, so nothing in the copy reaches an \
             outside service"
                .into(),
        );
    }
}

fn secrets(model: &mut Value, kind: &str, ours: &str, empty: &str, adjust: &mut Vec<String>) {
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
            adjust.push(format!("{one} {key}: fixed name {name} dropped"));
        }
        secret.insert("labels".into(), label(ours));
    }
}

fn one_service(
    name: &str,
    service: &mut Map<String, Value>,
    ours: &str,
    allow: Allow,
    adjust: &mut Vec<String>,
    refuse: &mut Vec<String>,
) {
    if let Some(ports) = service.remove("ports") {
        let shown: Vec<String> = ports.as_array().into_iter().flatten().map(port).collect();
        adjust.push(format!("service {name}: published ports {} dropped", shown.join(", ")));
    }
    // Swarm ignores these; the copy leaves them out so that nothing suggests otherwise.
    for key in ["container_name", "build", "external_links"] {
        service.remove(key);
    }
    routing(name, service, ours, adjust);
    let deploy = service.entry("deploy").or_insert_with(|| json!({}));
    if let Some(deploy) = deploy.as_object_mut() {
        let labels = deploy.entry("labels").or_insert_with(|| json!({}));
        if let (Some(labels), Some(mine)) = (labels.as_object_mut(), label(ours).as_object()) {
            labels.extend(mine.clone());
        }
        if let Some(placement) = deploy.get("placement").and_then(|p| p.get("constraints")) {
            let shown: Vec<String> = placement.as_array().into_iter().flatten().map(|c| c.to_string()).collect();
            adjust.push(format!("service {name}: placement constraints {} kept", shown.join(", ")));
        }
    }
    if let Some(networks) = service.get_mut("networks").and_then(Value::as_object_mut) {
        for (net, attach) in networks.iter_mut() {
            let Some(attach) = attach.as_object_mut() else { continue };
            for key in ["ipv4_address", "ipv6_address"] {
                if let Some(address) = attach.remove(key) {
                    adjust.push(format!("service {name}: static {key} {address} on {net} dropped"));
                }
            }
        }
    }
    mounts(name, service, allow, refuse);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_owns_its_objects_and_publishes_nothing() {
        let model = json!({
            "version": "3.13",
            "services": {
                "web": {
                    "image": "nginx",
                    "ports": [{"mode": "ingress", "target": 80, "published": 8080, "protocol": "tcp"}],
                    "labels": {"traefik.enable": "true", "keep": "1"},
                    "deploy": {"labels": {"traefik.http.routers.web.rule": "Host(`x`)"}, "replicas": 2},
                    "networks": {"front": null},
                    "volumes": [{"type": "volume", "source": "data", "target": "/data"}],
                    "secrets": [{"source": "key"}]
                },
                "job": {"image": "busybox", "volumes": [{"type": "bind", "source": "/srv", "target": "/srv"}]}
            },
            "volumes": {"data": {"name": "prod-data"}},
            "networks": {"front": {"name": "edge", "external": true}},
            "secrets": {"key": {"name": "key", "external": true}}
        });
        let refused = make(&model, "chv-x", Allow::default(), "/tmp/empty").err().unwrap_or_default();
        assert_eq!(
            refused,
            ["service job: a writable bind mount of /srv (the copy would write to it; allow it with --allow-writable-binds)"]
        );
        let allow = Allow { writable_binds: true, host: false };
        let copy = make(&model, "chv-x", allow, "/tmp/empty").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            copy.adjustments,
            [
                "volume data: fixed volume \"prod-data\" -> a fresh, empty volume chv-x_data",
                "network front: external network \"edge\" -> a fresh overlay network chv-x_front",
                "every network is an internal overlay of the copy's own: no egress, so nothing in the copy reaches an outside service",
                "secret key: external -> an empty file of the copy's own (the service reads no real secret)",
                "service web: published ports 8080:80 dropped",
                "service web: routing labels dropped: traefik.enable",
                "service web: routing labels dropped from deploy.labels: traefik.http.routers.web.rule",
            ]
        );
        let pid = std::process::id().to_string();
        let ours = json!({"io.compose-harden.verify": "chv-x", "io.compose-harden.verify.pid": pid});
        let web = &copy.model["services"]["web"];
        assert_eq!(web["deploy"]["labels"], ours);
        assert_eq!(
            web["labels"],
            json!({"keep": "1", "io.compose-harden.verify": "chv-x", "io.compose-harden.verify.pid": pid})
        );
        assert_eq!(web.get("ports"), None);
        assert_eq!(copy.model["networks"]["front"], json!({"driver": "overlay", "internal": true, "labels": ours}));
        assert_eq!(copy.model["networks"]["default"], json!({"driver": "overlay", "internal": true, "labels": ours}));
        assert_eq!(copy.model["volumes"]["data"], json!({"labels": ours}));
        assert_eq!(copy.model["secrets"]["key"], json!({"file": "/tmp/empty", "labels": ours}));
    }
}
