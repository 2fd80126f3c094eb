//! The agent config file, `launch-config.yaml` (spec §3.5), with W&B's keys
//! and W&B's rules: unknown keys are refused (naming the key and the one
//! meant), every problem is listed at once, and the resolved config is what
//! the agent registers as `agentConfig`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Default `stopped_run_timeout`, seconds between seeing `stopped` and
/// terminating the job.
pub const DEFAULT_STOPPED_RUN_TIMEOUT: i64 = 60;

const TOP_KEYS: &[&str] = &[
    "entity",
    "queues",
    "max_jobs",
    "max_schedulers",
    "secure_mode",
    "environment",
    "registry",
    "builder",
    "verbosity",
    "stopped_run_timeout",
    "runner",
];
const BUILDER_KEYS: &[&str] = &[
    "type",
    "destination",
    "platform",
    "build-context-store",
    "build-job-name",
    "secret-name",
    "secret-key",
    "kaniko-image",
];
const REGISTRY_KEYS: &[&str] = &["type", "uri"];
/// The `environment:` keys W&B reads; others are allowed (pydantic `extra =
/// "allow"`), kept, and warned about.
const ENVIRONMENT_KEYS: &[&str] = &["type", "region"];
const RUNNER_KEYS: &[&str] = &[
    "container_cli",
    "namespace",
    "stop_grace_seconds",
    "s3_output_path",
    "role_arn",
    "python",
];

/// A resolved, valid agent config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    #[serde(default)]
    pub queues: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_jobs: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_schedulers: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure_mode: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_run_timeout: Option<i64>,
    /// Runner settings: W&B's `runner.namespace` (kubernetes) and Liftoff's
    /// `container_cli` (`docker` or `podman`), `stop_grace_seconds`, and
    /// `python` (the interpreter local-process venvs are made from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<Map<String, Value>>,
}

/// One thing wrong with a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Dotted path: `max_jobs`, `builder.type`.
    pub field: String,
    /// The offending value, as written (absent for missing fields).
    pub value: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "field {} (value: {v}): {}", self.field, self.message),
            None => write!(f, "field {}: {}", self.field, self.message),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("launch agent config is not valid YAML: {0}")]
    Yaml(String),
    #[error("invalid launch agent config:\n{}", list(.0))]
    Invalid(Vec<ConfigProblem>),
}

fn list(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl ConfigError {
    pub fn problems(&self) -> &[ConfigProblem] {
        match self {
            Self::Invalid(p) => p,
            Self::Yaml(_) => &[],
        }
    }
}

/// Values from the environment and the command line that override the file
/// (W&B precedence: defaults < file < env < flags).
#[derive(Clone, Debug, Default)]
pub struct ConfigOverrides {
    pub entity: Option<String>,
    pub queues: Vec<String>,
    pub max_jobs: Option<i64>,
}

impl AgentConfig {
    /// Parse and validate `launch-config.yaml` text.
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(text).map_err(|e| ConfigError::Yaml(e.to_string()))?;
        let value = match yaml {
            serde_yaml::Value::Null => Value::Object(Map::new()),
            other => serde_json::to_value(other).map_err(|e| ConfigError::Yaml(e.to_string()))?,
        };
        Self::from_value(&value)
    }

    /// Validate an already-parsed config (e.g. from JSON).
    pub fn from_value(value: &Value) -> Result<Self, ConfigError> {
        let mut p = Vec::new();
        let Some(map) = value.as_object() else {
            return Err(ConfigError::Invalid(vec![ConfigProblem {
                field: "(top level)".into(),
                value: Some(short(value)),
                message: "the config must be a mapping of keys like `entity:` and `queues:`".into(),
            }]));
        };
        unknown_keys(map, TOP_KEYS, "", &mut p);
        let mut cfg = AgentConfig {
            entity: string(map, "entity", "", &mut p),
            queues: queues(map, &mut p),
            max_jobs: int(map, "max_jobs", "", &mut p),
            max_schedulers: int(map, "max_schedulers", "", &mut p),
            secure_mode: boolean(map, "secure_mode", &mut p),
            verbosity: int(map, "verbosity", "", &mut p),
            stopped_run_timeout: int(map, "stopped_run_timeout", "", &mut p),
            ..Default::default()
        };
        for (key, value) in [
            ("max_jobs", cfg.max_jobs),
            ("max_schedulers", cfg.max_schedulers),
        ] {
            if let Some(n) = value.filter(|n| *n == 0 || *n < -1) {
                p.push(problem(
                    key,
                    Some(n.to_string()),
                    "must be a positive number, or -1 for unlimited",
                ));
            }
        }
        if let Some(n) = cfg.stopped_run_timeout.filter(|n| *n < 0) {
            p.push(problem(
                "stopped_run_timeout",
                Some(n.to_string()),
                "must be zero or more seconds",
            ));
        }
        cfg.environment = section(map, "environment", &mut p).inspect(|env| {
            check_environment(env, &mut p);
        });
        cfg.registry = section(map, "registry", &mut p).inspect(|reg| {
            unknown_keys(reg, REGISTRY_KEYS, "registry.", &mut p);
            one_of(reg, "type", "registry.", &["ecr", "acr", "gcr"], &mut p);
            string(reg, "uri", "registry.", &mut p);
        });
        cfg.builder = section(map, "builder", &mut p).inspect(|b| {
            check_builder(b, &mut p);
        });
        cfg.runner = section(map, "runner", &mut p).inspect(|r| {
            unknown_keys(r, RUNNER_KEYS, "runner.", &mut p);
            one_of(r, "container_cli", "runner.", &["docker", "podman"], &mut p);
            string(r, "namespace", "runner.", &mut p);
            string(r, "python", "runner.", &mut p);
            if let Some(n) = int(r, "stop_grace_seconds", "runner.", &mut p).filter(|n| *n < 0) {
                p.push(problem(
                    "runner.stop_grace_seconds",
                    Some(n.to_string()),
                    "must be zero or more seconds",
                ));
            }
        });
        if p.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigError::Invalid(p))
        }
    }

    /// What is allowed but probably not meant: `environment:` keys W&B does
    /// not read (it keeps them and warns, as W&B does), each with the key
    /// that is near it.
    pub fn warnings(&self) -> Vec<ConfigProblem> {
        let mut w = Vec::new();
        if let Some(env) = &self.environment {
            unknown_keys(env, ENVIRONMENT_KEYS, "environment.", &mut w);
            for p in &mut w {
                p.message.push_str(" (kept, but nothing reads it)");
            }
        }
        w
    }

    /// Apply env/flag overrides; flags' queues replace the file's.
    pub fn with_overrides(mut self, o: &ConfigOverrides) -> Self {
        if o.entity.is_some() {
            self.entity.clone_from(&o.entity);
        }
        if !o.queues.is_empty() {
            self.queues.clone_from(&o.queues);
        }
        if o.max_jobs.is_some() {
            self.max_jobs = o.max_jobs;
        }
        self
    }

    pub fn max_jobs(&self) -> i64 {
        self.max_jobs.unwrap_or(1)
    }
    pub fn secure_mode(&self) -> bool {
        self.secure_mode.unwrap_or(false)
    }
    pub fn stopped_run_timeout(&self) -> i64 {
        self.stopped_run_timeout
            .unwrap_or(DEFAULT_STOPPED_RUN_TIMEOUT)
    }
    /// Seconds a stopped job has, from its SIGINT, before it is killed:
    /// `runner.stop_grace_seconds`, else `stopped_run_timeout` when set
    /// (W&B's seconds between seeing a stop and cancelling the job); `None`
    /// leaves the agent's default.
    pub fn stop_grace_seconds(&self) -> Option<u64> {
        self.runner
            .as_ref()
            .and_then(|r| r.get("stop_grace_seconds"))
            .and_then(Value::as_i64)
            .or(self.stopped_run_timeout)
            .and_then(|n| u64::try_from(n).ok())
    }
    pub fn runner_str(&self, key: &str) -> Option<&str> {
        self.runner
            .as_ref()
            .and_then(|r| r.get(key))
            .and_then(Value::as_str)
    }
    /// Where built images are pushed (`REGISTRY/REPO`, tagged with the
    /// build's hash), and which setting said so: the job spec's
    /// `builder.destination`, else launch-config.yaml's, else its deprecated
    /// `registry.uri` (without `https://`). None: images stay on this
    /// machine. (W&B's agent means the spec's builder to override its own
    /// but, as written, keeps its own; a spec naming a destination is taken
    /// at its word here.)
    pub fn image_destination<'a>(
        &'a self,
        spec_builder: Option<&'a Value>,
    ) -> Option<(&'a str, &'static str)> {
        let destination = |b: Option<&'a Map<String, Value>>| {
            b.and_then(|b| b.get("destination"))
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|d| !d.is_empty())
        };
        let uri = self
            .registry
            .as_ref()
            .and_then(|r| r.get("uri"))
            .and_then(Value::as_str)
            .map(|u| {
                let u = u.trim();
                u.strip_prefix("https://")
                    .or_else(|| u.strip_prefix("http://"))
                    .unwrap_or(u)
            })
            .filter(|u| !u.is_empty());
        destination(spec_builder.and_then(Value::as_object))
            .map(|d| (d, "the job spec's builder.destination"))
            .or_else(|| {
                destination(self.builder.as_ref())
                    .map(|d| (d, "launch-config.yaml's builder.destination"))
            })
            .or_else(|| uri.map(|u| (u, "launch-config.yaml's registry.uri")))
    }
    pub fn builder_type(&self) -> Option<&str> {
        self.builder
            .as_ref()
            .and_then(|b| b.get("type"))
            .and_then(Value::as_str)
    }

    /// The config as the agent registers it (`createLaunchAgent.agentConfig`),
    /// in the shape W&B's agent sends: defaults filled, empty `registry` and
    /// `builder` present, optional keys only when set.
    pub fn resolved(&self) -> Value {
        let mut out = Map::new();
        out.insert("max_jobs".into(), Value::from(self.max_jobs()));
        out.insert(
            "max_schedulers".into(),
            Value::from(self.max_schedulers.unwrap_or(1)),
        );
        out.insert("queues".into(), Value::from(self.queues.clone()));
        out.insert(
            "registry".into(),
            Value::Object(self.registry.clone().unwrap_or_default()),
        );
        out.insert(
            "builder".into(),
            Value::Object(self.builder.clone().unwrap_or_default()),
        );
        out.insert("verbosity".into(), Value::from(self.verbosity.unwrap_or(0)));
        if let Some(e) = &self.entity {
            out.insert("entity".into(), Value::from(e.clone()));
        }
        if let Some(t) = self.stopped_run_timeout {
            out.insert("stopped_run_timeout".into(), Value::from(t));
        }
        if let Some(s) = self.secure_mode {
            out.insert("secure_mode".into(), Value::from(s));
        }
        if let Some(env) = &self.environment {
            out.insert("environment".into(), Value::Object(env.clone()));
        }
        if let Some(r) = &self.runner {
            out.insert("runner".into(), Value::Object(r.clone()));
        }
        Value::Object(out)
    }
}

fn problem(field: &str, value: Option<String>, message: &str) -> ConfigProblem {
    ConfigProblem {
        field: field.to_owned(),
        value,
        message: message.to_owned(),
    }
}

fn short(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn unknown_keys(
    map: &Map<String, Value>,
    known: &[&str],
    prefix: &str,
    p: &mut Vec<ConfigProblem>,
) {
    for (key, value) in map {
        if known.contains(&key.as_str()) {
            continue;
        }
        let hint = match (prefix, key.as_str()) {
            ("", "queue") => " (use `queues:` with a list, e.g. `queues: [default]`)".to_owned(),
            _ => closest(key, known)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_else(|| format!("; known keys: {}", known.join(", "))),
        };
        p.push(problem(
            &format!("{prefix}{key}"),
            Some(short(value)),
            &format!("unknown key `{key}`{hint}"),
        ));
    }
}

/// YAML 1.1's other spellings of true and false (PyYAML's, as wandb reads
/// launch-config.yaml): yes/no, on/off, in lower, Title or UPPER case.
fn yaml11_bool(s: &str) -> Option<bool> {
    let cased = |w: &str| {
        let title = format!("{}{}", w[..1].to_ascii_uppercase(), &w[1..]);
        s == w || s == title || s == w.to_ascii_uppercase()
    };
    if cased("yes") || cased("on") {
        Some(true)
    } else if cased("no") || cased("off") {
        Some(false)
    } else {
        None
    }
}

/// The known name `key` is likely a typo of (a small edit away).
pub fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn string(
    map: &Map<String, Value>,
    key: &str,
    prefix: &str,
    p: &mut Vec<ConfigProblem>,
) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => {
            p.push(problem(
                &format!("{prefix}{key}"),
                Some(short(other)),
                "must be a string",
            ));
            None
        }
    }
}

fn int(
    map: &Map<String, Value>,
    key: &str,
    prefix: &str,
    p: &mut Vec<ConfigProblem>,
) -> Option<i64> {
    match map.get(key)? {
        Value::Number(n) if n.as_i64().is_some() => n.as_i64(),
        Value::String(s) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
        Value::Null => None,
        other => {
            p.push(problem(
                &format!("{prefix}{key}"),
                Some(short(other)),
                "must be a whole number",
            ));
            None
        }
    }
}

fn boolean(map: &Map<String, Value>, key: &str, p: &mut Vec<ConfigProblem>) -> Option<bool> {
    match map.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::Null => None,
        // wandb reads this file with PyYAML (YAML 1.1), where these are booleans.
        Value::String(s) if yaml11_bool(s).is_some() => yaml11_bool(s),
        other => {
            p.push(problem(key, Some(short(other)), "must be true or false"));
            None
        }
    }
}

fn queues(map: &Map<String, Value>, p: &mut Vec<ConfigProblem>) -> Vec<String> {
    match map.get("queues") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|q| match q {
                Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
                other => {
                    p.push(problem(
                        "queues",
                        Some(short(other)),
                        "every queue must be a non-empty name",
                    ));
                    None
                }
            })
            .collect(),
        Some(Value::String(s)) => {
            p.push(problem(
                "queues",
                Some(s.clone()),
                &format!("must be a list: write `queues: [{s}]`"),
            ));
            vec![]
        }
        Some(other) => {
            p.push(problem(
                "queues",
                Some(short(other)),
                "must be a list of queue names",
            ));
            vec![]
        }
    }
}

fn section(
    map: &Map<String, Value>,
    key: &str,
    p: &mut Vec<ConfigProblem>,
) -> Option<Map<String, Value>> {
    match map.get(key)? {
        Value::Object(m) => Some(m.clone()),
        Value::Null => None,
        other => {
            p.push(problem(
                key,
                Some(short(other)),
                &format!("must be a mapping (e.g. `{key}:` followed by indented keys)"),
            ));
            None
        }
    }
}

fn one_of(
    map: &Map<String, Value>,
    key: &str,
    prefix: &str,
    allowed: &[&str],
    p: &mut Vec<ConfigProblem>,
) -> Option<String> {
    let v = string(map, key, prefix, p)?;
    if allowed.contains(&v.as_str()) {
        Some(v)
    } else {
        let quoted: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
        p.push(problem(
            &format!("{prefix}{key}"),
            Some(v),
            &format!("must be one of {}", quoted.join(", ")),
        ));
        None
    }
}

fn check_environment(env: &Map<String, Value>, p: &mut Vec<ConfigProblem>) {
    let kind = one_of(env, "type", "environment.", &["aws", "gcp", "azure"], p);
    if env.get("type").is_none() {
        p.push(problem(
            "environment.type",
            None,
            "is required: one of 'aws', 'gcp', 'azure'",
        ));
    }
    let region = string(env, "region", "environment.", p);
    if matches!(kind.as_deref(), Some("aws" | "gcp")) && region.is_none() {
        p.push(problem(
            "environment.region",
            None,
            "is required for aws and gcp environments",
        ));
    }
}

fn check_builder(b: &Map<String, Value>, p: &mut Vec<ConfigProblem>) {
    unknown_keys(b, BUILDER_KEYS, "builder.", p);
    one_of(b, "type", "builder.", &["docker", "kaniko", "noop"], p);
    one_of(
        b,
        "platform",
        "builder.",
        &["linux/amd64", "linux/arm64"],
        p,
    );
    // No tag (each image is tagged with a hash of its source), and a
    // reference the container engine takes (`reg.example/ML/x` is not one).
    if let Some(dest) = string(b, "destination", "builder.", p)
        && let Err(message) = crate::image::check_repository(&dest)
    {
        p.push(problem("builder.destination", Some(dest.clone()), &message));
    }
    if let Some(store) = string(b, "build-context-store", "builder.", p) {
        let ok = store.starts_with("s3://")
            || store.starts_with("gs://")
            || (store.starts_with("https://") && store.contains(".blob.core.windows.net"));
        if !ok {
            p.push(problem(
                "builder.build-context-store",
                Some(store),
                "must be an s3://, gs:// or https://<account>.blob.core.windows.net/ URI",
            ));
        }
    }
    for key in [
        "build-job-name",
        "secret-name",
        "secret-key",
        "kaniko-image",
    ] {
        string(b, key, "builder.", p);
    }
}

/// The environment of the agent process, passed in (for `${macro}`s and env
/// overrides): pure code never reads it.
pub type Environment = BTreeMap<String, String>;

/// Overrides from `WANDB_ENTITY` and `WANDB_LAUNCH_MAX_JOBS`.
pub fn env_overrides(env: &Environment) -> Result<ConfigOverrides, ConfigProblem> {
    // The same rule as `-j` and `max_jobs:`: 0 would run nothing.
    let max_jobs = match env.get("WANDB_LAUNCH_MAX_JOBS") {
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 || n == -1 => Some(n),
            _ => {
                return Err(problem(
                    "WANDB_LAUNCH_MAX_JOBS",
                    Some(v.clone()),
                    "must be a positive number, or -1 for unlimited",
                ));
            }
        },
        None => None,
    };
    Ok(ConfigOverrides {
        entity: env.get("WANDB_ENTITY").filter(|e| !e.is_empty()).cloned(),
        queues: vec![],
        max_jobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_jobs_grace_is_the_runners_else_stopped_run_timeout() {
        let grace = |yaml: &str| AgentConfig::from_yaml(yaml).unwrap().stop_grace_seconds();
        assert_eq!(grace("queues: [q]\n"), None);
        assert_eq!(grace("stopped_run_timeout: 45\n"), Some(45));
        assert_eq!(
            grace("stopped_run_timeout: 45\nrunner: {stop_grace_seconds: 3}\n"),
            Some(3)
        );
    }

    #[test]
    fn unknown_environment_keys_are_kept_with_a_warning() {
        let cfg = AgentConfig::from_yaml(
            "queues: [q]\nenvironment: {type: aws, region: us-east-1, regoin: eu-west-1, profile: ml}\n",
        )
        .unwrap();
        let warnings: Vec<String> = cfg.warnings().iter().map(|w| w.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "field environment.regoin (value: eu-west-1): unknown key `regoin`; did you mean `region`? (kept, but nothing reads it)",
                "field environment.profile (value: ml): unknown key `profile`; known keys: type, region (kept, but nothing reads it)",
            ]
        );
        assert_eq!(cfg.environment.unwrap().len(), 4);
    }

    #[test]
    fn the_image_destination_is_the_specs_builder_else_the_agents() {
        let agent = AgentConfig::from_yaml(
            "queues: [q]\nbuilder: {type: docker, destination: reg.example/ml/train}\n",
        )
        .unwrap();
        let dest = |c: &AgentConfig, spec: Option<&Value>| {
            c.image_destination(spec).map(|d| d.0.to_owned())
        };
        assert_eq!(dest(&agent, None).as_deref(), Some("reg.example/ml/train"));
        let spec = serde_json::json!({"destination": "other.example/x"});
        assert_eq!(
            dest(&agent, Some(&spec)).as_deref(),
            Some("other.example/x")
        );
        assert_eq!(
            agent.image_destination(Some(&spec)).map(|d| d.1),
            Some("the job spec's builder.destination")
        );
        // A spec builder without one keeps the agent's.
        let typed = serde_json::json!({"type": "docker"});
        assert_eq!(
            dest(&agent, Some(&typed)).as_deref(),
            Some("reg.example/ml/train")
        );
        let legacy = AgentConfig::from_yaml(
            "queues: [q]\nregistry: {type: acr, uri: https://my.azurecr.io/ml}\n",
        )
        .unwrap();
        assert_eq!(
            dest(&legacy, Some(&typed)).as_deref(),
            Some("my.azurecr.io/ml")
        );
        assert_eq!(
            dest(&AgentConfig::from_yaml("queues: [q]\n").unwrap(), None),
            None
        );
    }

    #[test]
    fn a_builder_destination_must_be_an_image_repository() {
        let err = AgentConfig::from_yaml("queues: [q]\nbuilder: {destination: reg.example/ML/x}\n")
            .unwrap_err();
        assert!(err.to_string().contains("builder.destination"), "{err}");
        assert!(
            !err.to_string().contains(":latest"),
            "said as written: {err}"
        );
        assert!(
            AgentConfig::from_yaml("queues: [q]\nbuilder: {destination: reg.example/ml/x}\n")
                .is_ok()
        );
    }

    #[test]
    fn wandb_launch_max_jobs_follows_the_rule_of_j() {
        let env = |v: &str| Environment::from([("WANDB_LAUNCH_MAX_JOBS".to_owned(), v.to_owned())]);
        assert_eq!(env_overrides(&env("3")).unwrap().max_jobs, Some(3));
        assert_eq!(env_overrides(&env("-1")).unwrap().max_jobs, Some(-1));
        for bad in ["0", "-5", "two"] {
            assert!(env_overrides(&env(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn yes_and_on_are_true_as_pyyaml_reads_them() {
        for (text, want) in [("yes", true), ("On", true), ("NO", false), ("off", false)] {
            let c = AgentConfig::from_yaml(&format!("queues: [q]\nsecure_mode: {text}\n")).unwrap();
            assert_eq!(c.secure_mode, Some(want), "{text}");
        }
        let err = AgentConfig::from_yaml("queues: [q]\nsecure_mode: yep\n").unwrap_err();
        assert!(err.to_string().contains("must be true or false"), "{err}");
    }

    #[test]
    fn suggests_the_key_meant() {
        let err = AgentConfig::from_yaml("entity: a\nqueue: default\nmax_job: 2\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("field queue (value: default): unknown key `queue` (use `queues:`"),
            "{text}"
        );
        assert!(
            text.contains(
                "field max_job (value: 2): unknown key `max_job`; did you mean `max_jobs`?"
            ),
            "{text}"
        );
        assert_eq!(err.problems().len(), 2);
    }

    #[test]
    fn precedence() {
        let cfg = AgentConfig::from_yaml("entity: a\nqueues: [q1]\nmax_jobs: 2\n").unwrap();
        assert_eq!(cfg.warnings(), []);
        let o = ConfigOverrides {
            entity: Some("b".into()),
            queues: vec!["q2".into()],
            max_jobs: None,
        };
        let cfg = cfg.with_overrides(&o);
        assert_eq!(
            (cfg.entity.as_deref(), cfg.queues.as_slice(), cfg.max_jobs()),
            (Some("b"), &["q2".to_owned()][..], 2)
        );
    }

    #[test]
    fn rejects_bad_values() {
        let err =
            AgentConfig::from_yaml("queues: default\nmax_jobs: 0\nrunner: {container_cli: lxc}\n")
                .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("write `queues: [default]`"), "{text}");
        assert!(
            text.contains("max_jobs (value: 0): must be a positive number"),
            "{text}"
        );
        assert!(
            text.contains("runner.container_cli (value: lxc): must be one of 'docker', 'podman'"),
            "{text}"
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
