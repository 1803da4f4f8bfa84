//! What an image's filesystem holds, found without running it: each tool looked up on the
//! image's own PATH as `exec` would, links followed to an executable file, and the init the
//! entrypoint starts. The filesystem is asked one path at a time ([`Filesystem`]): the
//! engine answers for a container created from the image and never started.
//!
//! A bare busybox (the binary without its applet links) counts as `busybox` alone: from
//! outside, an applet exists only as a link, and which applets a busybox was built with
//! cannot be seen without running it; a probe can still call it as `busybox wget ...`.

use super::{Image, Init, InitKind, Tool};
use std::collections::BTreeMap;

/// What the filesystem says of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub kind: Kind,
    /// Any execute bit set.
    pub executable: bool,
    /// For a link: the path it resolves to (the engine resolves every hop).
    pub target: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Link,
    Other,
}

pub trait Filesystem {
    /// The entry at an absolute path; None where nothing is there.
    fn stat(&mut self, path: &str) -> Result<Option<Stat>, String>;
}

/// The tools every image is searched for, besides those the probe catalogue calls.
pub const BASE_TOOLS: &[&str] = &["sh", "bash", "curl", "wget", "nc", "busybox", "python3", "node", "java"];

/// Links followed before giving up (a loop, or a chain no image has).
const MAX_HOPS: usize = 8;

/// Entrypoint programs that are an init, by file name.
const INITS: &[(&str, InitKind)] = &[
    ("tini", InitKind::Tini),
    ("tini-static", InitKind::Tini),
    ("docker-init", InitKind::Tini),
    ("dumb-init", InitKind::DumbInit),
    ("catatonit", InitKind::Catatonit),
    ("supervisord", InitKind::Supervisord),
    ("runsvdir", InitKind::Runit),
    ("runit", InitKind::Runit),
    ("runit-init", InitKind::Runit),
    // phusion/baseimage's init, which starts runit.
    ("my_init", InitKind::Runit),
];

/// What only s6-overlay installs, so an entrypoint `/init` beside one of them is its own.
pub const S6_MARKERS: &[&str] =
    &["/package/admin/s6-overlay", "/etc/s6-overlay", "/command/s6-svscan", "/etc/services.d", "/etc/cont-init.d"];

/// The tools looked for: [`BASE_TOOLS`] and every program the profile's probe catalogue
/// calls (variants and the HTTP fallback included), sorted.
pub fn tools_for(profile: &crate::Profile) -> Vec<String> {
    let mut tools: std::collections::BTreeSet<String> = BASE_TOOLS.iter().map(|t| t.to_string()).collect();
    if let Some(settings) = &profile.healthcheck {
        let tests = settings.probes.iter().flat_map(|p| {
            let variants = p.variants.iter().filter_map(|v| v.test.as_ref());
            p.test.iter().chain(variants).chain(p.any_tag.as_ref().and_then(|a| a.test.as_ref()))
        });
        for test in tests.chain(settings.http_fallback.as_ref().map(|f| &f.test)) {
            tools.extend(tools_called(test));
        }
    }
    tools.into_iter().collect()
}

/// The tools a healthcheck `test` calls: `CMD`'s program; for `CMD-SHELL`, the first word
/// of each simple command (after assignments and `exec`), shell builtins left out.
pub fn tools_called(test: &[String]) -> Vec<String> {
    match test.split_first() {
        Some((kind, rest)) if kind == "CMD" => rest.first().into_iter().cloned().collect(),
        Some((kind, rest)) if kind == "CMD-SHELL" => rest.first().map(|s| shell_programs(s)).unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn shell_programs(script: &str) -> Vec<String> {
    const BUILTINS: &[&str] =
        &["exit", "test", "[", "[[", "echo", "true", "false", "printf", "cd", ":", "set", "export", "read"];
    let mut out: Vec<String> = Vec::new();
    for command in simple_commands(script) {
        let assignment = |w: &str| w.contains('=') && !w.starts_with('=');
        let word = command.iter().find(|w| !assignment(w) && !["exec", "!", "time"].contains(&w.as_str()));
        let Some(word) = word else { continue };
        if word.is_empty() || word.contains('$') || word.starts_with(['>', '<']) {
            continue;
        }
        if !BUILTINS.contains(&word.as_str()) && !out.contains(word) {
            out.push(word.clone());
        }
    }
    out
}

/// A script's simple commands, each as its words with quotes removed: split at `|`, `&`,
/// `;`, parentheses and line breaks outside quotes.
fn simple_commands(script: &str) -> Vec<Vec<String>> {
    let mut commands = vec![Vec::new()];
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let end_word = |word: &mut Option<String>, commands: &mut Vec<Vec<String>>| {
        if let (Some(w), Some(last)) = (word.take(), commands.last_mut()) {
            last.push(w);
        }
    };
    for c in script.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() && c != '\n' => end_word(&mut word, &mut commands),
            (None, '|' | '&' | ';' | '(' | ')' | '\n') => {
                end_word(&mut word, &mut commands);
                commands.push(Vec::new());
            }
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    end_word(&mut word, &mut commands);
    commands.retain(|c| !c.is_empty());
    commands
}

/// The directories of `path` that exist, each once: a link to a directory already listed
/// (`/bin` -> `/usr/bin`) is searched there.
pub fn directories(fs: &mut dyn Filesystem, path: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for dir in path {
        let Some(stat) = fs.stat(dir)? else { continue };
        let real = match stat.kind {
            Kind::Dir => dir.clone(),
            Kind::Link => match stat.target {
                Some(t) if matches!(fs.stat(&t)?, Some(Stat { kind: Kind::Dir, .. })) => t,
                _ => continue,
            },
            _ => continue,
        };
        if !out.contains(&real) {
            out.push(real);
        }
    }
    Ok(out)
}

/// An executable at `path`, links followed: where it was found and what it resolves to.
fn executable(fs: &mut dyn Filesystem, path: &str) -> Result<Option<Tool>, String> {
    let mut here = path.to_string();
    let mut target = None;
    for _ in 0..MAX_HOPS {
        let Some(stat) = fs.stat(&here)? else { return Ok(None) };
        match stat.kind {
            Kind::File if stat.executable => {
                return Ok(Some(Tool { path: path.to_string(), target }));
            }
            Kind::Link => match stat.target {
                Some(t) if t != here => {
                    here = absolute(&here, &t);
                    target = Some(here.clone());
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// A link's target as an absolute path (the engine gives absolute ones; a relative one is
/// read from the link's directory).
fn absolute(link: &str, target: &str) -> String {
    let joined = match target.starts_with('/') {
        true => target.to_string(),
        false => format!("{}/{target}", link.rsplit_once('/').map_or("", |(d, _)| d)),
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `name` as `exec` finds it: a path is taken as it is; a name is looked for in each
/// directory in order.
pub fn find(fs: &mut dyn Filesystem, dirs: &[String], name: &str) -> Result<Option<Tool>, String> {
    if name.contains('/') {
        return if name.starts_with('/') { executable(fs, name) } else { Ok(None) };
    }
    for dir in dirs {
        let path = if dir == "/" { format!("/{name}") } else { format!("{dir}/{name}") };
        if let Some(found) = executable(fs, &path)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Adds to `image` what its filesystem shows: the tools of `wanted` it has, whether
/// `/bin/sh` runs, and the init its entrypoint starts.
pub fn search(fs: &mut dyn Filesystem, image: &mut Image, wanted: &[String]) -> Result<(), String> {
    let dirs = directories(fs, &image.path)?;
    let mut tools = BTreeMap::new();
    for name in wanted {
        if let Some(found) = find(fs, &dirs, name)? {
            tools.insert(name.clone(), found);
        }
    }
    image.bin_sh = match tools.get("sh") {
        Some(sh) if sh.path == "/bin/sh" => true,
        _ => executable(fs, "/bin/sh")?.is_some(),
    };
    image.init = init(fs, image, &dirs)?;
    image.tools = tools;
    Ok(())
}

/// The init PID 1 runs: the entrypoint's program (the command's where there is none).
fn init(fs: &mut dyn Filesystem, image: &Image, dirs: &[String]) -> Result<Option<Init>, String> {
    let first = image.entrypoint.as_ref().or(image.cmd.as_ref()).and_then(|words| words.first());
    let Some(program) = first else { return Ok(None) };
    let Some(found) = find(fs, dirs, program)? else { return Ok(None) };
    let named = |path: &str| {
        let name = path.rsplit('/').next().unwrap_or(path);
        INITS.iter().find(|(n, _)| *n == name).map(|(_, kind)| *kind)
    };
    if let Some(kind) = named(&found.path).or_else(|| found.target.as_deref().and_then(named)) {
        return Ok(Some(Init { kind, path: found.path, marker: None }));
    }
    if found.path == "/init" {
        for marker in S6_MARKERS {
            if fs.stat(marker)?.is_some() {
                let marker = Some(marker.to_string());
                return Ok(Some(Init { kind: InitKind::S6Overlay, path: found.path, marker }));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A filesystem from a list: `path` -> `file`, `dir`, `script` (not executable) or
    /// `-> target`; every lookup counted.
    struct Fake {
        entries: HashMap<String, Stat>,
        asked: usize,
    }

    impl Fake {
        fn new(list: &[(&str, &str)]) -> Fake {
            let entries = list
                .iter()
                .map(|(path, what)| {
                    let stat = match *what {
                        "file" => Stat { kind: Kind::File, executable: true, target: None },
                        "data" => Stat { kind: Kind::File, executable: false, target: None },
                        "dir" => Stat { kind: Kind::Dir, executable: true, target: None },
                        link => Stat {
                            kind: Kind::Link,
                            executable: true,
                            target: Some(link.trim_start_matches("-> ").to_string()),
                        },
                    };
                    (path.to_string(), stat)
                })
                .collect();
            Fake { entries, asked: 0 }
        }
    }

    impl Filesystem for Fake {
        /// As the engine does, a link among the path's directories is followed.
        fn stat(&mut self, path: &str) -> Result<Option<Stat>, String> {
            self.asked += 1;
            if let Some(found) = self.entries.get(path) {
                return Ok(Some(found.clone()));
            }
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            match self.entries.get(dir) {
                Some(Stat { kind: Kind::Link, target: Some(t), .. }) => {
                    Ok(self.entries.get(&format!("{t}/{name}")).cloned())
                }
                _ => Ok(None),
            }
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn image(path: &str, entrypoint: &[&str]) -> Image {
        Image {
            path: path.split(':').map(str::to_string).collect(),
            entrypoint: (!entrypoint.is_empty()).then(|| names(entrypoint)),
            ..Image::default()
        }
    }

    #[test]
    fn busybox_applets_are_links_followed_to_the_binary() {
        let mut fs = Fake::new(&[
            ("/bin", "dir"),
            ("/bin/busybox", "file"),
            ("/bin/sh", "-> /bin/busybox"),
            ("/bin/wget", "-> /bin/busybox"),
        ]);
        let mut img = image("/usr/local/bin:/usr/bin:/bin", &[]);
        search(&mut fs, &mut img, &names(&["sh", "curl", "wget", "busybox"])).expect("searched");
        let shown: Vec<String> = img.tools.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        assert_eq!(shown, ["busybox: /bin/busybox", "sh: /bin/sh -> /bin/busybox", "wget: /bin/wget -> /bin/busybox"]);
        assert!(img.tools["wget"].is_busybox_applet());
        assert!(img.bin_sh);
        // Missing directories are asked about once, not once per tool.
        assert!(fs.asked <= 3 + 4 + 4, "asked {} times", fs.asked);
    }

    #[test]
    fn a_bare_busybox_is_busybox_alone() {
        let mut fs = Fake::new(&[("/bin", "dir"), ("/bin/busybox", "file")]);
        let mut img = image("/bin", &[]);
        search(&mut fs, &mut img, &names(&["sh", "wget", "busybox"])).expect("searched");
        assert_eq!(img.tools.keys().collect::<Vec<_>>(), ["busybox"]);
        assert!(!img.bin_sh);
    }

    #[test]
    fn merged_usr_is_searched_once_and_broken_links_and_data_files_are_not_tools() {
        let mut fs = Fake::new(&[
            ("/usr/bin", "dir"),
            ("/bin", "-> /usr/bin"),
            ("/usr/bin/dash", "file"),
            ("/usr/bin/sh", "-> /usr/bin/dash"),
            ("/usr/bin/curl", "-> /usr/bin/missing"),
            ("/usr/bin/python3", "data"),
            ("/usr/local/bin", "dir"),
            ("/usr/local/bin/java", "-> ../lib/jvm/bin/java"),
            ("/usr/local/lib/jvm/bin/java", "file"),
        ]);
        let dirs = directories(&mut fs, &names(&["/usr/local/bin", "/usr/bin", "/bin"])).expect("dirs");
        assert_eq!(dirs, ["/usr/local/bin", "/usr/bin"]);
        let mut img = image("/usr/local/bin:/usr/bin:/bin", &[]);
        search(&mut fs, &mut img, &names(&["sh", "curl", "python3", "java"])).expect("searched");
        let shown: Vec<String> = img.tools.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        assert_eq!(
            shown,
            ["java: /usr/local/bin/java -> /usr/local/lib/jvm/bin/java", "sh: /usr/bin/sh -> /usr/bin/dash"]
        );
        assert!(img.bin_sh, "/bin/sh through the /bin link");
        assert!(img.has_java());
    }

    #[test]
    fn inits_by_name_and_s6_overlay_by_its_marker() {
        let base = [("/usr/bin", "dir"), ("/sbin", "dir")];
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], Option<(InitKind, &'a str)>);
        let cases: &[Case] = &[
            (&[("/sbin/tini", "file")], &["/sbin/tini", "--"], Some((InitKind::Tini, "/sbin/tini"))),
            (
                &[("/usr/bin/tini", "-> /usr/bin/tini-static"), ("/usr/bin/tini-static", "file")],
                &["tini"],
                Some((InitKind::Tini, "/usr/bin/tini")),
            ),
            (&[("/usr/bin/dumb-init", "file")], &["dumb-init", "--"], Some((InitKind::DumbInit, "/usr/bin/dumb-init"))),
            (
                &[("/init", "file"), ("/package/admin/s6-overlay", "dir")],
                &["/init"],
                Some((InitKind::S6Overlay, "/init")),
            ),
            (&[("/init", "file")], &["/init"], None),
            (&[], &["tini"], None),
            (
                &[("/usr/bin/supervisord", "file")],
                &["supervisord", "-n"],
                Some((InitKind::Supervisord, "/usr/bin/supervisord")),
            ),
        ];
        for (files, entrypoint, want) in cases {
            let mut list = base.to_vec();
            list.extend_from_slice(files);
            let mut fs = Fake::new(&list);
            let mut img = image("/usr/bin:/sbin", entrypoint);
            search(&mut fs, &mut img, &[]).expect("searched");
            let got = img.init.as_ref().map(|i| (i.kind, i.path.as_str()));
            assert_eq!(got, *want, "{entrypoint:?}");
        }
    }

    #[test]
    fn the_tools_looked_for_are_the_usual_ones_and_the_catalogues() {
        let production = crate::Profile::load("production").expect("production");
        let tools = tools_for(&production);
        for tool in ["sh", "curl", "wget", "java", "pg_isready", "redis-cli", "mongosh", "mysqladmin", "grep"] {
            assert!(tools.contains(&tool.to_string()), "{tool} in {tools:?}");
        }
        assert!(!tools.iter().any(|t| t.contains('(') || t.starts_with('.')), "{tools:?}");
        let minimal = crate::Profile::load("minimal").expect("minimal");
        let mut base = names(BASE_TOOLS);
        base.sort();
        assert_eq!(tools_for(&minimal), base, "minimal has no catalogue");
    }

    #[test]
    fn the_tools_a_test_calls() {
        let t = |words: &[&str]| tools_called(&names(words));
        assert_eq!(t(&["CMD", "curl", "-f", "http://x"]), ["curl"]);
        assert_eq!(t(&["CMD-SHELL", "redis-cli ping | grep -q PONG"]), ["redis-cli", "grep"]);
        assert_eq!(
            t(&["CMD-SHELL", "curl -fsS -o /dev/null http://localhost/ || wget -qO- http://localhost/ > /dev/null"]),
            ["curl", "wget"]
        );
        assert_eq!(
            t(&["CMD-SHELL", "FOO=1 exec pg_isready -U \"$${POSTGRES_USER:-postgres}\" || exit 1"]),
            ["pg_isready"]
        );
        assert_eq!(
            t(&["CMD", "/opt/kafka/bin/kafka-broker-api-versions.sh"]),
            ["/opt/kafka/bin/kafka-broker-api-versions.sh"]
        );
        assert_eq!(
            t(&["CMD-SHELL", "mongosh --quiet --eval \"db.adminCommand('ping').ok\" || mongo"]),
            ["mongosh", "mongo"]
        );
        assert_eq!(t(&["CMD-SHELL", "'/usr/local/bin/check' a;echo done"]), ["/usr/local/bin/check"]);
        assert!(t(&["NONE"]).is_empty());
    }
}
