//! Queue administration and the public `RunQueue` reads (spec §2.2).

use liftoff_model::LAUNCH_PROJECT;
use liftoff_model::queue::{
    DefaultResourceConfig, ExternalLinks, PrioritizationMode, QueueAccess, ResourceType,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Error;
use crate::graphql::{at, decode_err, from_value, nodes, string_at, success, vars};
use crate::ops::operation;

fn not_found_queue(entity: &str, queue: &str) -> Error {
    Error::NotFound {
        what: format!("queue {queue:?} in entity {entity:?}"),
    }
}

/// A queue as `ProjectRunQueues` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueRef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub access: Option<QueueAccess>,
}

/// `query ProjectRunQueues`: the queues of `<entity>/model-registry`.
#[derive(Clone, Debug)]
pub struct ProjectRunQueues {
    pub entity: String,
    pub project: String,
}
impl ProjectRunQueues {
    pub fn new(entity: impl Into<String>) -> Self {
        Self {
            entity: entity.into(),
            project: LAUNCH_PROJECT.into(),
        }
    }
}
operation!(ProjectRunQueues, "ProjectRunQueues", "ProjectRunQueues", typed = false, output = Vec<QueueRef>,
vars(self) { vars([("entity", json!(self.entity)), ("projectName", json!(self.project))]) },
decode(self, data) {
    // The launch project is made with the entity's first queue, so what a
    // user can act on is the entity (W&B's "project not found" is about it).
    let project = at(&data, &["project"]).ok_or_else(|| Error::NotFound {
        what: if self.project == LAUNCH_PROJECT {
            format!("entity {:?}", self.entity)
        } else {
            format!("project {}/{}", self.entity, self.project)
        },
    })?;
    from_value("ProjectRunQueues", project.get("runQueues").unwrap_or(&json!([])))
});

/// `mutation CreateDefaultResourceConfig`: `config` is the bare resource
/// config; it is sent wrapped as `{"resource_args": {<resource>: config}}`.
#[derive(Clone, Debug)]
pub struct CreateDefaultResourceConfig {
    pub entity: String,
    pub resource: ResourceType,
    pub config: Value,
    /// `{"name": {"schema": {...}}}`, or `None`.
    pub template_variables: Option<Value>,
}
operation!(CreateDefaultResourceConfig, "CreateDefaultResourceConfig", "CreateDefaultResourceConfig", typed = true, output = String,
vars(self) {
    vars([
        ("entityName", json!(self.entity)),
        ("resource", json!(self.resource.as_str())),
        ("config", json!(DefaultResourceConfig::wrap(self.resource, self.config.clone()).to_string())),
        ("templateVariables", json!(self.template_variables.as_ref().map_or_else(|| "{}".to_owned(), Value::to_string))),
    ])
},
decode(self, data) {
    let p = data.get("createDefaultResourceConfig");
    success("CreateDefaultResourceConfig", p, "the server did not store the resource config")?;
    string_at("CreateDefaultResourceConfig", &data, &["createDefaultResourceConfig", "defaultResourceConfigID"])
});

/// `mutation CreateRunQueue`.
#[derive(Clone, Debug)]
pub struct CreateRunQueue {
    pub entity: String,
    pub project: String,
    pub name: String,
    pub access: QueueAccess,
    pub prioritization_mode: Option<PrioritizationMode>,
    pub default_resource_config_id: Option<String>,
}
operation!(CreateRunQueue, "CreateRunQueue", "CreateRunQueue", typed = true, output = String,
vars(self) {
    vars([
        ("entity", json!(self.entity)),
        ("project", json!(self.project)),
        ("queueName", json!(self.name)),
        ("access", json!(self.access)),
        ("prioritizationMode", json!(self.prioritization_mode)),
        ("defaultResourceConfigID", json!(self.default_resource_config_id)),
    ])
},
decode(self, data) {
    success("CreateRunQueue", data.get("createRunQueue"), &format!("queue {:?} was not created", self.name))?;
    string_at("CreateRunQueue", &data, &["createRunQueue", "queueID"])
});

/// `mutation UpsertRunQueue`: create or replace a queue and its config.
/// Answers the server's config validation messages (warnings).
#[derive(Clone, Debug)]
pub struct UpsertRunQueue {
    pub entity: String,
    pub project: String,
    pub name: String,
    pub resource: ResourceType,
    pub config: Value,
    pub template_variables: Option<Value>,
    pub prioritization_mode: PrioritizationMode,
    pub external_links: Option<ExternalLinks>,
}
operation!(UpsertRunQueue, "UpsertRunQueue", "UpsertRunQueue", typed = true, output = Vec<String>,
vars(self) {
    vars([
        ("entityName", json!(self.entity)),
        ("projectName", json!(self.project)),
        ("queueName", json!(self.name)),
        ("resourceType", json!(self.resource.as_str())),
        ("resourceConfig", json!(DefaultResourceConfig::wrap(self.resource, self.config.clone()).to_string())),
        ("templateVariables", json!(self.template_variables.as_ref().map(Value::to_string))),
        ("prioritizationMode", json!(self.prioritization_mode)),
        ("externalLinks", json!(self.external_links.as_ref().map(|l| json!(l).to_string()))),
        ("clientMutationId", Value::Null),
    ])
},
decode(self, data) {
    let p = data.get("upsertRunQueue");
    let messages: Vec<String> = p
        .and_then(|p| p.get("configSchemaValidationErrors"))
        .and_then(|e| serde_json::from_value(e.clone()).ok())
        .unwrap_or_default();
    if p.and_then(|p| p.get("success")).and_then(Value::as_bool) != Some(true) {
        let message = if messages.is_empty() { format!("queue {:?} was not saved", self.name) } else { messages.join("; ") };
        return Err(Error::Rejected { operation: "UpsertRunQueue".into(), message });
    }
    Ok(messages)
});

/// What `GetRunQueueMetadata` answers.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueMetadata {
    pub id: String,
    #[serde(default)]
    pub access: Option<QueueAccess>,
    #[serde(default, rename = "defaultResourceConfigID")]
    pub default_resource_config_id: Option<String>,
    #[serde(default)]
    pub prioritization_mode: Option<PrioritizationMode>,
    #[serde(default)]
    pub external_links: Option<ExternalLinks>,
}

/// `query GetRunQueueMetadata`.
#[derive(Clone, Debug)]
pub struct GetRunQueueMetadata {
    pub entity: String,
    pub project: String,
    pub queue: String,
}
operation!(GetRunQueueMetadata, "GetRunQueueMetadata", "GetRunQueueMetadata", typed = false, output = QueueMetadata,
vars(self) { vars([("projectName", json!(self.project)), ("entityName", json!(self.entity)), ("runQueue", json!(self.queue))]) },
decode(self, data) {
    let q = at(&data, &["project", "runQueue"]).ok_or_else(|| not_found_queue(&self.entity, &self.queue))?;
    from_value("GetRunQueueMetadata", q)
});

/// `query GetDefaultResourceConfig`.
#[derive(Clone, Debug)]
pub struct GetDefaultResourceConfig {
    pub entity: String,
    pub id: String,
}
operation!(GetDefaultResourceConfig, "GetDefaultResourceConfig", "GetDefaultResourceConfig", typed = false, output = DefaultResourceConfig,
vars(self) { vars([("entityName", json!(self.entity)), ("id", json!(self.id))]) },
decode(self, data) {
    let c = at(&data, &["entity", "defaultResourceConfig"])
        .ok_or_else(|| Error::NotFound { what: format!("resource config {}", self.id) })?;
    let mut cfg: DefaultResourceConfig = from_value("GetDefaultResourceConfig", c)?;
    cfg.id = Some(self.id.clone());
    if let Value::String(text) = &cfg.config {
        cfg.config = serde_json::from_str(text).map_err(|e| decode_err("GetDefaultResourceConfig", e.to_string()))?;
    }
    Ok(cfg)
});

/// `query GetRunQueueItems`: ids of the first 100 items.
#[derive(Clone, Debug)]
pub struct GetRunQueueItems {
    pub entity: String,
    pub project: String,
    pub queue: String,
}
operation!(GetRunQueueItems, "GetRunQueueItems", "GetRunQueueItems", typed = false, output = Vec<String>,
vars(self) { vars([("projectName", json!(self.project)), ("entityName", json!(self.entity)), ("runQueue", json!(self.queue))]) },
decode(self, data) {
    let q = at(&data, &["project", "runQueue"]).ok_or_else(|| not_found_queue(&self.entity, &self.queue))?;
    Ok(nodes(q.get("runQueueItems")).into_iter().filter_map(|n| n.get("id")?.as_str().map(str::to_owned)).collect())
});

/// `mutation DeleteRunQueue` (`deleteRunQueues` with one id).
#[derive(Clone, Debug)]
pub struct DeleteRunQueue {
    pub id: String,
}
operation!(DeleteRunQueue, "DeleteRunQueue", "DeleteRunQueue", typed = false, output = (),
    vars(self) { vars([("id", json!(self.id))]) },
    decode(self, data) { success("DeleteRunQueue", data.get("deleteRunQueues"), "the queue was not deleted") });

/// `query fetchRunQueuesFromProject`: a queue's id by name.
#[derive(Clone, Debug)]
pub struct FetchRunQueueId {
    pub entity: String,
    pub project: String,
    pub queue: String,
}
operation!(FetchRunQueueId, "fetchRunQueuesFromProject", "fetchRunQueuesFromProject", typed = false, output = String,
vars(self) { vars([("entityName", json!(self.entity)), ("projectName", json!(self.project)), ("runQueueName", json!(self.queue))]) },
decode(self, data) {
    at(&data, &["project", "runQueue", "id"]).and_then(Value::as_str).map(str::to_owned)
        .ok_or_else(|| not_found_queue(&self.entity, &self.queue))
});

/// `mutation DeleteFromRunQueue`.
#[derive(Clone, Debug)]
pub struct DeleteFromRunQueue {
    pub queue_id: String,
    pub item_id: String,
}
operation!(DeleteFromRunQueue, "DeleteFromRunQueue", "DeleteFromRunQueue", typed = false, output = (),
    vars(self) { vars([("queueID", json!(self.queue_id)), ("runQueueItemId", json!(self.item_id))]) },
    decode(self, data) { success("DeleteFromRunQueue", data.get("deleteFromRunQueue"), "the item was not removed from the queue") });
