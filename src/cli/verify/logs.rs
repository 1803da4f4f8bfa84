//! Whether log rotation holds: the json-file driver's files on the engine's disk, counted
//! and sized against `max-file` and `max-size`. Readable only where verify runs as root
//! beside the engine; elsewhere nothing is claimed.

use compose_harden::units;
use serde::Serialize;
use serde_json::Value;

/// The engine writes a whole message before it rotates: one message (up to 16 KiB, in its
/// JSON envelope) may overshoot `max-size`.
const OVERSHOOT: u64 = 20 * 1024;

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Logs {
    pub files: usize,
    pub largest_bytes: u64,
    pub max_file: Option<u64>,
    pub max_size_bytes: Option<u64>,
}

impl Logs {
    pub fn problem(&self) -> Option<String> {
        let too_many = self.max_file.is_some_and(|m| self.files as u64 > m);
        let too_big = self.max_size_bytes.is_some_and(|m| self.largest_bytes > m + OVERSHOOT);
        (too_many || too_big).then(|| {
            format!(
                "logs are not bounded: {} files, the largest {} bytes (max-file {}, max-size {} bytes)",
                self.files,
                self.largest_bytes,
                self.max_file.map(|m| m.to_string()).unwrap_or("unset".into()),
                self.max_size_bytes.map(|m| m.to_string()).unwrap_or("unset".into())
            )
        })
    }
}

/// `inspect` is the container's `docker inspect` entry.
pub fn read(inspect: &Value) -> Option<Logs> {
    let config = inspect.pointer("/HostConfig/LogConfig")?;
    if config.get("Type").and_then(Value::as_str) != Some("json-file") {
        return None;
    }
    let path = std::path::Path::new(inspect.get("LogPath")?.as_str()?);
    let name = path.file_name()?.to_str()?;
    let mut files = 0;
    let mut largest = 0;
    for entry in std::fs::read_dir(path.parent()?).ok()?.flatten() {
        if entry.file_name().to_str().is_some_and(|n| n.starts_with(name)) {
            files += 1;
            largest = largest.max(entry.metadata().map(|m| m.len()).unwrap_or(0));
        }
    }
    let option = |key: &str| config.pointer(&format!("/Config/{key}")).and_then(Value::as_str);
    Some(Logs {
        files,
        largest_bytes: largest,
        max_file: option("max-file").and_then(|m| m.parse().ok()),
        max_size_bytes: option("max-size").and_then(|s| units::bytes(&yaml_serde::Value::from(s))).map(|b| b as u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_too_many_is_a_problem() {
        let logs = Logs { files: 4, largest_bytes: 10_000, max_file: Some(3), max_size_bytes: Some(10_240) };
        assert!(logs.problem().is_some());
        assert_eq!(Logs { files: 3, ..logs }.problem(), None);
    }
}
