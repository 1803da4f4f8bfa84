//! `--format sarif`: SARIF 2.1.0 for code scanning. Rules carry their help; results carry
//! regions (columns in characters), fingerprints, and fixes built from `apply`'s own
//! splices, so that a fix applies as `apply` would.

use super::{FileReport, Report};
use crate::passes::all_rules;
use crate::rule::{Rule, Severity};
use serde_json::{json, Value};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn rule_entry(r: &Rule) -> Value {
    json!({
        "id": r.id,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.explanation},
        "help": {"text": format!("{}\n\nFix: {}. `compose-harden rules {}` explains it.", r.explanation, r.fix.label(), r.id)},
        "defaultConfiguration": {"level": level(r.severity)},
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

fn fixes(file: &FileReport, service: &str, uri: &str) -> Vec<Value> {
    let mut chars = Chars { text: &file.text, byte: 0, chars: 0 };
    let replacements: Vec<Value> = file
        .edits
        .iter()
        .filter(|(s, _, _)| s == service)
        .map(|(_, edit, inserted)| {
            let start = chars.at(edit.old.start);
            let end = chars.at(edit.old.end);
            json!({"deletedRegion": {"charOffset": start, "charLength": end - start}, "insertedContent": {"text": inserted}})
        })
        .collect();
    if replacements.is_empty() {
        return Vec::new();
    }
    vec![json!({
        "description": {"text": format!("what `compose-harden apply` writes for service `{service}`")},
        "artifactChanges": [{"artifactLocation": {"uri": uri}, "replacements": replacements}],
    })]
}

/// A relative URI: the path as given, without `./`.
fn uri(path: &str) -> String {
    path.trim_start_matches("./").replace('\\', "/").replace(' ', "%20")
}

pub fn render(report: &Report, version: &str) -> String {
    let rules: Vec<Value> = all_rules().iter().map(|r| rule_entry(r)).collect();
    let mut results = Vec::new();
    for file in &report.files {
        let uri = uri(&file.path);
        let mut fixed: Vec<&str> = Vec::new();
        for item in &file.items {
            let mut location = json!({"artifactLocation": {"uri": uri}});
            if let Some(s) = item.span {
                location["region"] =
                    json!({"startLine": s.line, "startColumn": s.col, "endLine": s.end_line, "endColumn": s.end_col});
            }
            let service = if item.service.is_empty() { String::new() } else { format!("service `{}`: ", item.service) };
            let mut result = json!({
                "ruleId": item.rule.id,
                "ruleIndex": all_rules().iter().position(|r| r.id == item.rule.id),
                "level": level(item.severity()),
                "message": {"text": format!("{service}{}", item.message)},
                "locations": [{"physicalLocation": location}],
                "partialFingerprints": {"composeHarden/v1": item.fingerprint(&file.path)},
            });
            // A service's splices are one fix, on its first fixable finding.
            if item.fixable() && !fixed.contains(&item.service.as_str()) {
                fixed.push(&item.service);
                let fixes = fixes(file, &item.service, &uri);
                if !fixes.is_empty() {
                    result["fixes"] = Value::from(fixes);
                }
            }
            results.push(result);
        }
    }
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "compose-harden",
                "version": version,
                "informationUri": "https://github.com/compose-harden/compose-harden",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
}
