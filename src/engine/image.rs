//! Images on the engine: their config (`GET /images/{name}/json`), and their filesystem
//! seen through a container created from them and never started (`HEAD
//! /containers/{id}/archive?path=...` answers 200 with the path's stat, or 404), removed
//! with its anonymous volumes when done.

use super::api::{base64, encode, Connection};
use super::docker::Docker;
use super::process::Cancel;
use compose_harden::facts::search::{Filesystem, Kind, Stat};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// The label on every container `inspect` creates, so that one a killed run left behind
/// can be found (`docker rm -v $(docker ps -aq --filter label=io.compose-harden.inspect)`).
pub const LABEL: &str = "io.compose-harden.inspect";

/// The image's config as the engine has it; None when the engine has no such image.
pub fn inspect(conn: &mut Connection, reference: &str) -> Result<Option<Value>, String> {
    let answer = conn.call("GET", &format!("/images/{}/json", encode(reference, "/:@")), None)?;
    match answer.status {
        200 => answer.json().map(Some),
        404 => Ok(None),
        _ => Err(format!("the engine cannot inspect `{reference}`: {}", answer.message())),
    }
}

/// Pulls an image through the `docker` client, which holds the registry's credentials.
pub fn pull(docker: &Docker, reference: &str) -> Result<(), String> {
    let mut cmd = docker.command();
    cmd.args(["pull", "--quiet", reference]);
    let done = super::run(cmd, None, Some(Instant::now() + Duration::from_secs(1800)), None)?;
    if done.ok {
        Ok(())
    } else {
        let why = done.stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("failed with no message").trim();
        Err(format!("docker pull {reference}: {why}"))
    }
}

/// A container of an image that is never started: its filesystem, path by path.
pub struct Unstarted {
    conn: Connection,
    id: String,
    /// Set by SIGINT or SIGTERM: the next question fails, and the container is removed.
    cancel: Option<Cancel>,
    /// Paths asked about, for the cost per image.
    pub asked: usize,
}

impl Unstarted {
    /// Creates the container (no network, an entrypoint that is never run: an image with no
    /// command of its own could not be created otherwise).
    pub fn create(socket: &Path, image_id: &str, cancel: Option<Cancel>) -> Result<Unstarted, String> {
        let mut conn = Connection::open(socket)?;
        let mut labels = serde_json::Map::new();
        labels.insert(LABEL.to_string(), Value::String(std::process::id().to_string()));
        let config = json!({
            "Image": image_id,
            "Entrypoint": ["/compose-harden-inspect-never-runs"],
            "Cmd": [],
            "NetworkDisabled": true,
            "Labels": labels,
            "HostConfig": {"NetworkMode": "none"},
        });
        let answer = conn.call("POST", "/containers/create", Some(&config))?;
        if answer.status != 201 {
            return Err(format!("the engine cannot create a container of {image_id}: {}", answer.message()));
        }
        let id = answer.json()?["Id"].as_str().unwrap_or_default().to_string();
        if id.is_empty() {
            return Err("the engine created a container without an Id".into());
        }
        Ok(Unstarted { conn, id, cancel, asked: 0 })
    }
}

impl Filesystem for Unstarted {
    fn stat(&mut self, path: &str) -> Result<Option<Stat>, String> {
        if self.cancel.as_ref().is_some_and(Cancel::is_set) {
            return Err("interrupted".into());
        }
        self.asked += 1;
        let target = format!("/containers/{}/archive?path={}", self.id, encode(path, "/"));
        let answer = self.conn.call("HEAD", &target, None)?;
        match answer.status {
            200 => {}
            404 => return Ok(None),
            // A link whose target is missing cannot be resolved: nothing usable is there.
            400 | 500 if answer.header("X-Docker-Container-Path-Stat").is_none() => return Ok(None),
            status => return Err(format!("the engine cannot read {path} in the image (HTTP {status})")),
        }
        let header = answer.header("X-Docker-Container-Path-Stat").ok_or("the engine gave no stat of a path")?;
        let stat: Value = base64(header)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or("the engine gave a stat that is not base64 JSON")?;
        Ok(Some(decode(&stat)))
    }
}

/// A path's stat as the engine gives it: Go's `os.FileMode` bits and the link's target.
fn decode(stat: &Value) -> Stat {
    const DIR: u64 = 1 << 31;
    const LINK: u64 = 1 << 27;
    // Named pipe, socket, device, character device, irregular.
    const OTHER: u64 = (1 << 25) | (1 << 24) | (1 << 26) | (1 << 21) | (1 << 19);
    let mode = stat["mode"].as_u64().unwrap_or(0);
    let kind = if mode & DIR != 0 {
        Kind::Dir
    } else if mode & LINK != 0 {
        Kind::Link
    } else if mode & OTHER != 0 {
        Kind::Other
    } else {
        Kind::File
    };
    let target = stat["linkTarget"].as_str().filter(|t| !t.is_empty()).map(str::to_string);
    Stat { kind, executable: mode & 0o111 != 0, target: if kind == Kind::Link { target } else { None } }
}

impl Drop for Unstarted {
    fn drop(&mut self) {
        // With its anonymous volumes (an image's VOLUMEs get one each at creation).
        let _ = self.conn.call("DELETE", &format!("/containers/{}?v=1&force=1", self.id), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_modes_read_as_go_writes_them() {
        let link = decode(&json!({"mode": 134218239u64, "linkTarget": "/bin/busybox"}));
        assert_eq!(link, Stat { kind: Kind::Link, executable: true, target: Some("/bin/busybox".into()) });
        assert_eq!(decode(&json!({"mode": 493, "linkTarget": ""})).kind, Kind::File);
        assert!(decode(&json!({"mode": 493})).executable);
        assert!(!decode(&json!({"mode": 420})).executable, "rw-r--r--");
        assert_eq!(decode(&json!({"mode": 2147484141u64})).kind, Kind::Dir);
    }
}
