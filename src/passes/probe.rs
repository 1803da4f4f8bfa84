//! Healthchecks that cannot tell: `curl` without `-f` exits 0 on HTTP 500, Alpine images
//! have no curl at all, a disabled check tells nothing, and a slow starter marked
//! unhealthy before it is up gets restarted in a loop by orchestrators.

use super::{Out, Pass, Service};
use crate::document::lookup;
use crate::plan::Severity;
use crate::profile::{glob_match, image_parts, SlowStart};
use yaml_serde::Value;

pub struct Probe;

const TEST: [&str; 2] = ["healthcheck", "test"];

impl Pass for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }

    fn run(&self, service: &Service, out: &mut Out) {
        let Some(rule) = &service.profile.probe else { return };
        let Some(Value::Mapping(healthcheck)) = service.get(&["healthcheck"]) else { return };
        let test = lookup::get(healthcheck, "test");
        let disabled = lookup::get(healthcheck, "disable").is_some_and(|d| d.as_bool() == Some(true))
            || test.is_some_and(|t| t.as_str() == Some("NONE") || first(t) == Some("NONE"));
        if disabled {
            out.report(
                Severity::Info,
                &["healthcheck"],
                "healthcheck disabled: Docker and `depends_on: service_healthy` cannot tell whether the service works",
            );
            return;
        }
        let repo = service.image().map(image_parts);
        if let Some(test) = test {
            let alpine = repo.as_ref().is_some_and(|(r, tag)| {
                let tag = tag.as_deref().unwrap_or("latest");
                let with_curl = rule.alpine_with_curl.iter().any(|p| glob_match(p, &format!("{r}:{tag}")));
                !with_curl && (tag.contains("alpine") || rule.alpine_images.iter().any(|p| glob_match(p, r)))
            });
            if alpine && uses_curl(test) {
                match (service.enforce, as_wget(test)) {
                    (true, Some(wget)) => {
                        let message = format!("probe `{}` -> `{}`: the Alpine image has no curl", words(test), words(&wget));
                        out.replace(&TEST, test, wget, message);
                        return;
                    }
                    _ => out.report(
                        Severity::Warning,
                        &TEST,
                        "the probe calls curl, which Alpine images do not ship: it always fails (use `wget -qO-`; --enforce switches a simple probe)",
                    ),
                }
            }
            if let Some(fixed) = with_fail_flag(test) {
                // An endpoint that answers an error by design (401 without credentials)
                // fails with -f; where another service waits for this one to be healthy,
                // that would block it, so only --enforce repairs there.
                match service.relations.health_waiter.get(service.name).filter(|_| !service.enforce) {
                    Some(waiter) => out.report(
                        Severity::Warning,
                        &TEST,
                        format!(
                            "curl without -f exits 0 on an HTTP error, so this probe can never fail; not repaired because \
                             `{waiter}` waits for it to be healthy and an endpoint that needs credentials would then block \
                             it: add -f yourself (or --enforce)"
                        ),
                    ),
                    None => out.replace(&TEST, test, fixed, "probe repaired: curl without -f exits 0 on an HTTP error, so the check could never fail; added -f \
                             (if the endpoint needs credentials, give them to curl)"),
                }
            }
        }
        if lookup::get(healthcheck, "start_period").is_none() {
            let slow = rule.slow_start.iter().find(|s| is_slow(service, s));
            if let Some(slow) = slow {
                out.add(&["healthcheck", "start_period"], slow.start_period.as_str());
                out.report(
                    Severity::Info,
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

/// `["CMD", "curl", ..., URL]` as `["CMD", "wget", "-qO-", URL]`; None for anything else.
fn as_wget(test: &Value) -> Option<Value> {
    let Some(Form::Exec(words)) = form(test) else { return None };
    let url =
        words.iter().filter_map(Value::as_str).rfind(|w| w.starts_with("http://") || w.starts_with("https://"))?;
    Some(Value::Sequence(["CMD", "wget", "-qO-", url].into_iter().map(Value::from).collect()))
}

/// Whether the service is one of a slow-start class: its image, or a JVM.
pub(super) fn is_slow(service: &Service, slow: &SlowStart) -> bool {
    let repo = service.image().map(|i| image_parts(i).0);
    repo.is_some_and(|r| slow.images.iter().any(|p| glob_match(p, &r))) || (slow.jvm && is_jvm(service))
}

fn is_jvm(service: &Service) -> bool {
    service.env("JAVA_OPTS").is_some() || service.env("JAVA_TOOL_OPTIONS").is_some()
}
