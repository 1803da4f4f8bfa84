//! How a decision from the image facts cites them: the image's ID and what was seen, so a
//! reader can check the claim against the facts file (or `docker image inspect`).

use super::Service;
use crate::facts::search::tools_called;
use crate::facts::{Image, Init, InitKind, Presence};
use yaml_serde::Value;

/// The tools a probe can use, in the order a finding names what an image has.
const PROBE_TOOLS: [&str; 6] = ["curl", "wget", "nc", "python3", "node", "busybox"];

/// The image's ID as `docker images` shows it (12 hex digits).
pub fn id(image: &Image) -> &str {
    let hex = image.id.strip_prefix("sha256:").unwrap_or(&image.id);
    hex.get(..12).unwrap_or(hex)
}

/// How a message names the service's image: `` `app:1` (image ID 3986e7e1a6f2) ``, or the
/// image the service builds.
pub fn image(service: &Service, image: &Image) -> String {
    match service.image() {
        Some(reference) => format!("`{reference}` (image ID {})", id(image)),
        None => format!("the image `{}` builds (image ID {})", service.name, id(image)),
    }
}

/// What probe tools the image has: `` `wget` (/bin/wget -> /bin/busybox), `nc` (...) ``,
/// or that it has none of them.
pub fn tools(image: &Image) -> String {
    let found: Vec<String> =
        PROBE_TOOLS.iter().filter_map(|t| image.tools.get(*t).map(|at| format!("`{t}` ({at})"))).collect();
    match found.is_empty() {
        true => format!("none of {}", PROBE_TOOLS.map(|t| format!("`{t}`")).join(", ")),
        false => found.join(", "),
    }
}

/// A healthcheck `test` as Compose writes it, in the engine's form: a string is `CMD-SHELL`.
pub fn test_words(test: &Value) -> Option<Vec<String>> {
    match test {
        Value::String(s) => Some(vec!["CMD-SHELL".to_string(), s.clone()]),
        Value::Sequence(items) => items.iter().map(|i| i.as_str().map(str::to_string)).collect(),
        _ => None,
    }
}

/// Why a test cannot run for want of `/bin/sh`, where it cannot.
pub fn no_shell(test: &[String], image: &Image) -> Option<String> {
    let shell = test.first().is_some_and(|t| t == "CMD-SHELL");
    (shell && !image.bin_sh)
        .then(|| "is a `CMD-SHELL` test, which the engine runs with `/bin/sh`, and there is none".to_string())
}

/// The programs a test calls that the image lacks (`` `curl` ``), where the test fails for
/// want of them: any one of them, or, for a script with `||` fallbacks, every one. A tool
/// the facts did not look for is not counted: they cannot say.
pub fn missing_tools(test: &[String], image: &Image) -> Option<String> {
    let called = tools_called(test);
    let absent: Vec<&String> = called.iter().filter(|t| image.tool(t) == Presence::Absent).collect();
    let fallbacks = test.first().is_some_and(|t| t == "CMD-SHELL") && test.get(1).is_some_and(|s| s.contains("||"));
    let fails = !absent.is_empty() && (!fallbacks || absent.len() == called.len());
    fails.then(|| absent.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(" and "))
}

/// An HTTP probe (`[CMD, wget, -qO-, URL]` or curl) asked with a tool the image has:
/// as given where it has the tool (or no facts are at hand); else curl or wget, or
/// busybox's wget; else why none can ask it.
pub fn with_tool_found(test: &[String], image: Option<&Image>) -> Result<Vec<String>, String> {
    let Some(image) = image else { return Ok(test.to_vec()) };
    if missing_tools(test, image).is_none() && no_shell(test, image).is_none() {
        return Ok(test.to_vec());
    }
    let url =
        test.iter().flat_map(|t| t.split_whitespace()).find(|w| w.starts_with("http://") || w.starts_with("https://"));
    let Some(url) = url else {
        return Err(format!("lacks the program the declared probe calls (it has {})", tools(image)));
    };
    let cmd =
        |words: &[&str]| -> Vec<String> { words.iter().map(|w| w.to_string()).chain([url.to_string()]).collect() };
    let found = |tool: &str| matches!(image.tool(tool), Presence::Found(_));
    if found("curl") {
        Ok(cmd(&["CMD", "curl", "-fsS", "-o", "/dev/null"]))
    } else if found("wget") {
        Ok(cmd(&["CMD", "wget", "-qO-"]))
    } else if found("busybox") {
        Ok(cmd(&["CMD", "busybox", "wget", "-qO-"]))
    } else {
        Err(format!("has no HTTP client to ask it with (it has {})", tools(image)))
    }
}

/// The init the image starts as it runs for this service: none where the service replaces
/// the entrypoint (or, for an image without one, the command) that starts it.
pub fn init<'a>(service: &Service, image: &'a Image) -> Option<&'a Init> {
    let init = image.init.as_ref()?;
    let replaced = service.is_set(&["entrypoint"]) || (image.entrypoint.is_none() && service.is_set(&["command"]));
    (!replaced).then_some(init)
}

/// `s6-overlay's /init (seen: /package/admin/s6-overlay)`, `tini (/sbin/tini)`.
pub fn init_text(init: &Init) -> String {
    match (&init.kind, &init.marker) {
        (InitKind::S6Overlay, Some(marker)) => format!("s6-overlay's `{}` (seen: `{marker}`)", init.path),
        (kind, _) => format!("{} (`{}`)", kind.name(), init.path),
    }
}
