//! Whom `docker stop`'s SIGTERM reaches: PID 1, or the process tini (`init: true`) hands
//! it to. A shell there that runs the app as its child, instead of exec'ing it, takes the
//! signal and dies (or, as PID 1, ignores it); the app is killed without its handler running.

use crate::engine::Process;

const SHELLS: &[&str] = &["sh", "ash", "dash", "bash", "zsh", "ksh", "mksh"];
const INITS: &[&str] = &["docker-init", "tini", "tini-static", "dumb-init"];

#[derive(Debug, PartialEq)]
pub struct Signalled {
    /// The process SIGTERM is delivered to (after an init, its child).
    pub receiver: String,
    /// Set when the receiver is a shell with a child: the child, the app that never hears it.
    pub app_behind_shell: Option<String>,
}

impl Signalled {
    pub fn reaches_app(&self) -> bool {
        self.app_behind_shell.is_none()
    }
}

/// `root` is the container's PID 1 on the host (`State.Pid`).
pub fn signalled(processes: &[Process], root: u64) -> Option<Signalled> {
    let children = |pid: u64| processes.iter().filter(move |p| p.ppid == pid);
    let mut receiver = processes.iter().find(|p| p.pid == root)?;
    if INITS.contains(&receiver.comm.as_str()) {
        receiver = children(receiver.pid).next()?;
    }
    let app_behind_shell = if SHELLS.contains(&receiver.comm.as_str()) {
        // The longest-lived child is the app. A shell whose children are only `sleep` is a
        // script that is itself the app (a loop that traps).
        children(receiver.pid).filter(|p| p.comm != "sleep").min_by_key(|p| p.pid).map(|p| p.comm.clone())
    } else {
        None
    };
    Some(Signalled { receiver: receiver.comm.clone(), app_behind_shell })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: u64, ppid: u64, comm: &str) -> Process {
        Process { pid, ppid, comm: comm.into(), args: comm.into() }
    }

    #[test]
    fn a_shell_under_tini_stands_before_the_app() {
        let tree = [p(10, 1, "docker-init"), p(11, 10, "sh"), p(12, 11, "perl")];
        let got = signalled(&tree, 10).unwrap();
        assert_eq!(got, Signalled { receiver: "sh".into(), app_behind_shell: Some("perl".into()) });
        assert!(!got.reaches_app());
    }

    #[test]
    fn an_exec_d_app_hears_the_signal() {
        let tree = [p(10, 1, "docker-init"), p(11, 10, "perl")];
        assert!(signalled(&tree, 10).unwrap().reaches_app());
        // A shell with no child is the app itself (a script that traps).
        assert!(signalled(&[p(20, 1, "sh")], 20).unwrap().reaches_app());
        assert!(signalled(&[p(20, 1, "sh"), p(21, 20, "sleep")], 20).unwrap().reaches_app());
    }
}
