//! Form fields generated from a JSON schema: the Launch drawer's config
//! overrides (a job's `input_schemas`) and a queue's template variables.
//! A field is typed text in, a JSON value out; every check is the schema's
//! own ([`JsonSchema::validate`]), so the form refuses what the server would.

use serde_json::{Map, Value};

use crate::queue::TemplateVariable;
use crate::schema::{JsonSchema, Problem, SchemaType};

/// How a field is edited.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldKind {
    Text,
    Integer,
    Number,
    /// A checkbox.
    Boolean,
    /// A select of the schema's `enum` values.
    Choice(Vec<Value>),
    /// Anything else (lists, untyped values): JSON text.
    Json,
}

/// One input of a generated form.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// `lr`, `optimizer.name`: where the value goes in the config.
    pub path: String,
    /// The schema's `title`, else the last part of the path.
    pub label: String,
    pub description: Option<String>,
    pub kind: FieldKind,
    pub required: bool,
    /// The schema of this value alone.
    pub schema: JsonSchema,
}

impl Field {
    fn new(path: String, schema: &JsonSchema, required: bool) -> Self {
        let kind = match (&schema.allowed, schema.kind) {
            (Some(values), _) if !values.is_empty() => FieldKind::Choice(values.clone()),
            (_, Some(SchemaType::String)) => FieldKind::Text,
            (_, Some(SchemaType::Integer)) => FieldKind::Integer,
            (_, Some(SchemaType::Number)) => FieldKind::Number,
            (_, Some(SchemaType::Boolean)) => FieldKind::Boolean,
            _ => FieldKind::Json,
        };
        Self {
            // A nested field without a title says its whole path
            // (`model.depth`, as the relaunch diff names it), not `depth`.
            label: schema.title.clone().unwrap_or_else(|| path.clone()),
            path,
            description: schema.description.clone(),
            kind,
            required,
            schema: schema.clone(),
        }
    }

    /// The field of a queue's template variable (its path is its name).
    pub fn for_variable(var: &TemplateVariable) -> Self {
        Self::new(var.name.clone(), var.schema(), false)
    }

    pub fn minimum(&self) -> Option<f64> {
        self.schema
            .minimum
            .as_ref()
            .and_then(serde_json::Number::as_f64)
    }

    pub fn maximum(&self) -> Option<f64> {
        self.schema
            .maximum
            .as_ref()
            .and_then(serde_json::Number::as_f64)
    }

    /// The text of the schema's default ("" without one).
    pub fn default_text(&self) -> String {
        self.schema
            .default
            .as_ref()
            .map(text_of)
            .unwrap_or_default()
    }

    /// A short hint for the input: `integer, 1 to 16`, `one of: a, b`.
    pub fn hint(&self) -> String {
        let kind = match &self.kind {
            FieldKind::Choice(_) => return String::new(),
            FieldKind::Text => "string",
            FieldKind::Integer => "integer",
            FieldKind::Number => "number",
            FieldKind::Boolean => return String::new(),
            FieldKind::Json => "JSON",
        };
        match self.range_text() {
            range if range.is_empty() => kind.to_owned(),
            range => format!("{kind}, {range}"),
        }
    }

    /// The bounds a number takes: `0 to 1`, `at least 1`; empty without.
    pub fn range_text(&self) -> String {
        match (self.minimum(), self.maximum()) {
            (Some(lo), Some(hi)) => format!("{} to {}", num(lo), num(hi)),
            (Some(lo), None) => format!("at least {}", num(lo)),
            (None, Some(hi)) => format!("at most {}", num(hi)),
            (None, None) => String::new(),
        }
    }

    /// Why `t` is no integer this field takes: a whole number past what
    /// a config can hold is too large (or small), not "not whole".
    fn not_whole(&self, t: &str) -> String {
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return format!("must be a whole number, got {t:?}");
        }
        // Past what an i64 holds: beyond any bound a schema can state but
        // one past it too, so the bound is named only when it is crossed.
        let value = t.parse::<f64>().unwrap_or(0.0);
        let negative = t.starts_with('-');
        let bound = if negative {
            self.schema
                .minimum
                .as_ref()
                .filter(|b| b.as_f64().is_some_and(|b| value < b))
        } else {
            self.schema
                .maximum
                .as_ref()
                .filter(|b| b.as_f64().is_some_and(|b| value > b))
        };
        match (bound, negative) {
            (Some(b), true) => format!("must be at least {b}, got {t}"),
            (Some(b), false) => format!("must be at most {b}, got {t}"),
            (None, true) => format!("is too small a whole number to hold, got {t}"),
            (None, false) => format!("is too large a whole number to hold, got {t}"),
        }
    }

    /// Parse what was typed: `Ok(None)` for a blank input (the default
    /// applies), else the typed value or why it cannot be one. Bounds and
    /// enums are not checked here: see [`Field::check`].
    pub fn parse(&self, text: &str) -> Result<Option<Value>, String> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let value = match &self.kind {
            FieldKind::Text => Value::String(text.to_owned()),
            FieldKind::Integer => match t.parse::<i64>() {
                Ok(i) => Value::from(i),
                // `1e9` is a whole number too; `2.5` and `1e30` are not.
                Err(_) => t
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0 && f.abs() <= 9.007_199_254_740_992e15)
                    .map(|f| Value::from(f as i64))
                    .ok_or_else(|| self.not_whole(t))?,
            },
            FieldKind::Number => t
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| match t.parse::<i64>() {
                    Ok(i) => Value::from(i),
                    Err(_) => Value::from(f),
                })
                .ok_or_else(|| format!("must be a number, got {t:?}"))?,
            FieldKind::Boolean => match t {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(format!("must be true or false, got {t:?}")),
            },
            FieldKind::Choice(values) => values
                .iter()
                .find(|v| text_of(v) == t)
                .cloned()
                .ok_or_else(|| {
                    let list: Vec<String> = values.iter().map(text_of).collect();
                    format!("must be one of {}, got {t:?}", list.join(", "))
                })?,
            FieldKind::Json => {
                serde_json::from_str(t).map_err(|e| format!("is not valid JSON: {e}"))?
            }
        };
        Ok(Some(value))
    }

    /// The first problem with what was typed, for showing next to the input.
    pub fn check(&self, text: &str) -> Option<String> {
        match self.parse(text) {
            Err(message) => Some(message),
            Ok(None) if self.required && self.schema.default.is_none() => {
                Some("is required".to_owned())
            }
            Ok(None) => None,
            Ok(Some(v)) => self
                .schema
                .validate(&v)
                .into_iter()
                .next()
                .map(|p| p.message),
        }
    }
}

/// The fields of an object schema, nested objects flattened into dotted
/// paths, in declaration order. A schema that is not an object with
/// properties has no fields (edit it as JSON).
pub fn fields(schema: &JsonSchema) -> Vec<Field> {
    let mut out = Vec::new();
    collect(schema, "", &mut out);
    out
}

fn collect(schema: &JsonSchema, prefix: &str, out: &mut Vec<Field>) {
    let Some(props) = &schema.properties else {
        return;
    };
    let required = schema.required.clone().unwrap_or_default();
    for (key, sub) in props.iter() {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if sub.properties.as_ref().is_some_and(|p| !p.is_empty()) {
            collect(sub, &path, out);
        } else {
            out.push(Field::new(path, sub, required.contains(key)));
        }
    }
}

/// A value as a form shows it: strings bare, everything else as JSON.
pub fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The value at a dotted path of a config.
pub fn get_path<'a>(config: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = config.get(parts.next()?)?;
    for part in parts {
        cur = cur.as_object()?.get(part)?;
    }
    Some(cur)
}

/// Set the value at a dotted path, making the objects on the way.
pub fn set_path(config: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            config.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = config
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

/// The texts a form shows for a config (e.g. a past run's, to launch it
/// again): one per field, "" where the config has no value.
pub fn texts_for(fields: &[Field], config: &Map<String, Value>) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|f| {
            let text = get_path(config, &f.path).map(text_of).unwrap_or_default();
            (f.path.clone(), text)
        })
        .collect()
}

/// The form's values carried into the JSON editor: every field whose text
/// parses is set on `config`, a field the user emptied is taken out of it
/// (the job's default applies, as the form would launch it), and text that
/// does not parse goes across as it was typed, a string (the JSON editor
/// then says what is wrong with it; dropping it would lose it).
pub fn merge_texts(fields: &[Field], texts: &[(String, String)], config: &mut Map<String, Value>) {
    for field in fields {
        let Some((_, text)) = texts.iter().find(|(p, _)| p == &field.path) else {
            continue;
        };
        match field.parse(text) {
            Ok(Some(v)) => set_path(config, &field.path, v),
            Ok(None) => remove_path(config, &field.path),
            // Kept for the JSON editor to say what is wrong: as the number
            // (or other JSON) it reads as, else as text ("2.5" in an
            // integer field stays 2.5, not "2.5").
            Err(_) => set_path(
                config,
                &field.path,
                serde_json::from_str(text.trim()).unwrap_or_else(|_| Value::String(text.clone())),
            ),
        }
    }
}

/// Take out the value at a dotted path, and the objects it leaves empty.
pub fn remove_path(config: &mut Map<String, Value>, path: &str) {
    match path.split_once('.') {
        None => {
            config.remove(path);
        }
        Some((head, rest)) => {
            if let Some(Value::Object(inner)) = config.get_mut(head) {
                remove_path(inner, rest);
                if inner.is_empty() {
                    config.remove(head);
                }
            }
        }
    }
}

/// The top-level keys of `config` that no field holds (the form would
/// drop them).
pub fn keys_without_field(fields: &[Field], config: &Map<String, Value>) -> Vec<String> {
    config
        .keys()
        .filter(|k| {
            !fields
                .iter()
                .any(|f| f.path.split('.').next() == Some(k.as_str()))
        })
        .cloned()
        .collect()
}

/// Build the config from the texts of a form and check it against the
/// schema. Blank fields are left out (the job's defaults apply). Problems
/// carry the field's path; one per field at most.
pub fn assemble(
    fields: &[Field],
    texts: &[(String, String)],
    schema: &JsonSchema,
) -> Result<Map<String, Value>, Vec<Problem>> {
    let mut config = Map::new();
    let mut problems: Vec<Problem> = Vec::new();
    for field in fields {
        let text = texts
            .iter()
            .find(|(p, _)| p == &field.path)
            .map_or("", |(_, t)| t.as_str());
        match field.parse(text) {
            Ok(Some(v)) => set_path(&mut config, &field.path, v),
            Ok(None) => {}
            Err(message) => problems.push(Problem {
                path: field.path.clone(),
                message,
            }),
        }
    }
    for p in schema.validate(&Value::Object(config.clone())) {
        if !problems.iter().any(|q| q.path == p.path) {
            problems.push(p);
        }
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
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
    use serde_json::json;

    fn schema() -> JsonSchema {
        serde_json::from_value(json!({
            "type": "object",
            "required": ["epochs"],
            "properties": {
                "lr": {"type": "number", "minimum": 0.0001, "maximum": 1, "title": "Learning rate"},
                "epochs": {"type": "integer", "minimum": 1, "maximum": 100},
                "optimizer": {"type": "object", "properties": {
                    "name": {"type": "string", "enum": ["adam", "sgd"], "default": "adam"}
                }},
                "layers": {"type": "array", "items": {"type": "integer"}},
                "verbose": {"type": "boolean"}
            }
        }))
        .unwrap()
    }

    #[test]
    fn flattens_objects_and_picks_inputs() {
        let f = fields(&schema());
        let shape: Vec<(&str, &str, &FieldKind)> = f
            .iter()
            .map(|f| (f.path.as_str(), f.label.as_str(), &f.kind))
            .collect();
        assert_eq!(
            shape,
            vec![
                ("lr", "Learning rate", &FieldKind::Number),
                ("epochs", "epochs", &FieldKind::Integer),
                (
                    "optimizer.name",
                    "optimizer.name",
                    &FieldKind::Choice(vec![json!("adam"), json!("sgd")])
                ),
                ("layers", "layers", &FieldKind::Json),
                ("verbose", "verbose", &FieldKind::Boolean),
            ]
        );
        assert!(f[1].required);
        assert_eq!(f[0].hint(), "number, 0.0001 to 1");
        assert_eq!(f[2].default_text(), "adam");
        assert!(fields(&JsonSchema::of(SchemaType::String)).is_empty());
    }

    #[test]
    fn the_form_and_the_json_editor_carry_values_both_ways() {
        let f = fields(&schema());
        let texts: Vec<(String, String)> =
            [("epochs", "5"), ("lr", "fast"), ("optimizer.name", "sgd")]
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .to_vec();
        // Into JSON: what was typed is set over what the JSON had; "fast"
        // is not a number, and goes across as typed (the editor says so).
        let mut config = json!({"lr": 0.1, "epochs": 1, "seed": 7})
            .as_object()
            .unwrap()
            .clone();
        merge_texts(&f, &texts, &mut config);
        assert_eq!(
            Value::Object(config.clone()),
            json!({"lr": "fast", "epochs": 5, "seed": 7, "optimizer": {"name": "sgd"}})
        );
        // Back to the form: every field's text, as typed, and the key no field holds.
        let back = texts_for(&f, &config);
        assert_eq!(back[0], ("lr".to_owned(), "fast".to_owned()));
        assert_eq!(back[1], ("epochs".to_owned(), "5".to_owned()));
        assert_eq!(keys_without_field(&f, &config), ["seed"]);

        // A field emptied in the form is taken out (with the object it
        // leaves empty); a field not given leaves its value.
        let emptied: Vec<(String, String)> = [("lr", ""), ("optimizer.name", " ")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .to_vec();
        merge_texts(&f, &emptied, &mut config);
        assert_eq!(
            Value::Object(config.clone()),
            json!({"epochs": 5, "seed": 7})
        );

        // Numbers the schema refuses go across as numbers, for the editor
        // to say why: 2 is over lr's maximum, 2.5 not a whole epoch count.
        let refused: Vec<(String, String)> = [("lr", "2"), ("epochs", "2.5")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .to_vec();
        merge_texts(&f, &refused, &mut config);
        assert_eq!(
            Value::Object(config),
            json!({"lr": 2, "epochs": 2.5, "seed": 7})
        );
    }

    #[test]
    fn checks_each_input_with_the_schema() {
        let f = fields(&schema());
        assert_eq!(f[0].check("2"), Some("must be at most 1, got 2".into()));
        assert_eq!(
            f[0].check("fast"),
            Some("must be a number, got \"fast\"".into())
        );
        assert_eq!(f[0].check("0.5"), None);
        assert_eq!(f[1].check(""), Some("is required".into()));
        assert_eq!(
            f[1].check("2.5"),
            Some("must be a whole number, got \"2.5\"".into())
        );
        assert_eq!(f[1].parse("1e3"), Ok(Some(Value::from(1000))));
        // A whole number too large to hold is said against the bound.
        assert_eq!(
            f[1].check("99999999999999999999999"),
            Some("must be at most 100, got 99999999999999999999999".into())
        );
        assert_eq!(
            f[1].check("-99999999999999999999999"),
            Some("must be at least 1, got -99999999999999999999999".into())
        );
        assert_eq!(
            f[1].check("1e30"),
            Some("must be a whole number, got \"1e30\"".into())
        );
        assert_eq!(
            f[2].check("rmsprop").unwrap(),
            "must be one of adam, sgd, got \"rmsprop\""
        );
        assert_eq!(
            f[3].check("[1, 2"),
            Some("is not valid JSON: EOF while parsing a list at line 1 column 5".into())
        );
        assert_eq!(f[3].check("[1, 2]"), None);
    }

    #[test]
    fn assembles_a_nested_config_and_lists_problems_by_field() {
        let s = schema();
        let f = fields(&s);
        let texts = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let config = assemble(
            &f,
            &texts(&[
                ("lr", "0.01"),
                ("epochs", "5"),
                ("optimizer.name", "sgd"),
                ("verbose", "true"),
            ]),
            &s,
        )
        .unwrap();
        assert_eq!(
            Value::Object(config.clone()),
            json!({"lr": 0.01, "epochs": 5, "optimizer": {"name": "sgd"}, "verbose": true})
        );
        assert_eq!(
            texts_for(&f, &config),
            texts(&[
                ("lr", "0.01"),
                ("epochs", "5"),
                ("optimizer.name", "sgd"),
                ("layers", ""),
                ("verbose", "true")
            ])
        );
        let problems =
            assemble(&f, &texts(&[("lr", "3"), ("layers", "[1, \"x\"]")]), &s).unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "lr: must be at most 1, got 3",
                "layers[1]: must be an integer, got a string \"x\"",
                "epochs: is required",
            ]
        );
    }

    #[test]
    fn template_variables_become_fields() {
        let var = crate::queue::template_variables_from_input(
            &json!({"cpu": {"schema": {"type": "integer", "minimum": 1, "maximum": 8, "default": 2}}}),
        )
        .unwrap()
        .remove(0);
        let f = Field::for_variable(&var);
        assert_eq!((f.path.as_str(), &f.kind), ("cpu", &FieldKind::Integer));
        assert_eq!(f.default_text(), "2");
        assert_eq!(f.check("9"), Some("must be at most 8, got 9".into()));
    }
}
