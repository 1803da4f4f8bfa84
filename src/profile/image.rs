//! Image references and the patterns profiles match them with.

/// An image reference split into repository (no registry `docker.io`, no `library/`) and
/// tag, as far as the file says: see [`reference`].
pub fn image_parts(image: &str) -> (String, Option<String>) {
    let r = reference(image);
    (r.repo, r.tag)
}

/// An image reference as Compose would read it after interpolation, as far as the file
/// itself says: `${V:-d}` and `${V-d}` give their default (which may hold `${...}`
/// again); `$V`, `${V}`, `${V:?msg}`, `${V?msg}` and `${V:+x}` are unknown. An unknown
/// tag is `None` with `tag_known` false; an unknown part of the repository leaves a `$`
/// in it, so that no pattern matches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub repo: String,
    pub tag: Option<String>,
    pub repo_known: bool,
    pub tag_known: bool,
}

/// Stands for a value known only once the file is interpolated.
const UNKNOWN: char = '\u{1}';

pub fn reference(image: &str) -> Reference {
    let text = with_defaults(image);
    let text = text.split('@').next().unwrap_or(&text);
    let (name, tag) = match text.rfind(':') {
        Some(i) if !text[i..].contains('/') => (&text[..i], Some(&text[i + 1..])),
        _ => (text, None),
    };
    let repo_known = !name.contains(UNKNOWN);
    let tag_known = tag.is_none_or(|t| !t.contains(UNKNOWN));
    let mut name = name.replace(UNKNOWN, "$").to_ascii_lowercase();
    for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            name = rest.to_string();
        }
    }
    if let Some(rest) = name.strip_prefix("library/") {
        name = rest.to_string();
    }
    let tag = tag.filter(|_| tag_known).map(str::to_string);
    Reference { repo: name, tag, repo_known, tag_known }
}

/// The text with each interpolation replaced by its default, or by [`UNKNOWN`].
fn with_defaults(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(more) = after.strip_prefix('$') {
            out.push('$');
            rest = more;
        } else if let Some(inner_start) = after.strip_prefix('{') {
            // The matching brace, counting nested `${`.
            let (mut depth, mut end) = (1, None);
            for (i, c) in inner_start.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(i);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(end) = end else {
                out.push(UNKNOWN);
                return out;
            };
            let inner = &inner_start[..end];
            let name_len = inner.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
            let op = &inner[name_len..];
            match op.strip_prefix(":-").or_else(|| op.strip_prefix('-')) {
                Some(default) => out.push_str(&with_defaults(default)),
                None => out.push(UNKNOWN),
            }
            rest = &inner_start[end + 1..];
        } else {
            let name_len = after.bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'_').count();
            if name_len == 0 {
                out.push('$');
            } else {
                out.push(UNKNOWN);
            }
            rest = &after[name_len..];
        }
    }
    out.push_str(rest);
    out
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    // Byte positions: `*` is ASCII, and a search for a char costs more on short patterns.
    let Some(star) = pattern.bytes().position(|b| b == b'*') else { return pattern == text };
    let (first, rest) = (&pattern[..star], &pattern[star + 1..]);
    let (middle, last) = match rest.bytes().rposition(|b| b == b'*') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => ("", rest),
    };
    parts_match(first, middle.split('*'), last, text)
}

/// Whether `text` starts with `first`, ends with `last`, and holds the `middle` parts in
/// order between them: a pattern with `*` in it, split at its stars.
fn parts_match<'p>(first: &str, middle: impl IntoIterator<Item = &'p str>, last: &str, text: &str) -> bool {
    if text.len() < first.len() + last.len() || !text.starts_with(first) || !text.ends_with(last) {
        return false;
    }
    let mut inner = &text[first.len()..text.len() - last.len()];
    for part in middle.into_iter().filter(|p| !p.is_empty()) {
        match inner.find(part) {
            Some(i) => inner = &inner[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// Patterns compiled to match one text against many: those without `*` are hashed, the
/// rest tried in order. Each pattern belongs to a group (a class, a catalogue entry), and
/// the first group with a matching pattern wins, as a scan in order would find.
#[derive(Debug, Default)]
pub struct Globs {
    exact: foldhash::HashMap<String, usize>,
    starred: Vec<(usize, Starred)>,
}

/// A pattern with `*` in it, split once: what the text must start and end with, and the
/// parts between, in order.
#[derive(Debug)]
struct Starred {
    first: String,
    middle: Vec<String>,
    last: String,
}

impl Starred {
    fn new(pattern: &str) -> Starred {
        let parts: Vec<&str> = pattern.split('*').collect();
        let (first, last) = (parts[0].to_string(), parts[parts.len() - 1].to_string());
        let middle = parts[1..parts.len() - 1].iter().filter(|p| !p.is_empty()).map(|p| p.to_string()).collect();
        Starred { first, middle, last }
    }

    fn matches(&self, text: &str) -> bool {
        parts_match(&self.first, self.middle.iter().map(String::as_str), &self.last, text)
    }
}

impl Globs {
    pub fn new<'a>(groups: impl IntoIterator<Item = (usize, &'a [String])>) -> Globs {
        let mut globs = Globs::default();
        for (group, patterns) in groups {
            for pattern in patterns {
                if pattern.contains('*') {
                    globs.starred.push((group, Starred::new(pattern)));
                } else {
                    globs.exact.entry(pattern.clone()).or_insert(group);
                }
            }
        }
        globs.starred.sort_by_key(|(g, _)| *g);
        globs
    }

    /// The first group with a pattern that matches `text`.
    pub fn first(&self, text: &str) -> Option<usize> {
        let exact = self.exact.get(text).copied();
        let starred = self
            .starred
            .iter()
            .take_while(|(g, _)| exact.is_none_or(|e| *g < e))
            .find(|(_, p)| p.matches(text))
            .map(|(g, _)| *g);
        starred.or(exact)
    }
}

/// The leading number of a tag (`11.4-noble` -> 11); none for `latest` and the like.
pub fn major_version(tag: &str) -> Option<u32> {
    let digits: String = tag.trim_start_matches('v').chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_parts_strip_registry_and_library() {
        assert_eq!(image_parts("postgres:16-alpine"), ("postgres".into(), Some("16-alpine".into())));
        assert_eq!(image_parts("docker.io/library/redis"), ("redis".into(), None));
        assert_eq!(image_parts("localhost:5000/app:1"), ("localhost:5000/app".into(), Some("1".into())));
        assert_eq!(image_parts("ghcr.io/linuxserver/plex@sha256:ab"), ("ghcr.io/linuxserver/plex".into(), None));
    }

    #[test]
    fn interpolated_references_take_their_defaults() {
        let parts = |i: &str| {
            let r = reference(i);
            (r.repo, r.tag, r.repo_known, r.tag_known)
        };
        let known = |repo: &str, tag: Option<&str>| (repo.to_string(), tag.map(str::to_string), true, true);
        assert_eq!(parts("postgres:${PG_VERSION:-16}"), known("postgres", Some("16")));
        assert_eq!(parts("redis:${REDIS_TAG-7}"), known("redis", Some("7")));
        assert_eq!(parts("mongo:${V:-5.0}"), known("mongo", Some("5.0")));
        assert_eq!(parts("${REGISTRY:-docker.io}/library/postgres:16"), known("postgres", Some("16")));
        assert_eq!(parts("${REG:-${MIRROR:-docker.io}}/library/redis"), known("redis", None));
        assert_eq!(parts("mariadb:${V:?set V}"), ("mariadb".to_string(), None, true, false));
        assert_eq!(parts("mariadb:${V?set V}"), ("mariadb".to_string(), None, true, false));
        assert_eq!(parts("mariadb:$V"), ("mariadb".to_string(), None, true, false));
        assert_eq!(parts("mariadb:${V}"), ("mariadb".to_string(), None, true, false));
        assert_eq!(parts("${IMAGE}"), ("$".to_string(), None, false, true));
        assert!(!parts("${REG}/postgres:16").2);
        assert_eq!(parts("nginx:${A:-1.27}-alpine${B:-}"), known("nginx", Some("1.27-alpine")));
        assert_eq!(parts("app@sha256:${DIGEST}"), known("app", None));
    }

    #[test]
    fn compiled_globs_find_the_first_group_a_scan_finds() {
        let groups: Vec<Vec<String>> = vec![
            vec!["a/b".into(), "x*".into()],
            vec!["postgres".into()],
            vec!["*gres".into(), "redis".into()],
            vec!["x1".into()],
        ];
        let globs = Globs::new(groups.iter().enumerate().map(|(i, g)| (i, g.as_slice())));
        for text in ["a/b", "x1", "postgres", "mygres", "redis", "none", ""] {
            let scan = groups.iter().position(|g| g.iter().any(|p| glob_match(p, text)));
            assert_eq!(globs.first(text), scan, "{text}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("linuxserver/*", "linuxserver/plex"));
        assert!(!glob_match("linuxserver/*", "lscr.io/linuxserver/plex"));
        assert!(glob_match("*/linuxserver/*", "lscr.io/linuxserver/plex"));
        assert!(glob_match("mongo", "mongo"));
        assert!(!glob_match("a*a", "a"));
    }

    #[test]
    fn versions() {
        assert_eq!(major_version("11.4-noble"), Some(11));
        assert_eq!(major_version("latest"), None);
        assert_eq!(major_version("v2.10"), Some(2));
    }
}
