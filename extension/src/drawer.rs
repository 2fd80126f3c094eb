//! The in-page Launch drawer as data. The worker builds a [`DrawerModel`]
//! (every label, option, default and prefilled text) and the content script
//! only renders it; what the user typed comes back as a [`FormInput`] and is
//! checked by the web app's own rules ([`LaunchForm::build`]), so both
//! drawers accept and refuse the same things. For "Relaunch with edits" the
//! model starts from a run's config and [`config_diff`] says what changed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use liftoff_client::ops::web::Job;
use liftoff_model::form::{self, Field, FieldKind, text_of};
use liftoff_model::launch::{
    ConfigInput, LaunchForm, LaunchRequest, QueueChoice, form_to_json, json_to_form, paths,
    pretty_config,
};
use liftoff_model::schema::{JsonSchema, Problem};
use liftoff_model::{JobSpec, Priority};

/// A `<select>` option.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

fn choice(value: impl Into<String>, label: impl Into<String>) -> Choice {
    Choice {
        value: value.into(),
        label: label.into(),
    }
}

/// How an input is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// `<input type=text>`.
    Text,
    /// `<select>` of [`FieldView::choices`].
    Select,
    /// `<textarea>` of JSON.
    Json,
}

/// One generated input (a config override or a template variable).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldView {
    /// `lr`, `optimizer.name`.
    pub path: String,
    pub label: String,
    pub description: Option<String>,
    pub control: Control,
    /// Numbers get a decimal keyboard.
    pub numeric: bool,
    /// For selects, the blank "default" first.
    pub choices: Vec<Choice>,
    /// `number, 0.0001 to 1`.
    pub hint: String,
    pub placeholder: String,
    pub required: bool,
}

impl FieldView {
    /// As the web app's `FieldInputs` draws a field.
    pub fn of(field: &Field) -> Self {
        let default = field.default_text();
        let (control, choices) = match &field.kind {
            FieldKind::Choice(values) => {
                let blank = if default.is_empty() {
                    "—".to_owned()
                } else {
                    format!("default ({default})")
                };
                let mut list = vec![choice("", blank)];
                list.extend(values.iter().map(|v| choice(text_of(v), text_of(v))));
                (Control::Select, list)
            }
            FieldKind::Boolean => (
                Control::Select,
                vec![
                    choice("", "default"),
                    choice("true", "true"),
                    choice("false", "false"),
                ],
            ),
            FieldKind::Json => (Control::Json, vec![]),
            _ => (Control::Text, vec![]),
        };
        Self {
            path: field.path.clone(),
            label: field.label.clone(),
            description: field.description.clone(),
            control,
            numeric: matches!(field.kind, FieldKind::Integer | FieldKind::Number),
            choices,
            hint: field.hint(),
            placeholder: if default.is_empty() {
                field.hint()
            } else {
                format!("default: {default}")
            },
            required: field.required,
        }
    }
}

/// The queues offered, and which an agent polls now when the server says
/// (Liftoff's queue read lists agents; W&B's does not).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Offered {
    pub queues: Vec<QueueChoice>,
    /// Keys (`entity/name`) of the queues an agent polls; `None`: not known.
    pub active: Option<Vec<String>>,
}

impl Offered {
    /// Whether an agent polls `queue` (`None`: not known).
    pub fn active(&self, queue: &QueueChoice) -> Option<bool> {
        let key = queue.key();
        self.active.as_ref().map(|a| a.contains(&key))
    }
}

/// A queue in the drawer's select.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueueView {
    /// `entity/name`.
    pub key: String,
    /// `entity/name`, and `(cannot run this job)` when it cannot, else
    /// `(active)` or `(no agent)` when that is known.
    pub label: String,
    pub prioritized: bool,
    /// Why the priority select is off.
    pub priority_note: Option<String>,
    pub variables: Vec<FieldView>,
}

impl QueueView {
    /// How the select names `queue`: `entity/name`, and `(cannot run this
    /// job)` when it cannot run `job`, else whether an agent polls it (as
    /// the web app's drawer says it).
    pub fn label(
        queue: &QueueChoice,
        job: Option<(&str, &JobSpec)>,
        active: Option<bool>,
    ) -> String {
        let key = queue.key();
        match (
            job.and_then(|(path, spec)| queue.refusal(path, spec)),
            active,
        ) {
            (Some(_), _) => format!("{key} (cannot run this job)"),
            (None, Some(true)) => format!("{key} (active)"),
            (None, Some(false)) => format!("{key} (no agent)"),
            (None, None) => key,
        }
    }

    /// `job` is the job's `entity/project/name` and its `wandb-job.json`
    /// when it was read; `active`, whether an agent polls the queue.
    pub fn of(queue: &QueueChoice, job: Option<(&str, &JobSpec)>, active: Option<bool>) -> Self {
        let prioritized = queue.prioritization.enabled();
        Self {
            key: queue.key(),
            label: Self::label(queue, job, active),
            prioritized,
            priority_note: (!prioritized).then(|| {
                format!(
                    "Queue {} does not use priorities: its owner can turn prioritization on in the queue's settings (in Liftoff's web app, its Config tab).",
                    queue.name
                )
            }),
            variables: queue
                .template_variables
                .iter()
                .map(|v| FieldView::of(&Field::for_variable(v)))
                .collect(),
        }
    }
}

/// The run a relaunch starts from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Base {
    /// The run's id (`name`), and its display name when it has one.
    pub run: String,
    pub title: String,
    /// Its plain config (no `{"value"}` wrappers, no `_wandb`).
    pub config: Map<String, Value>,
}

/// Everything the content script draws.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DrawerModel {
    pub title: String,
    /// `admin on http://127.0.0.1:8080`.
    pub who: String,
    /// `entity/project/name`; `None` until one is chosen from [`Self::jobs`].
    pub job: Option<String>,
    /// The project's jobs (`entity/project/name`), for choosing one.
    pub jobs: Vec<Choice>,
    pub versions: Vec<Choice>,
    pub version: String,
    pub inputs: Inputs,
    pub queues: Vec<QueueView>,
    pub queue: String,
    /// Said when there is no queue to launch to.
    pub no_queues: Option<String>,
    pub priorities: Vec<Choice>,
    pub entity: String,
    pub project: String,
    pub base: Option<Base>,
    /// Something to know before launching (e.g. the run's job is unknown).
    pub notice: Option<String>,
}

/// The config overrides of one job version, prefilled.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Inputs {
    pub fields: Vec<FieldView>,
    /// What the overrides section says about itself.
    pub note: String,
    /// Start in the JSON editor (no fields, or a run config the fields
    /// cannot hold).
    pub use_json: bool,
    pub texts: Vec<(String, String)>,
    pub json_text: String,
}

/// The overrides section for a version's `schema`, prefilled from `base`.
/// Texts typed before (`kept`, e.g. before switching versions) win.
pub fn inputs(
    schema: Option<&JsonSchema>,
    base: Option<&Map<String, Value>>,
    kept: &[(String, String)],
) -> Inputs {
    let fields = schema.map(form::fields).unwrap_or_default();
    let empty = Map::new();
    let config = base.unwrap_or(&empty);
    let mut texts = form::texts_for(&fields, config);
    for (path, text) in &mut texts {
        if let Some((_, typed)) = kept.iter().find(|(p, _)| p == path) {
            text.clone_from(typed);
        }
    }
    // A run config with keys outside the schema would lose them in the form.
    let uncovered = config.keys().any(|k| {
        !fields
            .iter()
            .any(|f| f.path == *k || f.path.starts_with(&format!("{k}.")))
    });
    let note = match (schema, fields.is_empty()) {
        (_, false) if uncovered => {
            "This run's config has keys the job's input schema does not declare: edit it as JSON."
        }
        (_, false) => "From the job's input schema; blank fields keep their defaults.",
        (_, true) => "This job declares no inputs: override its config as JSON.",
    };
    // Values typed for another version's inputs that this one lacks: said,
    // not dropped silently.
    let dropped: Vec<String> = kept
        .iter()
        .filter(|(p, t)| !t.trim().is_empty() && !fields.iter().any(|f| f.path == *p))
        .map(|(p, t)| format!("{p} = {}", t.trim()))
        .collect();
    let note = if dropped.is_empty() {
        note.to_owned()
    } else {
        format!(
            "{note} Left out, as this version has no such input: {}.",
            dropped.join(", ")
        )
    };
    Inputs {
        use_json: fields.is_empty() || uncovered,
        fields: fields.iter().map(FieldView::of).collect(),
        note,
        texts,
        json_text: pretty_config(config),
    }
}

/// The version select: `latest`, then each version with its other aliases.
pub fn version_choices(job: &Job) -> Vec<Choice> {
    liftoff_client::ops::web::version_options(job)
        .into_iter()
        .map(|(value, label)| Choice { value, label })
        .collect()
}

/// The priority select: blank is the default (medium).
pub fn priority_choices() -> Vec<Choice> {
    liftoff_model::launch::priority_options()
        .into_iter()
        .map(|(value, label)| Choice { value, label })
        .collect()
}

/// The options' default queue (`queue`, in `entity` when one is set), if
/// it is among `queues`.
pub fn wanted_queue<'a>(
    queues: &'a [QueueChoice],
    entity: Option<&str>,
    queue: Option<&str>,
) -> Option<&'a QueueChoice> {
    queues
        .iter()
        .find(|q| Some(q.name.as_str()) == queue && entity.is_none_or(|e| q.entity == e))
}

/// The queue chosen first: the default one when it exists and can run the
/// job, else the first that can and that an agent polls, else the first
/// that can, else the first.
pub fn default_queue(
    offered: &Offered,
    entity: Option<&str>,
    queue: Option<&str>,
    job: Option<(&str, &JobSpec)>,
) -> String {
    let queues = offered.queues.as_slice();
    let runs = |q: &&QueueChoice| job.is_none_or(|(path, spec)| q.refusal(path, spec).is_none());
    wanted_queue(queues, entity, queue)
        .filter(runs)
        .or_else(|| {
            queues
                .iter()
                .filter(runs)
                .find(|q| offered.active(q) == Some(true))
        })
        .or_else(|| queues.iter().find(runs))
        .or(queues.first())
        .map(QueueChoice::key)
        .unwrap_or_default()
}

/// What the user typed, as the content script sends it back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct FormInput {
    /// `entity/project/name`.
    pub job: String,
    pub version: String,
    pub use_json: bool,
    #[serde(default)]
    pub texts: Vec<(String, String)>,
    #[serde(default)]
    pub json_text: String,
    /// A queue key (`entity/name`).
    pub queue: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub template_values: Vec<(String, String)>,
    pub entity: String,
    pub project: String,
}

/// Switch the overrides between the form and the JSON editor (`to_json`)
/// with the web app's rules: `{"json_text"}` or `{"texts"}` carry what was
/// typed across; `{"problems"}` says why a switch back to the form would
/// lose something (and the editor stays).
pub fn switch(schema: Option<&JsonSchema>, input: &FormInput, to_json: bool) -> Value {
    let fields = schema.map(form::fields).unwrap_or_default();
    if to_json {
        return json!({ "json_text": form_to_json(&fields, &input.texts, &input.json_text) });
    }
    match json_to_form(&fields, &input.json_text) {
        Ok(texts) => json!({ "texts": texts }),
        Err(message) => {
            json!({ "problems": [Problem { path: paths::CONFIG.to_owned(), message }] })
        }
    }
}

/// One line of a relaunch's diff: `before` is the run's value, `after`
/// what the launch sends (`None`: absent, so the job's default applies).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The verdict on a form: its problems (by field path), or the push.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub problems: Vec<Problem>,
    /// Against the base run; empty without one or while the config is invalid.
    pub diff: Vec<Change>,
    pub request: Option<LaunchRequest>,
}

/// Check a form with the web app's rules. `schema` is the chosen version's
/// (and `job_spec` its `wandb-job.json`, when read), `queues` those offered,
/// `author` the viewer.
pub fn check(
    input: &FormInput,
    schema: Option<&JsonSchema>,
    job_spec: Option<&JobSpec>,
    queues: &[QueueChoice],
    author: &str,
    base: Option<&Map<String, Value>>,
) -> Checked {
    let mut extra = Vec::new();
    let priority = match input.priority.trim() {
        "" => None,
        text => match text.parse::<Priority>() {
            Ok(p) => Some(p),
            Err(e) => {
                extra.push(Problem {
                    path: paths::PRIORITY.to_owned(),
                    message: e.to_string(),
                });
                None
            }
        },
    };
    let form = LaunchForm {
        job: input.job.clone(),
        version: input.version.clone(),
        config: if input.use_json {
            ConfigInput::Json(input.json_text.clone())
        } else {
            ConfigInput::Fields(input.texts.clone())
        },
        priority,
        template_values: input.template_values.clone(),
        entity: input.entity.clone(),
        project: input.project.clone(),
        author: (!author.is_empty()).then(|| author.to_owned()),
    };
    let queue = queues.iter().find(|q| q.key() == input.queue);
    match form.build(schema, queue, job_spec) {
        Ok(request) if extra.is_empty() => Checked {
            diff: base.map_or_else(Vec::new, |b| {
                let after = request
                    .spec
                    .overrides
                    .as_ref()
                    .and_then(|o| o.run_config.clone())
                    .unwrap_or_default();
                config_diff(b, &after)
            }),
            problems: vec![],
            request: Some(request),
        },
        Ok(_) => Checked {
            problems: extra,
            diff: vec![],
            request: None,
        },
        Err(mut problems) => {
            problems.extend(extra);
            Checked {
                problems,
                diff: vec![],
                request: None,
            }
        }
    }
}

/// Leaves of a config by dotted path (objects are walked, lists are values).
fn leaves(prefix: &str, config: &Map<String, Value>, out: &mut Vec<(String, Value)>) {
    for (k, v) in config {
        if k.starts_with('_') && prefix.is_empty() {
            continue; // W&B's own entries (`_wandb`)
        }
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) if !inner.is_empty() => leaves(&path, inner, out),
            other => out.push((path, other.clone())),
        }
    }
}

/// What a relaunch changes, leaf by leaf, in the run's order then new keys.
pub fn config_diff(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<Change> {
    let (mut old, mut new) = (Vec::new(), Vec::new());
    leaves("", before, &mut old);
    leaves("", after, &mut new);
    let find = |list: &[(String, Value)], path: &str| {
        list.iter().find(|(p, _)| p == path).map(|(_, v)| v.clone())
    };
    let mut changes = Vec::new();
    for (path, was) in &old {
        match find(&new, path) {
            Some(now) if now == *was => {}
            now => changes.push(Change {
                path: path.clone(),
                before: Some(text_of(was)),
                after: now.as_ref().map(text_of),
            }),
        }
    }
    for (path, now) in &new {
        if find(&old, path).is_none() {
            changes.push(Change {
                path: path.clone(),
                before: None,
                after: Some(text_of(now)),
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests;
