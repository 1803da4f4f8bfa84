//! `apply --diff`: a unified diff for review and `git apply`, written from the edits.

use std::ops::Range;

use crate::edit::Edit;
use crate::Outcome;

impl Outcome {
    /// The unified diff from the input to the output, for `git apply`.
    pub fn diff(&self) -> String {
        diff(&self.file, &self.input, &self.output, &self.edits)
    }
}

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// A unified diff with `a/` and `b/` headers, as `git apply` expects, written from the
/// `edits` that turned `old` into `new` (the texts are not compared again: at thousands of
/// services that would cost more than the hardening).
pub fn diff(path: &str, old: &str, new: &str, edits: &[Edit]) -> String {
    if edits.is_empty() {
        return String::new();
    }
    let (old_lines, new_lines) = (Lines::of(old), Lines::of(new));
    let regions = line_regions((old, &old_lines), (new, &new_lines), edits);
    if regions.is_empty() {
        return String::new();
    }
    let name = path.trim_start_matches("./").trim_start_matches('/');
    let mut out = format!("--- a/{name}\n+++ b/{name}\n");
    let mut rest = &regions[..];
    while let Some(first) = rest.first() {
        // A hunk: the regions whose context lines touch or overlap.
        let count = 1 + rest.windows(2).take_while(|w| w[1].old.start - w[0].old.end <= 2 * CONTEXT).count();
        let (hunk, next) = rest.split_at(count);
        rest = next;
        let last = &hunk[count - 1];
        let before = first.old.start.min(CONTEXT);
        let after = (old_lines.len() - last.old.end).min(CONTEXT);
        let old_range = first.old.start - before..last.old.end + after;
        let new_range = first.new.start - before..last.new.end + after;
        out.push_str(&format!("@@ -{} +{} @@\n", hunk_range(&old_range), hunk_range(&new_range)));
        let mut at = old_range.start;
        for region in hunk {
            for line in at..region.old.start {
                push_line(&mut out, ' ', old_lines.get(old, line));
            }
            for line in region.old.clone() {
                push_line(&mut out, '-', old_lines.get(old, line));
            }
            for line in region.new.clone() {
                push_line(&mut out, '+', new_lines.get(new, line));
            }
            at = region.old.end;
        }
        for line in at..old_range.end {
            push_line(&mut out, ' ', old_lines.get(old, line));
        }
    }
    out
}

/// Whole lines (by index) of each text that changed together.
#[derive(Debug)]
struct Region {
    old: Range<usize>,
    new: Range<usize>,
}

/// The edits widened to whole lines, those that share a line merged, and the lines that
/// came out the same (a key added after a line's end) left out.
fn line_regions(old: (&str, &Lines), new: (&str, &Lines), edits: &[Edit]) -> Vec<Region> {
    let ((old, old_lines), (new, new_lines)) = (old, new);
    let mut bytes: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    for edit in edits.iter().filter(|e| !e.old.is_empty() || !e.new.is_empty()) {
        let line_start = old[..edit.old.start].rfind('\n').map_or(0, |i| i + 1);
        let lead = edit.old.start - line_start;
        let start = (line_start, edit.new.start - lead);
        match bytes.last_mut() {
            // On a line the previous region already covers: one region.
            Some(last) if line_start < last.0.end => {
                last.0.end = edit.old.end;
                last.1.end = edit.new.end;
            }
            _ => bytes.push((start.0..edit.old.end, start.1..edit.new.end)),
        }
        let last = bytes.last_mut().expect("just pushed");
        // Unless the region ends at a line start in both texts, it runs to the end of its
        // line (the same text in both, up to the next edit).
        if !(at_line_start(old, last.0.end) && at_line_start(new, last.1.end)) {
            let tail = old[last.0.end..].find('\n').map_or(old.len() - last.0.end, |i| i + 1);
            last.0.end += tail;
            last.1.end += tail;
        }
    }
    // Byte ranges to line ranges, without the lines that came out the same at either end.
    let mut regions: Vec<Region> = Vec::with_capacity(bytes.len());
    for (o, n) in bytes {
        let (mut o, mut n) = (old_lines.covering(old, o), new_lines.covering(new, n));
        while !o.is_empty() && !n.is_empty() && old_lines.get(old, o.start) == new_lines.get(new, n.start) {
            (o.start, n.start) = (o.start + 1, n.start + 1);
        }
        while !o.is_empty() && !n.is_empty() && old_lines.get(old, o.end - 1) == new_lines.get(new, n.end - 1) {
            (o.end, n.end) = (o.end - 1, n.end - 1);
        }
        match regions.last_mut() {
            _ if o.is_empty() && n.is_empty() => {}
            // Changed lines next to changed lines: one run, its removals before its additions.
            Some(last) if last.old.end == o.start => {
                last.old.end = o.end;
                last.new.end = n.end;
            }
            _ => regions.push(Region { old: o, new: n }),
        }
    }
    regions
}

fn at_line_start(text: &str, offset: usize) -> bool {
    offset == 0 || text.as_bytes()[offset - 1] == b'\n'
}

/// Where each line starts.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        if starts.last() == Some(&text.len()) {
            starts.pop(); // No line after the final line break.
        }
        Lines(starts)
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// The lines a line-aligned byte range covers (its last line may lack a line break).
    fn covering(&self, text: &str, bytes: Range<usize>) -> Range<usize> {
        let start = match bytes.start == text.len() {
            true => self.len(), // At the end of a text that ends with a line break.
            false => self.0.partition_point(|s| *s <= bytes.start) - 1,
        };
        let end = self.0.partition_point(|s| *s < bytes.end);
        debug_assert!(at_line_start(text, bytes.start));
        start..end.max(start)
    }

    fn get<'t>(&self, text: &'t str, line: usize) -> &'t str {
        &text[self.0[line]..self.0.get(line + 1).copied().unwrap_or(text.len())]
    }
}

fn push_line(out: &mut String, tag: char, line: &str) {
    out.push(tag);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// `start,length` as unified diffs write it (1-based; an empty range names the line before).
fn hunk_range(range: &Range<usize>) -> String {
    match range.len() {
        1 => format!("{}", range.start + 1),
        0 => format!("{},0", range.start),
        n => format!("{},{n}", range.start + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `old` with `text` inserted at each offset, and the edits that say so.
    fn inserted(old: &str, at: &[(usize, &str)]) -> (String, Vec<Edit>) {
        let (mut new, mut edits, mut from) = (String::new(), Vec::new(), 0);
        for (offset, text) in at {
            new.push_str(&old[from..*offset]);
            edits.push(Edit { old: *offset..*offset, new: new.len()..new.len() + text.len() });
            new.push_str(text);
            from = *offset;
        }
        new.push_str(&old[from..]);
        (new, edits)
    }

    #[test]
    fn lines_added_between_lines_are_additions_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let (new, edits) = inserted(old, &[(4, "x\n")]);
        assert_eq!(
            diff("f.yml", old, &new, &edits),
            "--- a/f.yml\n+++ b/f.yml\n@@ -1,5 +1,6 @@\n a\n b\n+x\n c\n d\n e\n"
        );
        assert_eq!(diff("f.yml", old, old, &[]), "");
    }

    #[test]
    fn a_changed_line_is_removed_and_added_and_a_missing_final_line_break_is_marked() {
        // Two insertions on one line (a flow mapping), the file's last line without a break.
        let old = "s:\n  a: {x: 1, y: 2}";
        let (new, edits) = inserted(old, &[(13, ", z: 3"), (19, ", w: 4")]);
        assert_eq!(new, "s:\n  a: {x: 1, z: 3, y: 2, w: 4}");
        assert_eq!(
            diff("f.yml", old, &new, &edits),
            "--- a/f.yml\n+++ b/f.yml\n@@ -1,2 +1,2 @@\n s:\n-  a: {x: 1, y: 2}\n\\ No newline at end of file\n+  a: {x: 1, z: 3, y: 2, w: 4}\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn a_key_added_after_a_lines_end_is_an_addition_and_crlf_is_kept() {
        // Inserted before the line break of `b` (as in a multi-line flow mapping).
        let old = "a\r\nb,\r\nc\r\n";
        let (new, edits) = inserted(old, &[(5, "\r\nx,")]);
        assert_eq!(
            diff("f.yml", old, &new, &edits),
            "--- a/f.yml\n+++ b/f.yml\n@@ -1,3 +1,4 @@\n a\r\n b,\r\n+x,\r\n c\r\n"
        );
    }
}
