//! Running the engine's tools with a deadline, and stopping them when the user interrupts.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Set by SIGINT or SIGTERM: every wait ends early, so that teardown can run.
#[derive(Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Registers SIGINT and SIGTERM to set the flag instead of ending the process.
    pub fn on_signals() -> Cancel {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Registration fails only for a forbidden signal; these two are not.
            let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
        }
        Cancel(flag)
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Sleeps up to `d`, waking early when cancelled.
    pub fn sleep(&self, d: Duration) {
        let end = Instant::now() + d;
        while !self.is_set() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(50).min(end.saturating_duration_since(Instant::now())));
        }
    }
}

/// What a finished tool said.
pub struct Finished {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` with `input` on its stdin, killing it at `deadline` or when `cancel` is set
/// (when given: teardown passes none, so that an interrupt cannot cut it short).
pub fn run(
    mut cmd: Command,
    input: Option<&[u8]>,
    deadline: Option<Instant>,
    cancel: Option<&Cancel>,
) -> Result<Finished, String> {
    cmd.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let name = format!("{:?}", cmd.get_program());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {name}: {e}"))?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        let bytes = bytes.to_vec();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&bytes);
        });
    }
    let out = child.stdout.take().map(drain);
    let err = child.stderr.take().map(drain);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(e) => return Err(format!("cannot wait for {name}: {e}")),
        }
        let late = deadline.is_some_and(|d| Instant::now() >= d);
        if late || cancel.is_some_and(Cancel::is_set) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = |h: Option<std::thread::JoinHandle<String>>| h.and_then(|h| h.join().ok()).unwrap_or_default();
    Ok(Finished { ok: status.is_some_and(|s| s.success()), stdout: text(out), stderr: text(err) })
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
