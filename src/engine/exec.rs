//! Running a command in a running container through the Engine API (`POST
//! /containers/{id}/exec`, then `/exec/{id}/start`, then its exit code), as the engine runs a
//! healthcheck; and freezing a container's app from the host (SIGSTOP, then SIGCONT), which
//! leaves the container up so that a probe still runs against the frozen app.

use super::api::{encode, Connection};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

/// What one run of a command in a container did.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The exit code; None when it did not finish in time.
    pub code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Ran {
    pub fn passed(&self) -> bool {
        self.code == Some(0)
    }

    /// `exit 1`, `no exit within 3 s`.
    pub fn describe(&self, within: Duration) -> String {
        match self.code {
            Some(code) => format!("exit {code}"),
            None => format!("no exit within {} s", within.as_secs()),
        }
    }
}

/// Runs `cmd` (words, no shell) in container `id`; gives up after `within`.
pub fn exec(socket: &Path, id: &str, cmd: &[String], within: Duration) -> Result<Ran, String> {
    let mut conn = Connection::open(socket)?;
    let body = json!({"Cmd": cmd, "AttachStdout": true, "AttachStderr": true, "Tty": false});
    let created = conn.call("POST", &format!("/containers/{}/exec", encode(id, "")), Some(&body))?;
    if created.status != 201 {
        return Err(format!("the engine cannot exec in {id}: {}", created.message()));
    }
    let exec_id = created.json()?["Id"].as_str().unwrap_or_default().to_string();
    let started = Instant::now();
    // The engine streams the output on this connection and closes it when the command ends.
    let mut stream = Connection::open(socket)?;
    stream.set_timeout(within);
    let output = stream.call("POST", &format!("/exec/{}/start", encode(&exec_id, "")), Some(&json!({"Detach": false})));
    let took = started.elapsed();
    let (stdout, stderr) = match &output {
        Ok(answer) => demux(&answer.body),
        Err(_) => Default::default(),
    };
    let code = match output {
        Ok(answer) if answer.status == 200 => {
            let state = conn.call("GET", &format!("/exec/{}/json", encode(&exec_id, "")), None)?.json()?;
            match state["Running"].as_bool() {
                Some(false) => state["ExitCode"].as_i64(),
                _ => None,
            }
        }
        Ok(answer) => return Err(format!("the engine cannot start an exec in {id}: {}", answer.message())),
        // The read timed out: the command is still running.
        Err(_) => None,
    };
    Ok(Ran { code, stdout, stderr, took })
}

/// The engine's multiplexed stream (an 8-byte header before each frame: stream, 0, 0, 0,
/// length) as stdout and stderr.
fn demux(bytes: &[u8]) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut rest = bytes;
    while rest.len() >= 8 {
        let length = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let frame = &rest[8..(8 + length).min(rest.len())];
        match rest[0] {
            2 => err.extend_from_slice(frame),
            _ => out.extend_from_slice(frame),
        }
        rest = &rest[(8 + length).min(rest.len())..];
    }
    (String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&err).into_owned())
}

/// Processes stopped with SIGSTOP, continued (SIGCONT) when dropped: on every path.
pub struct Frozen {
    pids: Vec<i32>,
}

impl Frozen {
    /// Stops each of `pids` (host pids). Fails when one cannot be signalled (not root?).
    pub fn freeze(pids: &[u64]) -> Result<Frozen, String> {
        let mut frozen = Frozen { pids: Vec::new() };
        for pid in pids {
            let pid = i32::try_from(*pid).map_err(|_| format!("pid {pid} is out of range"))?;
            // SAFETY: sends a signal to a process; no memory is touched.
            if unsafe { libc::kill(pid, libc::SIGSTOP) } != 0 {
                return Err(format!("cannot stop process {pid}: {}", std::io::Error::last_os_error()));
            }
            frozen.pids.push(pid);
        }
        Ok(frozen)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        for pid in &self.pids {
            // SAFETY: as above.
            unsafe { libc::kill(*pid, libc::SIGCONT) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_split_into_stdout_and_stderr() {
        let mut bytes = vec![1, 0, 0, 0, 0, 0, 0, 3];
        bytes.extend_from_slice(b"out");
        bytes.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 4]);
        bytes.extend_from_slice(b"err\n");
        bytes.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 9, b'x']);
        assert_eq!(demux(&bytes), ("outx".into(), "err\n".into()));
    }

    #[test]
    fn a_frozen_process_is_continued_when_dropped() {
        let mut child = std::process::Command::new("sleep").arg("5").spawn().expect("sleep runs");
        let state = |pid: u32| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.rsplit(')').next().and_then(|s| s.split_whitespace().next()).unwrap_or("").to_string()
        };
        {
            let _frozen = Frozen::freeze(&[u64::from(child.id())]).expect("frozen");
            std::thread::sleep(Duration::from_millis(100));
            assert_eq!(state(child.id()), "T");
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(state(child.id()), "S");
        let _ = child.kill();
        let _ = child.wait();
    }
}
