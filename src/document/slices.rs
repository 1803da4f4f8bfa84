//! A large file's `services`, read a run at a time. yaml_serde keeps every event of a
//! text until it has read all of it (about ten times the text in memory), so a file of
//! thousands of services is read as its top level (with `services` emptied) plus runs of
//! services. The lines alone decide the split; [`Reading::fits`] then checks it against
//! the layout, and a file where anything differs is read whole instead.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use yaml_serde::{Mapping, Value};

use super::layout::{Kind, Layout};
use super::merge_keys;

/// The entries of a block mapping written under a key at column 1.
pub struct Entries {
    /// Where the key's own line (`services:`) starts.
    pub header: usize,
    pub indent: usize,
    /// Where each entry's first line starts.
    pub starts: Vec<usize>,
    /// Where the mapping ends: the next line at column 1 that is not a comment.
    pub end: usize,
}

impl Entries {
    /// `text` without the entries: the top level, with the mapping they form emptied.
    pub fn outside(&self, text: &str) -> String {
        let (first, end) = (self.starts[0], self.end);
        let mut rest = String::with_capacity(first + text.len() - end);
        rest.push_str(&text[..first]);
        rest.push_str(&text[end..]);
        rest
    }
}

/// The entries under the first line starting with `header` (`services:`): the lines at
/// `indent` spaces (by default, the first content line's). None if there are none.
pub fn entries(text: &str, header: &str, indent: Option<usize>) -> Option<Entries> {
    let (mut at, mut header_at, mut indent) = (0, None, indent);
    let (mut starts, mut end) = (Vec::new(), text.len());
    for line in lines(text) {
        let line_start = at;
        at += line.len();
        if header_at.is_none() {
            // The key alone on its line (a comment may follow): a tag, an anchor or a value
            // there would belong to the top level, which is read apart.
            let alone = line.strip_prefix(header).is_some_and(|rest| {
                let rest = rest.trim_start_matches([' ', '\t']);
                rest.starts_with('#') || rest.trim_end_matches(['\r', '\n']).is_empty()
            });
            header_at = alone.then_some(line_start);
            continue;
        }
        let spaces = line.bytes().take_while(|b| *b == b' ').count();
        let rest = &line[spaces..];
        // Only a line that starts with other whitespace needs the full (Unicode) check.
        let blank = match rest.as_bytes().first() {
            None => true,
            Some(b) if b.is_ascii_graphic() => false,
            Some(_) => rest.trim().is_empty(),
        };
        if blank || rest.starts_with('#') {
            continue;
        }
        if spaces == 0 {
            end = line_start;
            break;
        }
        if spaces == *indent.get_or_insert(spaces) {
            starts.push(line_start);
        }
    }
    match (header_at, indent) {
        (Some(header), Some(indent)) if !starts.is_empty() => Some(Entries { header, indent, starts, end }),
        _ => None,
    }
}

/// The lines of `text`, each with its line break (as `split_inclusive('\n')`; this scan
/// runs over every line of large files, so the breaks are found by a vectorized search).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut breaks = memchr::memchr_iter(b'\n', text.as_bytes());
    std::iter::from_fn(move || {
        if start == text.len() {
            return None;
        }
        let end = breaks.next().map_or(text.len(), |i| i + 1);
        let line = &text[std::mem::replace(&mut start, end)..end];
        Some(line)
    })
}

/// The whole file as yaml_serde reads it (merges applied), and, where its services were
/// read in runs, where they were found.
pub struct Reading {
    pub value: Value,
    split: Option<Entries>,
}

/// Reads the services in runs of about `run_bytes`. None where the text does not read
/// this way (no block `services`, an alias to an
/// anchor in another run, a parse error: the whole reading then says what is wrong).
pub fn read(text: &str, run_bytes: usize) -> Option<Reading> {
    let runs = Runs::split(text, run_bytes)?;
    let done = runs.work();
    runs.finish(vec![done])
}

/// A text's services cut into runs, which any thread that is free reads next (the loader's
/// second thread joins once the layout is built).
pub struct Runs<'t> {
    text: &'t str,
    entries: Entries,
    /// Each run's first entry and the entry after its last.
    bounds: Vec<(usize, usize)>,
    next: AtomicUsize,
    failed: AtomicBool,
}

/// Runs read by one thread: each run's index and its services.
pub type Done = Vec<(usize, Mapping)>;

impl<'t> Runs<'t> {
    pub fn split(text: &'t str, run_bytes: usize) -> Option<Runs<'t>> {
        let entries = entries(text, "services:", None)?;
        let starts = &entries.starts;
        let (mut bounds, mut from) = (Vec::new(), 0);
        while from < starts.len() {
            let to = (from + 1..starts.len()).find(|i| starts[*i] - starts[from] >= run_bytes).unwrap_or(starts.len());
            bounds.push((from, to));
            from = to;
        }
        Some(Runs { text, entries, bounds, next: AtomicUsize::new(0), failed: AtomicBool::new(false) })
    }

    /// Reads runs until none is left (or one failed: then the whole reading decides).
    pub fn work(&self) -> Done {
        let mut done = Vec::new();
        while !self.failed.load(Ordering::Relaxed) {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some(&(from, to)) = self.bounds.get(i) else { break };
            let starts = &self.entries.starts;
            let stop = starts.get(to).copied().unwrap_or(self.entries.end);
            match yaml_serde::from_str(&self.text[starts[from]..stop]) {
                // Each service's own `<<` keys are merged here, on the thread that read it
                // (services are independent: a merge across them needs an alias, which a
                // split file has not).
                Ok(Value::Mapping(mut run)) if run.len() == to - from => {
                    match run.values_mut().try_for_each(merge_keys) {
                        Ok(()) => done.push((i, run)),
                        Err(_) => self.stop(),
                    }
                }
                _ => self.stop(),
            }
        }
        done
    }

    /// Tells every thread to stop reading (the reading is no longer wanted, or failed).
    pub fn stop(&self) {
        self.failed.store(true, Ordering::Relaxed);
    }

    /// The top level (with `services` emptied) read, and the runs put back in order.
    pub fn finish(self, done: Vec<Done>) -> Option<Reading> {
        if self.failed.load(Ordering::Relaxed) {
            return None;
        }
        let mut value: Value = yaml_serde::from_str(&self.entries.outside(self.text)).ok()?;
        let mut runs: Done = done.into_iter().flatten().collect();
        runs.sort_unstable_by_key(|(i, _)| *i);
        if runs.len() != self.bounds.len() {
            return None;
        }
        let count = self.entries.starts.len();
        let mut services = Mapping::with_capacity(count);
        for (_, run) in runs {
            services.extend(run);
        }
        if services.len() != count {
            return None; // A name repeated in two runs: the whole reading refuses it.
        }
        // The services' own merges are done; what is left is a `<<` among the services (in
        // a run, it would merge into that run only) and the top level's.
        if services.contains_key("<<") {
            let mut all = Value::Mapping(services);
            merge_keys(&mut all).ok()?;
            services = match all {
                Value::Mapping(m) => m,
                _ => return None,
            };
        }
        merge_keys(&mut value).ok()?;
        let slot = value.as_mapping_mut()?.get_mut("services")?;
        if !slot.is_null() {
            return None;
        }
        *slot = Value::Mapping(services);
        Some(Reading { value, split: Some(self.entries) })
    }
}

impl Reading {
    pub fn whole(value: Value) -> Reading {
        Reading { value, split: None }
    }

    /// Whether a split is the layout's: the same `services` key, its entries exactly at
    /// the lines found, and no alias anywhere (an alias to `services` or to something in
    /// another run would read differently).
    pub fn fits(&self, layout: &Layout) -> bool {
        let Some(e) = &self.split else { return true };
        let Some((key, services)) = layout.get(layout.root, "services") else { return false };
        let Kind::Map { flow: false, entries } = &layout.node(services).kind else { return false };
        !layout.has_aliases()
            && layout.node(key).start == e.header
            && entries.len() == e.starts.len()
            && entries.iter().zip(&e.starts).all(|((k, _), start)| layout.node(*k).start == start + e.indent)
    }
}

/// For tests and the fuzzer: where `text` reads in runs (of one service each) and the
/// split fits its layout, the value is exactly the whole reading's, and the whole reading
/// accepts it. Ok(false) where the split does not apply.
pub fn agrees_with_whole(text: &str) -> Result<bool, String> {
    // Only what the loader accepts is ever read in runs (it refuses the rest before).
    let Ok(doc) = super::load("t.yml", text.as_bytes()) else { return Ok(false) };
    let Some(sliced) = read(text, 1).filter(|s| s.fits(&doc.layout)) else { return Ok(false) };
    match super::semantic_value("t.yml", text) {
        Ok(whole) if whole == sliced.value => Ok(true),
        Ok(whole) => Err(format!("read in runs: {:?}\nread whole: {whole:?}", sliced.value)),
        Err(e) => Err(format!("read in runs, but the whole reading refuses it: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "name: x\nservices:\n  # first\n  a:\n    image: a\n\n  b: {image: b}\n  c:\n    image: c\nvolumes:\n  v: {}\n";

    #[test]
    fn runs_read_by_two_threads_come_back_in_order_and_a_failed_run_stops_the_reading() {
        let mut text = String::from("name: x\nservices:\n");
        for i in 0..200 {
            text.push_str(&format!("  s{i}:\n    image: i{i}\n"));
        }
        let whole = crate::document::semantic_value("t.yml", &text).expect("whole");
        for _ in 0..20 {
            let runs = Runs::split(&text, 1).expect("split");
            let (a, b) = std::thread::scope(|scope| {
                let b = scope.spawn(|| runs.work());
                (runs.work(), b.join().expect("thread"))
            });
            let read = runs.finish(vec![b, a]).expect("read").value;
            assert_eq!(read, whole);
            // Mappings compare without order: the services' order is checked on its own.
            let names = |v: &Value| -> Vec<Value> {
                v.get("services").and_then(Value::as_mapping).map(|m| m.keys().cloned().collect()).unwrap_or_default()
            };
            assert_eq!(names(&read), names(&whole));
        }
        let broken = text.replace("  s150:\n    image: i150\n", "  s150:\n    image: [\n");
        let runs = Runs::split(&broken, 1).expect("split");
        let done = runs.work();
        assert!(runs.finish(vec![done]).is_none(), "the whole reading decides");
    }

    #[test]
    fn lines_split_as_split_inclusive_does() {
        for text in ["", "a", "a\n", "\n\n", "a\r\nb", "a\nb\n\nc", "é\nü"] {
            assert_eq!(lines(text).collect::<Vec<_>>(), text.split_inclusive('\n').collect::<Vec<_>>(), "{text:?}");
        }
    }

    #[test]
    fn entries_are_the_lines_at_the_first_entrys_indentation() {
        let e = entries(TEXT, "services:", None).expect("found");
        let lines: Vec<&str> = e.starts.iter().map(|s| TEXT[*s..].lines().next().unwrap_or("")).collect();
        assert_eq!((e.header, e.indent, lines), (8, 2, vec!["  a:", "  b: {image: b}", "  c:"]));
        assert_eq!(&TEXT[e.end..], "volumes:\n  v: {}\n");
        assert!(entries("services: {}\nvolumes: {}\n", "services:", None).is_none());
    }

    #[test]
    fn a_file_read_in_runs_equals_the_whole_reading() {
        for run_bytes in [1, 30, 1000] {
            let layout = crate::document::layout::build(TEXT, "t.yml").expect("layout");
            let sliced = read(TEXT, run_bytes).expect("reads in runs");
            assert!(sliced.fits(&layout));
            assert_eq!(sliced.value, crate::document::semantic_value("t.yml", TEXT).expect("whole"));
        }
        assert_eq!(agrees_with_whole(TEXT), Ok(true));
    }

    #[test]
    fn merges_in_a_service_among_the_services_and_at_the_top_resolve_as_read_whole() {
        // Merged as the runs are read (a service's own), or once they are put together.
        let text =
            "<<: {name: merged, x-a: 1}\nx-a: 2\nservices:\n  a:\n    <<: {image: x, init: true}\n    image: a\n  \
                    <<: {a: {image: no}, c: {image: c}}\n  b:\n    <<: [{image: b}, {image: no, init: false}]\n";
        assert_eq!(agrees_with_whole(text), Ok(true));
        let read = read(text, 1).expect("reads in runs").value;
        let service = |name: &str| read.get("services").and_then(|s| s.get(name)).cloned();
        assert_eq!(service("a"), yaml_serde::from_str("{image: a, init: true}").ok());
        assert_eq!(service("b"), yaml_serde::from_str("{image: b, init: false}").ok());
        assert_eq!(service("c"), yaml_serde::from_str("{image: c}").ok());
        assert_eq!(read.get("name").and_then(Value::as_str), Some("merged"));
        // A `<<` that names no mapping stops the reading; the whole reading says why.
        let bad = "services:\n  a:\n    <<: 5\n  b:\n    image: b\n";
        let runs = Runs::split(bad, 1).expect("split");
        let done = runs.work();
        assert!(runs.finish(vec![done]).is_none());
    }

    #[test]
    fn what_runs_cannot_read_alike_is_read_whole() {
        // An alias into another run, an alias to `services`, a name repeated in two runs.
        let cross = "x: &a {image: a}\nservices:\n  a: *a\n";
        assert!(read(cross, 1).is_none());
        let to_services = "services: &s\n  a:\n    image: a\nx-copy: *s\n";
        let layout = crate::document::layout::build(to_services, "t.yml").expect("layout");
        assert!(!read(to_services, 1).is_some_and(|s| s.fits(&layout)));
        assert!(read("services:\n  a: {}\n  a: {}\n", 1).is_none());
        // `services:` with a tag or an anchor on its line is read whole.
        assert!(read("services: !reset\n  a: {}\n", 1).is_none());
        assert!(read("services: &s\n  a: {}\n", 1).is_none());
        assert!(read("services:   # the stack\n  a: {}\n", 1).is_some());
        // A block scalar's line at the entries' indentation is caught by the layout.
        let scalar = "services:\n  a:\n    command: |\n      x\n  b: {}\n";
        assert_eq!(agrees_with_whole(scalar), Ok(true));
    }
}
