//! Queue items: push, pop, ack, fail, warn, and the public item reads.

use std::borrow::Cow;

use liftoff_model::json::JsonString;
use liftoff_model::spec::LaunchSpec;
use liftoff_model::status::ItemState;
use liftoff_model::{LAUNCH_PROJECT, Priority};
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::graphql::{Operation, at, decode_err, string_at, success, vars};
use crate::ops::{document, operation};

/// The variables of a push, shared by `pushToRunQueueByName` and its fallback.
#[derive(Clone, Debug)]
pub struct PushToRunQueueByName {
    /// The entity that owns the queue (spec `queue_entity`, else `entity`).
    pub entity: String,
    pub project: String,
    pub queue: String,
    pub spec: LaunchSpec,
    pub priority: Option<Priority>,
    pub template_values: Option<Map<String, Value>>,
}

impl PushToRunQueueByName {
    pub fn new(entity: impl Into<String>, queue: impl Into<String>, spec: LaunchSpec) -> Self {
        Self {
            entity: entity.into(),
            project: LAUNCH_PROJECT.into(),
            queue: queue.into(),
            spec,
            priority: None,
            template_values: None,
        }
    }

    fn push_vars(&self) -> Value {
        let mut v = Map::new();
        v.insert("entityName".into(), json!(self.entity));
        v.insert("projectName".into(), json!(self.project));
        v.insert("queueName".into(), json!(self.queue));
        v.insert(
            "runSpec".into(),
            json!(liftoff_model::json::to_json_string(&self.spec)),
        );
        if let Some(p) = self.priority {
            v.insert("priority".into(), json!(p.level()));
        }
        if let Some(t) = &self.template_values {
            v.insert(
                "templateVariableValues".into(),
                json!(Value::Object(t.clone()).to_string()),
            );
        }
        Value::Object(v)
    }

    /// The fallback for servers whose payload has no `runSpec`: the same
    /// variables (undeclared ones included, as the SDK does).
    pub fn without_run_spec(self) -> PushToRunQueueByNameNoSpec {
        PushToRunQueueByNameNoSpec(self)
    }
}

/// The answer to a push.
#[derive(Clone, Debug, PartialEq)]
pub struct Pushed {
    pub item_id: String,
    /// The server-merged spec (queue defaults, rendered template variables).
    pub run_spec: Option<LaunchSpec>,
}

impl Operation for PushToRunQueueByName {
    type Output = Pushed;
    const NAME: &'static str = "pushToRunQueueByName";

    /// The SDK builds this document: `$priority` and
    /// `$templateVariableValues` are declared only when given.
    fn document(&self) -> Cow<'static, str> {
        let mut params = String::new();
        let mut inputs = String::new();
        if self.priority.is_some() {
            params.push_str(", $priority: Int");
            inputs.push_str(", priority: $priority");
        }
        if self.template_values.is_some() {
            params.push_str(", $templateVariableValues: JSONString");
            inputs.push_str(", templateVariableValues: $templateVariableValues");
        }
        Cow::Owned(format!(
            "\n        mutation pushToRunQueueByName(\n          \n            $entityName: String!,\n            $projectName: String!,\n            $queueName: String!,\n            $runSpec: JSONString!\n        {params}\n        ) {{\n            pushToRunQueueByName(\n                input: {{\n                    \n            entityName: $entityName,\n            projectName: $projectName,\n            queueName: $queueName,\n            runSpec: $runSpec\n        {inputs}\n                }}\n            ) {{\n                runQueueItemId\n                runSpec\n            }}\n        }}\n        "
        ))
    }

    fn variables(&self) -> Option<Value> {
        Some(self.push_vars())
    }

    fn decode(&self, data: Value) -> Result<Pushed, Error> {
        decode_pushed(&data, &self.queue)
    }
}

fn decode_pushed(data: &Value, queue: &str) -> Result<Pushed, Error> {
    let p = at(data, &["pushToRunQueueByName"]).ok_or_else(|| Error::Rejected {
        operation: "pushToRunQueueByName".into(),
        message: format!("queue {queue:?} did not accept the item"),
    })?;
    let item_id = string_at("pushToRunQueueByName", p, &["runQueueItemId"])?;
    let run_spec = match p.get("runSpec") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<JsonString<LaunchSpec>>(v.clone())
                .map_err(|e| decode_err("pushToRunQueueByName", e.to_string()))?
                .0,
        ),
    };
    Ok(Pushed { item_id, run_spec })
}

/// `pushToRunQueueByName--no-runspec`: the SDK's retry for old servers.
#[derive(Clone, Debug)]
pub struct PushToRunQueueByNameNoSpec(pub PushToRunQueueByName);

impl Operation for PushToRunQueueByNameNoSpec {
    type Output = Pushed;
    const NAME: &'static str = "pushToRunQueueByName";
    fn document(&self) -> Cow<'static, str> {
        Cow::Borrowed(document!("pushToRunQueueByName--no-runspec"))
    }
    fn variables(&self) -> Option<Value> {
        Some(self.0.push_vars())
    }
    fn decode(&self, data: Value) -> Result<Pushed, Error> {
        decode_pushed(&data, &self.0.queue)
    }
}

/// `mutation pushToRunQueue` (legacy, by queue id).
#[derive(Clone, Debug)]
pub struct PushToRunQueue {
    pub queue_id: String,
    pub spec: LaunchSpec,
    pub template_values: Option<Map<String, Value>>,
}
operation!(PushToRunQueue, "pushToRunQueue", "pushToRunQueue", typed = false, output = String,
vars(self) {
    let mut v = Map::new();
    v.insert("queueID".into(), json!(self.queue_id));
    v.insert("runSpec".into(), json!(liftoff_model::json::to_json_string(&self.spec)));
    if let Some(t) = &self.template_values {
        v.insert("templateVariableValues".into(), json!(Value::Object(t.clone()).to_string()));
    }
    Some(Value::Object(v))
},
decode(self, data) {
    at(&data, &["pushToRunQueue", "runQueueItemId"]).and_then(Value::as_str).map(str::to_owned)
        .ok_or_else(|| Error::Rejected { operation: "pushToRunQueue".into(), message: "the queue did not accept the item".into() })
});

/// An item's progress, as `QueuedRun` reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemProgress {
    pub id: String,
    pub state: ItemState,
    pub associated_run_id: Option<String>,
}

/// `query GetRunQueueItem`.
#[derive(Clone, Debug)]
pub struct GetRunQueueItem {
    pub entity: String,
    pub project: String,
    pub queue: String,
    pub item_id: String,
}
operation!(GetRunQueueItem, "GetRunQueueItem", "GetRunQueueItem", typed = false, output = ItemProgress,
vars(self) {
    vars([("projectName", json!(self.project)), ("entityName", json!(self.entity)), ("runQueue", json!(self.queue)), ("itemId", json!(self.item_id))])
},
decode(self, data) {
    let item = at(&data, &["project", "runQueue", "runQueueItem"])
        .ok_or_else(|| Error::NotFound { what: format!("item {} in queue {:?}", self.item_id, self.queue) })?;
    let state: ItemState = crate::graphql::from_value("GetRunQueueItem", item.get("state").unwrap_or(&Value::Null))?;
    Ok(ItemProgress {
        id: string_at("GetRunQueueItem", item, &["id"])?,
        state,
        associated_run_id: at(item, &["associatedRunId"]).and_then(Value::as_str).map(str::to_owned),
    })
});

/// A popped item: its id and the merged spec (a native JSON object).
#[derive(Clone, Debug, PartialEq)]
pub struct Popped {
    pub item_id: String,
    pub run_spec: Value,
}

/// `mutation popFromRunQueue`: `None` when the queue is empty.
/// With `wait_seconds` (Liftoff's long poll, only when the server
/// advertises it) the server holds the call until an item arrives.
#[derive(Clone, Debug)]
pub struct PopFromRunQueue {
    pub entity: String,
    pub project: String,
    pub queue: String,
    pub agent_id: Option<String>,
}
operation!(PopFromRunQueue, "popFromRunQueue", "popFromRunQueue", typed = false, output = Option<Popped>,
    vars(self) {
        vars([("entity", json!(self.entity)), ("project", json!(self.project)), ("queueName", json!(self.queue)), ("launchAgentId", json!(self.agent_id))])
    },
    decode(self, data) { decode_popped("popFromRunQueue", &data) });

pub(crate) fn decode_popped(op: &str, data: &Value) -> Result<Option<Popped>, Error> {
    let Some(p) = at(data, &["popFromRunQueue"]) else {
        return Ok(None);
    };
    let run_spec = match p.get("runSpec") {
        Some(Value::String(text)) => {
            serde_json::from_str(text).map_err(|e| decode_err(op, e.to_string()))?
        }
        Some(v) => v.clone(),
        None => Value::Null,
    };
    Ok(Some(Popped {
        item_id: string_at(op, p, &["runQueueItemId"])?,
        run_spec,
    }))
}

/// `mutation ackRunQueueItem`: claim a leased item, naming its run.
#[derive(Clone, Debug)]
pub struct AckRunQueueItem {
    pub item_id: String,
    pub run_id: String,
}
operation!(AckRunQueueItem, "ackRunQueueItem", "ackRunQueueItem", typed = false, output = (),
vars(self) { vars([("itemId", json!(self.item_id)), ("runId", json!(self.run_id))]) },
decode(self, data) {
    success("ackRunQueueItem", data.get("ackRunQueueItem"),
        "Error acking run queue item. Item may have already been acknowledged by another process")
});

/// `mutation failRunQueueItem`: `file_paths` is left out when empty, as the SDK does.
#[derive(Clone, Debug)]
pub struct FailRunQueueItem {
    pub item_id: String,
    pub message: String,
    pub stage: String,
    pub file_paths: Vec<String>,
}
operation!(FailRunQueueItem, "failRunQueueItem", "failRunQueueItem", typed = false, output = (),
    vars(self) {
        let mut v = Map::new();
        v.insert("runQueueItemId".into(), json!(self.item_id));
        v.insert("message".into(), json!(self.message));
        v.insert("stage".into(), json!(self.stage));
        if !self.file_paths.is_empty() {
            v.insert("filePaths".into(), json!(self.file_paths));
        }
        Some(Value::Object(v))
    },
    decode(self, data) { success("failRunQueueItem", data.get("failRunQueueItem"), "the failure was not recorded") });

/// `mutation updateRunQueueItemWarning`.
#[derive(Clone, Debug)]
pub struct UpdateRunQueueItemWarning {
    pub item_id: String,
    pub message: String,
    pub stage: String,
    pub file_paths: Vec<String>,
}
operation!(UpdateRunQueueItemWarning, "updateRunQueueItemWarning", "updateRunQueueItemWarning", typed = false, output = (),
    vars(self) {
        vars([("runQueueItemId", json!(self.item_id)), ("message", json!(self.message)), ("stage", json!(self.stage)), ("filePaths", json!(self.file_paths))])
    },
    decode(self, data) { success("updateRunQueueItemWarning", data.get("updateRunQueueItemWarning"), "the warning was not recorded") });
