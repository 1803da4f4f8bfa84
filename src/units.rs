//! The value formats Compose and the engine read: durations, sizes, CPUs, signals, ulimits
//! and restart policies. Profiles are checked with these before anything is written, and
//! passes compare and write amounts with them.

use yaml_serde::Value;

/// A mebibyte: sizes are counted in units of 1024, as Compose and Docker count them.
pub const MIB: f64 = 1024.0 * 1024.0;

/// What a memory limit sized from a JVM heap or a measurement is rounded up to, where the
/// profile names no other `resources.unit`.
pub const MEMORY_UNIT: &str = "128M";

/// [`MEMORY_UNIT`] in bytes.
pub fn memory_unit_bytes() -> f64 {
    bytes(&Value::from(MEMORY_UNIT)).unwrap_or(MIB)
}

/// Bytes in a Compose size such as `512M`, `1g`, `1.5GB` or a plain number (units of 1024).
pub fn bytes(v: &Value) -> Option<f64> {
    let s = match v {
        Value::Number(n) => return n.as_f64(),
        Value::String(s) => s.trim().to_ascii_lowercase(),
        _ => return None,
    };
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let number: f64 = number.parse().ok()?;
    let unit = unit.trim().trim_end_matches("ib").trim_end_matches('b');
    let power = match unit {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        _ => return None,
    };
    Some(number * 1024f64.powi(power))
}

/// Bytes as a Compose size: whole GiB as `G`, else MiB (rounded up) as `M`.
pub fn size_text(bytes: f64) -> String {
    let mib = (bytes / MIB).ceil() as u64;
    if mib % 1024 == 0 {
        format!("{}G", mib / 1024)
    } else {
        format!("{mib}M")
    }
}

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

/// A CPU count as Compose writes it (`0.5`, `"2"`); whether `cpus` takes it (a positive
/// number) is the caller's check.
pub fn cpus(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A legacy resource key and the `deploy.resources` leaf it stands for. Compose compares
/// the two as it loads a file for `up` (after interpolation, so `config --no-interpolate`
/// misses it): a non-zero legacy value beside a `limits` (or `reservations`) block is
/// refused unless the block repeats it, even where the block leaves that leaf out ("can't
/// set distinct values on 'pids_limit' and 'deploy.resources.limits.pids'"). The others
/// (`cpu_shares`, `cpu_quota`, `memswap_limit`, ...) are not compared; `memswap_limit`
/// without `mem_limit` is the engine's refusal, at create.
pub struct Legacy {
    pub key: &'static str,
    /// `limits` or `reservations`.
    pub block: &'static str,
    pub leaf: &'static str,
    amount: fn(&Value) -> Option<f64>,
}

/// Every pair Compose compares (compose-go's `loader/validate.go`).
pub const LEGACY: [Legacy; 4] = [
    Legacy { key: "cpus", block: "limits", leaf: "cpus", amount: cpus },
    Legacy { key: "mem_limit", block: "limits", leaf: "memory", amount: bytes },
    Legacy { key: "pids_limit", block: "limits", leaf: "pids", amount: cpus },
    Legacy { key: "mem_reservation", block: "reservations", leaf: "memory", amount: bytes },
];

impl Legacy {
    /// Whether `value` may be non-zero once Compose has read it: anything but a zero, a
    /// null or a `!reset` (a `${VAR}` may be anything).
    pub fn counts(&self, value: &Value) -> bool {
        !matches!(value, Value::Null | Value::Tagged(_)) && (self.amount)(value) != Some(0.0)
    }

    /// Whether a leaf holds the legacy value: Some(true) or Some(false) where both are
    /// known, None where either is known only after interpolation.
    pub fn same(&self, legacy: &Value, leaf: &Value) -> Option<bool> {
        Some((self.amount)(legacy)? == (self.amount)(leaf)?)
    }
}

/// The conflict Compose refuses in a service as written (merges applied), where it is
/// certain: a non-zero legacy value beside its block, which leaves the leaf out or holds
/// another amount. Values known only after interpolation are not judged.
pub fn legacy_conflict(service: &yaml_serde::Mapping) -> Option<&'static Legacy> {
    // Keys compared, not hashed: most services have no `deploy`, and few keys.
    fn field<'a>(map: &'a yaml_serde::Mapping, key: &str) -> Option<&'a Value> {
        map.iter().find(|(k, _)| k.as_str() == Some(key)).map(|e| e.1)
    }
    let resources = field(service, "deploy")?.get("resources")?;
    LEGACY.iter().find(|l| {
        let (Some(value), Some(block)) = (field(service, l.key), resources.get(l.block)) else { return false };
        if !block.is_mapping() || !l.counts(value) || value.as_str().is_some_and(interpolated) {
            return false;
        }
        match block.get(l.leaf) {
            None | Some(Value::Null) => true,
            Some(leaf) => l.same(value, leaf) == Some(false),
        }
    })
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

/// A `restart` value the engine runs: `no`, `always`, `on-failure[:N]`, `unless-stopped`
/// (or one known only once interpolated).
pub fn valid_restart(value: &str) -> bool {
    if interpolated(value) {
        return true;
    }
    match value.split_once(':') {
        Some(("on-failure", n)) => n.parse::<u32>().is_ok(),
        _ => matches!(value, "no" | "always" | "on-failure" | "unless-stopped"),
    }
}

/// Whether a string holds `${VAR}` or `$VAR` (not just the `$$` escape).
pub fn interpolated(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            match b.get(i + 1) {
                Some(b'$') => i += 2,
                Some(c) if *c == b'{' || *c == b'_' || c.is_ascii_alphabetic() => return true,
                _ => i += 1,
            }
        } else {
            i += 1;
        }
    }
    false
}

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
        assert_eq!(cpus(&Value::from("0.5")), Some(0.5));
        assert_eq!(cpus(&Value::from(" 2 ")), Some(2.0));
        assert_eq!(cpus(&Value::from("lots")), None);
    }

    #[test]
    fn legacy_keys_beside_a_block_that_does_not_repeat_them() {
        let service = |text: &str| yaml_serde::from_str::<yaml_serde::Mapping>(text).expect("a mapping");
        let conflict = |text: &str| legacy_conflict(&service(text)).map(|l| l.key);
        let limits = "deploy: {resources: {limits: {memory: 512M}}}";
        assert_eq!(conflict(&format!("{{pids_limit: 200, {limits}}}")), Some("pids_limit"));
        assert_eq!(conflict(&format!("{{cpus: 2, {limits}}}")), Some("cpus"));
        assert_eq!(conflict(&format!("{{mem_limit: 1g, {limits}}}")), Some("mem_limit"));
        assert_eq!(conflict(&format!("{{mem_limit: 512m, {limits}}}")), None, "the same amount");
        assert_eq!(conflict(&format!("{{pids_limit: 0, {limits}}}")), None, "zero is not compared");
        assert_eq!(conflict(&format!("{{pids_limit: null, {limits}}}")), None);
        assert_eq!(conflict(&format!("{{pids_limit: '${{PIDS}}', {limits}}}")), None, "known only once interpolated");
        assert_eq!(conflict("{mem_reservation: 1g, deploy: {resources: {reservations: {}}}}"), Some("mem_reservation"));
        assert_eq!(
            conflict("{mem_reservation: 1g, deploy: {resources: {limits: {cpus: '1'}}}}"),
            None,
            "another block"
        );
        assert_eq!(conflict("{cpus: 2, deploy: {resources: {limits: {cpus: '2.0'}}}}"), None);
        let pids = &LEGACY[2];
        assert!(
            pids.counts(&Value::from("${PIDS}")) && pids.counts(&Value::from(-1)) && !pids.counts(&Value::from("0"))
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes(&Value::from("512M")), Some(512.0 * MIB));
        assert_eq!(bytes(&Value::from("1.5GB")), Some(1536.0 * MIB));
        assert_eq!(bytes(&Value::from("10k")), Some(10240.0));
        assert_eq!(bytes(&Value::from(7)), Some(7.0));
        assert_eq!(bytes(&Value::from("lots")), None);
        assert_eq!(memory_unit_bytes(), 128.0 * MIB);
        assert_eq!(size_text(2048.0 * MIB), "2G");
        assert_eq!(size_text(1000.5 * MIB), "1001M");
    }
}
