//! Sizing files: what `compose-harden measure` saw each service use, and the limits
//! `apply --sizing` turns that into. The lesson: "set limits slightly above the
//! application's peak usage, measured under load testing": the limit is the peak with
//! headroom (1.2-1.5, 1.3 by default), the reservation the median.

use crate::units::MIB;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub const VERSION: u32 = 1;

/// The first lines of every sizing file.
pub const HEADER: &str = "# Written by `compose-harden measure`; read by `compose-harden apply --sizing`.\n\
                          # Format version 1: see the README, \"Sizing from measurement\".\n";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sizing {
    pub version: u32,
    pub project: String,
    pub window: Window,
    pub host: Host,
    pub services: IndexMap<String, Service>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// RFC 3339, UTC.
    pub start: String,
    pub seconds: f64,
    /// The engine streams a reading about every second; a spike between two is missed.
    pub interval_seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    pub cpus: u64,
    pub memory_bytes: u64,
    pub cgroup_version: String,
    pub engine: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub image: String,
    /// The image's ID on the engine (its content digest).
    pub digest: String,
    /// Each replica is sampled on its own; the figures are per container.
    pub containers: Vec<String>,
    pub samples: usize,
    pub seconds: f64,
    /// Usage less inactive page cache, as `docker stats` counts it.
    pub memory_bytes: Figures,
    /// Share of one core.
    pub cpu: Figures,
    pub pids: Figures,
    /// cgroup v1's high-water mark, page cache included (not used for sizing).
    #[serde(default)]
    pub max_usage_bytes: Option<u64>,
    /// Where the memory peak came from: the container and the reading.
    #[serde(default)]
    pub memory_peak: Option<Peak>,
    /// The CPU limit throttled it in the window: its CPU figures are only a floor.
    pub cpu_throttled: bool,
    /// OOM-killed in the window: its memory figures are only a floor.
    pub oom_killed: bool,
    pub restarts: u64,
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Figures {
    pub peak: f64,
    pub p95: f64,
    pub p50: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peak {
    pub container: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub at: String,
    pub container: String,
    /// `start`, `restart`, `die`, `oom`, or `appeared` (a container that came up in the
    /// window: a scale-up or a replacement).
    pub what: String,
}

impl Figures {
    /// Peak, 95th and 50th percentile (nearest rank) and mean of some readings.
    pub fn of(values: &[f64]) -> Figures {
        if values.is_empty() {
            return Figures::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        Figures {
            peak: sorted[sorted.len() - 1],
            p95: rank(0.95),
            p50: rank(0.50),
            mean: values.iter().sum::<f64>() / values.len() as f64,
        }
    }
}

/// The fewest samples, and the shortest window, a service is sized from.
pub const MIN_SAMPLES: usize = 30;
pub const MIN_SECONDS: f64 = 60.0;

/// What a measurement gives one service, with the evidence in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Sized {
    pub memory_limit: String,
    pub memory_reservation: String,
    pub cpus: String,
    pub pids: u64,
    pub evidence: String,
    /// The pids limit's evidence (written only where the profile sets pids limits).
    pub pids_evidence: String,
}

/// The limits for one measured service, or why it is not sized.
pub fn size(s: &Service, host: &Host, headroom: f64, unit_bytes: f64) -> Result<Sized, String> {
    if s.oom_killed {
        return Err(
            "it was OOM-killed in the window, so its peak is only a floor; raise its limit and measure again".into()
        );
    }
    if s.samples < MIN_SAMPLES {
        return Err(format!("{} samples, fewer than {MIN_SAMPLES}", s.samples));
    }
    if s.seconds < MIN_SECONDS {
        return Err(format!("a window of {:.0} s, under {MIN_SECONDS:.0} s", s.seconds));
    }
    let banded = band_limit(s.memory_bytes.peak, headroom, unit_bytes);
    // The floors that may lift the limit above the band, in order, each reported where it
    // decides: the engine's minimum here; then, in the resources pass, which sees the
    // service's keys, the JVM heap rule and room beyond `shm_size` and sized tmpfs mounts
    // (their pages count against the limit): a limit that leaves less than the measured
    // median beyond them is raised to them plus the median (`resources/room`).
    let limit = banded.max(ENGINE_MINIMUM_MIB * MIB);
    let reservation = (s.memory_bytes.p50 / MIB).ceil().max(ENGINE_MINIMUM_MIB);
    let cpus = (s.cpu.p95 * headroom).max(0.1).min(host.cpus.max(1) as f64);
    let pids = ((s.pids.peak * headroom).ceil() as u64).max(256);
    let cpus_text =
        format!("{:.2}", (cpus * 100.0).ceil() / 100.0).trim_end_matches('0').trim_end_matches('.').to_string();
    let memory_limit = format!("{}M", (limit / MIB).round() as u64);
    let lifted = match limit > banded {
        true => format!(", the engine's minimum ({}M with headroom)", (banded / MIB).round() as u64),
        false => String::new(),
    };
    let floor = if s.cpu_throttled { " (CPU throttled: its p95 is only a floor)" } else { "" };
    let evidence = format!(
        "peak {} MiB over {}, {} samples -> {memory_limit}{lifted}; p50 {} MiB -> reservation {}M; cpu p95 {:.2}{floor} -> {cpus_text}",
        (s.memory_bytes.peak / MIB).round() as u64,
        window_text(s.seconds),
        s.samples,
        (s.memory_bytes.p50 / MIB).round() as u64,
        reservation as u64,
        s.cpu.p95,
    );
    let pids_evidence = format!("pids peak {} -> {pids}", s.pids.peak as u64);
    Ok(Sized {
        memory_limit,
        memory_reservation: format!("{}M", reservation as u64),
        cpus: cpus_text,
        pids,
        evidence,
        pids_evidence,
    })
}

/// The engine refuses a memory limit or reservation under 6 MiB.
const ENGINE_MINIMUM_MIB: f64 = 6.0;
/// The lesson's band: a limit 20-50% above the measured peak.
const HEADROOM_BAND: (f64, f64) = (1.2, 1.5);

/// The peak times the headroom, rounded up to the largest step that keeps it inside the
/// band: the profile's unit where it can (128M), else halves of it down to 1 MiB (a 102 MiB
/// peak at 1.3 gives 144M, where the 128M unit would give 256M, 2.5 times the peak). Where
/// even a MiB more would leave the band (a headroom of 1.5), the MiB below.
fn band_limit(peak: f64, headroom: f64, unit: f64) -> f64 {
    let (target, most) = (peak * headroom, peak * HEADROOM_BAND.1);
    let mut step = (unit / MIB).floor().max(1.0) * MIB;
    loop {
        let up = (target / step).ceil() * step;
        if up <= most {
            return up.max(MIB);
        }
        if step <= MIB {
            return (target / MIB).floor().max(1.0) * MIB;
        }
        step = (step / 2.0 / MIB).floor().max(1.0) * MIB;
    }
}

fn window_text(seconds: f64) -> String {
    match seconds {
        s if s >= 120.0 => format!("{:.0} min", s / 60.0),
        s => format!("{s:.0} s"),
    }
}

pub fn parse(file: &str, text: &str) -> Result<Sizing, crate::Error> {
    let sizing: Sizing = yaml_serde::from_str(text).map_err(|e| match e.location() {
        Some(l) => crate::Error::at(file, l.line(), l.column(), format!("invalid sizing file: {e}")),
        None => crate::Error::new(file, format!("invalid sizing file: {e}")),
    })?;
    if sizing.version != VERSION {
        return Err(crate::Error::new(
            file,
            format!("sizing file version {} is not {VERSION}, the one this compose-harden reads", sizing.version),
        ));
    }
    Ok(sizing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(peak_mib: f64, samples: usize, seconds: f64) -> Service {
        let mib = 1024.0 * 1024.0;
        Service {
            image: "app:1".into(),
            digest: "sha256:0".into(),
            containers: vec!["p-app-1".into()],
            samples,
            seconds,
            memory_bytes: Figures { peak: peak_mib * mib, p95: 400.0 * mib, p50: 300.0 * mib, mean: 310.0 * mib },
            cpu: Figures { peak: 0.9, p95: 0.5, p50: 0.2, mean: 0.25 },
            pids: Figures { peak: 30.0, p95: 28.0, p50: 20.0, mean: 21.0 },
            max_usage_bytes: None,
            memory_peak: None,
            cpu_throttled: false,
            oom_killed: false,
            restarts: 0,
            events: Vec::new(),
        }
    }

    #[test]
    fn the_lessons_example_a_412_mib_peak_gives_576m() {
        let host = Host { cpus: 2, memory_bytes: 0, cgroup_version: "1".into(), engine: "20.10".into() };
        let sized = size(&measured(412.0, 600, 600.0), &host, 1.3, crate::units::memory_unit_bytes()).expect("sized");
        // 412 x 1.3 = 535.6 MiB: 640M (the 128M unit) would be 1.55 times the peak; 576M is 1.40.
        assert_eq!(sized.memory_limit, "576M");
        assert_eq!(sized.memory_reservation, "300M");
        assert_eq!(sized.cpus, "0.65");
        assert_eq!(sized.pids, 256, "the floor");
        assert_eq!(sized.pids_evidence, "pids peak 30 -> 256");
        assert_eq!(
            sized.evidence,
            "peak 412 MiB over 10 min, 600 samples -> 576M; p50 300 MiB -> reservation 300M; cpu p95 0.50 -> 0.65"
        );
        assert!(size(&measured(412.0, 29, 600.0), &host, 1.3, 1.0).is_err());
        // A service that uses almost nothing still gets what the engine accepts.
        let mut idle = measured(0.2, 600, 600.0);
        idle.memory_bytes.p50 = 0.1 * 1024.0 * 1024.0;
        let sized = size(&idle, &host, 1.3, crate::units::memory_unit_bytes()).expect("sized");
        assert_eq!((sized.memory_limit.as_str(), sized.memory_reservation.as_str()), ("6M", "6M"));
        assert!(sized.evidence.contains("-> 6M, the engine's minimum (1M with headroom)"), "{}", sized.evidence);
        assert!(size(&measured(412.0, 600, 59.0), &host, 1.3, 1.0).is_err());
    }

    /// The lesson's band: 20-50% above the peak, at least the headroom asked for (up to the
    /// last MiB), for peaks from 8 MiB to 64 GiB.
    #[test]
    fn the_limit_stays_inside_the_lessons_band() {
        let host = Host { cpus: 2, memory_bytes: 0, cgroup_version: "1".into(), engine: "20.10".into() };
        let mib = 1024.0 * 1024.0;
        let mut checked = 0;
        let mut peak: f64 = 8.0 * mib;
        while peak <= 64.0 * 1024.0 * mib {
            for odd in [1.0, 1.013, 1.37, 1.61, 1.93] {
                let peak = (peak * odd).min(64.0 * 1024.0 * mib);
                for headroom in [1.2, 1.25, 1.3, 1.4, 1.45, 1.5] {
                    let mut service = measured(1.0, 600, 600.0);
                    service.memory_bytes.peak = peak;
                    service.memory_bytes.p50 = peak / 2.0;
                    let sized = size(&service, &host, headroom, 128.0 * mib).expect("sized");
                    let limit: f64 = sized.memory_limit.trim_end_matches('M').parse::<f64>().expect("MiB") * mib;
                    let ratio = limit / peak;
                    let what = format!("peak {:.1} MiB x {headroom}: {} ({ratio:.3})", peak / mib, sized.memory_limit);
                    assert!((1.2..=1.5).contains(&ratio), "outside the band: {what}");
                    assert!(limit >= peak * headroom - mib, "below the headroom: {what}");
                    checked += 1;
                }
            }
            peak *= 2.0;
        }
        assert!(checked > 400, "{checked}");
    }

    #[test]
    fn figures_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(Figures::of(&values), Figures { peak: 100.0, p95: 95.0, p50: 50.0, mean: 50.5 });
    }
}
