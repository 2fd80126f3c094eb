//! A queue being created or edited (the Create queue drawer and a queue's
//! Config tab): its configuration text (JSON or YAML), the `{{var}}`
//! template variables found in it as tiles the admin types into, and the
//! checks that turn all of it into what `upsertRunQueue` stores.

use serde_json::{Map, Number, Value};

use crate::queue::{PrioritizationMode, ResourceType, TemplateVariable, validate_queue_name};
use crate::resource_args::check_resource_args;
use crate::schema::{JsonSchema, Problem, SchemaType};
use crate::template::{placeholders, validate_definitions};

/// The configuration editor's language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConfigFormat {
    #[default]
    Json,
    Yaml,
}

impl ConfigFormat {
    pub fn label(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::Yaml => "YAML",
        }
    }
}

/// Whether `text` has a `{{` not right after a quote: a template variable
/// written bare, where it must be a quoted string.
fn bare_variable(text: &str) -> bool {
    text.match_indices("{{")
        .any(|(at, _)| !text[..at].ends_with(['"', '\'']))
}

/// Parse the configuration editor: an object (blank is `{}`).
pub fn parse_config(text: &str, format: ConfigFormat) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    // `gpus: {{gpus}}` reads as a mapping in YAML and as nothing in JSON.
    let hint = if bare_variable(text) {
        " (a {{variable}} goes in quotes: \"{{variable}}\")"
    } else {
        ""
    };
    let value: Value = match format {
        ConfigFormat::Json => {
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}{hint}"))?
        }
        ConfigFormat::Yaml => {
            let yaml =
                crate::yaml::from_str(text).map_err(|e| format!("not valid YAML: {e}{hint}"))?;
            if yaml.is_null() {
                return Ok(Value::Object(Map::new()));
            }
            yaml
        }
    };
    if value.is_object() {
        Ok(value)
    } else {
        Err(format!(
            "the configuration must be a mapping of settings, got {}",
            crate::spec::json_kind(&value)
        ))
    }
}

/// Print a config in the editor's language.
pub fn print_config(config: &Value, format: ConfigFormat) -> String {
    let empty = config.as_object().is_some_and(Map::is_empty);
    match format {
        _ if empty => String::new(),
        ConfigFormat::Json => serde_json::to_string_pretty(config).unwrap_or_default(),
        ConfigFormat::Yaml => crate::yaml::to_string(config),
    }
}

/// One template variable as the admin edits it: every input is text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VariableTile {
    pub name: String,
    /// `string`, `integer` or `number`.
    pub kind: VariableKind,
    pub description: String,
    /// Allowed values, comma-separated ("" allows any).
    pub allowed: String,
    pub minimum: String,
    pub maximum: String,
    pub default: String,
}

/// The types a template variable may have.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VariableKind {
    #[default]
    String,
    Integer,
    Number,
}

impl VariableKind {
    pub const ALL: [VariableKind; 3] = [Self::String, Self::Integer, Self::Number];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn schema_type(self) -> SchemaType {
        match self {
            Self::String => SchemaType::String,
            Self::Integer => SchemaType::Integer,
            Self::Number => SchemaType::Number,
        }
    }
}

impl VariableTile {
    /// A new tile: a string with no constraints.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// The tile of a stored variable.
    pub fn from_variable(var: &TemplateVariable) -> Self {
        let s = var.schema();
        let text = |v: &Value| crate::form::text_of(v);
        let num = |n: &Option<Number>| n.as_ref().map(Number::to_string).unwrap_or_default();
        Self {
            name: var.name.clone(),
            kind: match s.kind {
                Some(SchemaType::Integer) => VariableKind::Integer,
                Some(SchemaType::Number) => VariableKind::Number,
                _ => VariableKind::String,
            },
            description: s.description.clone().unwrap_or_default(),
            allowed: s
                .allowed
                .as_ref()
                .map(|l| l.iter().map(text).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            minimum: num(&s.minimum),
            maximum: num(&s.maximum),
            default: s.default.as_ref().map(text).unwrap_or_default(),
        }
    }

    /// The variable this tile defines, or what is wrong with its inputs
    /// (paths: `variables.<name>.<input>`).
    pub fn to_variable(&self) -> Result<TemplateVariable, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut bad = |input: &str, message: String| {
            problems.push(Problem {
                path: format!("variables.{}.{input}", self.name),
                message,
            });
        };
        let kind = self.kind;
        let value = |text: &str| -> Result<Value, String> {
            let t = text.trim();
            match kind {
                VariableKind::String => Ok(Value::String(t.to_owned())),
                VariableKind::Integer => t
                    .parse::<i64>()
                    .map(Value::from)
                    .map_err(|_| format!("{t:?} is not a whole number")),
                VariableKind::Number => t
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map(|n| t.parse::<i64>().map_or(Value::Number(n), Value::from))
                    .ok_or_else(|| format!("{t:?} is not a number")),
            }
        };
        let bound = |text: &str| -> Result<Option<Number>, String> {
            let t = text.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<i64>()
                .map(Number::from)
                .ok()
                .or_else(|| t.parse::<f64>().ok().and_then(Number::from_f64))
                .map(Some)
                .ok_or_else(|| format!("{t:?} is not a number"))
        };
        let mut schema = JsonSchema::of(kind.schema_type());
        if !self.description.trim().is_empty() {
            schema.description = Some(self.description.trim().to_owned());
        }
        for (input, text, slot) in [
            ("minimum", &self.minimum, &mut schema.minimum),
            ("maximum", &self.maximum, &mut schema.maximum),
        ] {
            match bound(text) {
                Ok(n) => *slot = n,
                Err(message) => bad(input, message),
            }
        }
        if !self.allowed.trim().is_empty() {
            let mut list = Vec::new();
            for part in self
                .allowed
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                match value(part) {
                    Ok(v) => list.push(v),
                    Err(message) => bad("allowed", message),
                }
            }
            schema.allowed = Some(list);
        }
        if !self.default.trim().is_empty() {
            match value(&self.default) {
                Ok(v) => schema.default = Some(v),
                Err(message) => bad("default", message),
            }
        }
        if problems.is_empty() {
            Ok(TemplateVariable::new(self.name.clone(), schema))
        } else {
            Err(problems)
        }
    }
}

/// The tiles for a config: one per `{{var}}` in it, in order; a tile the
/// admin already filled in is kept, a new placeholder gets a string tile.
pub fn tiles_for(config: &Value, existing: &[VariableTile]) -> Vec<VariableTile> {
    placeholders(config)
        .into_iter()
        .map(|name| {
            existing
                .iter()
                .find(|t| t.name == name)
                .cloned()
                .unwrap_or_else(|| VariableTile::named(&name))
        })
        .collect()
}

/// What the drawer collects.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueDraft {
    pub entity: String,
    pub name: String,
    pub resource: Option<ResourceType>,
    pub prioritization: PrioritizationMode,
    pub config_text: String,
    pub format: ConfigFormat,
    pub tiles: Vec<VariableTile>,
}

/// A checked queue, ready for `upsertRunQueue`.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueSettings {
    pub entity: String,
    pub name: String,
    pub resource: ResourceType,
    pub prioritization: PrioritizationMode,
    /// The bare resource config (`resource_args.<resource>`).
    pub config: Value,
    pub template_variables: Vec<TemplateVariable>,
}

/// Field paths of the problems [`QueueDraft::check`] reports.
pub mod paths {
    pub const ENTITY: &str = "entity";
    pub const NAME: &str = "name";
    pub const RESOURCE: &str = "resource";
    pub const CONFIG: &str = "config";
    /// `variables.<name>[.<input>]`.
    pub const VARIABLES: &str = "variables";
}

impl QueueDraft {
    /// Check everything. `taken` are the names of the entity's queues (a new
    /// queue may not reuse one; pass none when editing).
    pub fn check(&self, taken: &[String]) -> Result<QueueSettings, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut push = |path: &str, message: String| {
            problems.push(Problem {
                path: path.to_owned(),
                message,
            })
        };
        if self.entity.trim().is_empty() {
            push(paths::ENTITY, "choose an entity".into());
        }
        if let Err(message) = validate_queue_name(&self.name) {
            push(paths::NAME, message);
        } else if taken.iter().any(|t| t == &self.name) {
            push(
                paths::NAME,
                format!(
                    "a queue named {:?} already exists in {:?}",
                    self.name, self.entity
                ),
            );
        }
        if self.resource.is_none() {
            push(paths::RESOURCE, "choose where the jobs run".into());
        }
        let config = match parse_config(&self.config_text, self.format) {
            Ok(c) => Some(c),
            Err(message) => {
                push(paths::CONFIG, message);
                None
            }
        };
        if let (Some(c), Some(resource)) = (&config, self.resource)
            && let Err(message) = check_resource_args(resource, c)
        {
            push(paths::CONFIG, message);
        }
        let mut vars = Vec::new();
        for tile in &self.tiles {
            match tile.to_variable() {
                Ok(v) => vars.push(v),
                Err(found) => problems.extend(found),
            }
        }
        if let Some(c) = &config {
            for p in validate_definitions(c, &vars) {
                let exists = vars.iter().any(|v| v.name == p.path);
                if !exists && self.tiles.iter().any(|t| t.name == p.path) {
                    // Its tile has problems of its own, listed above.
                    continue;
                }
                let path = if exists {
                    format!("{}.{}", paths::VARIABLES, p.path)
                } else {
                    // A placeholder without a tile: a problem of the config.
                    paths::CONFIG.to_owned()
                };
                problems.push(Problem { path, ..p });
            }
        }
        match (config, self.resource) {
            (Some(config), Some(resource)) if problems.is_empty() => Ok(QueueSettings {
                entity: self.entity.clone(),
                name: self.name.clone(),
                resource,
                prioritization: self.prioritization,
                config,
                template_variables: vars,
            }),
            _ => Err(problems),
        }
    }
}

/// The problems about a field and everything under it (`variables.cpu`
/// also matches `variables.cpu.maximum`).
pub fn problems_under<'a>(problems: &'a [Problem], path: &str) -> Vec<&'a Problem> {
    problems
        .iter()
        .filter(|p| {
            p.path == path
                || p.path
                    .strip_prefix(path)
                    .is_some_and(|rest| rest.starts_with('.'))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bare_template_variable_is_told_to_be_quoted() {
        let err = parse_config("env:\n  FOO: {{foo}}\n", ConfigFormat::Yaml).unwrap_err();
        assert!(err.starts_with("not valid YAML"), "{err}");
        assert!(
            err.ends_with("(a {{variable}} goes in quotes: \"{{variable}}\")"),
            "{err}"
        );
        let err = parse_config("{\"gpus\": {{gpus}}}", ConfigFormat::Json).unwrap_err();
        assert!(err.contains("goes in quotes"), "{err}");
        // Quoted, it is a string; another mistake gets no such hint.
        assert_eq!(
            parse_config("FOO: \"{{foo}}\"", ConfigFormat::Yaml).unwrap(),
            json!({"FOO": "{{foo}}"})
        );
        let err = parse_config("{\"a\": \"{{foo}}\",}", ConfigFormat::Json).unwrap_err();
        assert!(!err.contains("goes in quotes"), "{err}");
    }

    fn draft(text: &str, format: ConfigFormat) -> QueueDraft {
        QueueDraft {
            entity: "alice".into(),
            name: "gpu".into(),
            resource: Some(ResourceType::LocalContainer),
            config_text: text.into(),
            format,
            ..QueueDraft::default()
        }
    }

    #[test]
    fn parses_json_and_yaml_configs() {
        assert_eq!(parse_config("", ConfigFormat::Json), Ok(json!({})));
        assert_eq!(
            parse_config("env:\n  - A=1\ngpus: \"{{gpus}}\"\n", ConfigFormat::Yaml),
            Ok(json!({"env": ["A=1"], "gpus": "{{gpus}}"}))
        );
        assert!(
            parse_config("{\"a\": ", ConfigFormat::Json)
                .unwrap_err()
                .starts_with("not valid JSON")
        );
        assert_eq!(
            parse_config("[1]", ConfigFormat::Json),
            Err("the configuration must be a mapping of settings, got a list".into())
        );
        let c = json!({"env": ["A=1"]});
        assert_eq!(
            parse_config(&print_config(&c, ConfigFormat::Yaml), ConfigFormat::Yaml),
            Ok(c.clone())
        );
        assert_eq!(print_config(&json!({}), ConfigFormat::Json), "");
    }

    #[test]
    fn placeholders_become_tiles_and_tiles_become_schemas() {
        let config = json!({"gpus": "{{gpus}}", "memory": "{{memory}}"});
        let mut gpus = VariableTile::named("gpus");
        gpus.kind = VariableKind::Integer;
        gpus.minimum = "0".into();
        gpus.maximum = "4".into();
        gpus.default = "1".into();
        let tiles = tiles_for(&config, &[gpus.clone(), VariableTile::named("gone")]);
        assert_eq!(tiles, vec![gpus.clone(), VariableTile::named("memory")]);
        let var = gpus.to_variable().unwrap();
        assert_eq!(
            serde_json::to_value(var.schema()).unwrap(),
            json!({"type": "integer", "minimum": 0, "maximum": 4, "default": 1})
        );
        assert_eq!(VariableTile::from_variable(&var), gpus);
        let mut mem = VariableTile::named("memory");
        mem.allowed = "8Gi, 16Gi".into();
        mem.default = "8Gi".into();
        let var = mem.to_variable().unwrap();
        assert_eq!(
            serde_json::to_value(var.schema()).unwrap(),
            json!({"type": "string", "enum": ["8Gi", "16Gi"], "default": "8Gi"})
        );
    }

    #[test]
    fn a_good_draft_becomes_settings() {
        let mut d = draft("{\"gpus\": \"{{gpus}}\"}", ConfigFormat::Json);
        d.tiles = tiles_for(&json!({"gpus": "{{gpus}}"}), &[]);
        let s = d.check(&["cpu".into()]).unwrap();
        assert_eq!(s.config, json!({"gpus": "{{gpus}}"}));
        assert_eq!(s.template_variables[0].name, "gpus");
    }

    #[test]
    fn bad_drafts_say_what_is_wrong_where() {
        let mut d = draft("{\"gpus\": ", ConfigFormat::Json);
        d.name = "gpu".into();
        let p = d.check(&["gpu".into()]).unwrap_err();
        assert_eq!(
            p[0].to_string(),
            "name: a queue named \"gpu\" already exists in \"alice\""
        );
        assert!(
            p[1].to_string()
                .starts_with("config: not valid JSON: EOF while parsing"),
            "{}",
            p[1]
        );

        let d = draft("{\"privileged\": true}", ConfigFormat::Json);
        let p = d.check(&[]).unwrap_err();
        assert!(
            p[0].to_string().starts_with(
                "config: Unsupported resource_args.local-container option 'privileged'"
            ),
            "{}",
            p[0]
        );

        let mut d = draft("gpus: \"{{gpus}}\"\nshm: \"{{shm}}\"", ConfigFormat::Yaml);
        d.resource = Some(ResourceType::LocalProcess);
        let mut gpus = VariableTile::named("gpus");
        gpus.kind = VariableKind::Integer;
        gpus.minimum = "4".into();
        gpus.maximum = "two".into();
        d.tiles = vec![gpus];
        let p = d.check(&[]).unwrap_err();
        let text: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "variables.gpus.maximum: \"two\" is not a number",
                "config: the config uses {{shm}} but no template variable \"shm\" is defined",
            ]
        );
        assert_eq!(problems_under(&p, "variables.gpus").len(), 1);
        assert_eq!(problems_under(&p, "variables.gp").len(), 0);
    }
}
