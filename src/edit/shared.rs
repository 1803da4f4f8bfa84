//! Text that services share. A service's anchored mapping (`api: &api`), or a part of one
//! (`limits: &lim`), is seen by every service that aliases or merges it, so a key written
//! there lands in each of them. Such a write is made only where every service that sees
//! it plans the same change; otherwise the change is refused (with the rest of its pass's
//! block, so no half-written healthcheck remains), naming the service that differs. A
//! repair planned for a service whose value lives in another service's text is carried by
//! that service's write when both repairs are the same.

use super::{locate, replace, value_node, Anchors};
use crate::document::layout::{Kind, NodeId};
use crate::document::Document;
use crate::plan::Change;
use std::collections::{HashMap, HashSet};

/// What sharing decides before anything is written.
#[derive(Default)]
pub(super) struct Sharing {
    /// Changes (by plan index) that would land in shared text, and why not.
    pub refused: Vec<(usize, String)>,
    /// Repairs written by another service's identical repair of the same text.
    pub carried: HashSet<usize>,
}

/// Where a service aliases an anchored node of the services' text.
pub(super) struct Use<'a> {
    pub service: &'a str,
    /// The keys from the service to the alias, or to the mapping that merges it.
    pub path: Vec<String>,
    /// The mapping whose `<<` names the alias.
    pub merged_into: Option<NodeId>,
    /// `*name` or `<<: *name`, as a message shows it.
    alias: String,
}

/// A copy of a write: the service that sees it and the path it has there.
type Copy<'a> = (&'a str, Vec<String>, String);

/// Only a merge or an alias inside services can share their text; without one there is
/// nothing to decide (the usual case: one pass over the nodes).
pub(super) fn analyse(doc: &Document, changes: &[Change], anchors: &Anchors) -> Sharing {
    let layout = &doc.layout;
    let Some((_, services)) = layout.get(layout.root, "services") else { return Sharing::default() };
    let services = layout.resolve(services);
    let span = layout.node(services).start..layout.node(services).end;
    let shares = layout.nodes.iter().any(|n| match n.kind {
        Kind::Alias { target } => target != services && span.contains(&layout.node(target).start),
        _ => false,
    });
    if !shares {
        return Sharing::default();
    }
    let Kind::Map { entries, .. } = &layout.node(services).kind else { return Sharing::default() };
    let mut by_name: HashMap<&str, NodeId> = HashMap::new();
    let mut uses: HashMap<NodeId, Vec<Use>> = HashMap::new();
    for (key, value) in entries {
        let Some(name) = layout.scalar(*key) else { continue };
        by_name.insert(name, *value);
        collect(doc, name, *value, &mut Vec::new(), None, &mut uses);
    }
    let view = View { doc, by_name, uses };
    let mut index: HashMap<(&str, &[String]), Vec<usize>> = HashMap::new();
    for (i, change) in changes.iter().enumerate() {
        index.entry((&*change.service, &change.path[..])).or_default().push(i);
    }
    // Whether each change can be written at all (as `write` will try).
    let mut scratch = anchors.clone();
    let mut unwritable = HashSet::new();
    let mut shared_value = HashSet::new();
    for (i, change) in changes.iter().enumerate() {
        // A removal deletes only text its service alone reads (see `remove`).
        if change.removes {
            continue;
        }
        let ok = match &change.replaces {
            Some(old) => match value_node(doc, change) {
                Ok(node) => replace::splices(doc, node, old, &change.value).is_ok(),
                Err(_) => {
                    shared_value.insert(i);
                    false
                }
            },
            None => locate(doc, change, &mut scratch).is_ok(),
        };
        if !ok {
            unwritable.insert(i);
        }
    }
    let mut by_service: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, change) in changes.iter().enumerate() {
        by_service.entry(&*change.service).or_default().push(i);
    }
    let mut state = State { changes, index, by_service, unwritable, shared_value, refused: HashMap::new() };
    // Refusing one change can expose another's copy (a key it would have hidden), so
    // this runs until nothing more is refused.
    loop {
        let mut more = Vec::new();
        for (i, change) in changes.iter().enumerate() {
            if state.refused.contains_key(&i) || state.unwritable.contains(&i) || change.removes {
                continue;
            }
            let reason = match view.copies(&change.service, &change.path, &state) {
                Err(reason) => Some(reason),
                Ok(found) => found.iter().find(|(service, path, _)| !state.covers(service, path, i)).map(
                    |(service, _, alias)| {
                        format!(
                            "service `{service}` shares this text (through `{alias}`) and does not get the same change; \
                             write it where each service needs it"
                        )
                    },
                ),
            };
            if let Some(reason) = reason {
                more.push((i, reason));
            }
        }
        if more.is_empty() {
            break;
        }
        for (i, reason) in more {
            // The rest of the pass's block for that key goes too.
            let c = &changes[i];
            let same_block: Vec<usize> = state.by_service[&*c.service]
                .iter()
                .copied()
                .filter(|j| changes[*j].pass() == c.pass() && changes[*j].path.first() == c.path.first())
                .collect();
            for j in same_block {
                state.refused.entry(j).or_insert_with(|| reason.clone());
            }
        }
    }
    let mut carried = HashSet::new();
    for i in (0..changes.len()).filter(|i| state.accepted(*i) && !state.unwritable.contains(i) && !changes[*i].removes)
    {
        for (service, path, _) in view.copies(&changes[i].service, &changes[i].path, &state).unwrap_or_default() {
            for j in state.index.get(&(service, &path[..])).into_iter().flatten() {
                if state.shared_value.contains(j) && changes[*j].value == changes[i].value && state.accepted(*j) {
                    carried.insert(*j);
                }
            }
        }
    }
    let unwritable = &state.unwritable;
    let mut refused: Vec<(usize, String)> =
        state.refused.into_iter().filter(|(i, _)| !unwritable.contains(i)).collect();
    refused.sort_by_key(|(i, _)| *i);
    Sharing { refused, carried }
}

/// The plan as sharing sees it while it decides.
struct State<'c> {
    changes: &'c [Change],
    index: HashMap<(&'c str, &'c [String]), Vec<usize>>,
    by_service: HashMap<&'c str, Vec<usize>>,
    /// Changes `write` would refuse anyway.
    unwritable: HashSet<usize>,
    /// Repairs whose value is written in another service's text (carried if that
    /// service makes the same repair).
    shared_value: HashSet<usize>,
    refused: HashMap<usize, String>,
}

impl State<'_> {
    fn accepted(&self, i: usize) -> bool {
        !self.refused.contains_key(&i)
    }

    /// Whether `service` plans, at `path`, the same change as change `i`.
    fn covers(&self, service: &str, path: &[String], i: usize) -> bool {
        self.index.get(&(service, path)).is_some_and(|js| {
            js.iter().any(|j| {
                *j != i
                    && self.accepted(*j)
                    && (!self.unwritable.contains(j) || self.shared_value.contains(j))
                    && self.changes[*j].value == self.changes[i].value
                    && self.changes[*j].replaces.is_some() == self.changes[i].replaces.is_some()
                    && !self.changes[*j].removes
            })
        })
    }

    /// Whether `service` writes a new key at `prefix` in its own text (which then hides
    /// what a merge would bring there).
    fn creates(&self, service: &str, prefix: &[String]) -> bool {
        self.by_service.get(service).into_iter().flatten().any(|j| {
            let (j, c) = (*j, &self.changes[*j]);
            c.replaces.is_none() && c.path.starts_with(prefix) && self.accepted(j) && !self.unwritable.contains(&j)
        })
    }
}

struct View<'a> {
    doc: &'a Document,
    by_name: HashMap<&'a str, NodeId>,
    /// Anchored node -> where services alias it.
    uses: HashMap<NodeId, Vec<Use<'a>>>,
}

impl<'a> View<'a> {
    /// Every service that would see a write at `path` of `service`, at the path it would
    /// see it: the services that alias or merge the text it lands in (and those that
    /// alias theirs, in turn), where their own view of the file reaches that text.
    fn copies(&self, service: &str, path: &[String], state: &State) -> Result<Vec<Copy<'a>>, String> {
        let layout = &self.doc.layout;
        let Some(first) = self.by_name.get(service).copied() else { return Ok(Vec::new()) };
        // The nodes the write changes: the service and each key of the path written in its
        // own text. The last is where it writes: a new key there (at `path[stop]`), or,
        // for a repair, the value itself.
        let mut nodes = vec![first];
        for key in path {
            let here = nodes[nodes.len() - 1];
            match super::child(layout, here, key) {
                Some(next) => nodes.push(next),
                None => break,
            }
        }
        let stop = nodes.len() - 1;
        let write = Write { node: nodes[stop], new_at: (stop < path.len()).then_some(stop) };
        let mut out = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            self.uses_of(*node, path, i, write.new_at, 0, &mut out)?;
        }
        Ok(out
            .into_iter()
            .filter(|(s, p, _, new_at)| self.sees(s, p, *new_at, write.node, state))
            .map(|(s, p, a, _)| (s, p, a))
            .collect())
    }

    /// The places that alias `node` (reached at `path[..i]`), recursively.
    fn uses_of(
        &self,
        node: NodeId,
        path: &[String],
        i: usize,
        new_at: Option<usize>,
        depth: usize,
        out: &mut Vec<(&'a str, Vec<String>, String, Option<usize>)>,
    ) -> Result<(), String> {
        const DEEPEST: usize = 16;
        let layout = &self.doc.layout;
        for u in self.uses.get(&node).into_iter().flatten() {
            if i == path.len() && u.merged_into.is_some() {
                return Err(format!("service `{}` merges this value (`{}`)", u.service, u.alias));
            }
            if depth >= DEEPEST {
                return Err(format!("service `{}` shares this text through too many aliases", u.service));
            }
            let copy: Vec<String> = u.path.iter().chain(&path[i..]).cloned().collect();
            let moved = new_at.map(|k| u.path.len() + k.saturating_sub(i));
            // Those who alias the text that holds this alias see the write too.
            let Some(mut here) = self.by_name.get(u.service).copied() else { continue };
            let mut chain = vec![here];
            for key in &u.path {
                match layout.get(here, key) {
                    Some((_, next)) if matches!(layout.node(here).kind, Kind::Map { .. }) => {
                        here = next;
                        chain.push(next);
                    }
                    _ => break,
                }
            }
            out.push((u.service, copy.clone(), u.alias.clone(), moved));
            for (j, holder) in chain.iter().enumerate() {
                self.uses_of(*holder, &copy, j, moved, depth + 1, out)?;
            }
        }
        Ok(())
    }

    /// Whether `service`'s hardened view reaches the written node at `path`. Its view
    /// follows its own keys, then its merges and aliases, as in the input; where the
    /// service writes a block of its own, that block merges what the input had there
    /// (so a key that the input lacks and the service writes itself hides the new one).
    fn sees(&self, service: &str, path: &[String], new_at: Option<usize>, written: NodeId, state: &State) -> bool {
        let layout = &self.doc.layout;
        let Some(mut raw) = self.by_name.get(service).copied() else { return false };
        for (j, key) in path.iter().enumerate() {
            let current = layout.resolve(raw);
            if new_at == Some(j) {
                if state.creates(service, &path[..=j]) {
                    return false;
                }
                if matches!(layout.node(written).kind, Kind::Alias { .. }) {
                    // The alias becomes a mapping of its own, in the text that holds it.
                    return raw == written;
                }
                let order = merge_order(layout, current);
                let Some(at) = order.iter().position(|n| *n == written) else { return false };
                return !order[..at].iter().any(|n| layout.get(*n, key).is_some());
            }
            raw = match &layout.node(current).kind {
                Kind::Map { .. } => match layout.lookup(current, key, 0) {
                    Some((_, value, _)) => value,
                    None => return false,
                },
                Kind::Seq { items, .. } => match key.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(item) => *item,
                    None => return false,
                },
                _ => return false,
            };
            if new_at.is_none() && j + 1 == path.len() {
                return raw == written;
            }
        }
        false
    }
}

/// Where the write lands: the node, and the index in the path of the key it adds there.
struct Write {
    node: NodeId,
    new_at: Option<usize>,
}

/// A mapping and the mappings it merges, in the order a key is looked for in them.
pub(super) fn merge_order(layout: &crate::document::layout::Layout, node: NodeId) -> Vec<NodeId> {
    fn add(layout: &crate::document::layout::Layout, node: NodeId, out: &mut Vec<NodeId>, depth: usize) {
        out.push(node);
        if depth < crate::document::layout::MAX_DEPTH {
            for source in layout.merge_sources(node) {
                add(layout, source, out, depth + 1);
            }
        }
    }
    let mut out = Vec::new();
    add(layout, node, &mut out, 0);
    out
}

/// Records the aliases in a service's own text (aliases are not followed), by target.
pub(super) fn collect<'a>(
    doc: &'a Document,
    service: &'a str,
    node: NodeId,
    path: &mut Vec<String>,
    merged_into: Option<NodeId>,
    uses: &mut HashMap<NodeId, Vec<Use<'a>>>,
) {
    let layout = &doc.layout;
    match &layout.node(node).kind {
        Kind::Alias { target } => {
            let n = layout.node(node);
            let written = &doc.text[n.start..n.end];
            let alias = if merged_into.is_some() { format!("<<: {written}") } else { written.to_string() };
            uses.entry(*target).or_default().push(Use { service, path: path.clone(), merged_into, alias });
        }
        Kind::Map { entries, .. } => {
            for (key, value) in entries {
                let key_text = layout.scalar(*key).unwrap_or_default();
                if key_text == "<<" {
                    match &layout.node(*value).kind {
                        Kind::Seq { items, .. } => {
                            for item in items {
                                collect(doc, service, *item, path, Some(node), uses);
                            }
                        }
                        _ => collect(doc, service, *value, path, Some(node), uses),
                    }
                    continue;
                }
                path.push(key_text.to_string());
                collect(doc, service, *value, path, None, uses);
                path.pop();
            }
        }
        Kind::Seq { items, .. } => {
            for (i, item) in items.iter().enumerate() {
                path.push(i.to_string());
                collect(doc, service, *item, path, None, uses);
                path.pop();
            }
        }
        Kind::Scalar { .. } => {}
    }
}
