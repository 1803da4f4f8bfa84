//! Deleting a key the user wrote: the lines of its entry (a block value with them), the
//! comments that belong to it alone, and nothing else. Only text the service alone reads
//! is deleted: a key that comes through `<<` or `extends`, or sits in a mapping other
//! services merge, is left for the user, with why.

use super::{anchor_name, next_line_start, past_own_lines, Splice};
use crate::document::layout::{Kind, NodeId};
use crate::document::Document;
use crate::plan::Change;
use std::collections::HashSet;

/// The entry a removal deletes: the mapping that holds it, its index there, and the key
/// whose value the mapping is.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub map: NodeId,
    pub index: usize,
    pub owner: NodeId,
}

/// The entry `change` deletes, in the service's own text; `aliased` holds every node an
/// alias names.
pub(super) fn locate(doc: &Document, change: &Change, aliased: &HashSet<NodeId>) -> Result<Entry, String> {
    let layout = &doc.layout;
    let dotted = change.path.join(".");
    let (_, services) = layout.get(layout.root, "services").ok_or("no `services`")?;
    let (mut owner, mut map) = layout.get(services, &change.service).ok_or("the service is not written in the file")?;
    let extends = layout.get(map, "extends").is_some();
    let mut entry = None;
    for (i, key) in change.path.iter().enumerate() {
        let n = layout.node(map);
        if !matches!(n.kind, Kind::Map { .. }) {
            return Err(format!("`{dotted}` comes from an anchor; delete it where the anchor is defined"));
        }
        if n.anchored && aliased.contains(&map) {
            let name = anchor_name(doc, map);
            return Err(format!("it is written in `&{name}`, which `*{name}` copies elsewhere"));
        }
        let (k, v) = layout.get(map, key).ok_or_else(|| inherited(doc, map, key))?;
        match i + 1 == change.path.len() {
            true => entry = Some((k, v)),
            false => (owner, map) = (k, v),
        }
    }
    let (key, value) = entry.ok_or("no key")?;
    if extends {
        // Deleting it here could bring back what the service it extends sets.
        return Err("the service uses `extends`, and what it extends may set it too".into());
    }
    let Kind::Map { entries, .. } = &layout.node(map).kind else { return Err("not a mapping".into()) };
    let index = entries.iter().position(|(k, _)| *k == key).ok_or("not an entry")?;
    // Deleting it here would let a merged value show through.
    let last = &change.path[change.path.len() - 1];
    for source in layout.merge_sources(map) {
        if layout.lookup(source, last, 0).is_some() {
            return Err(format!(
                "`<<: *{}` sets it too, which deleting it here would bring back",
                anchor_name(doc, source)
            ));
        }
    }
    let (start, end) = (layout.node(key).start, layout.node(value).end.max(layout.node(key).end));
    let inside = layout.nodes.iter().enumerate().skip(key).take_while(|(_, n)| n.start < end);
    if let Some((id, _)) = inside.filter(|(_, n)| n.start >= start).find(|(id, n)| n.anchored && aliased.contains(id)) {
        let name = anchor_name(doc, id);
        return Err(format!("its value holds `&{name}`, which `*{name}` names elsewhere"));
    }
    Ok(Entry { map, index, owner })
}

/// Why a key is not in `map`'s own text.
fn inherited(doc: &Document, map: NodeId, key: &str) -> String {
    let layout = &doc.layout;
    match layout.merge_sources(map).into_iter().find(|s| layout.lookup(*s, key, 0).is_some()) {
        Some(source) => {
            format!("it comes through `<<: *{}`, which other services may merge too", anchor_name(doc, source))
        }
        None => "it is not written in the service itself (it comes through `extends`)".to_string(),
    }
}

/// The splices that delete the entries `indexes` of `map`. A block mapping left with no
/// entry (and none added: `filled`) becomes `{}`, so that its key keeps a mapping.
pub(super) fn splices(
    doc: &Document,
    map: NodeId,
    indexes: &[usize],
    owner: NodeId,
    filled: bool,
) -> Result<Vec<Splice>, String> {
    let layout = &doc.layout;
    let node = layout.node(map);
    let Kind::Map { flow, entries } = &node.kind else { return Err("not a mapping".into()) };
    let gone = |i: usize| indexes.contains(&i);
    let mut ranges = match flow {
        true => flow_ranges(doc, entries, &gone),
        false => {
            let mut ranges = Vec::new();
            for i in (0..entries.len()).filter(|i| gone(*i)) {
                ranges.push(block_range(doc, entries[i])?);
            }
            ranges
        }
    };
    ranges.sort();
    let mut out: Vec<Splice> = Vec::new();
    for (start, end) in ranges {
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => out.push(Splice { start, end, order: usize::MAX, text: String::new() }),
        }
    }
    if !flow && !filled && (0..entries.len()).all(gone) {
        if node.anchored || node.tagged {
            return Err("its mapping would be left empty".into());
        }
        let after_key = layout.node(owner).end;
        let colon = doc.text[after_key..].find(':').map(|p| after_key + p + 1).ok_or("no `:` after the key")?;
        out.push(Splice { start: colon, end: colon, order: 0, text: " {}".into() });
    }
    Ok(out)
}

/// A block entry's lines: its key's line through its value's last, the comment lines
/// directly above it at its column (up to one that is another key commented out), the
/// comments below indented deeper than it (items commented out under a list), and the key
/// itself commented out right below it.
fn block_range(doc: &Document, (key, value): (NodeId, NodeId)) -> Result<(usize, usize), String> {
    let (layout, text) = (&doc.layout, &doc.text);
    let k = layout.node(key);
    let line = text[..k.start].rfind('\n').map_or(0, |p| p + 1);
    if !text[line..k.start].bytes().all(|b| b == b' ') {
        return Err("the key shares its line with other text".into());
    }
    let col = k.start - line;
    let end = deepest_end(doc, value).max(k.end);
    // Past the value's last line (a `|+` block scalar's last is a blank line it keeps).
    let mut end = past_own_lines(text, next_line_start(text, end), col);
    let name = layout.scalar(key).unwrap_or_default();
    // Below: the key itself commented out (another value of it).
    while end < text.len()
        && comment_at(&text[end..next_line_start(text, end)], col).and_then(commented_key) == Some(name)
    {
        end = next_line_start(text, end);
    }
    let mut start = line;
    while start > 0 {
        let above = text[..start - 1].rfind('\n').map_or(0, |p| p + 1);
        let Some(comment) = comment_at(&text[above..start], col) else { break };
        if commented_key(comment).is_some_and(|k| k != name) {
            break;
        }
        start = above;
    }
    Ok((start, end))
}

/// Where a value's text ends: past its last entry or item, down to the last scalar (a
/// `|+` block scalar's kept blank lines end past the collection that holds it).
fn deepest_end(doc: &Document, mut node: NodeId) -> usize {
    let layout = &doc.layout;
    let mut end = layout.node(node).end;
    loop {
        node = match &layout.node(node).kind {
            Kind::Map { entries, .. } => match entries.last() {
                Some((_, v)) => *v,
                None => return end,
            },
            Kind::Seq { items, .. } => match items.last() {
                Some(i) => *i,
                None => return end,
            },
            _ => return end,
        };
        end = end.max(layout.node(node).end);
    }
}

/// The text after `#` of a line that holds only a comment starting at column `col`.
fn comment_at(line: &str, col: usize) -> Option<&str> {
    let line = line.trim_end_matches(['\n', '\r']);
    line.strip_prefix(&" ".repeat(col))?.strip_prefix('#')
}

/// The key a comment writes out (`# cpus: 2`), where it reads as one.
fn commented_key(comment: &str) -> Option<&str> {
    let (key, _) = comment.trim_start().split_once(':')?;
    let key = key.trim_end();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))).then_some(key)
}

/// The text of a flow mapping's entries to delete. An entry followed by another goes up
/// to that one's key (its comma and any comment after it with it); the entries after the
/// last one kept go from that one's comma, which, where a line break follows it, goes
/// alone (a comment on its line stays), then their lines.
fn flow_ranges(doc: &Document, entries: &[(NodeId, NodeId)], gone: &dyn Fn(usize) -> bool) -> Vec<(usize, usize)> {
    let (layout, text) = (&doc.layout, &doc.text);
    let end_of = |i: usize| layout.node(entries[i].1).end.max(layout.node(entries[i].0).end);
    let kept_last = (0..entries.len()).rev().find(|i| !gone(*i));
    let mut ranges = Vec::new();
    for i in (0..entries.len()).filter(|i| gone(*i) && kept_last.is_some_and(|k| *i < k)) {
        let (key, next) = (layout.node(entries[i].0).start, layout.node(entries[i + 1].0).start);
        let after = end_of(i);
        let comma = text[after..next].find(',').map_or(after, |p| after + p + 1);
        let line = text[..key].rfind('\n').map_or(0, |p| p + 1);
        // On lines of its own: those lines, with a comment after its comma (comment lines
        // below it, before the next key, stay).
        match text[line..key].trim().is_empty() && text[comma..next].contains('\n') {
            true => ranges.push((line, next_line_start(text, comma))),
            false => ranges.push((key, next)),
        }
    }
    let first = kept_last.map_or(0, |k| k + 1);
    let Some(last) = (first < entries.len()).then(|| entries.len() - 1) else { return ranges };
    // The run of entries at the end, with a comma right after the last of them.
    let mut end = end_of(last);
    if text[end..].trim_start_matches([' ', '\t']).starts_with(',') {
        end = text[end..].find(',').map_or(end, |p| end + p + 1);
    }
    let run = layout.node(entries[first].0).start;
    let line = text[..run].rfind('\n').map_or(0, |p| p + 1);
    let own_lines = text[line..run].trim().is_empty() && {
        let rest = &text[end..next_line_start(text, end)];
        rest.trim().is_empty() || rest.trim_start().starts_with('#')
    };
    let from = match kept_last {
        Some(k) => {
            let after = end_of(k);
            let comma = text[after..].find(',').map_or(after, |p| after + p);
            if own_lines && text[comma..run].contains('\n') {
                ranges.push((comma, comma + 1));
                line
            } else {
                after
            }
        }
        None if own_lines => line,
        None => run,
    };
    let to = if own_lines { next_line_start(text, end) } else { end };
    ranges.push((from, to));
    ranges
}
