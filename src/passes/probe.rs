//! Healthchecks that cannot tell: `curl` without `-f` exits 0 on HTTP 500, Alpine images
//! have no curl at all, a disabled check tells nothing, and a slow starter marked
//! unhealthy before it is up gets restarted in a loop by orchestrators.

use super::{Out, Pass, Service};
use crate::document::lookup;
use crate::profile::{glob_match, ProbeSettings, Profile, SlowStart};
use crate::rule::{rules, Rule};
use yaml_serde::Value;

pub struct Probe;

rules! {
    PROBE_DISABLED = "probe/disabled", Info, None,
        "the healthcheck is disabled",
        "`disable: true` or `test: [NONE]`: Docker and `service_healthy` waiters cannot tell whether the service \
         works. The user's choice is kept.";
    PROBE_CURL_WITHOUT_FAIL = "probe/curl-without-fail", Warning, Repair,
        "curl without -f exits 0 on an HTTP error",
        "`curl URL` succeeds on a 500 or a 404, so the probe can never fail. The repair adds `-f`. Not repaired \
         where the request sends credentials or the endpoint answers errors by design, or where a \
         service_healthy waiter could be blocked by a probe that starts failing (`--enforce` repairs there).";
    PROBE_CURL_JUDGED = "probe/curl-judged", Info, None,
        "curl without -f is kept: the probe judges the answer itself",
        "A probe that reads the status code or the body itself, or an endpoint that answers an error by \
         design (a 401 without credentials), would fail with -f; it is left as it is.";
    PROBE_CURL_MISSING = "probe/curl-missing", Warning, Replace,
        "the probe calls curl, which the image does not ship",
        "The probe always fails. `--enforce` switches a simple curl call to busybox `wget -qO-`.";
    PROBE_CURL_MAYBE_MISSING = "probe/curl-maybe-missing", Warning, None,
        "the probe calls curl on an image that usually has none",
        "Alpine-based images usually ship busybox wget but not curl; the probe fails if curl is absent.";
    PROBE_START_PERIOD = "probe/start-period", Info, Safe,
        "a slow-starting image gets a longer start period",
        "During the start period failed probes do not count, so a slow first start is not marked unhealthy.";
}

const TEST: [&str; 2] = ["healthcheck", "test"];

impl Pass for Probe {
    const NAME: &'static str = "probe";
    const RULES: &'static [&'static Rule] = RULES;
    type Settings<'p> = &'p ProbeSettings;

    fn settings(profile: &Profile) -> Option<&ProbeSettings> {
        profile.probe.as_ref()
    }

    fn run(&self, settings: &ProbeSettings, service: &Service, out: &mut Out) {
        let Some(Value::Mapping(healthcheck)) = service.get(&["healthcheck"]) else { return };
        let test = lookup::get(healthcheck, "test");
        let disabled = lookup::get(healthcheck, "disable").is_some_and(|d| d.as_bool() == Some(true))
            || test.is_some_and(|t| t.as_str() == Some("NONE") || first(t) == Some("NONE"));
        if disabled {
            out.report(
                &PROBE_DISABLED,
                &["healthcheck"],
                "healthcheck disabled: Docker and `depends_on: service_healthy` cannot tell whether the service works",
            );
            return;
        }
        let repo = service.reference().map(|r| (r.repo.as_str(), r.tag.as_deref()));
        if let Some(test) = test {
            // With image facts the healthcheck pass says whether curl is there
            // (`healthcheck/tool-missing`); these guesses from the image's name are the
            // fallback without them.
            let guess = service.facts.is_none();
            let reference = repo.map(|(r, tag)| format!("{r}:{}", tag.unwrap_or("latest")));
            let matches =
                |patterns: &[String]| reference.as_ref().is_some_and(|i| patterns.iter().any(|p| glob_match(p, i)));
            // Known to lack curl: an Alpine or busybox base, or a listed slim variant.
            let no_curl = matches(&settings.without_curl)
                || repo.as_ref().is_some_and(|(r, _)| settings.alpine_images.iter().any(|p| glob_match(p, r)));
            // Probably lacks it: an `alpine` tag not known to add curl.
            let alpine = no_curl
                || (repo.as_ref().is_some_and(|(_, t)| t.as_deref().is_some_and(|t| t.contains("alpine")))
                    && !matches(&settings.alpine_with_curl));
            if guess && alpine && uses_curl(test) {
                match (no_curl, as_wget(test)) {
                    (true, Ok(wget)) if service.enforce => {
                        let message =
                            format!("probe `{}` -> `{}`: the image has no curl", masked(&words(test)), masked(&words(&wget)));
                        out.replace(&PROBE_CURL_MISSING, &TEST, test, wget, message);
                        return;
                    }
                    (true, Ok(_)) => out.report_enforceable(
                        &PROBE_CURL_MISSING,
                        &TEST,
                        "the probe calls curl, which the image does not ship: it always fails (busybox `wget -qO-` is there)",
                    ),
                    (true, Err(why)) => out.report(
                        &PROBE_CURL_MISSING,
                        &TEST,
                        format!("the probe calls curl, which the image does not ship, so it always fails; not switched to wget: {why}"),
                    ),
                    (false, _) => out.report(
                        &PROBE_CURL_MAYBE_MISSING,
                        &TEST,
                        "the probe calls curl, which Alpine-based images usually do not ship: it fails if the image has none (busybox `wget -qO-` is there)",
                    ),
                }
            }
            if let Some(fixed) = with_fail_flag(test) {
                // An endpoint that answers an error by design (401 without credentials)
                // fails with -f; where another service waits for this one to be healthy,
                // that would block it, so only enforcing the profile repairs there.
                if let Some(why) = answer_is_judged(test).or_else(|| refuses_by_design(service)) {
                    out.report(
                        &PROBE_CURL_JUDGED,
                        &TEST,
                        format!("curl without -f exits 0 on an HTTP error; not repaired: {why}"),
                    );
                } else {
                    match service.relations.health_waiter.get(service.name).filter(|_| !service.enforce) {
                        Some(waiter) => out.report_enforceable(
                            &PROBE_CURL_WITHOUT_FAIL,
                            &TEST,
                            format!(
                                "curl without -f exits 0 on an HTTP error, so this probe can never fail; not repaired because \
                                 `{waiter}` waits for it to be healthy and an endpoint that needs credentials would then block \
                                 it: add -f yourself"
                            ),
                        ),
                        None => out.replace(&PROBE_CURL_WITHOUT_FAIL, &TEST, test, fixed, "probe repaired: curl without -f exits 0 on an HTTP error, so the check could never fail; added -f \
                                 (if the endpoint needs credentials, give them to curl)"),
                    }
                }
            }
        }
        if lookup::get(healthcheck, "start_period").is_none() {
            let slow = settings.slow_start.iter().find(|s| is_slow(service, s));
            if let Some(slow) = slow {
                out.add(&PROBE_START_PERIOD, &["healthcheck", "start_period"], slow.start_period.as_str());
                out.report(
                    &PROBE_START_PERIOD,
                    &["healthcheck"],
                    format!("start_period {} added: {}", slow.start_period, slow.why),
                );
            }
        }
    }
}

/// A list test as the words it runs, for messages.
fn words(test: &Value) -> String {
    test.as_sequence()
        .map_or_else(String::new, |items| items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "))
}

fn first(test: &Value) -> Option<&str> {
    test.as_sequence()?.first()?.as_str()
}

/// The shell text of a string test or a `CMD-SHELL` list; the words of a `CMD` list.
enum Form<'a> {
    Shell(&'a str),
    Exec(&'a [Value]),
}

fn form(test: &Value) -> Option<Form<'_>> {
    match test {
        Value::String(s) => Some(Form::Shell(s)),
        Value::Sequence(items) => match items.first()?.as_str()? {
            "CMD-SHELL" => items.get(1)?.as_str().map(Form::Shell),
            "CMD" => Some(Form::Exec(&items[1..])),
            _ => None,
        },
        _ => None,
    }
}

fn is_curl(word: &str) -> bool {
    word == "curl" || word.ends_with("/curl")
}

fn uses_curl(test: &Value) -> bool {
    match form(test) {
        Some(Form::Shell(s)) => s.split_whitespace().any(is_curl),
        Some(Form::Exec(words)) => words.first().and_then(Value::as_str).is_some_and(is_curl),
        None => false,
    }
}

fn fails_on_http_errors(args: &[&str]) -> bool {
    args.iter().any(|a| {
        *a == "--fail" || *a == "--fail-with-body" || (a.starts_with('-') && !a.starts_with("--") && a.contains('f'))
    })
}

/// The test with `-f` after `curl` where curl runs without it; None if nothing to repair.
fn with_fail_flag(test: &Value) -> Option<Value> {
    match form(test)? {
        Form::Exec(words) => {
            let args: Vec<&str> = words.iter().filter_map(Value::as_str).collect();
            if !is_curl(args.first()?) || fails_on_http_errors(&args[1..]) {
                return None;
            }
            let mut items = test.as_sequence()?.clone();
            items.insert(2, Value::from("-f"));
            Some(Value::Sequence(items))
        }
        Form::Shell(script) => {
            // The first curl command of the script, up to the next `|`, `;` or `&`.
            let start = script.split_whitespace().find(|w| is_curl(w)).and_then(|w| script.find(w))?;
            let curl_end = start + script[start..].find(char::is_whitespace).unwrap_or(script.len() - start);
            let command_end = script[curl_end..].find(['|', ';', '&']).map_or(script.len(), |p| curl_end + p);
            let args: Vec<&str> = script[curl_end..command_end].split_whitespace().collect();
            if fails_on_http_errors(&args) {
                return None;
            }
            let fixed = format!("{} -f{}", &script[..curl_end], &script[curl_end..]);
            Some(match test {
                Value::Sequence(items) => {
                    let mut items = items.clone();
                    items[1] = Value::from(fixed);
                    Value::Sequence(items)
                }
                _ => Value::from(fixed),
            })
        }
    }
}

/// `["CMD", "curl", ..., URL]` as `["CMD", "wget", "-qO-", URL]`, where every curl option
/// has a busybox wget equivalent; otherwise why not. busybox wget has no `-X`, no
/// `--user` and no way to skip certificate checks in every build, and a switch must never
/// carry credentials.
fn as_wget(test: &Value) -> Result<Value, String> {
    let Some(Form::Exec(words)) = form(test) else {
        return Err("only a list-form probe (`[\"CMD\", \"curl\", ...]`) is switched".to_string());
    };
    let words: Vec<&str> = words.iter().filter_map(Value::as_str).collect();
    let (mut url, mut timeout) = (None, None);
    let mut args = words.iter().skip(1);
    while let Some(arg) = args.next() {
        match *arg {
            a if a.starts_with("http://") || a.starts_with("https://") => {
                if a.split("//")
                    .nth(1)
                    .is_some_and(|rest| rest.split('/').next().is_some_and(|host| host.contains('@')))
                {
                    return Err("the URL carries credentials".to_string());
                }
                url = Some(a);
            }
            "-o" | "--output" => {
                if args.next() != Some(&"/dev/null") {
                    return Err("curl writes its output to a file".to_string());
                }
            }
            "-m" | "--max-time" | "--connect-timeout" => timeout = args.next().copied(),
            "-L" | "--location" | "--fail" | "--silent" | "--show-error" => {}
            a if a.starts_with('-') && !a.starts_with("--") && a[1..].chars().all(|c| "fsSL".contains(c)) => {}
            a if matches!(a, "-u" | "--user" | "-H" | "--header" | "-b" | "--cookie" | "-E" | "--cert")
                || a.starts_with("-u")
                || a.starts_with("--user=") =>
            {
                return Err(format!(
                    "curl is given `{}`, which carries credentials or headers",
                    a.split('=').next().unwrap_or(a)
                ));
            }
            a => return Err(format!("busybox wget has no equivalent of curl's `{a}`")),
        }
    }
    let url = url.ok_or("the probe names no URL")?;
    let mut out = vec!["CMD", "wget", "-qO-"];
    if let Some(t) = timeout {
        out.extend(["-T", t]);
    }
    out.push(url);
    Ok(Value::Sequence(out.into_iter().map(Value::from).collect()))
}

/// A probe text with credentials masked: `-u user:pass`, `--user=...`, `-H "...: ..."`
/// and `scheme://user:pass@host`.
fn masked(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut hide_next = false;
    for word in text.split(' ') {
        if hide_next {
            out.push("***".to_string());
            hide_next = false;
            continue;
        }
        match word {
            "-u" | "--user" | "-H" | "--header" | "-b" | "--cookie" => {
                out.push(word.to_string());
                hide_next = true;
            }
            w if w.starts_with("--user=") || w.starts_with("--header=") => {
                out.push(format!("{}=***", w.split('=').next().unwrap_or(w)))
            }
            w if w.starts_with("-u") && w.len() > 2 => out.push("-u***".to_string()),
            w => match w.find("://").map(|i| i + 3) {
                Some(at) if w[at..].split('/').next().is_some_and(|host| host.contains('@')) => {
                    let host_end = at + w[at..].find('/').unwrap_or(w.len() - at);
                    let userinfo_end = at + w[at..host_end].rfind('@').unwrap_or(0);
                    let user_end = w[at..userinfo_end].find(':').map_or(userinfo_end, |c| at + c);
                    out.push(format!("{}:***{}", &w[..user_end], &w[userinfo_end..]));
                }
                _ => out.push(w.to_string()),
            },
        }
    }
    out.join(" ")
}

/// Why the probe already judges curl's answer itself (its output piped, tested or
/// compared), where `-f` would fail it on the error answer it expects.
fn answer_is_judged(test: &Value) -> Option<String> {
    let judged = match form(test)? {
        Form::Shell(script) => {
            let curl = script.split_whitespace().position(is_curl)?;
            let words: Vec<&str> = script.split_whitespace().collect();
            // A pipe, not `||`.
            script.replace("||", "").contains('|')
                || script.contains("$(")
                || script.contains('`')
                || words[curl..]
                    .iter()
                    .any(|w| matches!(*w, "[" | "[[" | "test" | "=" | "==" | "!=" | "-w" | "--write-out"))
        }
        Form::Exec(words) => words.iter().filter_map(Value::as_str).any(|w| w == "-w" || w.starts_with("--write-out")),
    };
    judged.then(|| {
        "the probe pipes, tests or compares curl's answer itself (`-f` would fail it on the error answer it may expect, \
         such as a 401)"
            .to_string()
    })
}

/// Why the service's endpoint probably answers 401 or 403 by design: Elasticsearch 8 and
/// OpenSearch turn security on unless the environment turns it off.
fn refuses_by_design(service: &Service) -> Option<String> {
    let reference = service.reference()?;
    let (repo, major) = (reference.repo.as_str(), reference.tag.as_deref().and_then(crate::profile::major_version));
    let off = |var: &str, value: &str| service.env(var).is_some_and(|v| v.eq_ignore_ascii_case(value));
    let elastic = (repo == "elasticsearch" || repo.ends_with("/elasticsearch")) && major.is_none_or(|m| m >= 8);
    let opensearch = repo.ends_with("opensearch") || repo.contains("/opensearch");
    if elastic && !off("xpack.security.enabled", "false") {
        return Some(
            "Elasticsearch 8 turns security on, so the URL answers 401 without credentials by design; give curl the \
             credentials with -u, then add -f"
                .to_string(),
        );
    }
    if opensearch && !off("DISABLE_SECURITY_PLUGIN", "true") && !off("plugins.security.disabled", "true") {
        return Some(
            "OpenSearch's security plugin is on, so the URL answers 401 without credentials by design; give curl the \
             credentials with -u, then add -f"
                .to_string(),
        );
    }
    None
}

/// Whether the service is one of a slow-start class: its image, or a JVM.
pub(super) fn is_slow(service: &Service, slow: &SlowStart) -> bool {
    service.repo().is_some_and(|r| slow.images.iter().any(|p| glob_match(p, r))) || (slow.jvm && is_jvm(service))
}

fn is_jvm(service: &Service) -> bool {
    service.facts.is_some_and(|i| i.has_java())
        || service.env("JAVA_OPTS").is_some()
        || service.env("JAVA_TOOL_OPTIONS").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passes::testing::{check, enforced, plan, profile};

    const SETTINGS: &str = "probe:
  alpine_images: [alpine, busybox]
  alpine_with_curl: ['nginx:*alpine']
  without_curl: ['nginx:*slim*']
  slow_start:
    - {images: [postgres], start_period: 60s, why: the first start initialises the data directory}
";

    #[test]
    fn curl_without_fail_is_repaired_unless_the_probe_judges_the_answer() {
        let compose = r#"services:
  list: {image: example/app:1, healthcheck: {test: [CMD, curl, "http://localhost/health"]}}
  shell: {image: example/app:1, healthcheck: {test: "curl http://localhost/ || exit 1"}}
  judged: {image: example/app:1, healthcheck: {test: [CMD-SHELL, "curl -s http://localhost/ | grep ok"]}}
  waited: {image: example/app:1, healthcheck: {test: [CMD, curl, "http://localhost/"]}}
  client: {image: example/app:1, depends_on: {waited: {condition: service_healthy}}}
"#;
        check(plan(&Probe, &profile(SETTINGS), compose), r#"
~ list: healthcheck.test = ["CMD","curl","-f","http://localhost/health"] (was ["CMD","curl","http://localhost/health"])  [probe/curl-without-fail]: probe repaired: curl without -f exits 0 on an HTTP error, so the check could never fail; added -f (if the endpoint needs credentials, give them to curl)
~ shell: healthcheck.test = "curl -f http://localhost/ || exit 1" (was "curl http://localhost/ || exit 1")  [probe/curl-without-fail]: probe repaired: curl without -f exits 0 on an HTTP error, so the check could never fail; added -f (if the endpoint needs credentials, give them to curl)
info[probe/curl-judged] judged at healthcheck.test: curl without -f exits 0 on an HTTP error; not repaired: the probe pipes, tests or compares curl's answer itself (`-f` would fail it on the error answer it may expect, such as a 401)
warning[probe/curl-without-fail] waited at healthcheck.test: curl without -f exits 0 on an HTTP error, so this probe can never fail; not repaired because `client` waits for it to be healthy and an endpoint that needs credentials would then block it: add -f yourself (enforceable)
"#);
        // Enforcing the profile repairs the probe a waiter depends on too.
        let waited = r#"services:
  waited: {image: example/app:1, healthcheck: {test: [CMD, curl, "http://localhost/"]}}
  client: {image: example/app:1, depends_on: {waited: {condition: service_healthy}}}
"#;
        check(enforced(&Probe, &profile(SETTINGS), waited), r#"
~ waited: healthcheck.test = ["CMD","curl","-f","http://localhost/"] (was ["CMD","curl","http://localhost/"])  [probe/curl-without-fail]: probe repaired: curl without -f exits 0 on an HTTP error, so the check could never fail; added -f (if the endpoint needs credentials, give them to curl)
"#);
    }

    #[test]
    fn curl_on_an_image_without_it_is_reported_and_switched_under_enforce() {
        let compose = r#"services:
  slim: {image: "nginx:1.27-slim", healthcheck: {test: [CMD, curl, -f, "http://localhost/"]}}
  alpine: {image: "example/app:1-alpine", healthcheck: {test: [CMD, curl, -f, "http://localhost/"]}}
  with-curl: {image: "nginx:1.27-alpine", healthcheck: {test: [CMD, curl, -f, "http://localhost/"]}}
"#;
        check(plan(&Probe, &profile(SETTINGS), compose), r#"
warning[probe/curl-missing] slim at healthcheck.test: the probe calls curl, which the image does not ship: it always fails (busybox `wget -qO-` is there) (enforceable)
warning[probe/curl-maybe-missing] alpine at healthcheck.test: the probe calls curl, which Alpine-based images usually do not ship: it fails if the image has none (busybox `wget -qO-` is there)
"#);
        check(enforced(&Probe, &profile(SETTINGS), compose), r#"
~ slim: healthcheck.test = ["CMD","wget","-qO-","http://localhost/"] (was ["CMD","curl","-f","http://localhost/"])  [probe/curl-missing]: probe `CMD curl -f http://localhost/` -> `CMD wget -qO- http://localhost/`: the image has no curl
warning[probe/curl-maybe-missing] alpine at healthcheck.test: the probe calls curl, which Alpine-based images usually do not ship: it fails if the image has none (busybox `wget -qO-` is there)
"#);
    }

    #[test]
    fn a_disabled_check_is_reported_and_a_slow_starter_gets_a_start_period() {
        let compose = r#"services:
  off: {image: example/app:1, healthcheck: {disable: true}}
  none: {image: example/app:1, healthcheck: {test: [NONE]}}
  db: {image: postgres:16, healthcheck: {test: [CMD, pg_isready]}}
  given: {image: postgres:16, healthcheck: {test: [CMD, pg_isready], start_period: 5s}}
"#;
        check(plan(&Probe, &profile(SETTINGS), compose), r#"
+ db: healthcheck.start_period = "60s"  [probe/start-period]
info[probe/disabled] off at healthcheck: healthcheck disabled: Docker and `depends_on: service_healthy` cannot tell whether the service works
info[probe/disabled] none at healthcheck: healthcheck disabled: Docker and `depends_on: service_healthy` cannot tell whether the service works
info[probe/start-period] db at healthcheck: start_period 60s added: the first start initialises the data directory
"#);
    }
}
