//! `--format sarif`: SARIF 2.1.0 for code scanning. Rules carry their help, a link to their
//! section of the README, tags and (security rules) a `security-severity`; results carry
//! paths relative to `%SRCROOT%` (the repository's root), regions (columns in characters)
//! with the node's text (credentials masked), a line-independent fingerprint, and fixes
//! built from `apply`'s own splices, so that a fix applies as `apply` would. A file that
//! could not be read is a failed invocation and an error result. GitHub rejects a run of
//! more than 25,000 results: beyond that the worst are kept, and the run says so.

use super::{FileReport, Item, Report};
use crate::passes::{all_rules, LOAD_FAILED};
use crate::rule::{Rule, Severity};
use serde_json::{json, Value};

/// The most results GitHub code scanning accepts in a run.
pub const MAX_RESULTS: usize = 25_000;
/// Where each rule's section is: `#rule-` and its id with `-` for `/`.
pub const HELP: &str = "https://github.com/compose-harden/compose-harden/blob/main/README.md";
const ROOT: &str = "%SRCROOT%";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The README anchor of a rule's row.
pub fn anchor(id: &str) -> String {
    format!("rule-{}", id.replace('/', "-"))
}

/// GitHub's bands: low below 4, medium below 7, high below 9, critical from 9; high and
/// critical fail a pull request's check by default, as an error fails `check`.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "8.5",
        Severity::Warning => "5.5",
        Severity::Info => "2.0",
    }
}

/// `dangerous/docker-socket` -> `DangerousDockerSocket`.
fn name(id: &str) -> String {
    let mut out = String::new();
    for word in id.split(['/', '-']) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

fn rule_entry(r: &Rule) -> Value {
    let references = match r.references {
        "" => String::new(),
        refs => format!("\n\nReferences: {refs}."),
    };
    let help = format!(
        "{}\n\nFix: {}. `compose-harden rules {}` explains it.{references}",
        r.explanation,
        r.fix.label(),
        r.id
    );
    let markdown = format!(
        "**{}**\n\n{}\n\nFix: {}. `compose-harden rules {}` explains it; [the rule's section]({HELP}#{}).{references}",
        r.summary,
        r.explanation,
        r.fix.label(),
        r.id,
        anchor(r.id)
    );
    let mut properties = json!({"tags": [r.pass()]});
    if super::security(r) {
        properties["tags"] = if r.pass() == "security" { json!(["security"]) } else { json!(["security", r.pass()]) };
        properties["security-severity"] = json!(security_severity(r.severity));
    }
    json!({
        "id": r.id,
        "name": name(r.id),
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.explanation},
        "help": {"text": help, "markdown": markdown},
        "helpUri": format!("{HELP}#{}", anchor(r.id)),
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": properties,
    })
}

/// Character offsets of byte offsets (in increasing order), counted in one pass.
struct Chars<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl Chars<'_> {
    fn at(&mut self, byte: usize) -> usize {
        let byte = byte.min(self.text.len());
        if byte < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += self.text.get(self.byte..byte).map_or(0, |s| s.chars().count());
        self.byte = byte;
        self.chars
    }
}

fn fixes(file: &FileReport, service: &str, location: &Value) -> Vec<Value> {
    let mut chars = Chars { text: &file.text, byte: 0, chars: 0 };
    let replacements: Vec<Value> = file
        .edits
        .iter()
        .filter(|(s, _, _)| s == service)
        .map(|(_, edit, inserted)| {
            let start = chars.at(edit.old.start);
            let end = chars.at(edit.old.end);
            json!({"deletedRegion": {"charOffset": start, "charLength": end - start}, "insertedContent": {"text": file.mask(inserted)}})
        })
        .collect();
    if replacements.is_empty() {
        return Vec::new();
    }
    vec![json!({
        "description": {"text": format!("what `compose-harden apply` writes for service `{service}`")},
        "artifactChanges": [{"artifactLocation": location, "replacements": replacements}],
    })]
}

/// An artifact location: relative to `%SRCROOT%`, or an absolute `file:` URI where the
/// file lies outside the root. Percent-encoded.
fn location(uri: &str) -> Value {
    let encoded: String = uri
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    match encoded.strip_prefix('/') {
        Some(_) => json!({"uri": format!("file://{encoded}")}),
        None => json!({"uri": encoded, "uriBaseId": ROOT}),
    }
}

/// A stable identity for code scanning that survives unrelated lines moving: the file,
/// service, rule and key path (not the line), and which of the same it is.
fn line_hash(item: &Item, uri: &str, seen: &mut Vec<String>) -> String {
    let print = item.fingerprint(uri);
    let n = seen.iter().filter(|p| **p == print).count() + 1;
    seen.push(print.clone());
    format!("{print}:{n}")
}

fn result(file: &FileReport, item: &Item, seen: &mut Vec<String>, fixed: &mut Vec<String>) -> Value {
    let artifact = location(&file.uri);
    let mut location = json!({"artifactLocation": artifact});
    if let Some(s) = item.span {
        let snippet = file.text.get(s.start..s.end).map(|t| file.mask(t)).unwrap_or_default();
        location["region"] = json!({"startLine": s.line, "startColumn": s.col, "endLine": s.end_line, "endColumn": s.end_col, "snippet": {"text": snippet}});
    }
    let service = if item.service.is_empty() { String::new() } else { format!("service `{}`: ", item.service) };
    let mut result = json!({
        "ruleId": item.rule.id,
        "ruleIndex": all_rules().iter().position(|r| r.id == item.rule.id),
        "level": level(item.severity()),
        "message": {"text": format!("{service}{}", item.message)},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {
            "primaryLocationLineHash": line_hash(item, &file.uri, seen),
            "composeHarden/v1": item.fingerprint(&file.uri),
        },
    });
    if item.baselined {
        result["baselineState"] = json!("unchanged");
    }
    // A service's splices are one fix, on its first fixable finding.
    if item.fixable() && !fixed.contains(&item.service) {
        fixed.push(item.service.clone());
        let fixes = fixes(file, &item.service, &artifact);
        if !fixes.is_empty() {
            result["fixes"] = Value::from(fixes);
        }
    }
    result
}

pub fn render(report: &Report, version: &str, include_baselined: bool) -> String {
    render_capped(report, version, include_baselined, MAX_RESULTS)
}

fn render_capped(report: &Report, version: &str, include_baselined: bool, cap: usize) -> String {
    let rules: Vec<Value> = all_rules().iter().map(|r| rule_entry(r)).collect();
    let failed_index = all_rules().iter().position(|r| r.id == LOAD_FAILED.id);
    let mut results: Vec<(Severity, Value)> = Vec::new();
    let mut notifications = Vec::new();
    for f in &report.failed {
        let mut place = json!({"physicalLocation": {"artifactLocation": location(&f.uri)}});
        if let Some((line, col)) = f.position {
            place["physicalLocation"]["region"] = json!({"startLine": line.max(1), "startColumn": col.max(1)});
        }
        notifications.push(json!({"level": "error", "message": {"text": f.message}, "locations": [place]}));
        results.push((
            Severity::Error,
            json!({
                "ruleId": LOAD_FAILED.id,
                "ruleIndex": failed_index,
                "level": "error",
                "message": {"text": format!("not checked: {}", f.message)},
                "locations": [place],
                "partialFingerprints": {"primaryLocationLineHash": format!("{}:1", super::fnv_hex(&f.uri)) },
            }),
        ));
    }
    for file in &report.files {
        let (mut seen, mut fixed) = (Vec::new(), Vec::new());
        for item in file.items.iter().filter(|i| include_baselined || !i.baselined) {
            results.push((item.severity(), result(file, item, &mut seen, &mut fixed)));
        }
    }
    let total = results.len();
    let mut properties = json!({});
    if total > cap {
        // The worst first (stable: file order within a severity), as GitHub keeps no order.
        results.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
        results.truncate(cap);
        let text = format!(
            "{total} results, of which the {cap} most severe are given: GitHub code scanning accepts at most {MAX_RESULTS} \
             results a run; run `compose-harden check` to see them all"
        );
        notifications.push(json!({"level": "warning", "message": {"text": text}}));
        properties = json!({"resultsTotal": total, "resultsGiven": cap, "truncated": true});
    }
    let mut invocation = json!({"executionSuccessful": report.failed.is_empty()});
    if !notifications.is_empty() {
        invocation["toolExecutionNotifications"] = Value::from(notifications);
    }
    let mut root = json!({"description": {"text": "the repository's root: the nearest folder above the checked files that holds .git"}});
    if let Some(dir) = &report.root {
        root["uri"] = json!(format!("file://{}/", dir.trim_end_matches('/')));
    }
    let mut run = json!({
        "tool": {"driver": {
            "name": "compose-harden",
            "version": version,
            "informationUri": "https://github.com/compose-harden/compose-harden",
            "rules": rules,
        }},
        "originalUriBaseIds": {ROOT: root},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": results.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
    });
    if properties.as_object().is_some_and(|p| !p.is_empty()) {
        run["properties"] = properties;
    }
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, service: &str) -> Item {
        let rule = crate::passes::find_rule(id).expect("a rule");
        Item {
            rule,
            service: service.to_string(),
            path: vec!["image".to_string()],
            span: None,
            message: "m".to_string(),
            fix: None,
            into: None,
            applicability: rule.fix,
            held: false,
            enforceable: false,
            level: rule.severity,
            baselined: false,
        }
    }

    #[test]
    fn beyond_the_cap_the_worst_results_are_kept_and_the_run_says_so() {
        let file = FileReport {
            path: "c.yml".to_string(),
            uri: "c.yml".to_string(),
            text: String::new(),
            items: vec![item("init/missing", "a"), item("image/no-digest", "a"), item("dangerous/privileged", "b")],
            edits: Vec::new(),
            profile: String::new(),
            profile_found: false,
            secrets: Vec::new(),
        };
        let report = Report { files: vec![file], ..Report::default() };
        let sarif: Value = serde_json::from_str(&render_capped(&report, "0", false, 2)).expect("json");
        let run = &sarif["runs"][0];
        let levels: Vec<&str> =
            run["results"].as_array().expect("results").iter().filter_map(|r| r["level"].as_str()).collect();
        assert_eq!(levels, ["error", "warning"]);
        assert_eq!(run["properties"]["truncated"], true);
        assert_eq!(run["properties"]["resultsTotal"], 3);
        let note = run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].as_str().expect("text");
        assert!(note.starts_with("3 results, of which the 2 most severe are given"), "{note}");
        let all: Value = serde_json::from_str(&render(&report, "0", false)).expect("json");
        assert_eq!(all["runs"][0]["results"].as_array().map(Vec::len), Some(3));
        assert!(all["runs"][0].get("properties").is_none());
    }

    #[test]
    fn names_and_anchors() {
        assert_eq!(name("dangerous/docker-socket"), "DangerousDockerSocket");
        assert_eq!(anchor("mounts/host-path"), "rule-mounts-host-path");
        assert_eq!(location("a b/c.yml")["uri"], "a%20b/c.yml");
        assert_eq!(location("/abs/c.yml")["uri"], "file:///abs/c.yml");
    }
}
