//! The value formats Compose and the engine read: durations, sizes, CPUs, signals, ulimits
//! and restart policies. Profiles are checked with these before anything is written.

/// Go's duration text (`1m30s`, `500ms`) in seconds.
pub fn seconds(text: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut rest = text.trim();
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit..];
    }
    Some(total)
}

/// A CPU count as `cpus` takes it (`0.5`, `2`): a positive number.
pub fn cpus(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|c| c.is_finite() && *c > 0.0)
}

/// Signal names the engine knows (`SIGTERM` or `TERM`), real-time ones (`SIGRTMIN+3`) and
/// numbers 1-64.
pub fn signal(text: &str) -> bool {
    const NAMES: &[&str] = &[
        "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL", "PIPE", "POLL",
        "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU", "UNUSED",
        "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX",
    ];
    if let Ok(n) = text.parse::<u32>() {
        return (1..=64).contains(&n);
    }
    let name = text.strip_prefix("SIG").unwrap_or(text);
    let realtime = ["RTMIN+", "RTMAX-"]
        .iter()
        .any(|p| name.strip_prefix(p).and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| (1..=15).contains(&n)));
    NAMES.contains(&name) || realtime
}

/// The ulimit names the engine accepts.
pub const ULIMITS: &[&str] = &[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(seconds("1m30s"), Some(90.0));
        assert_eq!(seconds("500ms"), Some(0.5));
        assert_eq!(seconds("1h"), Some(3600.0));
        assert_eq!(seconds("0"), Some(0.0));
        assert_eq!(seconds("10x"), None);
        assert_eq!(seconds("forever"), None);
        assert_eq!(seconds(""), None);
    }

    #[test]
    fn signals_and_cpus() {
        for good in ["SIGTERM", "TERM", "SIGQUIT", "SIGRTMIN+3", "15"] {
            assert!(signal(good), "{good}");
        }
        for bad in ["SIGFOO", "sigterm", "0", "99", "SIGRTMIN+30"] {
            assert!(!signal(bad), "{bad}");
        }
        assert_eq!(cpus("0.5"), Some(0.5));
        assert_eq!(cpus("lots"), None);
        assert_eq!(cpus("0"), None);
    }
}
