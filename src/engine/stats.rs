//! The Engine API's streamed stats, one connection per container over the local socket: a
//! sample about every second, with no process started per sample. The client is the few
//! lines of HTTP/1.1 the stream needs (a GET, then chunked JSON lines).

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One reading of one container.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: SystemTime,
    /// As `docker stats` counts it: usage less inactive page cache (`total_inactive_file`
    /// on cgroup v1, `inactive_file` on v2).
    pub memory: u64,
    /// cgroup v1's `max_usage`: the high-water mark, page cache included (v2 has none).
    pub max_usage: Option<u64>,
    /// CPU time used since the previous reading, as a share of one core.
    pub cpu: Option<f64>,
    /// Tasks: processes and threads, `docker exec` sessions and exec probes among them.
    pub pids: u64,
    /// CFS periods in which the container was throttled, so far.
    pub throttled_periods: u64,
}

/// The socket of a `unix://` endpoint.
pub fn socket(endpoint: &str) -> Result<PathBuf, String> {
    endpoint
        .strip_prefix("unix://")
        .map(PathBuf::from)
        .ok_or_else(|| format!("the engine endpoint is {endpoint}; sampling reads the local socket (unix://) only"))
}

/// An open stats stream; [`Stream::closer`] ends it from another thread.
pub struct Stream {
    reader: BufReader<UnixStream>,
    chunked: bool,
    pending: Vec<u8>,
}

impl Stream {
    pub fn open(socket: &Path, id: &str) -> Result<Stream, String> {
        let mut conn =
            UnixStream::connect(socket).map_err(|e| format!("cannot reach the engine at {}: {e}", socket.display()))?;
        write!(conn, "GET /containers/{id}/stats?stream=true HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
            .map_err(|e| format!("cannot ask the engine for stats: {e}"))?;
        let mut reader = BufReader::new(conn);
        let mut status = String::new();
        reader.read_line(&mut status).map_err(|e| format!("no answer from the engine: {e}"))?;
        if !status.starts_with("HTTP/1.1 200") && !status.starts_with("HTTP/1.0 200") {
            return Err(format!("the engine refused the stats of {id}: {}", status.trim()));
        }
        let mut chunked = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 || line.trim().is_empty() {
                break;
            }
            let lower = line.to_ascii_lowercase();
            chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
        }
        Ok(Stream { reader, chunked, pending: Vec::new() })
    }

    /// A handle that ends the stream (its reads then return), for another thread.
    pub fn closer(&self) -> Option<UnixStream> {
        self.reader.get_ref().try_clone().ok()
    }

    /// The next sample; None when the stream has ended.
    pub fn next_sample(&mut self) -> Option<Sample> {
        loop {
            if let Some(at) = self.pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=at).collect();
                match serde_json::from_slice::<Value>(&line) {
                    Ok(v) => match sample(&v) {
                        Some(s) => return Some(s),
                        None => continue,
                    },
                    Err(_) => continue,
                }
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// Reads the next piece of the body into `pending`; false at its end.
    fn fill(&mut self) -> bool {
        if !self.chunked {
            let mut buf = [0u8; 8192];
            return match self.reader.read(&mut buf) {
                Ok(0) | Err(_) => false,
                Ok(n) => {
                    self.pending.extend_from_slice(&buf[..n]);
                    true
                }
            };
        }
        let mut size = String::new();
        if self.reader.read_line(&mut size).unwrap_or(0) == 0 {
            return false;
        }
        let Ok(n) = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16) else { return false };
        if n == 0 {
            return false;
        }
        let mut chunk = vec![0u8; n + 2];
        if self.reader.read_exact(&mut chunk).is_err() {
            return false;
        }
        chunk.truncate(n);
        self.pending.extend_from_slice(&chunk);
        true
    }
}

/// A sample from one stats object; None for one that holds no reading (a stopped container).
pub fn sample(v: &Value) -> Option<Sample> {
    let memory = &v["memory_stats"];
    let usage = memory["usage"].as_u64()?;
    let stats = &memory["stats"];
    let inactive = stats["total_inactive_file"].as_u64().or_else(|| stats["inactive_file"].as_u64()).unwrap_or(0);
    let cpu = &v["cpu_stats"];
    let pre = &v["precpu_stats"];
    let used = cpu["cpu_usage"]["total_usage"].as_u64()?;
    let cores = cpu["online_cpus"].as_u64().filter(|n| *n > 0).unwrap_or(1) as f64;
    let share = match (
        cpu["system_cpu_usage"].as_u64(),
        pre["system_cpu_usage"].as_u64(),
        pre["cpu_usage"]["total_usage"].as_u64(),
    ) {
        (Some(system), Some(pre_system), Some(pre_used)) if system > pre_system && pre_used > 0 => {
            Some(used.saturating_sub(pre_used) as f64 / (system - pre_system) as f64 * cores)
        }
        _ => None,
    };
    let at = chrono_free_time(v["read"].as_str().unwrap_or("")).unwrap_or_else(SystemTime::now);
    Some(Sample {
        at,
        memory: usage.saturating_sub(inactive.min(usage)),
        max_usage: memory["max_usage"].as_u64(),
        cpu: share,
        pids: v["pids_stats"]["current"].as_u64().unwrap_or(0),
        throttled_periods: cpu["throttling_data"]["throttled_periods"].as_u64().unwrap_or(0),
    })
}

/// An RFC 3339 UTC time (`2026-12-01T15:00:12.409605683Z`) as a SystemTime.
fn chrono_free_time(text: &str) -> Option<SystemTime> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let d: Vec<i64> = date.split('-').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let t: Vec<i64> = hms.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    if d.len() != 3 || t.len() != 3 || d[0] < 1970 {
        return None;
    }
    // Days since 1970-01-01 (the civil-from-days algorithm, inverted).
    let (y, m) = if d[1] <= 2 { (d[0] - 1, d[1] + 9) } else { (d[0], d[1] - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2];
    let nanos: u32 = format!("{:0<9}", &frac[..frac.len().min(9)]).parse().unwrap_or(0);
    Some(SystemTime::UNIX_EPOCH + std::time::Duration::new(u64::try_from(secs).ok()?, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_counts_memory_as_docker_stats_does() {
        let v: Value = serde_json::from_str(
            r#"{"read":"2026-12-01T15:00:12.5Z","pids_stats":{"current":7},
            "cpu_stats":{"cpu_usage":{"total_usage":3000000000},"system_cpu_usage":20000000000,"online_cpus":2,
              "throttling_data":{"throttled_periods":4}},
            "precpu_stats":{"cpu_usage":{"total_usage":2000000000},"system_cpu_usage":18000000000},
            "memory_stats":{"usage":104857600,"max_usage":209715200,"stats":{"total_inactive_file":4194304}}}"#,
        )
        .expect("json");
        let s = sample(&v).expect("a reading");
        assert_eq!(s.memory, 96 * 1024 * 1024, "usage less inactive page cache");
        assert_eq!(s.cpu, Some(1.0));
        assert_eq!((s.pids, s.throttled_periods, s.max_usage), (7, 4, Some(209715200)));
        let secs = s.at.duration_since(SystemTime::UNIX_EPOCH).expect("after 1970").as_secs_f64();
        assert_eq!(secs, 1_796_137_212.5);
    }
}
