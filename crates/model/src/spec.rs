//! The launch spec (`runSpec`): what `wandb launch` / `launch_add` push and
//! what an agent pops. Spec §3.1. Keys this crate does not know are kept in
//! `extra` and written back unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::json::double_option;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchSpec {
    /// `entity/project/name:alias` of the job to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Legacy; `placeholder-uri-scheduler` for sweep schedulers.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub uri: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Run display name (`WANDB_NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitSpec>,
    /// `local-process`, `local-container`, `kubernetes`, ... (`null` allowed).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "double_option"
    )]
    pub resource: Option<Option<String>>,
    /// `{<resource>: {...}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_args: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<Overrides>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_variables: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_entity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_services: Option<Vec<Value>>,
    #[serde(
        default,
        rename = "_wandb_api_key",
        skip_serializing_if = "Option::is_none"
    )]
    pub wandb_api_key: Option<String>,
    #[serde(
        default,
        rename = "_resume_count",
        skip_serializing_if = "Option::is_none"
    )]
    pub resume_count: Option<i64>,
    /// Every other key, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DockerSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GitSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `overrides` (spec §3.1): what the launch changes about the job's run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Overrides {
    /// Appended to the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// Replaces the job's command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<Vec<String>>,
    /// Merged into `wandb.config` (locked) through `WANDB_CONFIG`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_config: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The keys `LaunchSpec` and `Overrides` read, for `likely_typos` (a test
/// checks them against what the types write).
const SPEC_KEYS: [&str; 22] = [
    "job",
    "uri",
    "entity",
    "project",
    "name",
    "run_id",
    "author",
    "docker",
    "image_uri",
    "git",
    "resource",
    "resource_args",
    "overrides",
    "sweep_id",
    "template_variables",
    "queue_entity",
    "python_version",
    "builder",
    "registry",
    "additional_services",
    "_wandb_api_key",
    "_resume_count",
];
const OVERRIDE_KEYS: [&str; 7] = [
    "args",
    "entry_point",
    "run_config",
    "artifacts",
    "files",
    "dockerfile",
    "working_dir",
];
/// Why a spec cannot be launched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("the run spec is not valid JSON: {0}")]
    Json(String),
    #[error("the run spec must be a JSON object, got {0}")]
    NotAnObject(&'static str),
    #[error(
        "the run spec names no source: set `job` (entity/project/name:alias), `docker.docker_image`, or a command in `overrides.entry_point`"
    )]
    NoSource,
    #[error("the run spec names both `job` ({job}) and `docker.docker_image` ({image}); keep one")]
    TwoSources { job: String, image: String },
    #[error(
        "job name {0:?} is not of the form entity/project/name[:alias] (like admin/proj/train or admin/proj/train:v2)"
    )]
    BadJobName(String),
    #[error("`{field}` in the run spec {problem}")]
    BadField { field: String, problem: String },
}

impl LaunchSpec {
    /// Parse a spec from JSON text with a message that says what is wrong.
    pub fn from_json(text: &str) -> Result<Self, SpecError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| SpecError::Json(e.to_string()))?;
        Self::from_value(value)
    }

    pub fn from_value(value: Value) -> Result<Self, SpecError> {
        if !value.is_object() {
            return Err(SpecError::NotAnObject(json_kind(&value)));
        }
        serde_json::from_value(value.clone()).map_err(|e| field_error(&value, &e.to_string()))
    }

    /// Keys of the spec that are a small edit away from one it knows
    /// (`overides`), each with the key meant: likely typos, whose values
    /// would be passed on and ignored. Other unknown keys are W&B's to
    /// add, and pass as they are.
    pub fn likely_typos(&self) -> Vec<(String, &'static str)> {
        let typos = |extra: &Map<String, Value>, known: &[&'static str], prefix: &str| {
            extra
                .keys()
                .filter_map(|k| {
                    // One edit for short keys (`foo` is not a typo of `job`), two for long.
                    let near = |meant: &&&str| {
                        crate::config::edit_distance(k, meant)
                            <= if meant.len() < 6 { 1 } else { 2 }
                    };
                    known
                        .iter()
                        .find(near)
                        .map(|meant| (format!("{prefix}{k}"), *meant))
                })
                .collect::<Vec<_>>()
        };
        let mut found = typos(&self.extra, &SPEC_KEYS, "");
        if let Some(o) = &self.overrides {
            found.extend(typos(&o.extra, &OVERRIDE_KEYS, "overrides."));
        }
        found
    }

    /// Top-level keys the spec has that no agent reads (W&B's or ours),
    /// typos aside: a setting put at the top (`memory`) is ignored.
    pub fn unread_keys(&self) -> Vec<&str> {
        let typos = self.likely_typos();
        self.extra
            .keys()
            .map(String::as_str)
            .filter(|k| !SPEC_KEYS.contains(k) && !typos.iter().any(|(t, _)| t == k))
            .collect()
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The container image named by the spec, if any.
    pub fn docker_image(&self) -> Option<&str> {
        self.image_field().map(|(_, image)| image)
    }

    /// The container image named by the spec and the field that names it
    /// (`docker.docker_image`, else `image_uri`), if any.
    pub fn image_field(&self) -> Option<(&'static str, &str)> {
        let (field, image) = match self.docker.as_ref().and_then(|d| d.docker_image.as_deref()) {
            Some(image) => ("docker.docker_image", image),
            None => ("image_uri", self.image_uri.as_deref()?),
        };
        (!image.is_empty()).then_some((field, image))
    }

    /// The resource, if set and not null.
    pub fn resource(&self) -> Option<&str> {
        self.resource
            .as_ref()
            .and_then(|r| r.as_deref())
            .filter(|s| !s.is_empty())
    }

    /// `resource_args[<resource>]` for the spec's resource.
    pub fn resource_args_for(&self, resource: &str) -> Option<&Value> {
        self.resource_args.as_ref().and_then(|m| m.get(resource))
    }

    pub fn overrides(&self) -> Overrides {
        self.overrides.clone().unwrap_or_default()
    }

    /// Checks W&B's `validate_launch_spec_source`: exactly one of `job` and
    /// `docker.docker_image` (scheduler specs with `uri` are exempt), and a
    /// well-formed job name. Liftoff also runs plain command specs: no job,
    /// no image, an `overrides.entry_point` (local-process queues).
    pub fn validate_source(&self) -> Result<(), SpecError> {
        let is_scheduler = matches!(&self.uri, Some(Some(u)) if u == "placeholder-uri-scheduler");
        match (self.job.as_deref(), self.docker_image()) {
            (Some(job), Some(image)) => Err(SpecError::TwoSources {
                job: job.to_owned(),
                image: image.to_owned(),
            }),
            (Some(job), None) => JobRef::parse(job).map(|_| ()),
            // One no container engine would take fails every run of it.
            (None, Some(image)) => {
                crate::image::check_reference(image).map_err(|problem| SpecError::BadField {
                    field: self
                        .image_field()
                        .map_or("docker.docker_image", |(f, _)| f)
                        .to_owned(),
                    problem: format!("is not usable: {problem}"),
                })
            }
            (None, None) if is_scheduler || self.command().is_some() => Ok(()),
            (None, None) => Err(SpecError::NoSource),
        }
    }

    /// The command of a plain command spec (`overrides.entry_point`, no
    /// job and no image).
    pub fn command(&self) -> Option<&[String]> {
        if self.job.is_some() || self.docker_image().is_some() {
            return None;
        }
        self.overrides
            .as_ref()?
            .entry_point
            .as_deref()
            .filter(|c| !c.is_empty())
    }
}

/// The project a run goes to when its spec names none (nor a job), as
/// `wandb launch` has it.
pub const DEFAULT_PROJECT: &str = "uncategorized";

/// What is wrong with a project name, if anything: W&B's rule, at most 128
/// characters and none of `/ \\ # ? % :` (a name with `/` could never be
/// addressed as `entity/project/...` again).
pub fn project_name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("project name is empty".into());
    }
    if name.chars().count() > 128 {
        return Some(format!(
            "project name {name:?} is longer than 128 characters"
        ));
    }
    name.chars()
        .find(|c| "/\\#?%:".contains(*c) || c.is_control())
        .map(|c| format!("project name {name:?} may not contain {c:?}"))
}

/// What is wrong with an entity name, if anything: a user or team name has
/// no spaces, `/` or other separators (W&B's and Liftoff's alike).
pub fn entity_name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("entity name is empty".into());
    }
    name.chars()
        .find(|c| c.is_whitespace() || "/\\#?%:".contains(*c) || c.is_control())
        .map(|c| {
            let what = if c.is_whitespace() {
                "a space".to_owned()
            } else {
                format!("{c:?}")
            };
            format!(
                "entity {name:?} has {what}: an entity is a user or team name like alice or ml-team"
            )
        })
}

/// Said after "entity X not found or access denied": the entities the
/// caller can use (a typo's likely fix; nothing about anyone else's).
pub fn yours_hint(entities: &[String]) -> String {
    match entities {
        [] => String::new(),
        [one] => format!(" (yours is {one})"),
        many => format!(" (yours are {})", many.join(", ")),
    }
}

/// Where a spec's run lives: its `entity` (else `default_entity`, the
/// queue's or the agent's) and its `project`, else its job's project, else
/// [`DEFAULT_PROJECT`]. The agent creates the run there and the server looks
/// it up there, so both take it from here.
pub fn run_home(
    entity: Option<&str>,
    project: Option<&str>,
    job: Option<&str>,
    default_entity: &str,
) -> (String, String) {
    let entity = entity.filter(|e| !e.is_empty()).unwrap_or(default_entity);
    let project = project
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .or_else(|| JobRef::parse(job?).ok().map(|j| j.project))
        .unwrap_or_else(|| DEFAULT_PROJECT.to_owned());
    (entity.to_owned(), project)
}

/// `entity/project/name:alias`, as in a spec's `job`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRef {
    pub entity: String,
    pub project: String,
    pub name: String,
    pub alias: String,
}

impl JobRef {
    /// Parse `entity/project/name[:alias]`; the alias defaults to `latest`.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let bad = || SpecError::BadJobName(text.to_owned());
        let mut parts = text.splitn(3, '/');
        let (Some(entity), Some(project), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let (name, alias) = match rest.rsplit_once(':') {
            Some((n, a)) => (n, a),
            None => (rest, "latest"),
        };
        if [entity, project, name, alias]
            .iter()
            .any(|s| s.is_empty() || s.contains('/'))
        {
            return Err(bad());
        }
        Ok(Self {
            entity: entity.to_owned(),
            project: project.to_owned(),
            name: name.to_owned(),
            alias: alias.to_owned(),
        })
    }

    /// `name:alias`, the form `ArtifactMembershipByName` takes.
    pub fn name_with_alias(&self) -> String {
        format!("{}:{}", self.name, self.alias)
    }
}

impl std::fmt::Display for JobRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}:{}",
            self.entity, self.project, self.name, self.alias
        )
    }
}

pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The spec did not decode: name the field, found by decoding the spec's
/// fields one at a time (serde's message names only the expected type).
fn field_error(spec: &Value, message: &str) -> SpecError {
    SpecError::BadField {
        field: wrong_field(spec).unwrap_or_else(|| "a field".into()),
        problem: format!("has the wrong type ({message})"),
    }
}

/// The dotted path of the field that does not decode (`overrides.args`):
/// each field alone, in a spec with nothing else, going down while the
/// culprit is an object. A field missing beside it is not its fault.
fn wrong_field(spec: &Value) -> Option<String> {
    let fails = |path: &[&str], leaf: &Value| {
        let nested = path
            .iter()
            .rev()
            .fold(leaf.clone(), |inner, k| serde_json::json!({ *k: inner }));
        serde_json::from_value::<LaunchSpec>(nested)
            .err()
            .is_some_and(|e| !e.to_string().starts_with("missing field"))
    };
    let mut path: Vec<&str> = Vec::new();
    let mut here = spec.as_object()?;
    'down: loop {
        for (k, v) in here {
            if fails(&path, &serde_json::json!({ k: v })) {
                path.push(k);
                match v.as_object() {
                    Some(inner) => {
                        here = inner;
                        continue 'down;
                    }
                    None => break 'down,
                }
            }
        }
        break;
    }
    (!path.is_empty()).then(|| path.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_run_lives_in_the_specs_project_else_its_jobs_else_uncategorized() {
        let home = |e, p, j| run_home(e, p, j, "queue-owner");
        assert_eq!(
            home(Some("team"), Some("proj"), Some("a/b/train:v1")),
            ("team".into(), "proj".into())
        );
        assert_eq!(
            home(None, Some(""), Some("a/b/train:v1")),
            ("queue-owner".into(), "b".into())
        );
        assert_eq!(
            home(Some(""), None, Some("not a job")),
            ("queue-owner".into(), DEFAULT_PROJECT.into())
        );
    }

    #[test]
    fn unknown_keys_and_explicit_nulls_survive_a_round_trip() {
        let raw = json!({"job": "a/b/c:latest", "resource": null, "docker": {}, "git": {},
                         "python_version": "3.11", "custom": {"x": [1, 2]},
                         "overrides": {"args": [], "mystery": true}});
        let spec = LaunchSpec::from_value(raw.clone()).unwrap();
        assert_eq!(spec.resource, Some(None));
        assert_eq!(spec.extra.get("custom"), Some(&json!({"x": [1, 2]})));
        assert_eq!(spec.to_value(), raw);
    }

    #[test]
    fn source_validation() {
        let both =
            LaunchSpec::from_value(json!({"job": "a/b/c:v1", "docker": {"docker_image": "img"}}));
        assert!(matches!(
            both.unwrap().validate_source(),
            Err(SpecError::TwoSources { .. })
        ));
        let none = LaunchSpec::from_value(json!({"entity": "a"})).unwrap();
        assert_eq!(none.validate_source(), Err(SpecError::NoSource));
        let bad = LaunchSpec::from_value(json!({"job": "nope"})).unwrap();
        assert_eq!(
            bad.validate_source(),
            Err(SpecError::BadJobName("nope".into()))
        );
        let sched = LaunchSpec::from_value(json!({"uri": "placeholder-uri-scheduler"})).unwrap();
        assert_eq!(sched.validate_source(), Ok(()));
        let bad_image =
            LaunchSpec::from_value(json!({"docker": {"docker_image": "alp ine"}})).unwrap();
        let err = bad_image.validate_source().unwrap_err().to_string();
        assert!(
            err.starts_with("`docker.docker_image` in the run spec is not usable: \"alp ine\" is not a container image reference"),
            "{err}"
        );
    }

    #[test]
    fn project_names_that_could_not_be_addressed_are_refused() {
        assert_eq!(project_name_problem("mnist-2"), None);
        assert_eq!(project_name_problem("my project"), None);
        assert_eq!(
            project_name_problem("bad/project").as_deref(),
            Some("project name \"bad/project\" may not contain '/'")
        );
        assert!(project_name_problem("").is_some());
        assert!(project_name_problem(&"p".repeat(129)).is_some());
    }

    /// Every field is set here without `..Default::default()`, so a new
    /// field does not compile until it is added, and then its key must be
    /// in `SPEC_KEYS` / `OVERRIDE_KEYS` for typos of it to be caught.
    #[test]
    fn the_known_keys_are_the_keys_the_types_write() {
        let text = || Some("x".to_owned());
        let map = || Some(Map::new());
        let overrides = Overrides {
            args: Some(vec![]),
            entry_point: Some(vec![]),
            run_config: map(),
            artifacts: map(),
            files: map(),
            dockerfile: text(),
            working_dir: text(),
            extra: Map::new(),
        };
        let spec = LaunchSpec {
            job: text(),
            uri: Some(None),
            entity: text(),
            project: text(),
            name: text(),
            run_id: text(),
            author: text(),
            docker: Some(DockerSpec::default()),
            image_uri: text(),
            git: Some(GitSpec::default()),
            resource: Some(None),
            resource_args: map(),
            overrides: Some(overrides.clone()),
            sweep_id: text(),
            template_variables: map(),
            queue_entity: text(),
            python_version: text(),
            builder: Some(Value::Null),
            registry: Some(Value::Null),
            additional_services: Some(vec![]),
            wandb_api_key: text(),
            resume_count: Some(0),
            extra: Map::new(),
        };
        let keys = |v: Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let sorted = |k: &[&str]| {
            let mut k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
            k.sort();
            k
        };
        assert_eq!(keys(spec.to_value()), sorted(&SPEC_KEYS));
        assert_eq!(
            keys(serde_json::to_value(overrides).unwrap()),
            sorted(&OVERRIDE_KEYS)
        );
    }

    #[test]
    fn likely_typos_are_named_with_the_key_meant() {
        let spec = LaunchSpec::from_value(json!({
            "overides": {"run_config": {"lr": 1}}, "foo": 1, "projet": "p",
            "overrides": {"entrypoint": ["x"], "custom": 1}
        }))
        .unwrap();
        assert_eq!(
            spec.likely_typos(),
            [
                ("overides".to_owned(), "overrides"),
                ("projet".to_owned(), "project"),
                ("overrides.entrypoint".to_owned(), "entry_point"),
            ]
        );
        // What is neither known nor a typo: passed on, read by no agent.
        assert_eq!(spec.unread_keys(), ["foo"]);
        assert_eq!(
            LaunchSpec::from_value(json!({"job": "a/b/c"}))
                .unwrap()
                .unread_keys(),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn wrong_types_are_reported() {
        let err = LaunchSpec::from_value(json!({"overrides": {"args": "--fast"}})).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`overrides.args` in the run spec has the wrong type"),
            "{err}"
        );
        for (spec, field) in [
            (json!({"job": "a/b/c:v0", "overrides": "x"}), "overrides"),
            (
                json!({"overrides": {"run_config": [1, 2]}}),
                "overrides.run_config",
            ),
            (json!({"resource": 5, "entity": "e"}), "resource"),
            (
                json!({"docker": {"docker_image": 7}}),
                "docker.docker_image",
            ),
        ] {
            let err = LaunchSpec::from_value(spec.clone()).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("`{field}` in the run spec")),
                "{spec}: {err}"
            );
        }
        let err = LaunchSpec::from_json("[1]").unwrap_err();
        assert_eq!(err, SpecError::NotAnObject("a list"));
    }

    #[test]
    fn job_refs() {
        let r = JobRef::parse("alice/proj/job-x:v3").unwrap();
        assert_eq!(r.name_with_alias(), "job-x:v3");
        assert_eq!(JobRef::parse("alice/proj/job-x").unwrap().alias, "latest");
        assert!(JobRef::parse("alice/job-x:v1").is_err());
    }
}
