//! Queue template variables: `{{name}}` placeholders in a queue's resource
//! config, filled in server-side at push time from `templateVariableValues`
//! (spec §2.3, §3.3, §4.9). Only `string`, `integer` and `number` variables
//! exist; each may have `minimum`/`maximum`, `enum` and `default`.

use serde_json::{Map, Value};

use crate::queue::TemplateVariable;
use crate::schema::{JsonSchema, Problem, SchemaType, describe, short};

/// The distinct `{{name}}` placeholders in a config, in order of appearance.
pub fn placeholders(config: &Value) -> Vec<String> {
    let mut names = Vec::new();
    walk_strings(config, &mut |s| {
        for name in scan(s).into_iter().map(|(_, _, n)| n) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    });
    names
}

/// The `{{...}}` texts of a config that are not placeholders (`{{}}`,
/// `{{gpu count}}`): they stay as text when a job is pushed, which is
/// rarely what was meant. In order of appearance, each once.
pub fn not_placeholders(config: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk_strings(config, &mut |s| {
        for (start, end) in braces(s) {
            let text = &s[start..end];
            if !is_identifier(text[2..text.len() - 2].trim()) && !found.iter().any(|f| f == text) {
                found.push(text.to_owned());
            }
        }
    });
    found
}

/// What to tell whoever wrote a config with [`not_placeholders`] in it.
pub fn not_placeholders_note(config: &Value) -> Option<String> {
    let found = not_placeholders(config);
    let (last, rest) = found.split_last()?;
    let (list, verb) = if rest.is_empty() {
        (last.clone(), "is not a template variable")
    } else {
        (
            format!("{} and {last}", rest.join(", ")),
            "are not template variables",
        )
    };
    Some(format!(
        "{list} {verb} and will stay as text: a variable's name uses only letters, digits, '_' and '-', like {{{{gpu_count}}}}"
    ))
}

/// Check the variable definitions of a queue against its config: every
/// schema is of an allowed type, bounds are ordered, enum values and the
/// default fit the type, and every placeholder of the config is defined.
pub fn validate_definitions(config: &Value, vars: &[TemplateVariable]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut push = |path: &str, message: String| {
        problems.push(Problem {
            path: path.to_owned(),
            message,
        });
    };
    for var in vars {
        let s = var.schema();
        let name = var.name.as_str();
        if !is_identifier(name) {
            push(
                name,
                "a template variable name may only use letters, digits, '_' and '-'".into(),
            );
        }
        match s.kind {
            Some(SchemaType::String | SchemaType::Integer | SchemaType::Number) => {}
            Some(other) => push(
                name,
                format!(
                    "type {:?} is not allowed: use string, integer or number",
                    other.as_str()
                ),
            ),
            None => push(
                name,
                "has no type: set \"type\" to string, integer or number".into(),
            ),
        }
        if let (Some(min), Some(max)) = (
            s.minimum.as_ref().and_then(|n| n.as_f64()),
            s.maximum.as_ref().and_then(|n| n.as_f64()),
        ) && min > max
        {
            push(name, format!("minimum {min} is greater than maximum {max}"));
        }
        if s.kind == Some(SchemaType::String) && (s.minimum.is_some() || s.maximum.is_some()) {
            push(
                name,
                "minimum/maximum only apply to integer and number variables".into(),
            );
        }
        let bare = JsonSchema {
            allowed: None,
            default: None,
            ..s.clone()
        };
        if let Some(allowed) = &s.allowed {
            if allowed.is_empty() {
                push(
                    name,
                    "enum is empty: list at least one allowed value".into(),
                );
            }
            for v in allowed {
                for p in bare.validate(v) {
                    push(name, format!("enum value {}: {}", short(v), p.message));
                }
            }
        }
        if let Some(default) = &s.default {
            for p in s.validate(default) {
                push(name, format!("default {}: {}", short(default), p.message));
            }
        }
    }
    for placeholder in placeholders(config) {
        if !vars.iter().any(|v| v.name == placeholder) {
            push(
                &placeholder,
                format!(
                    "the config uses {{{{{placeholder}}}}} but no template variable {placeholder:?} is defined"
                ),
            );
        }
    }
    problems
}

/// Resolve the values for a push: unknown names are refused, missing ones
/// take their default, numeric strings are converted for integer/number
/// variables, and every bound/enum problem is listed.
pub fn resolve_values(
    vars: &[TemplateVariable],
    given: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut out = Map::new();
    for name in given.keys() {
        if !vars.iter().any(|v| &v.name == name) {
            let known: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
            let hint = if known.is_empty() {
                "this queue has no template variables".to_owned()
            } else {
                format!("known variables: {}", known.join(", "))
            };
            problems.push(Problem {
                path: name.clone(),
                message: format!("is not a template variable of this queue ({hint})"),
            });
        }
    }
    for var in vars {
        let schema = var.schema();
        let value = match given.get(&var.name).or(schema.default.as_ref()) {
            Some(v) => coerce(schema, v),
            None => {
                problems.push(Problem {
                    path: var.name.clone(),
                    message: "needs a value (it has no default)".into(),
                });
                continue;
            }
        };
        let found = schema.validate(&value);
        if found.is_empty() {
            out.insert(var.name.clone(), value);
        }
        problems.extend(found.into_iter().map(|p| Problem {
            path: var.name.clone(),
            ..p
        }));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Replace every `{{name}}` in the strings of `config` with the value's text.
/// Placeholders without a value are left as they are.
pub fn render(config: &Value, values: &Map<String, Value>) -> Value {
    match config {
        Value::String(s) => Value::String(render_str(s, values)),
        Value::Array(items) => Value::Array(items.iter().map(|v| render(v, values)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), render(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn render_str(s: &str, values: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (start, end, name) in scan(s) {
        if let Some(v) = values.get(&name) {
            out.push_str(&s[last..start]);
            out.push_str(&value_text(v));
            last = end;
        }
    }
    out.push_str(&s[last..]);
    out
}

/// A value as it appears inside a rendered string: strings bare, others as JSON.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn coerce(schema: &JsonSchema, v: &Value) -> Value {
    let Some(text) = v.as_str() else {
        return v.clone();
    };
    match schema.kind {
        Some(SchemaType::Integer) => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| v.clone()),
        Some(SchemaType::Number) => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(|n| {
                // keep integers integral: "4" -> 4, not 4.0
                text.trim()
                    .parse::<i64>()
                    .map(Value::from)
                    .unwrap_or(Value::Number(n))
            })
            .unwrap_or_else(|| v.clone()),
        _ => v.clone(),
    }
}

/// `(start, end, name)` of each `{{ name }}` in `s` (spaces inside allowed).
fn scan(s: &str) -> Vec<(usize, usize, String)> {
    braces(s)
        .filter_map(|(start, end)| {
            let name = s[start + 2..end - 2].trim();
            is_identifier(name).then(|| (start, end, name.to_owned()))
        })
        .collect()
}

/// Each innermost `{{...}}` of `s`, as `(start, end)` byte offsets (the
/// braces included); in `{{{{x}}` the first braces are text.
fn braces(s: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        loop {
            let open = s[from..].find("{{")? + from;
            let close = s[open + 2..].find("}}")? + open + 2;
            match s[open + 2..close].rfind("{{") {
                Some(nested) => from = open + 2 + nested,
                None => {
                    from = close + 2;
                    return Some((open, close + 2));
                }
            }
        }
    })
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn walk_strings(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter().for_each(|i| walk_strings(i, f)),
        Value::Object(map) => map.values().for_each(|i| walk_strings(i, f)),
        _ => {}
    }
}

/// A one-line summary of problems, for errors that must fit in one message.
pub fn summarize(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[doc(hidden)]
pub fn describe_value(v: &Value) -> String {
    describe(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::template_variables_from_input;
    use serde_json::json;

    fn k8s_vars() -> Vec<TemplateVariable> {
        template_variables_from_input(&json!({
            "cpu": {"schema": {"type": "integer", "minimum": 1, "maximum": 16, "default": 4}},
            "memory": {"schema": {"type": "string", "enum": ["8Gi", "16Gi", "32Gi"], "default": "16Gi"}},
            "gpus": {"schema": {"type": "integer", "minimum": 0, "maximum": 4, "default": 1}},
            "lr": {"schema": {"type": "number"}}
        }))
        .unwrap()
    }

    #[test]
    fn finds_placeholders_in_order() {
        let cfg = json!({"a": "{{cpu}}", "b": ["x {{ memory }} {{cpu}}", "{{not valid}}"], "c": 1});
        assert_eq!(placeholders(&cfg), vec!["cpu", "memory"]);
    }

    #[test]
    fn names_the_braces_that_are_not_placeholders() {
        let cfg = json!({
            "a": "{{cpu}} {{}} {{gpu count}}",
            "b": ["{{ memory }}", "{{gpu count}}", "{{{{x}}", "{{a.b}}", "{{open"],
        });
        assert_eq!(
            not_placeholders(&cfg),
            vec!["{{}}", "{{gpu count}}", "{{a.b}}"]
        );
        assert!(not_placeholders(&json!({"a": "{{cpu}}", "b": "}}{{"})).is_empty());
        assert_eq!(
            not_placeholders_note(&json!({"a": "{{gpu count}}"})).unwrap(),
            "{{gpu count}} is not a template variable and will stay as text: a variable's name uses only letters, digits, '_' and '-', like {{gpu_count}}"
        );
        assert!(
            not_placeholders_note(&cfg)
                .unwrap()
                .starts_with("{{}}, {{gpu count}} and {{a.b}} are not template variables")
        );
        assert_eq!(not_placeholders_note(&json!({"a": "{{cpu}}"})), None);
    }

    #[test]
    fn renders_values_as_text() {
        let cfg =
            json!({"limits": {"cpu": "{{cpu}}", "mem": "{{memory}}", "x": "{{other}}"}, "n": 3});
        let mut values = Map::new();
        values.insert("cpu".into(), json!(4));
        values.insert("memory".into(), json!("16Gi"));
        assert_eq!(
            render(&cfg, &values),
            json!({"limits": {"cpu": "4", "mem": "16Gi", "x": "{{other}}"}, "n": 3})
        );
    }

    #[test]
    fn resolves_defaults_and_lists_every_problem() {
        let vars = k8s_vars();
        let mut given = Map::new();
        given.insert("cpu".into(), json!("4"));
        given.insert("lr".into(), json!(0.1));
        let values = resolve_values(&vars, &given).unwrap();
        assert_eq!(values["cpu"], json!(4));
        assert_eq!(values["memory"], json!("16Gi"));
        assert_eq!(values["gpus"], json!(1));

        let mut bad = Map::new();
        bad.insert("cpu".into(), json!(40));
        bad.insert("memory".into(), json!("1Ti"));
        bad.insert("gpu".into(), json!(1));
        let problems = resolve_values(&vars, &bad).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "gpu: is not a template variable of this queue (known variables: cpu, memory, gpus, lr)",
                "cpu: must be at most 16, got 40",
                "memory: must be one of \"8Gi\", \"16Gi\", \"32Gi\", got \"1Ti\"",
                "lr: needs a value (it has no default)",
            ]
        );
    }

    #[test]
    fn checks_definitions() {
        let vars = template_variables_from_input(&json!({
            "a": {"schema": {"type": "integer", "minimum": 5, "maximum": 1}},
            "b": {"schema": {"type": "object"}},
            "c": {"schema": {"type": "string", "enum": ["x", 2], "default": "y"}}
        }))
        .unwrap();
        let cfg = json!({"x": "{{a}} {{d}}"});
        let text: Vec<String> = validate_definitions(&cfg, &vars)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            text,
            vec![
                "a: minimum 5 is greater than maximum 1",
                "b: type \"object\" is not allowed: use string, integer or number",
                "c: enum value 2: must be a string, got a number 2",
                "c: default \"y\": must be one of \"x\", 2, got \"y\"",
                "d: the config uses {{d}} but no template variable \"d\" is defined",
            ]
        );
    }
}
