//! Changes written once into a shared block. Where services merge an anchored block
//! outside `services` (`x-defaults: &defaults`, `<<: *defaults`) and every one of them that
//! would see a new key there plans the same additions under it, those are written into the
//! block once: one line for a reviewer instead of a block per service. The plan keeps each
//! service's changes, so the verifier still proves every service's result; the block's own
//! new value is checked as well.
//!
//! Only plain cases qualify: the block is aliased by services alone, nothing inside or
//! around it is aliased, and its users share no text with other services (that is
//! `shared`'s ground). Anything else is written per service, as before.

use super::shared::{collect, merge_order, Sharing, Use};
use super::{walk, Anchors, Start};
use crate::document::layout::{Kind, NodeId, MAX_DEPTH};
use crate::document::Document;
use crate::plan::Change;
use std::collections::{HashMap, HashSet};

/// Changes written once, into one block.
pub(super) struct Group {
    /// The block's keys from the top of the file.
    pub at: Vec<String>,
    pub start: Start,
    /// The block's text, as byte offsets of the input, to the start of the line after it
    /// (where new keys go).
    pub range: std::ops::Range<usize>,
    /// What is written there: (plan index, where the block's part of that change's path starts).
    pub written: Vec<(usize, usize)>,
    /// Every change (by plan index) the write carries, each service's.
    pub carried: Vec<usize>,
    /// The services that see the write, in file order.
    pub services: Vec<String>,
}

/// An anchored mapping outside `services`.
struct Block {
    node: NodeId,
    at: Vec<String>,
    start: Start,
}

pub(super) fn plan(doc: &Document, changes: &[Change], anchors: &Anchors, sharing: &Sharing) -> Vec<Group> {
    let layout = &doc.layout;
    let Some((_, services)) = layout.get(layout.root, "services") else { return Vec::new() };
    let Kind::Map { entries, .. } = &layout.node(services).kind else { return Vec::new() };
    let mut blocks = Vec::new();
    find_blocks(doc, layout.root, &mut Vec::new(), false, services, &mut blocks, 0);
    if blocks.is_empty() {
        return Vec::new();
    }
    let span = |n: NodeId| layout.node(n).start..layout.node(n).end;
    let services_span = span(services);
    // Each service's text, to tell which service holds a node.
    let owners: Vec<(&str, std::ops::Range<usize>)> =
        entries.iter().filter_map(|(k, v)| Some((layout.scalar(*k)?, span(*v)))).collect();
    // Services are in text order: the holder of a node is found by bisection.
    let owner = |n: NodeId| {
        let at = layout.node(n).start;
        let i = owners.partition_point(|(_, r)| r.start <= at);
        i.checked_sub(1).map(|i| &owners[i]).filter(|(_, r)| r.contains(&at)).map(|(s, _)| *s)
    };
    let mut targets = Vec::new();
    // Services whose text others alias, or that alias another's: `shared` decides for them.
    let mut sharing_services = HashSet::new();
    for (id, node) in layout.nodes.iter().enumerate() {
        if let Kind::Alias { target } = node.kind {
            targets.push(target);
            if services_span.contains(&layout.node(target).start) {
                sharing_services.extend(owner(id));
                sharing_services.extend(owner(target));
            }
        }
    }
    let mut uses: HashMap<NodeId, Vec<Use>> = HashMap::new();
    for (key, value) in entries {
        if let Some(name) = layout.scalar(*key) {
            collect(doc, name, *value, &mut Vec::new(), None, &mut uses);
        }
    }
    let mut by_service: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, change) in changes.iter().enumerate() {
        by_service.entry(&*change.service).or_default().push(i);
    }
    let settled: HashSet<usize> =
        sharing.refused.iter().map(|(i, _)| *i).chain(sharing.carried.iter().copied()).collect();
    let mut groups = Vec::new();
    for block in blocks {
        let a = block.node;
        let range = span(a);
        let written_to = range.start..super::next_line_start(&doc.text, range.end);
        let overlaps = |t: &NodeId| *t != a && span(*t).start < range.end && range.start < span(*t).end;
        if anchors.copied_outside.contains(&a) || targets.iter().any(overlaps) {
            continue;
        }
        let Some(users) = uses.get(&a) else { continue };
        if users.iter().any(|u| sharing_services.contains(u.service)) {
            continue;
        }
        let sub = merge_order(layout, a);
        let mut keys: Vec<&str> = Vec::new();
        for u in users {
            for i in by_service.get(u.service).into_iter().flatten() {
                let path = &changes[*i].path;
                if path.len() > u.path.len() && path.starts_with(&u.path) && !keys.contains(&&*path[u.path.len()]) {
                    keys.push(&path[u.path.len()]);
                }
            }
        }
        for key in keys {
            let Some(sets) = same_changes(doc, changes, users, &by_service, a, &sub, key) else { continue };
            let (first, off) = &sets[0].1;
            let all_safe = sets.iter().flat_map(|(_, (set, _))| set).all(|i| !settled.contains(i));
            let mut scratch = anchors.clone();
            let writable = first
                .iter()
                .all(|i| walk(doc, block.start, &changes[*i].path[*off..], &block.at.join("."), &mut scratch).is_ok());
            if !all_safe || !writable {
                continue;
            }
            let mut services: Vec<String> = sets.iter().map(|(s, _)| s.to_string()).collect();
            services.dedup();
            groups.push(Group {
                at: block.at.clone(),
                start: block.start,
                range: written_to.clone(),
                written: first.iter().map(|i| (*i, *off)).collect(),
                carried: sets.iter().flat_map(|(_, (set, _))| set.iter().copied()).collect(),
                services,
            });
        }
    }
    groups
}

/// For one key of a block: each user that would see a new key there, with its changes
/// under it and where the block's part of their paths starts; None unless at least two
/// see it, each plans the same additions there, and no user loses what it sees today.
#[allow(clippy::type_complexity)]
fn same_changes<'a>(
    doc: &Document,
    changes: &[Change],
    users: &[Use<'a>],
    by_service: &HashMap<&str, Vec<usize>>,
    block: NodeId,
    sub: &[NodeId],
    key: &str,
) -> Option<Vec<(&'a str, (Vec<usize>, usize))>> {
    let layout = &doc.layout;
    let has = |n: &NodeId| layout.get(*n, key).is_some();
    let mut sets = Vec::new();
    for u in users {
        // The mappings a key of the user's view is looked for in, in order.
        let order = match u.merged_into {
            Some(m) => merge_order(layout, m),
            None => sub.to_vec(),
        };
        let pos = order.iter().position(|n| *n == block)?;
        if order[..pos].iter().any(has) {
            // Its own key (or an earlier merge's) hides the block's: the write does not reach it.
            continue;
        }
        if !sub.iter().any(has) && order.get(pos + sub.len()..).is_some_and(|rest| rest.iter().any(has)) {
            // A later merge gives the key today; a new one in the block would hide it.
            return None;
        }
        let mine = by_service.get(u.service)?;
        let under = |i: &&usize| {
            let p = &changes[**i].path;
            p.len() > u.path.len() && p.starts_with(&u.path) && p[u.path.len()] == key
        };
        // A change of the use's own value (or above it) is not a key inside it.
        if mine.iter().any(|i| u.path.starts_with(&changes[*i].path)) {
            return None;
        }
        sets.push((u.service, (mine.iter().filter(under).copied().collect::<Vec<_>>(), u.path.len())));
    }
    let (_, (first, off)) = sets.first()?;
    let same = |(_, (set, o)): &(&str, (Vec<usize>, usize))| {
        set.len() == first.len()
            && set.iter().zip(first).all(|(i, j)| {
                let (c, d) = (&changes[*i], &changes[*j]);
                c.replaces.is_none()
                    && d.replaces.is_none()
                    && c.path[*o..] == d.path[*off..]
                    && c.value == d.value
                    && c.note == d.note
            })
    };
    (sets.len() >= 2 && !first.is_empty() && sets.iter().all(same)).then_some(sets)
}

/// The anchored mappings outside `services` that are values of mapping keys all the way
/// from the top, with where a walk into each starts.
fn find_blocks(
    doc: &Document,
    node: NodeId,
    at: &mut Vec<String>,
    in_flow: bool,
    services: NodeId,
    out: &mut Vec<Block>,
    depth: usize,
) {
    let layout = &doc.layout;
    let Kind::Map { entries, flow } = &layout.node(node).kind else { return };
    if depth > MAX_DEPTH {
        return;
    }
    for (key, value) in entries {
        let Some(name) = layout.scalar(*key) else { continue };
        if *value == services || name == "<<" {
            continue;
        }
        at.push(name.to_string());
        let here = layout.node(*value);
        let in_flow = in_flow || *flow;
        if here.anchored && matches!(here.kind, Kind::Map { .. }) {
            let start = Start { node: *value, owner_col: layout.node(*key).col - 1, step: 2, in_flow };
            out.push(Block { node: *value, at: at.clone(), start });
        }
        find_blocks(doc, *value, at, in_flow, services, out, depth + 1);
        at.pop();
    }
}
