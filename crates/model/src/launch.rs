//! The Launch drawer as data: what a user chose for a job (version, config
//! overrides, queue, priority, template variables, destination project)
//! checked and turned into the push a queue receives. Nothing is sent when
//! [`LaunchForm::build`] answers problems; each names the field it is about.

use serde_json::{Map, Value};

use crate::form::{self, Field};
use crate::job::JobSpec;
use crate::priority::Priority;
use crate::push::check_job;
use crate::queue::{PrioritizationMode, Queue, ResourceType, TemplateVariable};
use crate::schema::{JsonSchema, Problem};
use crate::spec::{JobRef, LaunchSpec, Overrides};
use crate::template;

/// How the config overrides were entered.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigInput {
    /// One text per field of [`form::fields`] of the job's schema, by path.
    Fields(Vec<(String, String)>),
    /// A JSON object typed in the editor ("" for none).
    Json(String),
}

/// The queue a launch goes to, as far as the form needs it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueChoice {
    pub entity: String,
    pub name: String,
    pub prioritization: PrioritizationMode,
    pub template_variables: Vec<TemplateVariable>,
    /// What runs its jobs, when its config says (W&B's may not be readable).
    pub resource: Option<ResourceType>,
}

impl QueueChoice {
    pub fn of(queue: &Queue) -> Self {
        Self {
            entity: queue.entity_name.clone(),
            name: queue.name.clone(),
            prioritization: queue.prioritization_mode,
            template_variables: queue.template_variables().to_vec(),
            resource: queue.resource(),
        }
    }

    /// Why this queue cannot run a job (`entity/project/name`, its
    /// `wandb-job.json`): the server's own refusal, known before the push.
    pub fn refusal(&self, job: &str, job_spec: &JobSpec) -> Option<String> {
        check_job(self.resource?, job, job_spec)
            .err()
            .map(|p| p.message)
    }

    /// `entity/name`, how the drawer's select names it.
    pub fn key(&self) -> String {
        format!("{}/{}", self.entity, self.name)
    }
}

/// Everything the drawer collects.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchForm {
    /// `entity/project/name` of the job.
    pub job: String,
    /// `latest`, `v2` or another alias.
    pub version: String,
    pub config: ConfigInput,
    pub priority: Option<Priority>,
    /// Text typed for each template variable, by name; blank takes the default.
    pub template_values: Vec<(String, String)>,
    /// Where the run is created.
    pub entity: String,
    pub project: String,
    /// Who launched it (the viewer's username).
    pub author: Option<String>,
}

/// A checked launch: push `spec` to `queue` with these arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct LaunchRequest {
    pub queue_entity: String,
    pub queue: String,
    pub spec: LaunchSpec,
    pub priority: Option<Priority>,
    pub template_values: Option<Map<String, Value>>,
}

/// Field paths of the problems [`LaunchForm::build`] reports.
pub mod paths {
    pub const JOB: &str = "job";
    pub const VERSION: &str = "version";
    pub const CONFIG: &str = "config";
    pub const QUEUE: &str = "queue";
    pub const PRIORITY: &str = "priority";
    pub const PROJECT: &str = "project";
    /// The destination entity.
    pub const ENTITY: &str = "entity";
    /// `template.<name>` for each variable.
    pub const TEMPLATE: &str = "template";
}

fn problem(path: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        path: path.into(),
        message: message.into(),
    }
}

fn prefixed(prefix: &str, problems: Vec<Problem>) -> impl Iterator<Item = Problem> + '_ {
    problems.into_iter().map(move |p| Problem {
        path: if p.path.is_empty() {
            prefix.to_owned()
        } else {
            format!("{prefix}.{}", p.path)
        },
        message: p.message,
    })
}

/// An entity or project name: not empty, no `/` or spaces at the ends.
fn check_name(what: &str, name: &str) -> Option<String> {
    if name.trim().is_empty() {
        Some(format!("enter the {what} the run goes to"))
    } else if let Some(problem) = (what == "project")
        .then(|| crate::spec::project_name_problem(name))
        .flatten()
    {
        Some(problem)
    } else if name.contains('/') || name.trim() != name {
        Some(format!(
            "{what} {name:?} may not contain '/' or start or end with spaces"
        ))
    } else {
        (what == "entity")
            .then(|| crate::spec::entity_name_problem(name))
            .flatten()
    }
}

impl LaunchForm {
    /// Check every input and build the push. `schema` is the job version's
    /// config schema (`JobMetadata::config_schema`), `queue` the chosen
    /// queue, `job_spec` the version's `wandb-job.json` when it was read.
    pub fn build(
        &self,
        schema: Option<&JsonSchema>,
        queue: Option<&QueueChoice>,
        job_spec: Option<&JobSpec>,
    ) -> Result<LaunchRequest, Vec<Problem>> {
        let mut problems = Vec::new();

        let version = self.version.trim();
        let job = if version.is_empty() || version.contains(['/', ':']) {
            problems.push(problem(
                paths::VERSION,
                "choose a version (latest, v0, v1, ...)",
            ));
            None
        } else {
            match JobRef::parse(&format!("{}:{version}", self.job.trim())) {
                Ok(job) => Some(job),
                Err(e) => {
                    problems.push(problem(paths::JOB, e.to_string()));
                    None
                }
            }
        };

        let run_config = match (&self.config, schema) {
            (ConfigInput::Fields(texts), Some(schema)) => {
                match form::assemble(&form::fields(schema), texts, schema) {
                    Ok(config) => Some(config),
                    Err(found) => {
                        problems.extend(prefixed(paths::CONFIG, found));
                        None
                    }
                }
            }
            (ConfigInput::Fields(_), None) => Some(Map::new()),
            (ConfigInput::Json(text), schema) => match check_config_json(text, schema) {
                Ok(config) => Some(config),
                Err(found) => {
                    problems.extend(found);
                    None
                }
            },
        };

        for (path, what, name) in [
            (paths::ENTITY, "entity", &self.entity),
            (paths::PROJECT, "project", &self.project),
        ] {
            if let Some(message) = check_name(what, name) {
                problems.push(problem(path, message));
            }
        }

        let mut template_values = None;
        match queue {
            None => problems.push(problem(paths::QUEUE, "choose a queue")),
            Some(q) => {
                if let Some(message) = job_spec.and_then(|spec| q.refusal(self.job.trim(), spec)) {
                    problems.push(problem(paths::QUEUE, message));
                }
                if self.priority.is_some() && !q.prioritization.enabled() {
                    problems.push(problem(
                        paths::PRIORITY,
                        format!("queue {:?} does not use priorities", q.name),
                    ));
                }
                let given: Map<String, Value> = self
                    .template_values
                    .iter()
                    .filter(|(_, text)| !text.trim().is_empty())
                    .map(|(name, text)| {
                        (
                            name.clone(),
                            typed_variable(&q.template_variables, name, text),
                        )
                    })
                    .collect();
                match template::resolve_values(&q.template_variables, &given) {
                    Ok(values) if q.template_variables.is_empty() => drop(values),
                    Ok(values) => template_values = Some(values),
                    Err(found) => problems.extend(prefixed(paths::TEMPLATE, found)),
                }
            }
        }

        let (Some(job), Some(run_config), Some(q), true) =
            (job, run_config, queue, problems.is_empty())
        else {
            return Err(problems);
        };
        let overrides = (!run_config.is_empty()).then(|| Overrides {
            run_config: Some(run_config),
            ..Overrides::default()
        });
        Ok(LaunchRequest {
            queue_entity: q.entity.clone(),
            queue: q.name.clone(),
            spec: LaunchSpec {
                job: Some(job.to_string()),
                entity: Some(self.entity.clone()),
                project: Some(self.project.clone()),
                author: self.author.clone(),
                overrides,
                ..LaunchSpec::default()
            },
            priority: self.priority,
            template_values,
        })
    }
}

/// The priority select's (value, label) pairs, highest first: medium is
/// the blank value, the default a push without a priority gets.
pub fn priority_options() -> Vec<(String, String)> {
    Priority::ALL
        .iter()
        .map(|p| match p {
            Priority::Medium => (String::new(), "medium (default)".to_owned()),
            p => (p.as_str().to_owned(), p.as_str().to_owned()),
        })
        .collect()
}

/// A variable's text as its field parses it (numbers as numbers); text
/// that does not parse stays a string, and the schema check names it.
fn typed_variable(vars: &[TemplateVariable], name: &str, text: &str) -> Value {
    vars.iter()
        .find(|v| v.name == name)
        .and_then(|v| Field::for_variable(v).parse(text).ok().flatten())
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

/// A config as the JSON editor shows it ("" for none).
pub fn pretty_config(config: &Map<String, Value>) -> String {
    if config.is_empty() {
        String::new()
    } else {
        serde_json::to_string_pretty(config).unwrap_or_default()
    }
}

/// Switching from the form to the JSON editor: the editor's text (when it
/// parses) with the form's values set on it, so nothing typed is lost.
pub fn form_to_json(fields: &[Field], texts: &[(String, String)], json_text: &str) -> String {
    let mut config = parse_config_json(json_text).unwrap_or_default();
    form::merge_texts(fields, texts, &mut config);
    pretty_config(&config)
}

/// Switching from the JSON editor back to the form: the form's texts, or
/// why the switch would lose something (JSON that does not parse, keys the
/// form has no field for).
pub fn json_to_form(fields: &[Field], json_text: &str) -> Result<Vec<(String, String)>, String> {
    let config = parse_config_json(json_text)
        .map_err(|m| format!("{m}: fix it (or empty it) to go back to the form"))?;
    let extra = form::keys_without_field(fields, &config);
    if !extra.is_empty() {
        return Err(format!(
            "the form has no field for {}: remove it to go back to the form, or launch from JSON",
            extra.join(", ")
        ));
    }
    Ok(form::texts_for(fields, &config))
}

/// The JSON editor's text checked as a launch checks it (so the editor
/// can say it as you type): an object, which the job's input schema takes.
pub fn check_config_json(
    text: &str,
    schema: Option<&JsonSchema>,
) -> Result<Map<String, Value>, Vec<Problem>> {
    let config = parse_config_json(text).map_err(|m| vec![problem(paths::CONFIG, m)])?;
    let found = schema.map_or_else(Vec::new, |s| s.validate(&Value::Object(config.clone())));
    if found.is_empty() {
        Ok(config)
    } else {
        Err(prefixed(paths::CONFIG, found).collect())
    }
}

/// The JSON editor's text as a config object ("" is none).
pub fn parse_config_json(text: &str) -> Result<Map<String, Value>, String> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!(
            "must be a JSON object like {{\"lr\": 0.01}}, got {}",
            crate::spec::json_kind(&other)
        )),
        Err(e) => Err(format!("is not valid JSON: {e}")),
    }
}

/// The problem about a field, if any (for showing next to it).
pub fn problem_at<'a>(problems: &'a [Problem], path: &str) -> Option<&'a str> {
    problems
        .iter()
        .find(|p| p.path == path)
        .map(|p| p.message.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::template_variables_from_input;
    use serde_json::json;

    fn form() -> LaunchForm {
        LaunchForm {
            job: "alice/mnist/job-train".into(),
            version: "latest".into(),
            config: ConfigInput::Fields(vec![("lr".into(), "0.1".into())]),
            priority: None,
            template_values: vec![],
            entity: "alice".into(),
            project: "mnist".into(),
            author: Some("alice".into()),
        }
    }

    fn schema() -> JsonSchema {
        serde_json::from_value(json!({"type": "object", "properties": {
            "lr": {"type": "number", "maximum": 1},
            "epochs": {"type": "integer", "default": 3}
        }}))
        .unwrap()
    }

    fn queue(prioritized: bool) -> QueueChoice {
        QueueChoice {
            entity: "team".into(),
            name: "gpu".into(),
            prioritization: if prioritized {
                PrioritizationMode::V0
            } else {
                PrioritizationMode::Disabled
            },
            template_variables: template_variables_from_input(&json!({
                "cpu": {"schema": {"type": "integer", "minimum": 1, "maximum": 8, "default": 2}}
            }))
            .unwrap(),
            resource: Some(ResourceType::Kubernetes),
        }
    }

    #[test]
    fn builds_the_push() {
        let mut f = form();
        f.priority = Some(Priority::High);
        f.template_values = vec![("cpu".into(), "4".into())];
        let req = f.build(Some(&schema()), Some(&queue(true)), None).unwrap();
        assert_eq!(
            (req.queue_entity.as_str(), req.queue.as_str()),
            ("team", "gpu")
        );
        assert_eq!(req.priority, Some(Priority::High));
        assert_eq!(
            req.template_values,
            Some(json!({"cpu": 4}).as_object().unwrap().clone())
        );
        assert_eq!(
            req.spec.to_value(),
            json!({"job": "alice/mnist/job-train:latest", "entity": "alice", "project": "mnist",
                   "author": "alice", "overrides": {"run_config": {"lr": 0.1}}})
        );
    }

    #[test]
    fn a_blank_form_takes_the_defaults() {
        let mut f = form();
        f.config = ConfigInput::Json(" ".into());
        let mut q = queue(false);
        q.template_variables.clear();
        let req = f.build(None, Some(&q), None).unwrap();
        assert_eq!(req.spec.overrides, None);
        assert_eq!(req.template_values, None);
        let f = LaunchForm {
            template_values: vec![],
            ..form()
        };
        let req = f.build(Some(&schema()), Some(&queue(false)), None).unwrap();
        assert_eq!(
            req.template_values,
            Some(json!({"cpu": 2}).as_object().unwrap().clone())
        );
    }

    #[test]
    fn switching_between_form_and_json_keeps_what_was_typed() {
        let fields = form::fields(&schema());
        // Form -> JSON: the editor's keys stay, the typed value is set.
        let json = form_to_json(&fields, &[("lr".into(), "0.3".into())], r#"{"extra": 1}"#);
        assert_eq!(
            parse_config_json(&json).unwrap(),
            serde_json::from_str::<Map<String, Value>>(r#"{"extra": 1, "lr": 0.3}"#).unwrap()
        );
        // JSON -> form: the values become texts; a key without a field, or
        // text that does not parse, refuses the switch.
        let texts = json_to_form(&fields, r#"{"lr": 0.5}"#).unwrap();
        assert!(
            texts.contains(&("lr".to_owned(), "0.5".to_owned())),
            "{texts:?}"
        );
        assert!(
            json_to_form(&fields, &json)
                .unwrap_err()
                .contains("no field for extra")
        );
        assert!(
            json_to_form(&fields, "{")
                .unwrap_err()
                .contains("is not valid JSON")
        );
        assert_eq!(pretty_config(&Map::new()), "");
        // Text that is not a value yet goes across as typed, and comes back:
        // nothing typed is lost, and the editor says what is wrong.
        let typed = [("lr".to_owned(), "abc".to_owned())];
        let json = form_to_json(&fields, &typed, "");
        assert_eq!(
            parse_config_json(&json).unwrap(),
            json!({"lr": "abc"}).as_object().unwrap().clone()
        );
        assert!(check_config_json(&json, Some(&schema())).is_err());
        assert!(json_to_form(&fields, &json).unwrap().contains(&typed[0]));
        // JSON -> form, lr emptied there -> JSON: lr stays out (the job's
        // default), it does not come back from the old JSON.
        let mut texts = json_to_form(&fields, r#"{"lr": 0.3, "epochs": 4}"#).unwrap();
        texts.iter_mut().find(|(p, _)| p == "lr").unwrap().1.clear();
        let json = form_to_json(&fields, &texts, r#"{"lr": 0.3, "epochs": 4}"#);
        assert_eq!(
            parse_config_json(&json).unwrap(),
            json!({"epochs": 4}).as_object().unwrap().clone()
        );
    }

    #[test]
    fn an_entity_with_a_space_is_no_entity() {
        assert!(
            check_name("entity", "no such")
                .unwrap()
                .contains("has a space")
        );
        assert_eq!(check_name("project", "my project"), None);
        assert_eq!(check_name("entity", "ml-team"), None);
    }

    #[test]
    fn the_json_editor_is_checked_against_the_schema_as_typed() {
        let found =
            check_config_json(r#"{"lr": 5, "epochs": "three"}"#, Some(&schema())).unwrap_err();
        let paths: Vec<&str> = found.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["config.lr", "config.epochs"], "{found:?}");
        assert_eq!(
            check_config_json("{", None).unwrap_err()[0].path,
            paths::CONFIG
        );
        assert!(check_config_json(r#"{"lr": 0.5}"#, Some(&schema())).is_ok());
    }

    #[test]
    fn the_priority_select_offers_each_level_once() {
        let values: Vec<String> = priority_options().into_iter().map(|(v, _)| v).collect();
        assert_eq!(values, ["critical", "high", "", "low"]);
        // Each value is what the form reads back: blank is no priority (medium).
        for (value, label) in priority_options() {
            let read = value.parse::<Priority>().ok().unwrap_or(Priority::Medium);
            assert!(label.starts_with(read.as_str()), "{label}");
        }
    }

    #[test]
    fn every_problem_names_its_field() {
        let f = LaunchForm {
            version: "".into(),
            config: ConfigInput::Fields(vec![("lr".into(), "5".into())]),
            priority: Some(Priority::Low),
            template_values: vec![("cpu".into(), "99".into())],
            project: "".into(),
            ..form()
        };
        let problems = f
            .build(Some(&schema()), Some(&queue(false)), None)
            .unwrap_err();
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec![
                "version: choose a version (latest, v0, v1, ...)",
                "config.lr: must be at most 1, got 5",
                "project: enter the project the run goes to",
                "priority: queue \"gpu\" does not use priorities",
                "template.cpu: must be at most 8, got 99",
            ]
        );
        assert_eq!(
            problem_at(&problems, "config.lr"),
            Some("must be at most 1, got 5")
        );
        let none = form().build(None, None, None).unwrap_err();
        assert_eq!(none[0].to_string(), "queue: choose a queue");
        let blank = LaunchForm {
            entity: " ".into(),
            ..form()
        };
        assert_eq!(
            blank.build(None, Some(&queue(false)), None).unwrap_err()[0].to_string(),
            "entity: enter the entity the run goes to"
        );
    }

    #[test]
    fn the_json_editor_wants_an_object() {
        let mut f = form();
        f.config = ConfigInput::Json("[1]".into());
        let p = f.build(None, Some(&queue(false)), None).unwrap_err();
        assert_eq!(
            p[0].to_string(),
            "config: must be a JSON object like {\"lr\": 0.01}, got a list"
        );
        f.config = ConfigInput::Json("{\"lr\": 2}".into());
        let p = f
            .build(Some(&schema()), Some(&queue(false)), None)
            .unwrap_err();
        assert_eq!(p[0].to_string(), "config.lr: must be at most 1, got 2");
        f.config = ConfigInput::Json("{\"lr\": 0.5, \"extra\": [1]}".into());
        let req = f.build(Some(&schema()), Some(&queue(false)), None).unwrap();
        assert_eq!(
            req.spec.overrides.unwrap().run_config.unwrap()["extra"],
            json!([1])
        );
    }

    #[test]
    fn an_image_job_is_refused_by_a_local_process_queue_before_the_push() {
        let image = JobSpec::from_json(
            r#"{"source_type": "image", "source": {"image": "busybox:1.36"}, "input_types": {}, "output_types": {}}"#,
        )
        .unwrap();
        let code = JobSpec::from_json(
            r#"{"source_type": "artifact", "source": {"artifact": "wandb-artifact://_id/abc", "entrypoint": ["python", "train.py"]}, "input_types": {}, "output_types": {}}"#,
        )
        .unwrap();
        let process = QueueChoice {
            resource: Some(ResourceType::LocalProcess),
            ..queue(false)
        };
        let problems = form()
            .build(None, Some(&process), Some(&image))
            .unwrap_err();
        assert_eq!(problems[0].path, paths::QUEUE);
        assert!(
            problems[0]
                .message
                .contains("cannot run container image busybox:1.36"),
            "{}",
            problems[0].message
        );
        // A code job runs there; an image job runs on a queue that runs images,
        // and on one whose resource is not known (a W&B queue without config).
        assert!(form().build(None, Some(&process), Some(&code)).is_ok());
        assert!(
            form()
                .build(None, Some(&queue(false)), Some(&image))
                .is_ok()
        );
        let unknown = QueueChoice {
            resource: None,
            ..queue(false)
        };
        assert_eq!(unknown.refusal("a/b/c", &image), None);
    }
}
