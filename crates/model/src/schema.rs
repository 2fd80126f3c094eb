//! The JSON-Schema subset W&B uses for job inputs (`input_schemas`, the SDK's
//! `META_SCHEMA`: boolean/integer/number/string/object/array, title,
//! description, enum, minimum/maximum, items, properties) and for queue
//! template variables. Validation lists every problem, with its path.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::job::indexmap_like::Ordered;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonSchema {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SchemaType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Number>,
    #[serde(
        rename = "exclusiveMinimum",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub exclusive_minimum: Option<Number>,
    #[serde(
        rename = "exclusiveMaximum",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub exclusive_maximum: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Ordered<JsonSchema>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<JsonSchema>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SchemaType {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
}

impl SchemaType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Object => "object",
            Self::Array => "array",
        }
    }
}

/// One reason a value does not fit its schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where: `lr`, `optimizer.name`, `layers[2]`; empty for the top.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// What is clearly wrong with a job's input schema (`--schema`, the
/// `@wandb.config` one), and where: a config is an object, so the top
/// level's type is `object`; a `type` names JSON Schema types; bounds are
/// numbers; `enum` is a list. Anything else JSON Schema allows (type
/// lists, `anyOf`, `$ref`, boolean schemas) passes, as wandb only warns.
pub fn input_schema_problem(schema: &Value) -> Option<String> {
    let Value::Object(top) = schema else {
        return Some("a JSON schema is an object".into());
    };
    let names_object = |t: &Value| match t {
        Value::String(s) => s == "object",
        Value::Array(list) => list.iter().any(|t| t == "object"),
        _ => false,
    };
    if let Some(t) = top.get("type").filter(|t| !names_object(t)) {
        return Some(format!(
            "it describes a run's config, which is an object: its type must be object (with properties), not {t}"
        ));
    }
    schema_node_problem(schema, "")
}

fn schema_node_problem(node: &Value, at: &str) -> Option<String> {
    const TYPES: [&str; 7] = [
        "string", "integer", "number", "boolean", "object", "array", "null",
    ];
    let Value::Object(o) = node else {
        // `true` / `false` are schemas too.
        return (!node.is_boolean()).then(|| format!("{}: a schema is an object", place(at)));
    };
    let known = |t: &Value| t.as_str().is_some_and(|t| TYPES.contains(&t));
    match o.get("type") {
        Some(Value::Array(list)) if list.iter().all(known) => {}
        Some(t) if known(t) => {}
        Some(t) => {
            return Some(format!(
                "{}: type {t} is not one of {}",
                place(at),
                TYPES.join(", ")
            ));
        }
        None => {}
    }
    for bound in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
        // (draft 4 wrote exclusive bounds as booleans)
        if let Some(v) = o
            .get(bound)
            .filter(|v| !(v.is_number() || v.is_boolean() && bound.starts_with("exclusive")))
        {
            return Some(format!("{}: {bound} must be a number, not {v}", place(at)));
        }
    }
    if let Some(v) = o.get("enum").filter(|v| !v.is_array()) {
        return Some(format!(
            "{}: enum must be a list of values, not {v}",
            place(at)
        ));
    }
    if let Some(props) = o.get("properties") {
        let Value::Object(props) = props else {
            return Some(format!(
                "{}: properties must be an object of schemas",
                place(at)
            ));
        };
        for (key, sub) in props {
            let path = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            if let Some(p) = schema_node_problem(sub, &path) {
                return Some(p);
            }
        }
    }
    None
}

fn place(at: &str) -> String {
    if at.is_empty() {
        "the schema".into()
    } else {
        at.to_owned()
    }
}

impl JsonSchema {
    pub fn of(kind: SchemaType) -> Self {
        Self {
            kind: Some(kind),
            ..Self::default()
        }
    }

    /// The schema in words, for a table, as the launch form's hints put
    /// it: its type, then the values it allows or its bounds, then its
    /// default, e.g. `integer, 1 to 8, default 2` or `string, one of small,
    /// large`.
    pub fn summary(&self) -> String {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut out = self.kind.map_or("any value", SchemaType::as_str).to_owned();
        if let Some(allowed) = &self.allowed {
            let values: Vec<String> = allowed.iter().map(text).collect();
            out.push_str(&format!(", one of {}", values.join(", ")));
        } else {
            let low = (self.minimum.as_ref().map(|n| (n, "at least")))
                .or_else(|| self.exclusive_minimum.as_ref().map(|n| (n, "more than")));
            let high = (self.maximum.as_ref().map(|n| (n, "at most")))
                .or_else(|| self.exclusive_maximum.as_ref().map(|n| (n, "less than")));
            match (low, high) {
                (Some((lo, "at least")), Some((hi, "at most"))) => {
                    out.push_str(&format!(", {lo} to {hi}"))
                }
                (low, high) => {
                    for (n, words) in [low, high].into_iter().flatten() {
                        out.push_str(&format!(", {words} {n}"));
                    }
                }
            }
        }
        if let Some(d) = &self.default {
            out.push_str(&format!(", default {}", text(d)));
        }
        out
    }

    /// Every problem of `value` against this schema, depth first.
    pub fn validate(&self, value: &Value) -> Vec<Problem> {
        let mut problems = Vec::new();
        self.check(value, "", &mut problems);
        problems
    }

    fn check(&self, value: &Value, path: &str, out: &mut Vec<Problem>) {
        let mut push = |message: String| {
            out.push(Problem {
                path: path.to_owned(),
                message,
            })
        };
        if let Some(kind) = self.kind {
            let ok = match kind {
                SchemaType::String => value.is_string(),
                SchemaType::Integer => is_integer(value),
                SchemaType::Number => value.is_number(),
                SchemaType::Boolean => value.is_boolean(),
                SchemaType::Object => value.is_object(),
                SchemaType::Array => value.is_array(),
            };
            if !ok {
                push(format!(
                    "must be {} {}, got {}",
                    article(kind),
                    kind.as_str(),
                    describe(value)
                ));
                return;
            }
        }
        if let Some(allowed) = &self.allowed
            && !allowed.iter().any(|a| values_equal(a, value))
        {
            let list: Vec<String> = allowed.iter().map(short).collect();
            push(format!(
                "must be one of {}, got {}",
                list.join(", "),
                short(value)
            ));
        }
        if let Some(n) = value.as_f64() {
            if let Some(min) = self
                .minimum
                .as_ref()
                .and_then(Number::as_f64)
                .filter(|min| n < *min)
            {
                push(format!(
                    "must be at least {}, got {}",
                    num(min),
                    short(value)
                ));
            }
            if let Some(max) = self
                .maximum
                .as_ref()
                .and_then(Number::as_f64)
                .filter(|max| n > *max)
            {
                push(format!(
                    "must be at most {}, got {}",
                    num(max),
                    short(value)
                ));
            }
            if let Some(min) = self
                .exclusive_minimum
                .as_ref()
                .and_then(Number::as_f64)
                .filter(|min| n <= *min)
            {
                push(format!(
                    "must be greater than {}, got {}",
                    num(min),
                    short(value)
                ));
            }
            if let Some(max) = self
                .exclusive_maximum
                .as_ref()
                .and_then(Number::as_f64)
                .filter(|max| n >= *max)
            {
                push(format!(
                    "must be less than {}, got {}",
                    num(max),
                    short(value)
                ));
            }
        }
        if let (Some(props), Some(obj)) = (&self.properties, value.as_object()) {
            for (name, schema) in props.iter() {
                if let Some(v) = obj.get(name) {
                    schema.check(v, &join(path, name), out);
                }
            }
        }
        if let (Some(required), Some(obj)) = (&self.required, value.as_object()) {
            for name in required {
                if !obj.contains_key(name) {
                    out.push(Problem {
                        path: join(path, name),
                        message: "is required".into(),
                    });
                }
            }
        }
        if let (Some(items), Some(list)) = (&self.items, value.as_array()) {
            for (i, v) in list.iter().enumerate() {
                items.check(v, &format!("{path}[{i}]"), out);
            }
        }
    }

    /// Derive a schema (types only) from W&B type JSON (`wb_type`).
    pub fn from_wb_type(t: &Value) -> Option<Self> {
        let kind = t.get("wb_type")?.as_str()?;
        let schema = match kind {
            "typedDict" => {
                let map = t.pointer("/params/type_map")?.as_object()?;
                let props = map
                    .iter()
                    .filter_map(|(k, v)| Self::from_wb_type(v).map(|s| (k.clone(), s)))
                    .collect();
                Self {
                    properties: Some(Ordered(props)),
                    ..Self::of(SchemaType::Object)
                }
            }
            "number" => Self::of(SchemaType::Number),
            "string" => Self::of(SchemaType::String),
            "boolean" => Self::of(SchemaType::Boolean),
            "list" => {
                let items = t
                    .pointer("/params/element_type")
                    .and_then(Self::from_wb_type);
                Self {
                    items: items.map(Box::new),
                    ..Self::of(SchemaType::Array)
                }
            }
            _ => Self::default(),
        };
        Some(schema)
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn is_integer(value: &Value) -> bool {
    value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn article(kind: SchemaType) -> &'static str {
    match kind {
        SchemaType::Integer | SchemaType::Object | SchemaType::Array => "an",
        _ => "a",
    }
}

pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            format!("{} {}", crate::spec::json_kind(value), short(value))
        }
        other => crate::spec::json_kind(other).to_owned(),
    }
}

pub(crate) fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

fn num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_schema_is_read_or_refused_saying_why() {
        let ok = serde_json::json!({"type": "object", "properties": {
            "lr": {"type": "number", "minimum": 0.0001},
            "maybe": {"type": ["number", "null"]},
            "anything": true,
            "old": {"type": "integer", "minimum": 0, "exclusiveMinimum": true},
            "pick": {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/X"}]}
        }});
        assert_eq!(input_schema_problem(&ok), None);
        for (bad, said) in [
            (
                serde_json::json!({"properties": {"lr": {"type": "numbr"}}}),
                "lr: type \"numbr\" is not one of",
            ),
            (
                serde_json::json!({"properties": {"opt": {"properties": {"lr": {"minimum": "zero"}}}}}),
                "opt.lr: minimum must be a number",
            ),
            (
                serde_json::json!({"type": "array"}),
                "its type must be object",
            ),
            (
                serde_json::json!({"properties": {"x": {"enum": "a"}}}),
                "x: enum must be a list",
            ),
        ] {
            let err = input_schema_problem(&bad).unwrap();
            assert!(err.contains(said), "{err}");
        }
    }
    use serde_json::json;

    #[test]
    fn a_schema_in_words() {
        let words = |v: Value| serde_json::from_value::<JsonSchema>(v).unwrap().summary();
        assert_eq!(
            words(json!({"type": "integer", "minimum": 1, "maximum": 8, "default": 2})),
            "integer, 1 to 8, default 2"
        );
        assert_eq!(
            words(json!({"type": "string", "enum": ["small", "large"], "default": "small"})),
            "string, one of small, large, default small"
        );
        assert_eq!(
            words(json!({"type": "number", "exclusiveMinimum": 0})),
            "number, more than 0"
        );
        assert_eq!(
            words(json!({"type": "integer", "minimum": 1})),
            "integer, at least 1"
        );
        assert_eq!(words(json!({})), "any value");
    }

    #[test]
    fn lists_every_problem_with_paths() {
        let schema: JsonSchema = serde_json::from_value(json!({
            "type": "object",
            "properties": {
                "lr": {"type": "number", "minimum": 0.0001, "maximum": 1.0},
                "epochs": {"type": "integer", "enum": [1, 5, 10]},
                "opt": {"type": "object", "properties": {"name": {"type": "string", "enum": ["adam"]}}}
            }
        }))
        .unwrap();
        let problems = schema.validate(&json!({"lr": 2, "epochs": 2.5, "opt": {"name": "sgd"}}));
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "lr: must be at most 1, got 2",
                "epochs: must be an integer, got a number 2.5",
                "opt.name: must be one of \"adam\", got \"sgd\"",
            ]
        );
        assert!(schema.validate(&json!({"lr": 0.5, "epochs": 5})).is_empty());
    }

    #[test]
    fn derives_from_wb_types() {
        let t = json!({"wb_type": "typedDict", "params": {"type_map": {
            "lr": {"wb_type": "number"},
            "layers": {"wb_type": "list", "params": {"element_type": {"wb_type": "number"}}}}}});
        let s = JsonSchema::from_wb_type(&t).unwrap();
        assert_eq!(s.kind, Some(SchemaType::Object));
        let props = s.properties.unwrap();
        assert_eq!(props.get("lr").unwrap().kind, Some(SchemaType::Number));
        assert_eq!(
            props.get("layers").unwrap().items.as_ref().unwrap().kind,
            Some(SchemaType::Number)
        );
    }
}
