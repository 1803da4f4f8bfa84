//! Where every node of the YAML text is: byte spans, styles, anchors and aliases.
//!
//! Built from `saphyr-parser` events. The parser's markers count characters and some
//! of its spans run too far (a quoted scalar followed by a comment, block scalars, block
//! collection ends), so spans are re-measured here against the text itself.

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
// A fast seeded hash: keys are the file's own, looked up once per entry.
use foldhash::HashMap;

use crate::error::Error;

pub type NodeId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|` or `>`; `keep` is the `+` chomping indicator (trailing blank lines are content).
    Block {
        keep: bool,
    },
}

#[derive(Debug, Clone)]
pub enum Kind {
    Scalar { value: Box<str>, style: Style },
    Map { flow: bool, entries: Vec<(NodeId, NodeId)> },
    Seq { flow: bool, items: Vec<NodeId> },
    Alias { target: NodeId },
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    /// Byte offset of the node's first character (its anchor or tag when it has one).
    pub start: usize,
    /// Byte offset just past the node's last character. For a `|+` block scalar it is
    /// the line break of its last trailing blank line.
    pub end: usize,
    /// 1-based line and column (in characters) of `start`.
    pub line: usize,
    pub col: usize,
    pub anchored: bool,
    /// Whether the node has a tag (`!!str`, `!reset`); only that it has one matters here.
    pub tagged: bool,
}

impl Node {
    pub fn is_null_scalar(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { value, style: Style::Plain }
            if !self.tagged && matches!(&**value, "" | "~" | "null" | "Null" | "NULL"))
    }
}

/// Limits that keep hostile input cheap to refuse.
pub const MAX_DEPTH: usize = 64;
pub const MAX_EXPANDED_NODES: u64 = 5_000_000;
pub const MAX_ALIASES: usize = 250_000;

#[derive(Debug)]
pub struct Layout {
    pub nodes: Vec<Node>,
    pub root: NodeId,
    /// Key -> entry index for large mappings (a file of thousands of services), so that
    /// looking a key up stays cheap.
    indexes: HashMap<NodeId, HashMap<String, usize>>,
}

/// Mappings with more entries than this get an index.
const INDEXED_ENTRIES: usize = 16;

impl Layout {
    /// Whether a mapping has keys and writes every one double-quoted (`{"driver": "local"}`).
    pub fn quoted_keys(&self, entries: &[(NodeId, NodeId)]) -> bool {
        !entries.is_empty()
            && entries
                .iter()
                .all(|(k, _)| matches!(self.node(*k).kind, Kind::Scalar { style: Style::DoubleQuoted, .. }))
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// Whether any value is an alias (`*name`): then content is shared between places.
    pub fn has_aliases(&self) -> bool {
        self.nodes.iter().any(|n| matches!(n.kind, Kind::Alias { .. }))
    }

    /// Follows aliases to the node that holds the content.
    pub fn resolve(&self, mut id: NodeId) -> NodeId {
        while let Kind::Alias { target } = self.nodes[id].kind {
            id = target;
        }
        id
    }

    pub fn scalar(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[id].kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The value of `key` written directly in mapping `map` (no merges, no aliases).
    pub fn get(&self, map: NodeId, key: &str) -> Option<(NodeId, NodeId)> {
        if let Some(index) = self.indexes.get(&map) {
            let i = *index.get(key)?;
            return match &self.nodes[map].kind {
                Kind::Map { entries, .. } => entries.get(i).copied(),
                _ => None,
            };
        }
        match &self.nodes[map].kind {
            Kind::Map { entries, .. } => entries.iter().find(|(k, _)| self.scalar(*k) == Some(key)).copied(),
            _ => None,
        }
    }

    /// The mappings merged into `map` by `<<`, in priority order (aliases resolved).
    pub fn merge_sources(&self, map: NodeId) -> Vec<NodeId> {
        let Some((_, value)) = self.get(map, "<<") else {
            return Vec::new();
        };
        let value = self.resolve(value);
        match &self.nodes[value].kind {
            Kind::Seq { items, .. } => items.iter().map(|i| self.resolve(*i)).collect(),
            Kind::Map { .. } => vec![value],
            _ => Vec::new(),
        }
    }

    /// Finds `key` in `map` the way a merge-aware reader does: directly, else in the
    /// `<<` sources. Returns the key node, the value node, and whether it came through `<<`.
    pub fn lookup(&self, map: NodeId, key: &str, depth: usize) -> Option<(NodeId, NodeId, bool)> {
        if let Some((k, v)) = self.get(map, key) {
            return Some((k, v, false));
        }
        if depth > MAX_DEPTH {
            return None;
        }
        self.merge_sources(map).into_iter().find_map(|m| self.lookup(m, key, depth + 1).map(|(k, v, _)| (k, v, true)))
    }

    /// Position of the node at a path of mapping keys and sequence indexes, following
    /// aliases and merges: where an error about that value should point.
    pub fn locate(&self, path: &[String]) -> Option<&Node> {
        let mut id = self.root;
        let mut best = self.root;
        for step in path {
            let here = self.resolve(id);
            // A list item has no key to point at: it is its own place, even a block mapping.
            let item = matches!(self.nodes[here].kind, Kind::Seq { .. });
            let next = match &self.nodes[here].kind {
                Kind::Map { .. } => self.lookup(here, step, 0).map(|(_, v, via_merge)| {
                    if !via_merge {
                        if let Some((k, _)) = self.get(here, step) {
                            best = k;
                        }
                    }
                    v
                }),
                Kind::Seq { items, .. } => step.parse::<usize>().ok().and_then(|i| items.get(i).copied()),
                _ => None,
            };
            match next {
                Some(n) => {
                    id = n;
                    if item || !matches!(self.nodes[n].kind, Kind::Map { flow: false, .. }) {
                        best = n;
                    }
                }
                None => break,
            }
        }
        Some(&self.nodes[best])
    }
}

/// Converts the parser's character offsets to byte offsets with a moving cursor
/// (events arrive nearly in order, so each step is short).
struct Offsets<'a> {
    text: &'a str,
    ascii: bool,
    chars: usize,
    bytes: usize,
}

impl Offsets<'_> {
    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        while self.chars < char_index && self.bytes < self.text.len() {
            let c = self.text[self.bytes..].chars().next().map_or(1, char::len_utf8);
            self.bytes += c;
            self.chars += 1;
        }
        while self.chars > char_index {
            let c = self.text[..self.bytes].chars().next_back().map_or(1, char::len_utf8);
            self.bytes -= c;
            self.chars -= 1;
        }
        self.bytes
    }
}

/// A collection the reader is inside of: the states of the event handler. Events arrive
/// depth first, so the open collections form a stack, innermost last; a finished node is
/// attached to the top one (or becomes the root).
enum Open {
    /// A mapping, alternating between two states: waiting for a key (`key` is None) and,
    /// once a key is attached, waiting for that key's value (`key` holds it).
    /// `seen`: each key's name and entry index, to refuse duplicates in linear time; made
    /// once the mapping outgrows a scan of its entries (then kept as its index).
    Map { id: NodeId, key: Option<NodeId>, seen: Option<HashMap<String, usize>> },
    /// A sequence: every finished node is its next item.
    Seq { id: NodeId },
}

pub fn build(text: &str, file: &str) -> Result<Layout, Error> {
    // Room for a typical file's nodes at once (a block `key: value` line holds two; a line
    // of flow style may hold more, and the list then grows). Growing a large list by
    // doubling copies it and touches twice its memory; room never used is never touched.
    let room = memchr::memchr_iter(b'\n', text.as_bytes()).count() * 2 + 16;
    let mut b = Builder {
        text,
        file,
        offsets: Offsets { text, ascii: text.is_ascii(), chars: 0, bytes: 0 },
        nodes: Vec::with_capacity(room),
        expanded: Vec::with_capacity(room),
        last_end: 0,
        last_at: (1, 1),
        anchors: HashMap::default(),
        stack: Vec::new(),
        indexes: HashMap::default(),
        aliases: 0,
        root: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            syntax_error(text, file, m.line(), m.col() + 1, e.info())
        })?;
        b.event(event, span)?;
    }
    let root = b.root.ok_or_else(|| Error::new(file, "empty compose file: it holds no YAML document"))?;
    // The node list is kept for the whole run: give back what its growth left over.
    // Spans stay inside the text, whatever the parser reported (found by the fuzzer: a
    // flow collection as an explicit key ran one past the end).
    for node in &mut b.nodes {
        node.end = node.end.min(text.len());
        node.start = node.start.min(node.end);
    }
    Ok(Layout { indexes: b.indexes, nodes: b.nodes, root })
}

fn syntax_error(text: &str, file: &str, line: usize, col: usize, info: &str) -> Error {
    let line_text = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let message = if info.contains("tab") || line_text.starts_with('\t') {
        "tab character in indentation: YAML allows only spaces there; replace the tabs with spaces".to_string()
    } else if info.contains("unknown anchor") {
        // The parser points at the alias; name it and say what is missing.
        let at: String = line_text.chars().skip(col.saturating_sub(1)).collect();
        let name: String =
            at.trim_start_matches('*').chars().take_while(|c| !c.is_whitespace() && !",]}".contains(*c)).collect();
        format!("alias `*{name}` names no anchor: define `&{name}` on a value above it (an anchor must come before its aliases)")
    } else {
        format!("invalid YAML: {info}")
    };
    Error::at(file, line, col, message)
}

/// Reads the parser's events into nodes. Besides the stack of open collections, its
/// state is where the content read so far ends (`last_end`, `last_at`), which places
/// the nodes whose spans the parser reports elsewhere (empty scalars, block scalars
/// without content).
struct Builder<'a> {
    text: &'a str,
    file: &'a str,
    offsets: Offsets<'a>,
    nodes: Vec<Node>,
    /// Per node: nodes counted with every alias expanded (saturating), to refuse alias bombs.
    expanded: Vec<u64>,
    /// Where the last content read so far ends (a scalar, an alias, an opening indicator).
    last_end: usize,
    /// 1-based line and column of `last_end`.
    last_at: (usize, usize),
    anchors: HashMap<usize, NodeId>,
    stack: Vec<Open>,
    indexes: HashMap<NodeId, HashMap<String, usize>>,
    aliases: usize,
    root: Option<NodeId>,
    documents: usize,
}

/// Where an event starts: byte offset, and 1-based line and column (in characters).
#[derive(Clone, Copy)]
struct At {
    start: usize,
    line: usize,
    col: usize,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Error> {
        let at =
            At { start: self.offsets.byte(span.start.index()), line: span.start.line(), col: span.start.col() + 1 };
        match event {
            Event::DocumentStart(_) => self.document(at),
            Event::Scalar(value, style, anchor, tag) => self.scalar(value, style, anchor, tag.is_some(), at, span),
            Event::Alias(anchor) => self.alias(anchor, at, span),
            Event::MappingStart(anchor, tag) => self.open(true, anchor, tag.is_some(), at),
            Event::SequenceStart(anchor, tag) => self.open(false, anchor, tag.is_some(), at),
            Event::MappingEnd | Event::SequenceEnd => self.close(at.start),
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Ok(()),
        }
    }

    /// A document starts: one only, since Compose silently merges several.
    fn document(&mut self, at: At) -> Result<(), Error> {
        self.documents += 1;
        if self.documents > 1 {
            return Err(Error::at(
                self.file,
                at.line,
                at.col,
                "the file holds more than one YAML document: Docker Compose silently merges them, \
                 a later document's keys winning over an earlier one's; keep one document"
                    .to_string(),
            ));
        }
        Ok(())
    }

    /// A scalar: its style and its span measured against the text, then attached.
    fn scalar(
        &mut self,
        value: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tagged: bool,
        at: At,
        span: Span,
    ) -> Result<(), Error> {
        let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
        // A block scalar without a content line is placed at its header (`|+`).
        let header = if block && value.bytes().all(|b| b == b'\n') { self.block_header(at.start) } else { None };
        let (At { start, line, col }, style) = match (header, style) {
            (Some(h), _) => (self.header_at(h, at), Style::Block { keep: self.header_keeps(h) }),
            (None, ScalarStyle::Plain) => (at, Style::Plain),
            (None, ScalarStyle::SingleQuoted) => (at, Style::SingleQuoted),
            (None, ScalarStyle::DoubleQuoted) => (at, Style::DoubleQuoted),
            (None, ScalarStyle::Literal | ScalarStyle::Folded) => {
                (at, Style::Block { keep: self.block_header_keeps(at.start) })
            }
        };
        let end = match style {
            Style::Plain => self.offsets.byte(span.end.index()),
            Style::SingleQuoted | Style::DoubleQuoted => self.quoted_end(start, style),
            Style::Block { keep } if header.is_some() => self.header_only_end(start, keep),
            Style::Block { keep } => self.block_end(start, keep),
        };
        let empty = value.is_empty() && style == Style::Plain && anchor == 0 && !tagged;
        let (start, end, line, col) = match empty.then(|| self.empty_at(start)).flatten() {
            Some(at) => (at.start, at.start, at.line, at.col),
            None => (start, end, line, col),
        };
        self.last_end = end;
        if !empty {
            self.last_at = (span.end.line(), span.end.col() + 1);
        }
        let kind = Kind::Scalar { value: value.into_owned().into_boxed_str(), style };
        let node = Node { kind, start, end, line, col, anchored: anchor != 0, tagged };
        self.add(node, anchor, 1)
    }

    /// The header (`|`, `>`) of a block scalar without a content line, whose span from the
    /// parser starts at its header or even at the next token: the first `|` or `>` after
    /// the content before it.
    fn block_header(&self, start: usize) -> Option<usize> {
        let from = self.last_end.min(start);
        self.text[from..].find(['|', '>']).map(|p| from + p)
    }

    /// Where the header at `h` is: on the line where the content before it ended (else
    /// where the parser put the scalar).
    fn header_at(&self, h: usize, at: At) -> At {
        let before = &self.text[self.last_end.min(h)..h];
        let (line, col) = match h != at.start && !before.contains('\n') {
            true => (self.last_at.0, self.last_at.1 + before.chars().count()),
            false => (at.line, at.col),
        };
        At { start: h, line, col }
    }

    /// Where an empty scalar (`?` or `-` with nothing after it) belongs: the parser places
    /// it at the next token, possibly lines further on; it belongs where the content before
    /// it ends, or an edit after its collection would land past that next token. None
    /// where the parser's place is that already.
    fn empty_at(&mut self, start: usize) -> Option<At> {
        self.pass_entry_indicator(start);
        (self.last_end < start).then_some(At { start: self.last_end, line: self.last_at.0, col: self.last_at.1 })
    }

    /// An alias (`*name`): a node of its own that points at its anchor's node and counts
    /// that node's expanded size.
    fn alias(&mut self, anchor: usize, at: At, span: Span) -> Result<(), Error> {
        self.aliases += 1;
        if self.aliases > MAX_ALIASES {
            return Err(Error::at(
                self.file,
                at.line,
                at.col,
                format!("more than {MAX_ALIASES} aliases: refusing to read further (an alias bomb?)"),
            ));
        }
        let target = *self
            .anchors
            .get(&anchor)
            .ok_or_else(|| Error::at(self.file, at.line, at.col, "alias to an unknown anchor".to_string()))?;
        let end = self.offsets.byte(span.end.index());
        let expanded = self.expanded[target];
        self.last_end = end;
        self.last_at = (span.end.line(), span.end.col() + 1);
        let At { start, line, col } = at;
        let node = Node { kind: Kind::Alias { target }, start, end, line, col, anchored: false, tagged: false };
        self.add(node, 0, expanded)
    }

    /// A mapping or sequence starts: its node is made now (its end is known at `close`)
    /// and it becomes the innermost open collection.
    fn open(&mut self, is_map: bool, anchor: usize, tagged: bool, at: At) -> Result<(), Error> {
        let At { start, line, col } = at;
        if self.stack.len() >= MAX_DEPTH {
            return Err(Error::at(
                self.file,
                line,
                col,
                format!("nesting deeper than {MAX_DEPTH} levels: no compose file needs that; refusing to read further"),
            ));
        }
        let rest = skip_properties(&self.text.as_bytes()[start.min(self.text.len())..]);
        let flow = matches!(rest.first(), Some(b'{' | b'['));
        // An indicator that opens the collection (`{`, `[`, `-`, `?`) is content.
        if matches!(rest.first(), Some(b'{' | b'[' | b'-' | b'?')) {
            self.last_end = self.text.len() - rest.len() + 1;
            self.last_at = (line, col + 1);
        }
        let kind = if is_map { Kind::Map { flow, entries: Vec::new() } } else { Kind::Seq { flow, items: Vec::new() } };
        let node = Node { kind, start, end: start, line, col, anchored: anchor != 0, tagged };
        let id = self.nodes.len();
        self.nodes.push(node);
        self.expanded.push(1);
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        self.stack.push(if is_map { Open::Map { id, key: None, seen: None } } else { Open::Seq { id } });
        Ok(())
    }

    /// The innermost collection ends (`start` is the end event's, past any comments after
    /// a block collection): it gets its end and expanded size, then is attached.
    fn close(&mut self, start: usize) -> Result<(), Error> {
        let id = match self.stack.pop() {
            Some(Open::Map { id, seen, .. }) => {
                if let Some(seen) = seen {
                    self.indexes.insert(id, seen);
                }
                id
            }
            Some(Open::Seq { id }) => id,
            None => return Ok(()),
        };
        let flow = matches!(self.nodes[id].kind, Kind::Map { flow: true, .. } | Kind::Seq { flow: true, .. });
        let (end, expanded) = self.measure(id);
        // A flow collection ends at its closing bracket; a block one with its last child,
        // since the parser's end event points at the next token.
        self.nodes[id].end = if flow { start + 1 } else { end };
        if flow {
            self.last_end = start + 1;
        }
        self.expanded[id] = expanded;
        if expanded > MAX_EXPANDED_NODES {
            let n = &self.nodes[id];
            return Err(Error::at(
                self.file,
                n.line,
                n.col,
                format!(
                    "aliases here expand to more than {MAX_EXPANDED_NODES} nodes (an alias bomb?); refusing to expand them"
                ),
            ));
        }
        self.attach(id)
    }

    /// Where a collection's last child ends (its own start if it has none), and its nodes
    /// counted with every alias expanded.
    fn measure(&self, id: NodeId) -> (usize, u64) {
        let (mut end, mut expanded) = (self.nodes[id].start, 1u64);
        let mut count = |c: NodeId| {
            end = end.max(self.nodes[c].end);
            expanded = expanded.saturating_add(self.expanded[c]);
        };
        match &self.nodes[id].kind {
            Kind::Map { entries, .. } => entries.iter().for_each(|(k, v)| [*k, *v].into_iter().for_each(&mut count)),
            Kind::Seq { items, .. } => items.iter().copied().for_each(&mut count),
            _ => {}
        }
        (end, expanded)
    }

    fn add(&mut self, node: Node, anchor: usize, expanded: u64) -> Result<(), Error> {
        let id = self.nodes.len();
        self.nodes.push(node);
        self.expanded.push(expanded);
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        self.attach(id)
    }

    /// Places a finished node in its parent (the innermost open collection), or makes it
    /// the root: the step that moves a mapping between its two states.
    fn attach(&mut self, id: NodeId) -> Result<(), Error> {
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(id);
            return Ok(());
        };
        match top {
            Open::Seq { id: seq } => {
                if let Kind::Seq { items, .. } = &mut self.nodes[*seq].kind {
                    items.push(id);
                }
            }
            Open::Map { id: map, key, seen } => match key.take() {
                // Waiting for a key: the node is one (unless it repeats one); now its value.
                None => {
                    if let Some(name) = key_name(&self.nodes, id) {
                        if let Some(first) = repeated_key(&self.nodes, *map, seen, name) {
                            let (n, f) = (&self.nodes[id], &self.nodes[first]);
                            return Err(Error::at(
                                self.file,
                                n.line,
                                n.col,
                                format!(
                                    "duplicate key `{name}` (first set on line {}): YAML forbids it and Compose refuses the file; keep one",
                                    f.line
                                ),
                            ));
                        }
                    }
                    *key = Some(id);
                }
                // Waiting for a value: the entry is complete; the next node is a key again.
                Some(k) => {
                    let map = *map;
                    self.pin_empty_value(k, id);
                    if let Kind::Map { entries, .. } = &mut self.nodes[map].kind {
                        entries.push((k, id));
                    }
                }
            },
        }
        Ok(())
    }

    /// A later item of a block sequence has a `-` of its own, which is content: an empty
    /// item belongs after it, not where the item before it ended (an edit placed after the
    /// sequence would land between the two). The first item's `-` opened the sequence.
    fn pass_entry_indicator(&mut self, item_at: usize) {
        let Some(Open::Seq { id }) = self.stack.last() else { return };
        if !matches!(&self.nodes[*id].kind, Kind::Seq { flow: false, items } if !items.is_empty()) {
            return;
        }
        // The first thing after the item before, past blanks, line breaks and comments.
        let bytes = self.text.as_bytes();
        let mut at = self.last_end;
        while at < item_at.min(bytes.len()) {
            match bytes[at] {
                b' ' | b'\t' | b'\r' | b'\n' => at += 1,
                b'#' => at += self.text[at..].find('\n').unwrap_or(self.text.len() - at),
                _ => break,
            }
        }
        let indicator =
            bytes.get(at) == Some(&b'-') && matches!(bytes.get(at + 1), None | Some(b' ' | b'\t' | b'\r' | b'\n'));
        if !indicator || at >= item_at {
            return;
        }
        let before = &self.text[self.last_end..=at];
        let (line, col) = match before.rfind('\n') {
            Some(nl) => (self.last_at.0 + before.matches('\n').count(), before[nl + 1..].chars().count() + 1),
            None => (self.last_at.0, self.last_at.1 + before.chars().count()),
        };
        self.last_end = at + 1;
        self.last_at = (line, col);
    }

    /// An empty value (`key:`) gets no span from the parser worth keeping: place it
    /// right after the key's `:`, so edits that replace it stay on the key's line.
    fn pin_empty_value(&mut self, key: NodeId, value: NodeId) {
        let n = &self.nodes[value];
        if !matches!(&n.kind, Kind::Scalar { value, style: Style::Plain } if value.is_empty()) || n.tagged || n.anchored
        {
            return;
        }
        // The `:` on the key's own line (an explicit `? key` may have none there).
        // (A collection as a key can end past the text by the parser's span: no `:` then.)
        let after_key = self.nodes[key].end;
        let colon = match self.text.get(after_key..).and_then(|rest| rest.find([':', '\n'])) {
            Some(p) if self.text[after_key + p..].starts_with(':') => after_key + p + 1,
            _ => self.nodes[value].start,
        };
        let n = &mut self.nodes[value];
        n.start = colon;
        n.end = colon;
        // The `:` is content too: what comes next (a sequence's next `-`) is looked for
        // after it.
        if colon > self.last_end && !self.text[self.last_end..colon].contains('\n') {
            self.last_at.1 += self.text[self.last_end..colon].chars().count();
            self.last_end = colon;
        }
    }

    /// End of a quoted scalar: its closing quote (the parser's span may run on to a comment).
    fn quoted_end(&self, start: usize, style: Style) -> usize {
        let bytes = self.text.as_bytes();
        let Some(open) = bytes[start..].iter().position(|b| *b == b'"' || *b == b'\'').map(|p| p + start) else {
            return start;
        };
        let mut i = open + 1;
        while i < bytes.len() {
            match (style, bytes[i]) {
                (Style::DoubleQuoted, b'\\') => i += 2,
                (Style::DoubleQuoted, b'"') => return i + 1,
                (Style::SingleQuoted, b'\'') => {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                    } else {
                        return i + 1;
                    }
                }
                _ => i += 1,
            }
        }
        bytes.len()
    }

    /// Whether the block scalar whose content starts at `content` has a `+` indicator.
    fn block_header_keeps(&self, content: usize) -> bool {
        let before = &self.text[..content.min(self.text.len())];
        // The header is the last `|` or `>` before the content, on the line above.
        let header_line_end = before.trim_end_matches([' ', '\n', '\r']).len();
        let line_start = before[..header_line_end].rfind('\n').map_or(0, |p| p + 1);
        let line = &before[line_start..header_line_end];
        let Some(pos) = line.rfind(['|', '>']) else {
            return false;
        };
        line[pos..].split('#').next().is_some_and(|h| h.contains('+'))
    }

    /// Whether the block scalar header at `header` (`|+`, `>2+`) keeps trailing lines.
    fn header_keeps(&self, header: usize) -> bool {
        let line = self.text[header..].split('\n').next().unwrap_or("");
        line.split('#').next().is_some_and(|h| h.split_whitespace().next().is_some_and(|h| h.contains('+')))
    }

    /// End of a block scalar without content lines: its header, or with `+` the last of
    /// the blank lines that follow it (they are its value).
    fn header_only_end(&self, header: usize, keep: bool) -> usize {
        let text = self.text;
        let header_end = header + text[header..].find([' ', '\t', '\r', '\n']).unwrap_or(text.len() - header);
        if !keep {
            return header_end;
        }
        let mut end = header_end;
        let mut pos = text[header..].find('\n').map_or(text.len(), |p| header + p + 1);
        while pos < text.len() {
            let eol = text[pos..].find('\n').map_or(text.len(), |p| pos + p);
            if !text[pos..eol].trim_end_matches('\r').trim_start_matches(' ').is_empty() || eol == text.len() {
                break;
            }
            end = eol;
            pos = eol + 1;
        }
        end
    }

    /// End of a block scalar: its last content line (for `|+`, its last trailing blank
    /// line). Lines belong to it while they are blank or indented at least as deep as
    /// its first content line.
    fn block_end(&self, content: usize, keep: bool) -> usize {
        let text = self.text;
        let line_start = text[..content].rfind('\n').map_or(0, |p| p + 1);
        // The parser starts the content at its indentation, which an indicator (`|+1`)
        // can set below the first line's own: spaces past it are content.
        let indent = text[line_start..].bytes().take_while(|b| *b == b' ').count().min(content - line_start);
        let mut end = content;
        let mut pos = line_start;
        let mut last_content_end = content;
        while pos < text.len() {
            let eol = text[pos..].find('\n').map_or(text.len(), |p| pos + p);
            let line = &text[pos..eol];
            let this_indent = line.bytes().take_while(|b| *b == b' ').count();
            // Spaces beyond the content's indentation are content, even on a line of spaces.
            let blank = line.trim_end_matches('\r').trim_start_matches(' ').is_empty() && this_indent <= indent;
            if !blank && this_indent < indent {
                break;
            }
            if blank {
                if keep && eol < text.len() {
                    end = eol;
                }
            } else {
                last_content_end = eol.min(text.len());
                last_content_end -= usize::from(text[..last_content_end].ends_with('\r'));
                end = last_content_end;
            }
            pos = eol + 1;
        }
        end.max(last_content_end)
    }
}

/// Skips an anchor (`&a`) and a tag (`!t`) and the spaces after them.
fn skip_properties(mut rest: &[u8]) -> &[u8] {
    loop {
        match rest.first() {
            Some(b'&' | b'!') => {
                let n = rest.iter().position(|b| b.is_ascii_whitespace()).unwrap_or(rest.len());
                rest = &rest[n..];
            }
            Some(b' ' | b'\t' | b'\n' | b'\r') => rest = &rest[1..],
            // A comment after the properties (`key: &a # note`, the items below): no
            // content starts with `#`.
            Some(b'#') => {
                let n = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
                rest = &rest[n..];
            }
            _ => return rest,
        }
    }
}

/// The key that a new key `name` of mapping `map` repeats, if any, and else records
/// `name` as the next entry's in `seen`. `seen` is made once the mapping outgrows a scan
/// of its entries.
fn repeated_key(nodes: &[Node], map: NodeId, seen: &mut Option<HashMap<String, usize>>, name: &str) -> Option<NodeId> {
    let Kind::Map { entries, .. } = &nodes[map].kind else { return None };
    if seen.is_none() && entries.len() >= INDEXED_ENTRIES {
        let names = entries.iter().enumerate();
        *seen = Some(names.filter_map(|(i, (k, _))| Some((key_name(nodes, *k)?.to_string(), i))).collect());
    }
    let first = match seen {
        Some(seen) => seen.get(name).map(|i| entries[*i].0),
        None => entries.iter().map(|(k, _)| *k).find(|k| key_name(nodes, *k) == Some(name)),
    };
    if let (None, Some(seen)) = (first, seen) {
        seen.insert(name.to_string(), entries.len());
    }
    first
}

/// A mapping key's name for duplicate checks (`<<` may repeat: merges are not keys).
fn key_name(nodes: &[Node], id: NodeId) -> Option<&str> {
    match &nodes[id].kind {
        Kind::Scalar { value, .. } if &**value != "<<" => Some(value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_text_without_a_document_is_refused() {
        // `load` refuses such files earlier; the reader says so on its own too.
        let err = super::build("# only a comment\n", "f.yml").expect_err("no document");
        assert_eq!(err.to_string(), "f.yml: error: empty compose file: it holds no YAML document");
    }

    #[test]
    fn a_flow_mapping_with_a_trailing_comma_ends_at_its_brace() {
        for text in ["a: {b: c,}\n", "a: {b: c, }\n", "a: {b: c}\n", "a: [b, c,]\n"] {
            let layout = super::build(text, "f.yml").expect("valid");
            let inner = &layout.nodes[2];
            assert_eq!(&text[inner.start..inner.end], text[3..].trim_end(), "in {text:?}");
        }
    }
}
