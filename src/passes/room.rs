//! What a service keeps in memory besides its processes: `/dev/shm` (`shm_size`) and
//! sized tmpfs mounts hold their pages in memory, counted against the memory limit (a
//! 512M limit beside a 1 GiB `/dev/shm` is killed once about 509 MiB are written there,
//! measured). A limit must leave room beyond them for the service itself.

use super::resources::text;
use super::Service;
use crate::document::lookup;
use crate::units::{bytes, interpolated, MIB};
use yaml_serde::Value;

/// The memory a service's mounts may hold, each with where it is written.
pub struct Held {
    /// (path to the value, how it reads in a message, bytes).
    pub parts: Vec<(Vec<String>, String, f64)>,
    /// A size known only once interpolated (`shm_size: ${SHM}`): its path and text.
    pub unknown: Option<(Vec<String>, String)>,
}

impl Held {
    pub fn of(service: &Service) -> Held {
        let mut held = Held { parts: Vec::new(), unknown: None };
        // One pass over the service's keys: every service with a memory limit is asked.
        let (mut shm, mut tmpfs, mut volumes) = (None, None, None);
        for (key, value) in service.value {
            match key.as_str() {
                Some("shm_size") => shm = Some(value),
                Some("tmpfs") => tmpfs = Some(value),
                Some("volumes") => volumes = value.as_sequence(),
                _ => {}
            }
        }
        if let Some(shm) = shm {
            held.add(vec!["shm_size".into()], format!("`shm_size: {}`", text(shm)), shm);
        }
        let tmpfs = match tmpfs {
            Some(Value::String(one)) => vec![(0, one.as_str())],
            Some(Value::Sequence(items)) => {
                items.iter().enumerate().filter_map(|(i, t)| Some((i, t.as_str()?))).collect()
            }
            _ => Vec::new(),
        };
        for (i, entry) in tmpfs {
            let (target, options) = entry.split_once(':').unwrap_or((entry, ""));
            if let Some(size) = options.split(',').find_map(|o| o.strip_prefix("size=")) {
                let path = vec!["tmpfs".to_string(), i.to_string()];
                held.add(path, format!("the tmpfs at `{target}`"), &Value::from(size));
            }
        }
        for (i, volume) in volumes.into_iter().flatten().enumerate() {
            let Value::Mapping(m) = volume else { continue };
            if lookup::get(m, "type").and_then(Value::as_str) != Some("tmpfs") {
                continue;
            }
            let size = lookup::get(m, "tmpfs").and_then(|t| lookup::field(t, "size"));
            if let Some(size) = size {
                let target = lookup::get(m, "target").and_then(Value::as_str).unwrap_or("?");
                held.add(vec!["volumes".into(), i.to_string()], format!("the tmpfs at `{target}`"), size);
            }
        }
        held
    }

    fn add(&mut self, path: Vec<String>, what: String, size: &Value) {
        match bytes(size) {
            Some(b) if b > 0.0 => self.parts.push((path, what, b)),
            // `%` of the host's memory, or a size Compose interpolates: not known here.
            _ if self.unknown.is_none() && (size.as_str().is_some_and(|s| interpolated(s) || s.ends_with('%'))) => {
                self.unknown = Some((path, what));
            }
            _ => {}
        }
    }

    pub fn bytes(&self) -> f64 {
        self.parts.iter().map(|(_, _, b)| b).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty() && self.unknown.is_none()
    }

    /// Where a finding about them points: the first.
    pub fn path(&self) -> Vec<&str> {
        let first = self.unknown.as_ref().map(|(p, _)| p).or(self.parts.first().map(|(p, _, _)| p));
        first.map(|p| p.iter().map(String::as_str).collect()).unwrap_or_default()
    }

    /// `` `shm_size: 2gb` (2048 MiB) ``, or `` a (N MiB) and b (M MiB) (N+M MiB in all) ``.
    pub fn listed(&self) -> String {
        let each: Vec<String> = self.parts.iter().map(|(_, what, b)| format!("{what} ({})", mib(*b))).collect();
        match each.as_slice() {
            [rest @ .., last] if !rest.is_empty() => {
                format!("{} and {last} ({} in all)", rest.join(", "), mib(self.bytes()))
            }
            _ => each.join(""),
        }
    }

    /// "counts" for one, "count" for several.
    pub fn verb(&self) -> &'static str {
        if self.parts.len() == 1 {
            "counts"
        } else {
            "count"
        }
    }
}

pub fn mib(b: f64) -> String {
    format!("{:.0} MiB", (b / MIB).round())
}

#[cfg(test)]
mod tests {
    use super::super::{Matchers, Relations, Signs};
    use super::*;
    use crate::profile::Profile;

    /// What `Held` reads of a service: (what, MiB) for each part, and the unknown one.
    fn held(yaml: &str) -> (Vec<(String, f64)>, Option<String>) {
        let value: yaml_serde::Mapping = yaml_serde::from_str(yaml).expect("a mapping");
        let profile: Profile = yaml_serde::from_str("{}").expect("an empty profile");
        let relations = Relations::default();
        let signs = Signs::of("s", &value, &relations, &profile, &Matchers::of(&profile), None);
        let service = Service {
            name: "s",
            value: &value,
            relations: &relations,
            profile: &profile,
            enforce: false,
            signs: &signs,
            facts: None,
            facts_at_hand: false,
            proven: None,
            version: None,
        };
        let held = Held::of(&service);
        let parts = held.parts.iter().map(|(_, what, b)| (what.clone(), b / MIB)).collect();
        (parts, held.unknown.map(|(_, what)| what))
    }

    #[test]
    fn shm_and_sized_tmpfs_mounts_are_held_in_memory() {
        let (parts, unknown) = held(
            "{shm_size: 1gb, tmpfs: ['/run', '/tmp:size=64m,mode=1777'], volumes: [\
             {type: tmpfs, target: /scratch, tmpfs: {size: 1048576}}, {type: tmpfs, target: /x}, 'data:/data']}",
        );
        let want = [("`shm_size: 1gb`", 1024.0), ("the tmpfs at `/tmp`", 64.0), ("the tmpfs at `/scratch`", 1.0)];
        assert_eq!(parts, want.map(|(w, m)| (w.to_string(), m)));
        assert_eq!(unknown, None, "an unsized tmpfs holds nothing the file bounds");
        assert_eq!(held("{tmpfs: '/tmp:size=32m'}").0, [("the tmpfs at `/tmp`".to_string(), 32.0)]);
        assert_eq!(held("{shm_size: '${SHM}'}").1.as_deref(), Some("`shm_size: ${SHM}`"));
        assert_eq!(held("{tmpfs: ['/tmp:size=50%']}").1.as_deref(), Some("the tmpfs at `/tmp`"));
        assert_eq!(held("{image: x}"), (Vec::new(), None));
    }
}
