//! Edit: turns planned changes into minimal text splices. It knows YAML layout, not
//! policy: it never asks whether a key should be added, only where and how to write it
//! so that everything else stays byte for byte.

mod hoist;
mod remove;
pub mod render;
mod replace;
mod shared;

use crate::document::layout::{Kind, NodeId};
use crate::document::Document;
use crate::plan::Change;
use foldhash::HashMap;
use indexmap::IndexMap;
use render::Tree;
use std::sync::Arc;
use yaml_serde::Value;

pub struct Edited {
    pub text: String,
    /// What changed, in order: the render layer writes the diff from these.
    pub edits: Vec<Edit>,
    /// Changes (by index) that could not be written without losing or altering
    /// something, and why; every other change is in the text.
    pub refused: Vec<(usize, String)>,
    /// Changes written once into a block that several services merge.
    pub hoisted: Vec<Hoisted>,
}

/// Additions written once into a block outside `services` that each service merging it
/// gets (the plan still lists them per service).
#[derive(Debug, Clone)]
pub struct Hoisted {
    /// Each value, at its keys from the top of the file.
    pub values: Vec<(Vec<String>, Arc<Value>)>,
    /// The block's text in the input.
    pub range: std::ops::Range<usize>,
    /// The services that get the values through it, in file order.
    pub services: Vec<String>,
    /// The block's keys from the top, joined (`x-defaults`), as a report names it.
    pub block: String,
    /// The plan's changes it carries, by service and path.
    pub carried: Vec<(Arc<str>, Arc<[String]>)>,
}

/// Where new keys go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Place {
    /// Into an existing mapping.
    Into(NodeId),
    /// In place of a value (an alias or a null) that becomes a mapping.
    Replace(NodeId),
}

struct Target<'a> {
    place: Place,
    /// Column (0-based) of the key that owns the place, and the indentation step there.
    owner_col: usize,
    step: usize,
    /// Whether the place sits inside a flow collection.
    in_flow: bool,
    /// For `Replace` of an alias: the alias to merge back in (`*dep`).
    base: Option<String>,
    tree: Tree<'a>,
    /// What the tree was built from, in order: equal signatures make equal trees.
    sig: Vec<Sig<'a>>,
}

/// One insert into a tree: the keys, the value (shared between changes), the note and
/// the bases of keys that exist only through `<<`.
type Sig<'a> = (&'a [String], *const Value, Option<&'a str>, Vec<String>);

/// Block text already rendered, by the tree's signature, key column and step: most
/// services get the same keys, and their text is rendered once.
type Rendered<'a> = HashMap<(Vec<Sig<'a>>, usize, usize), String>;

/// What the edit must know of anchors: the file's own, and those it adds.
#[derive(Default, Clone)]
struct Anchors {
    /// Anchors the edit adds to shared mappings that have none, so that a service can
    /// merge them back: value node -> (its key node, the new name).
    added: IndexMap<NodeId, (NodeId, String)>,
    taken: std::collections::HashSet<String>,
    /// Names the file defines more than once: `*name` names whichever came last, so a
    /// new reference to one could name another node than meant.
    repeated: std::collections::HashSet<String>,
    /// Anchored nodes an alias outside `services` copies: writing into one would change
    /// that copy too (an `x-` block that merges a service, say).
    copied_outside: std::collections::HashSet<NodeId>,
    /// Every node an alias names: deleting text there would change (or break) the copy.
    aliased: std::collections::HashSet<NodeId>,
}

impl Anchors {
    /// `*name` (an alias the file has) as a new reference, unless the name is ambiguous.
    fn reuse(&self, alias: String) -> Result<String, String> {
        match self.repeated.contains(alias.trim_start_matches('*')) {
            true => Err(format!(
                "the anchor `&{}` is defined more than once, so a new `{alias}` could name another value",
                alias.trim_start_matches('*')
            )),
            false => Ok(alias),
        }
    }
}

pub fn apply(doc: &Document, changes: &[Change]) -> Edited {
    let edited = apply_holding(doc, changes, &Default::default());
    let held = unsupported(changes, edited.refused.iter().map(|(i, _)| *i));
    if held.is_empty() {
        return edited;
    }
    let mut again = apply_holding(doc, changes, &held);
    again.refused.extend(held.into_iter().map(|i| (i, UNSUPPORTED.to_string())));
    again.refused.sort_by_key(|(i, _)| *i);
    again
}

/// Why a removal is not written where the rest of its fix is not.
pub const UNSUPPORTED: &str = "the rest of its fix was not written";

/// The removals (by index) to hold back because a change of their service and rule is
/// not written (`refused`): a key is deleted only once what it says is written where it
/// is read.
pub fn unsupported(changes: &[Change], refused: impl Iterator<Item = usize>) -> std::collections::HashSet<usize> {
    let refused: std::collections::HashSet<usize> = refused.collect();
    let failed: Vec<(&str, &str)> = refused
        .iter()
        .filter_map(|i| changes.get(*i))
        .filter(|c| !c.removes)
        .map(|c| (&*c.service, c.rule.id))
        .collect();
    let held = changes
        .iter()
        .enumerate()
        .filter(|(i, c)| c.removes && !refused.contains(i) && failed.contains(&(&*c.service, c.rule.id)));
    held.map(|(i, _)| i).collect()
}

/// [`apply`], with the changes `held` left out.
fn apply_holding(doc: &Document, changes: &[Change], held: &std::collections::HashSet<usize>) -> Edited {
    let mut anchors = Anchors::default();
    for (id, node) in doc.layout.nodes.iter().enumerate() {
        if node.anchored {
            let name = anchor_name(doc, id);
            if !anchors.taken.insert(name.clone()) {
                anchors.repeated.insert(name);
            }
        }
    }
    let services = doc.layout.get(doc.layout.root, "services").map(|(_, v)| doc.layout.node(v));
    for node in &doc.layout.nodes {
        if let Kind::Alias { target } = node.kind {
            if !services.is_some_and(|s| (s.start..s.end).contains(&node.start)) {
                anchors.copied_outside.insert(target);
            }
            anchors.aliased.insert(target);
        }
    }
    // Without aliases no change needs a new anchor, and services are written
    // independently: a large plan is written in two halves on two cores.
    let aliases = doc.layout.has_aliases();
    let sharing = if aliases { shared::analyse(doc, changes, &anchors) } else { shared::Sharing::default() };
    let groups = if aliases { hoist::plan(doc, changes, &anchors, &sharing) } else { Vec::new() };
    let mut skip: std::collections::HashSet<usize> = sharing.carried;
    skip.extend(held);
    skip.extend(sharing.refused.iter().map(|(i, _)| *i));
    skip.extend(groups.iter().flat_map(|g| g.carried.iter().copied()));
    let half = (changes.len() / 2 + 1..changes.len()).find(|i| changes[*i].service != changes[i - 1].service);
    let (mut splices, mut refused) = match half {
        Some(half) if !aliases && changes.len() >= 1024 => std::thread::scope(|scope| {
            let second = scope.spawn(|| write(doc, &changes[half..], half, &mut Anchors::default(), &skip));
            let (mut splices, mut refused) = write(doc, &changes[..half], 0, &mut anchors, &skip);
            // A panic in the other half surfaces here, as it would have in one thread.
            let (more, more_refused) = second.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            splices.extend(more);
            refused.extend(more_refused);
            (splices, refused)
        }),
        _ => write(doc, changes, 0, &mut anchors, &skip),
    };
    refused.extend(sharing.refused);
    let hoisted = write_hoisted(doc, changes, groups, &mut anchors, &mut splices, &mut refused);
    for (key, name) in anchors.added.values() {
        // `key:` becomes `key: &name`, before any value or comment on that line.
        let after_key = doc.layout.node(*key).end;
        let colon = doc.text[after_key..].find(':').map_or(after_key, |p| after_key + p + 1);
        splices.push(Splice { start: colon, end: colon, order: 0, text: format!(" &{name}") });
    }
    refused.sort_by_key(|(i, _)| *i);
    let (text, edits) = splice(&doc.text, splices);
    Edited { text, edits, refused, hoisted }
}

/// Writes each group's changes once, into its block.
fn write_hoisted(
    doc: &Document,
    changes: &[Change],
    groups: Vec<hoist::Group>,
    anchors: &mut Anchors,
    splices: &mut Vec<Splice>,
    refused: &mut Vec<(usize, String)>,
) -> Vec<Hoisted> {
    let mut targets: Targets<'_> = IndexMap::default();
    let mut out = Vec::new();
    for group in groups {
        let name = group.at.join(".");
        let found: Result<Vec<_>, String> = group
            .written
            .iter()
            .map(|(i, off)| walk(doc, group.start, &changes[*i].path[*off..], &name, anchors).map(|f| (f, *i)))
            .collect();
        match found {
            Ok(found) => found.into_iter().for_each(|(f, i)| add(&mut targets, f, &changes[i])),
            Err(reason) => {
                refused.extend(group.carried.iter().map(|i| (*i, reason.clone())));
                continue;
            }
        }
        let values = group
            .written
            .iter()
            .map(|(i, off)| {
                (group.at.iter().chain(&changes[*i].path[*off..]).cloned().collect(), changes[*i].value.clone())
            })
            .collect();
        let carried = group.carried.iter().map(|i| (changes[*i].service.clone(), changes[*i].path.clone())).collect();
        out.push(Hoisted { values, range: group.range, services: group.services, block: name, carried });
    }
    let mut rendered = Rendered::default();
    for (_, target) in targets.drain(..) {
        splice_target(doc, target, &mut rendered, &[], splices);
    }
    out
}

/// The splices for `changes` (the first at index `offset` of the plan), and the changes
/// (by plan index) that cannot be written, with why.
fn write(
    doc: &Document,
    changes: &[Change],
    offset: usize,
    anchors: &mut Anchors,
    skip: &std::collections::HashSet<usize>,
) -> (Vec<Splice>, Vec<(usize, String)>) {
    let mut targets: Targets<'_> = IndexMap::default();
    let mut refused = Vec::new();
    let mut splices = Vec::new();
    let mut rendered = Rendered::default();
    let mut removals: Vec<(usize, &Change)> = Vec::new();
    for (index, change) in changes.iter().enumerate() {
        // A place belongs to one service (the walk to it never follows an alias), and the
        // plan lists a service's changes together: write each service's out and drop its
        // trees, so that a file of thousands of services never holds them all.
        if index > 0 && changes[index - 1].service != change.service {
            let kept = remove(doc, &mut removals, &targets, anchors, &mut splices, &mut refused);
            for (_, target) in targets.drain(..) {
                splice_target(doc, target, &mut rendered, &kept, &mut splices);
            }
        }
        if skip.contains(&(offset + index)) {
            continue;
        }
        if change.removes {
            removals.push((offset + index, change));
            continue;
        }
        if let Some(old) = &change.replaces {
            match value_node(doc, change).and_then(|node| replace::splices(doc, node, old, &change.value)) {
                Ok(found) => splices.extend(found),
                Err(reason) => refused.push((offset + index, reason)),
            }
            continue;
        }
        match locate(doc, change, anchors) {
            Ok(found) => add(&mut targets, found, change),
            Err(reason) => refused.push((offset + index, reason)),
        }
    }
    let kept = remove(doc, &mut removals, &targets, anchors, &mut splices, &mut refused);
    for (_, target) in targets.drain(..) {
        splice_target(doc, target, &mut rendered, &kept, &mut splices);
    }
    (splices, refused)
}

/// The splices that delete one service's `removals` (taken), a mapping at a time; for
/// each mapping that loses its last entries, how many of its first entries stay (new
/// entries of a flow mapping go after them).
fn remove(
    doc: &Document,
    removals: &mut Vec<(usize, &Change)>,
    targets: &Targets<'_>,
    anchors: &Anchors,
    splices: &mut Vec<Splice>,
    refused: &mut Vec<(usize, String)>,
) -> Vec<(NodeId, usize)> {
    let mut by_map: IndexMap<NodeId, (NodeId, Vec<(usize, usize)>)> = IndexMap::new();
    for (i, change) in removals.drain(..) {
        match remove::locate(doc, change, &anchors.aliased) {
            Ok(entry) => by_map.entry(entry.map).or_insert((entry.owner, Vec::new())).1.push((i, entry.index)),
            Err(reason) => refused.push((i, reason)),
        }
    }
    let mut kept = Vec::new();
    for (map, (owner, found)) in by_map {
        let indexes: Vec<usize> = found.iter().map(|(_, e)| *e).collect();
        let filled = targets.contains_key(&Place::Into(map));
        match remove::splices(doc, map, &indexes, owner, filled) {
            Ok(found) => splices.extend(found),
            Err(reason) => {
                refused.extend(found.iter().map(|(i, _)| (*i, reason.clone())));
                continue;
            }
        }
        if let Kind::Map { entries, .. } = &doc.layout.node(map).kind {
            let first = (0..entries.len()).rev().find(|i| !indexes.contains(i)).map_or(0, |i| i + 1);
            if first < entries.len() {
                kept.push((map, first));
            }
        }
    }
    kept
}

type Targets<'a> = IndexMap<Place, Target<'a>, foldhash::fast::RandomState>;

/// Adds a located change to the tree of its place.
fn add<'a>(targets: &mut Targets<'a>, found: Found<'a>, change: &'a Change) {
    let target = targets.entry(found.place).or_insert_with(|| Target {
        place: found.place,
        owner_col: found.owner_col,
        step: found.step,
        in_flow: found.in_flow,
        base: found.alias_base.clone(),
        tree: Tree::branch(),
        sig: Vec::new(),
    });
    target.tree.insert(found.rest, &change.value, change.note.as_deref());
    target.tree.set_bases(found.rest, &found.key_bases);
    target.sig.push((found.rest, Arc::as_ptr(&change.value), change.note.as_deref(), found.key_bases));
}

/// The node of a value the user wrote in the service itself (not through `<<` or an alias,
/// where changing it would change every user of the anchor); a list item by its index.
fn value_node(doc: &Document, change: &Change) -> Result<NodeId, String> {
    let layout = &doc.layout;
    let services = layout.get(layout.root, "services").map(|(_, v)| layout.resolve(v)).ok_or("no `services`")?;
    let mut node =
        layout.get(services, &change.service).map(|(_, v)| v).ok_or("the service is not written in the file")?;
    for key in change.path.iter() {
        node = child(layout, node, key).ok_or_else(|| {
            format!("`{}` comes from an anchor; change it where the anchor is defined", change.path.join("."))
        })?;
    }
    Ok(node)
}

/// The value of `key` written directly in mapping `node`, or the item it indexes in a list
/// (no merges, no aliases).
fn child(layout: &crate::document::layout::Layout, node: NodeId, key: &str) -> Option<NodeId> {
    match &layout.node(node).kind {
        Kind::Map { .. } => layout.get(node, key).map(|(_, v)| v),
        Kind::Seq { items, .. } => key.parse::<usize>().ok().and_then(|i| items.get(i)).copied(),
        _ => None,
    }
}

struct Found<'a> {
    place: Place,
    rest: &'a [String],
    owner_col: usize,
    step: usize,
    in_flow: bool,
    /// For `Replace` of an alias: the alias itself, merged back into the new mapping.
    alias_base: Option<String>,
    /// For leading keys of `rest` that exist only through `<<`: the alias that merges
    /// their old content back into the mapping written for them.
    key_bases: Vec<String>,
}

/// Where a walk to a place starts: a mapping, the column of the key that owns it, the
/// indentation step and whether it sits inside a flow collection.
#[derive(Debug, Clone, Copy)]
pub(super) struct Start {
    node: NodeId,
    owner_col: usize,
    step: usize,
    in_flow: bool,
}

/// Walks the change's path through the text's nodes to the place where it must be written.
fn locate<'a>(doc: &Document, change: &'a Change, anchors: &mut Anchors) -> Result<Found<'a>, String> {
    let layout = &doc.layout;
    let (services_key, services) = layout.get(layout.root, "services").ok_or("the file has no `services` mapping")?;
    if anchors.copied_outside.contains(&services) {
        return Err(copied_message(doc, "services", services));
    }
    let services = layout.resolve(services);
    let (key, node) = layout
        .get(services, &change.service)
        .ok_or_else(|| format!("service `{}` is not written in the file", change.service))?;
    let in_flow = matches!(layout.node(services).kind, Kind::Map { flow: true, .. });
    let step = if in_flow { 2 } else { layout.node(key).col.saturating_sub(layout.node(services_key).col).max(1) };
    let start = Start { node, owner_col: layout.node(key).col - 1, step, in_flow };
    walk(doc, start, &change.path, &format!("services.{}", change.service), anchors)
}

fn copied_message(doc: &Document, at: &str, node: NodeId) -> String {
    format!(
        "`{at}` is the anchor `&{}`, which is also used outside `services`; writing into it would change that too",
        anchor_name(doc, node)
    )
}

/// Follows `path` from `start` (named `name` in messages) to the place where it must be written.
fn walk<'a>(
    doc: &Document,
    start: Start,
    path: &'a [String],
    name: &str,
    anchors: &mut Anchors,
) -> Result<Found<'a>, String> {
    let layout = &doc.layout;
    let Start { mut node, mut owner_col, mut step, mut in_flow } = start;
    let mut i = 0;
    loop {
        if anchors.copied_outside.contains(&node) {
            return Err(copied_message(doc, &if i == 0 { name.to_string() } else { path[..i].join(".") }, node));
        }
        let here = layout.node(node);
        let (place, alias_base, shared) = match &here.kind {
            // The alias's content is shared: the value becomes a mapping that merges it back.
            Kind::Alias { target } => (
                Place::Replace(node),
                Some(anchors.reuse(alias_text(doc, node))?),
                layout.lookup(*target, &path[i], 0).map(|(k, v, _)| (k, v)),
            ),
            Kind::Map { flow, entries } => {
                if let Some((first_key, _)) = entries.first() {
                    let col = layout.node(*first_key).col - 1;
                    if !flow && col > owner_col {
                        step = col - owner_col;
                    }
                }
                in_flow |= *flow;
                if let Some((k, v)) = layout.get(node, &path[i]) {
                    if i + 1 == path.len() {
                        return Err(format!("`{}` is already set", path.join(".")));
                    }
                    owner_col = layout.node(k).col - 1;
                    node = v;
                    i += 1;
                    continue;
                }
                (Place::Into(node), None, layout.lookup(node, &path[i], 0).map(|(k, v, _)| (k, v)))
            }
            Kind::Scalar { .. } if here.is_null_scalar() => (Place::Replace(node), None, None),
            _ => return Err(format!("`{}` is not a mapping", path[..i].join("."))),
        };
        let key_bases = merge_chain(doc, &path[i..], shared, anchors)?;
        return Ok(Found { place, rest: &path[i..], owner_col, step, in_flow, alias_base, key_bases });
    }
}

/// Keys written where their old content comes from `<<` or an alias must merge that
/// content back (`<<` merges one level deep, so a new `deploy:` would hide the old one).
/// Follows `rest` through the shared content while it has the keys, and returns the
/// alias for each such key. Shared content without an anchor gets one (an insertion that
/// changes no value), named after the anchor above it or the keys.
fn merge_chain(
    doc: &Document,
    rest: &[String],
    mut shared: Option<(NodeId, NodeId)>,
    anchors: &mut Anchors,
) -> Result<Vec<String>, String> {
    let layout = &doc.layout;
    let mut bases: Vec<String> = Vec::new();
    let mut new: Vec<(NodeId, NodeId, String)> = Vec::new();
    let mut j = 0;
    while let Some((key, node)) = shared {
        if j + 1 == rest.len() {
            return Err(format!("`{}` is already set through `<<` or an alias", rest.join(".")));
        }
        let content = layout.resolve(node);
        if !matches!(layout.node(content).kind, Kind::Map { .. }) {
            return Err(format!("`{}` comes through `<<` or an alias and is not a mapping", rest[..=j].join(".")));
        }
        let base = match &layout.node(node).kind {
            Kind::Alias { .. } => anchors.reuse(alias_text(doc, node))?,
            _ if layout.node(node).anchored => anchors.reuse(format!("*{}", anchor_name(doc, node)))?,
            _ => {
                let name = match anchors.added.get(&node) {
                    Some((_, name)) => name.clone(),
                    None => {
                        let stem = match bases.last() {
                            Some(b) => format!("{}-{}", b.trim_start_matches('*'), rest[j]),
                            None => rest[..=j].join("-"),
                        };
                        let stem: String = stem
                            .chars()
                            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
                            .collect();
                        let mut name = stem.clone();
                        let mut n = 2;
                        while anchors.taken.contains(&name) || new.iter().any(|(_, _, m)| *m == name) {
                            name = format!("{stem}-{n}");
                            n += 1;
                        }
                        new.push((node, key, name.clone()));
                        name
                    }
                };
                format!("*{name}")
            }
        };
        bases.push(base);
        j += 1;
        shared = layout.lookup(content, &rest[j], 0).map(|(k, v, _)| (k, v));
    }
    for (node, key, name) in new {
        anchors.taken.insert(name.clone());
        anchors.added.insert(node, (key, name));
    }
    Ok(bases)
}

fn alias_text(doc: &Document, alias: NodeId) -> String {
    let n = doc.layout.node(alias);
    doc.text[n.start..n.end].to_string()
}

/// The name of a node's anchor. A node starts at its properties, the anchor and the tag
/// in either order (`!t &a`; found by the fuzzer: a tag taken for the name let a repeated
/// anchor pass as unique).
fn anchor_name(doc: &Document, node: NodeId) -> String {
    let rest = &doc.text[doc.layout.node(node).start..];
    let mut words = rest.split(|c: char| c.is_whitespace()).filter(|w| !w.is_empty());
    let anchor = words.find(|w| !w.starts_with('!')).and_then(|w| w.strip_prefix('&')).unwrap_or("");
    anchor.to_string()
}

pub(crate) struct Splice {
    start: usize,
    end: usize,
    /// Among splices at one position, lower goes first (deeper insertions first).
    order: usize,
    text: String,
}

fn splice_target<'a>(
    doc: &Document,
    target: Target<'a>,
    rendered: &mut Rendered<'a>,
    kept: &[(NodeId, usize)],
    out: &mut Vec<Splice>,
) {
    let layout = &doc.layout;
    let text = &doc.text;
    let eol = doc.eol;
    let Tree::Branch { children, .. } = &target.tree else {
        return;
    };
    match target.place {
        Place::Into(map) => {
            let Kind::Map { flow, entries } = &layout.node(map).kind else {
                return;
            };
            if *flow {
                // New entries go after the last entry that stays (an empty one takes them as `{}`).
                let n = kept.iter().find(|(m, _)| *m == map).map_or(entries.len(), |(_, n)| *n);
                flow_insert(doc, map, &entries[..n], children, out);
                return;
            }
            let key_col = entries.first().map_or(target.owner_col + target.step, |(k, _)| layout.node(*k).col - 1);
            let mut pos = next_line_start(text, layout.node(map).end);
            // At the end of a file without a final line break, a line break after a block
            // scalar would become part of its value: insert above the last entry instead.
            if pos == text.len() && !text.ends_with('\n') && ends_in_block_scalar(doc, map) {
                if let Some((last_key, _)) = entries.last() {
                    let at = layout.node(*last_key).start;
                    pos = text[..at].rfind('\n').map_or(0, |p| p + 1);
                }
            } else {
                pos = past_own_lines(text, pos, key_col);
            }
            let lines = rendered.entry((target.sig, key_col, target.step)).or_insert_with(|| {
                let mut lines = String::new();
                render::block(&mut lines, children, key_col, target.step, eol);
                lines
            });
            out.push(block_splice(text, pos, lines.clone(), key_col, eol));
        }
        Place::Replace(node) => {
            let n = layout.node(node);
            if target.in_flow {
                let mut t = String::from("{");
                render::flow_entries(&mut t, target.base.as_deref(), children, ", ", doc.is_json());
                t.push('}');
                out.push(Splice { start: n.start, end: n.end, order: 0, text: t });
                note_splice(doc, n.end, &target.tree, out);
                return;
            }
            // `key: *dep` becomes `key:` followed by an indented block that merges `*dep` back.
            let ws = text[..n.start].trim_end_matches(' ').len();
            out.push(Splice { start: ws, end: n.end, order: 0, text: String::new() });
            let indent = target.owner_col + target.step;
            let mut lines = String::new();
            if let Some(base) = &target.base {
                lines.push_str(&" ".repeat(indent));
                lines.push_str("<<: ");
                lines.push_str(base);
                lines.push_str(eol);
            }
            render::block(&mut lines, children, indent, target.step, eol);
            let pos = past_own_lines(text, next_line_start(text, n.end), indent);
            out.push(block_splice(text, pos, lines, indent, eol));
        }
    }
}

/// Whether the last value inside `node` (following last entries and items) is a block
/// scalar (`|`, `>`).
fn ends_in_block_scalar(doc: &Document, mut node: NodeId) -> bool {
    let layout = &doc.layout;
    loop {
        match &layout.node(node).kind {
            Kind::Map { entries, .. } => match entries.last() {
                Some((_, v)) => node = *v,
                None => return false,
            },
            Kind::Seq { items, .. } => match items.last() {
                Some(i) => node = *i,
                None => return false,
            },
            Kind::Scalar { style, .. } => return matches!(style, crate::document::layout::Style::Block { .. }),
            Kind::Alias { .. } => return false,
        }
    }
}

/// Block lines inserted at a line start; at the end of a file without a final line break,
/// the break goes before them instead, so the file still ends without one.
fn block_splice(text: &str, pos: usize, mut lines: String, indent: usize, eol: &str) -> Splice {
    if pos == text.len() && !text.is_empty() && !text.ends_with('\n') {
        lines.truncate(lines.len() - eol.len());
        lines.insert_str(0, eol);
    }
    Splice { start: pos, end: pos, order: usize::MAX - indent, text: lines }
}

/// New entries after the last one of a flow mapping (or inside an empty `{}`). In a
/// mapping written over several lines, each goes on a line of its own.
fn flow_insert(
    doc: &Document,
    map: NodeId,
    entries: &[(NodeId, NodeId)],
    children: &render::Children,
    out: &mut Vec<Splice>,
) {
    let layout = &doc.layout;
    let node = layout.node(map);
    let open = doc.text[node.start..].find('{').map_or(node.start, |p| node.start + p);
    let (pos, sep) = match entries.last() {
        None => (open + 1, String::new()),
        Some((k, v)) => {
            let end = layout.node(*k).end.max(layout.node(*v).end);
            let sep = if doc.text[open..end].contains('\n') {
                format!(",{}{}", doc.eol, " ".repeat(layout.node(*k).col - 1))
            } else {
                ", ".to_string()
            };
            (end, sep)
        }
    };
    let mut text = sep.clone();
    // New keys are written as the mapping's own keys are, or, in an empty one, as its key.
    let key_quoted = || doc.text[..open].trim_end().strip_suffix(':').is_some_and(|k| k.trim_end().ends_with('"'));
    let json = doc.is_json() || layout.quoted_keys(entries) || (entries.is_empty() && key_quoted());
    render::flow_entries(&mut text, None, children, if sep.is_empty() { ", " } else { &sep }, json);
    out.push(Splice { start: pos, end: pos, order: 0, text });
    let tree = Tree::Branch { base: None, children: children.clone() };
    note_splice(doc, node.end, &tree, out);
}

/// Notes (assumption markers) of flow insertions go at the end of the line where the
/// flow collection closes, unless that line already ends in a comment. JSON has no
/// comments: there the findings alone say it.
fn note_splice(doc: &Document, after: usize, tree: &Tree, out: &mut Vec<Splice>) {
    let notes = tree.notes();
    if notes.is_empty() || doc.is_json() {
        return;
    }
    let text = &doc.text;
    let line_end = text[after..].find('\n').map_or(text.len(), |p| after + p);
    let line_end = if text[..line_end].ends_with('\r') { line_end - 1 } else { line_end };
    if text[after..line_end].contains('#') {
        return;
    }
    out.push(Splice { start: line_end, end: line_end, order: 0, text: format!(" # {}", notes.join("; ")) });
}

/// Where lines written at column `col` after a value go (`pos` starts the line after
/// it): past the comment lines below the value indented deeper than `col`, with blank
/// lines among them. Those are the value's own, often items commented out to be
/// uncommented later (`# - OPTIONAL=1` under a list), which lines written above them
/// would take in. A line whose indentation holds a tab stays too: YAML allows it only
/// after the plain scalar it follows. Comments at `col` or less stay below the new lines.
pub(crate) fn past_own_lines(text: &str, pos: usize, col: usize) -> usize {
    let (mut at, mut end) = (pos, pos);
    while at < text.len() {
        let next = next_line_start(text, at);
        let line = text[at..next].trim_end_matches(['\n', '\r']);
        let spaces = line.len() - line.trim_start_matches(' ').len();
        let body = line.trim_start_matches([' ', '\t']);
        let tab = line[spaces..].starts_with('\t');
        if body.is_empty() && !tab {
            at = next;
            continue;
        }
        if !(body.is_empty() || body.starts_with('#')) || (spaces <= col && !tab) {
            break;
        }
        (at, end) = (next, next);
    }
    end
}

/// The start of the line after the one holding `pos` (the text's end if there is none).
pub(crate) fn next_line_start(text: &str, pos: usize) -> usize {
    text[pos.min(text.len())..].find('\n').map_or(text.len(), |p| pos + p + 1)
}

/// Bytes `old` of the input became bytes `new` of the output (an insertion where `old`
/// is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub old: std::ops::Range<usize>,
    pub new: std::ops::Range<usize>,
}

pub(crate) fn splice(text: &str, mut splices: Vec<Splice>) -> (String, Vec<Edit>) {
    splices.sort_by_key(|s| (s.start, s.order));
    let mut out = String::with_capacity(text.len() + splices.iter().map(|s| s.text.len()).sum::<usize>());
    let mut edits = Vec::with_capacity(splices.len());
    let mut at = 0;
    for s in splices {
        let deleted = edits.last().is_some_and(|e: &Edit| e.new.is_empty() && e.old.start <= s.start);
        if s.start < at && s.start == s.end && deleted {
            // An insertion among lines deleted before it (a key's comment below the place
            // new keys go): it goes where they were.
            let new_start = out.len();
            out.push_str(&s.text);
            edits.push(Edit { old: at..at, new: new_start..out.len() });
            continue;
        }
        if s.start < at {
            // Overlapping splices would be a planner bug; the verifier catches the result.
            continue;
        }
        out.push_str(&text[at..s.start]);
        let new_start = out.len();
        out.push_str(&s.text);
        edits.push(Edit { old: s.start..s.end, new: new_start..out.len() });
        at = s.end;
    }
    out.push_str(&text[at..]);
    (out, edits)
}

#[cfg(test)]
mod tests {
    use super::{anchor_name, past_own_lines};

    #[test]
    fn an_anchor_is_named_before_or_after_a_tag() {
        let doc = crate::document::load("t.yml", "a: !t &x\n  b: 1\nc: &y !t\n  d: 1\ne: &z\n  f: 1\n".as_bytes())
            .expect("loads");
        let anchored = doc.layout.nodes.iter().enumerate().filter(|(_, n)| n.anchored);
        let names: Vec<String> = anchored.map(|(id, _)| anchor_name(&doc, id)).collect();
        assert_eq!(names, ["x", "y", "z"]);
    }

    /// Where lines written at `col` after the first line of `text` go, as the rest of the
    /// text from there.
    fn rest(text: &str, col: usize) -> &str {
        let after = text.find('\n').map_or(text.len(), |p| p + 1);
        &text[past_own_lines(text, after, col)..]
    }

    #[test]
    fn new_lines_go_past_the_deeper_comments_of_the_value_above() {
        // Items commented out under a list, with a blank line among them.
        assert_eq!(
            rest("      - A=1\n      # - B=2\n\n      # - C=3\n    # svc\n  next:\n", 4),
            "    # svc\n  next:\n"
        );
        // Comments at the new lines' column or less stay below them, as do blank lines
        // after the last deeper comment.
        assert_eq!(rest("      - A=1\n    # svc\n      # - B=2\n", 4), "    # svc\n      # - B=2\n");
        assert_eq!(rest("      - A=1\n      # - B=2\n\n  next:\n", 4), "\n  next:\n");
        assert_eq!(rest("      - A=1\n\n  next:\n", 4), "\n  next:\n");
        // Line ends of either kind, and a last line without one.
        assert_eq!(rest("  - A=1\r\n    # - B=2\r\n  # svc\r\n", 2), "  # svc\r\n");
        assert_eq!(rest("      - A=1\n      # - B=2", 4), "");
    }

    #[test]
    fn lines_indented_with_tabs_stay_after_the_scalar_that_allows_them() {
        // Blank or comment, even at the new lines' column: only the plain scalar above
        // makes the tab legal.
        assert_eq!(rest("    a: x\n     \t# c\n  next:\n", 6), "  next:\n");
        assert_eq!(rest("    a: x\n       \t\n  next:\n", 4), "  next:\n");
        assert_eq!(rest("    a: x\n    \n  next:\n", 2), "    \n  next:\n");
    }
}
