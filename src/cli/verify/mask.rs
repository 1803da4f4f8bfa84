//! Output never shows environment values or secrets: `config --format json` holds them
//! interpolated, and a probe's output or an app's last words may echo them.

use serde_json::Value;

/// Shorter values would mask ordinary words and numbers.
const SHORTEST: usize = 4;

#[derive(Default)]
pub struct Mask {
    values: Vec<String>,
}

impl Mask {
    /// Every environment value of every service, and the values of the project's `.env`.
    pub fn of(model: &Value, dotenv: Option<&str>) -> Mask {
        let mut values: Vec<String> = Vec::new();
        let services = model.get("services").and_then(Value::as_object).into_iter().flat_map(|s| s.values());
        for service in services {
            let env = service.get("environment").and_then(Value::as_object).into_iter().flatten();
            values.extend(env.filter_map(|(_, v)| v.as_str()).map(str::to_string));
        }
        // A secret's or config's file may be echoed by a probe: its content is masked too.
        for kind in ["secrets", "configs"] {
            let files = model.get(kind).and_then(Value::as_object).into_iter().flat_map(|s| s.values());
            for path in files.filter_map(|s| s.get("file").and_then(Value::as_str)) {
                let small = std::fs::metadata(path).is_ok_and(|m| m.len() <= 4096);
                if let Some(text) = small.then(|| std::fs::read_to_string(path).ok()).flatten() {
                    values.extend(text.lines().map(|l| l.trim().to_string()));
                }
            }
        }
        for line in dotenv.unwrap_or("").lines() {
            if let Some((_, value)) = line.split_once('=') {
                values.push(value.trim().trim_matches(|c| c == '"' || c == '\'').to_string());
            }
        }
        values.retain(|v| v.chars().count() >= SHORTEST);
        // The longest first, so that a value containing another is masked whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Mask { values }
    }

    pub fn apply(&self, text: &str) -> String {
        let mut text = text.to_string();
        for value in &self.values {
            if text.contains(value.as_str()) {
                text = text.replace(value.as_str(), "***");
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn environment_values_are_masked() {
        let model = json!({"services": {"db": {"environment": {"POSTGRES_PASSWORD": "hunter22", "N": "1"}}}});
        let mask = Mask::of(&model, Some("TOKEN=\"s3cr3t-token\"\n"));
        assert_eq!(mask.apply("auth hunter22 and s3cr3t-token, 1 ok"), "auth *** and ***, 1 ok");
    }
}
