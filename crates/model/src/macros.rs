//! Agent-side `${macro}` expansion in `resource_args` (spec §4.9):
//! `${project_name}`, `${entity_name}`, `${run_id}`, `${run_name}`,
//! `${image_uri}`, `${author}`, plus any environment variable of the agent.
//! Unknown macros are left as they are.

use std::collections::BTreeMap;

use serde_json::Value;

/// The values a macro may take. `env` is the agent's environment, passed in
/// (this crate never reads it).
#[derive(Clone, Debug, Default)]
pub struct MacroContext {
    pub project_name: Option<String>,
    pub entity_name: Option<String>,
    pub run_id: Option<String>,
    pub run_name: Option<String>,
    pub image_uri: Option<String>,
    pub author: Option<String>,
    pub env: BTreeMap<String, String>,
}

impl MacroContext {
    fn lookup(&self, name: &str) -> Option<&str> {
        let fixed = match name {
            "project_name" => self.project_name.as_deref(),
            "entity_name" => self.entity_name.as_deref(),
            "run_id" => self.run_id.as_deref(),
            "run_name" => self.run_name.as_deref(),
            "image_uri" => self.image_uri.as_deref(),
            "author" => self.author.as_deref(),
            _ => None,
        };
        fixed.or_else(|| self.env.get(name).map(String::as_str))
    }
}

/// Expand macros in every string of `value`.
pub fn expand(value: &Value, ctx: &MacroContext) -> Value {
    match value {
        Value::String(s) => Value::String(expand_str(s, ctx)),
        Value::Array(items) => Value::Array(items.iter().map(|v| expand(v, ctx)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), expand(v, ctx)))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub fn expand_str(s: &str, ctx: &MacroContext) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) if ctx.lookup(&after[..end]).is_some() => {
                out.push_str(ctx.lookup(&after[..end]).unwrap_or_default());
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expands_known_macros_and_env_and_keeps_unknown() {
        let mut ctx = MacroContext {
            project_name: Some("proj".into()),
            run_id: Some("ab12cd34".into()),
            ..Default::default()
        };
        ctx.env.insert("HF_TOKEN".into(), "secret".into());
        let v = json!({"name": "run-${run_id}", "env": ["P=${project_name}", "T=${HF_TOKEN}", "U=${nope}", "${unterminated"]});
        assert_eq!(
            expand(&v, &ctx),
            json!({"name": "run-ab12cd34", "env": ["P=proj", "T=secret", "U=${nope}", "${unterminated"]})
        );
    }
}
