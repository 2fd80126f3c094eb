//! Liftoff's own operations. A client uses them only when the server
//! advertises the matching feature in `serverInfo.features`
//! (see [`crate::ops::identity::features`]).

use std::borrow::Cow;

use liftoff_model::status::{DisplayStatus, ItemError, ItemWarning, QueueItem};
use liftoff_model::{Agent, LAUNCH_PROJECT, Priority, Queue, RunState};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::graphql::{Operation, at, decode_err, from_value, nodes, success, vars};
use crate::ops::items::{Popped, decode_popped};
use crate::ops::{document, operation};

/// The run an item started, as the item list shows it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemRun {
    pub id: String,
    pub name: String,
    pub state: RunState,
    #[serde(default)]
    pub stopped: bool,
    #[serde(default)]
    pub heartbeat_at: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    /// The job version the run used (`v0`), read from its input artifacts.
    #[serde(skip)]
    pub job_version: Option<String>,
}

/// The version of the job a run used, from its `inputArtifacts`.
fn used_job_version(run: &Value) -> Option<String> {
    nodes(at(run, &["inputArtifacts"]))
        .into_iter()
        .find(|n| at(n, &["artifactType", "name"]).and_then(Value::as_str) == Some("job"))
        .and_then(|n| n.get("versionIndex").and_then(Value::as_i64))
        .map(|i| format!("v{i}"))
}

/// An item with its run.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemWithRun {
    pub item: QueueItem,
    pub run: Option<ItemRun>,
}

/// A queue with its agents and one page of items.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueDetail {
    pub queue: Queue,
    pub agents: Vec<Agent>,
    pub items: Vec<ItemWithRun>,
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

/// A queue with its agents and how many items it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueSummary {
    pub queue: Queue,
    pub agents: Vec<Agent>,
    /// By what a user sees (Queued, Running, Finished, ...), as the queue's
    /// items list shows them.
    pub statuses: Vec<(DisplayStatus, i64)>,
}

fn queue_from(op: &str, q: &Value) -> Result<Queue, Error> {
    // The queue's own fields: its items and agents (a thousand items on a
    // big page) are decoded on their own and need no copy here.
    let own = q.as_object().map(|m| {
        m.iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "runQueueItems" | "launchAgents" | "statusCounts"
                )
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    let mut q = Value::Object(own.unwrap_or_default());
    // externalLinks and config are JSON (objects); tolerate JSON strings too.
    {
        let key = "externalLinks";
        if let Some(Value::String(t)) = q.get(key) {
            let parsed: Value =
                serde_json::from_str(t).map_err(|e| decode_err(op, e.to_string()))?;
            q[key] = parsed;
        }
        if q.get(key).is_some_and(Value::is_null) {
            q[key] = json!({"links": []});
        }
    }
    if let Some(Value::String(t)) = q.pointer("/defaultResourceConfig/config") {
        let parsed: Value = serde_json::from_str(t).map_err(|e| decode_err(op, e.to_string()))?;
        q["defaultResourceConfig"]["config"] = parsed;
    }
    serde_json::from_value(q).map_err(|e| decode_err(op, e.to_string()))
}

fn agents_from(op: &str, list: Option<&Value>) -> Result<Vec<Agent>, Error> {
    let mut agents: Vec<Value> = list.and_then(Value::as_array).cloned().unwrap_or_default();
    for a in &mut agents {
        if let Some(Value::String(t)) = a.get("agentConfig") {
            a["agentConfig"] = serde_json::from_str(t).unwrap_or(Value::Null);
        }
    }
    from_value(op, &Value::Array(agents))
}

fn item_from(op: &str, n: &Value) -> Result<ItemWithRun, Error> {
    let s = |k: &str| n.get(k).and_then(Value::as_str).map(str::to_owned);
    let run_spec = match n.get("runSpec") {
        Some(Value::String(t)) => {
            Some(serde_json::from_str(t).map_err(|e| decode_err(op, e.to_string()))?)
        }
        Some(Value::Null) | None => None,
        Some(v) => Some(v.clone()),
    };
    let error: Option<ItemError> = match n.get("error") {
        Some(e) if !e.is_null() => Some(from_value(op, e)?),
        _ => None,
    };
    let warnings: Vec<ItemWarning> = match n.get("warnings") {
        Some(w) if !w.is_null() => from_value(op, w)?,
        _ => vec![],
    };
    let item = QueueItem {
        id: s("id").ok_or_else(|| decode_err(op, "item without id"))?,
        state: from_value(op, n.get("state").unwrap_or(&Value::Null))?,
        priority: n
            .get("priority")
            .and_then(Value::as_i64)
            .and_then(Priority::from_level)
            .unwrap_or_default(),
        run_spec,
        associated_run_id: s("associatedRunId"),
        created_at: s("createdAt"),
        created_by: s("createdBy").filter(|c| !c.is_empty()),
        claimed_at: s("claimedAt"),
        launch_agent_id: s("launchAgentId"),
        error,
        warnings,
        retries: n.get("retries").and_then(Value::as_i64).unwrap_or(0),
        template_values: match n.get("templateVariableValues") {
            Some(Value::Object(m)) => m.clone(),
            // A JSONString, as W&B's scalars come.
            Some(Value::String(t)) => serde_json::from_str(t).unwrap_or_default(),
            _ => Map::new(),
        },
    };
    let run = match n.get("run") {
        Some(r) if !r.is_null() => {
            let mut run: ItemRun = from_value(op, r)?;
            run.job_version = used_job_version(r);
            Some(run)
        }
        _ => None,
    };
    Ok(ItemWithRun { item, run })
}

/// `query LiftoffRunQueue`: a queue, its agents and a page of items.
#[derive(Clone, Debug)]
pub struct LiftoffRunQueue {
    pub entity: String,
    pub queue: String,
    pub first: i64,
    pub after: Option<String>,
}
operation!(LiftoffRunQueue, "LiftoffRunQueue", "liftoff/LiftoffRunQueue", typed = true, output = QueueDetail,
vars(self) {
    vars([("entityName", json!(self.entity)), ("projectName", json!(LAUNCH_PROJECT)), ("queueName", json!(self.queue)),
          ("first", json!(self.first)), ("after", json!(self.after))])
},
decode(self, data) {
    let q = at(&data, &["project", "runQueue"])
        .ok_or_else(|| Error::NotFound { what: format!("queue {:?} in entity {:?}", self.queue, self.entity) })?;
    let conn = q.get("runQueueItems");
    Ok(QueueDetail {
        queue: queue_from("LiftoffRunQueue", q)?,
        agents: agents_from("LiftoffRunQueue", q.get("launchAgents"))?,
        items: nodes(conn).into_iter().map(|n| item_from("LiftoffRunQueue", n)).collect::<Result<_, _>>()?,
        end_cursor: conn.and_then(|c| at(c, &["pageInfo", "endCursor"])).and_then(Value::as_str).map(str::to_owned),
        has_next_page: conn.and_then(|c| at(c, &["pageInfo", "hasNextPage"])).and_then(Value::as_bool).unwrap_or(false),
    })
});

/// `query LiftoffRunQueues`: every queue of an entity with counts and agents.
#[derive(Clone, Debug)]
pub struct LiftoffRunQueues {
    pub entity: String,
}
operation!(LiftoffRunQueues, "LiftoffRunQueues", "liftoff/LiftoffRunQueues", typed = true, output = Vec<QueueSummary>,
vars(self) { vars([("entityName", json!(self.entity)), ("projectName", json!(LAUNCH_PROJECT))]) },
decode(self, data) {
    // A Liftoff server makes the launch project for any entity the caller
    // belongs to: none means no such entity, or not theirs.
    let project = at(&data, &["project"]).ok_or_else(|| Error::NotFound { what: format!("entity {:?}", self.entity) })?;
    let list = project.get("runQueues").and_then(Value::as_array).cloned().unwrap_or_default();
    list.iter().map(|q| {
        #[derive(Deserialize)]
        struct StatusCount { status: String, count: i64 }
        let statuses: Vec<StatusCount> = from_value("LiftoffRunQueues", q.get("statusCounts").unwrap_or(&json!([])))?;
        Ok(QueueSummary {
            queue: queue_from("LiftoffRunQueues", q)?,
            agents: agents_from("LiftoffRunQueues", q.get("launchAgents"))?,
            // A status this client does not know (a newer server's) is left out.
            statuses: statuses
                .into_iter()
                .filter_map(|c| DisplayStatus::ALL.into_iter().find(|s| s.label() == c.status).map(|s| (s, c.count)))
                .collect(),
        })
    }).collect()
});

/// `query LiftoffLaunchAgents`: every agent of an entity.
#[derive(Clone, Debug)]
pub struct LiftoffLaunchAgents {
    pub entity: String,
}
operation!(LiftoffLaunchAgents, "LiftoffLaunchAgents", "liftoff/LiftoffLaunchAgents", typed = true, output = Vec<Agent>,
vars(self) { vars([("entityName", json!(self.entity)), ("projectName", json!(LAUNCH_PROJECT))]) },
decode(self, data) {
    let Some(project) = at(&data, &["project"]) else { return Ok(vec![]) };
    agents_from("LiftoffLaunchAgents", project.get("launchAgents"))
});

/// `mutation LiftoffStopPolling`: tell an agent to stop polling.
#[derive(Clone, Debug)]
pub struct LiftoffStopPolling {
    pub agent_id: String,
}
operation!(LiftoffStopPolling, "LiftoffStopPolling", "liftoff/LiftoffStopPolling", typed = true, output = (),
    vars(self) { vars([("agentId", json!(self.agent_id))]) },
    decode(self, data) { success("LiftoffStopPolling", data.get("updateLaunchAgent"), "the agent was not told to stop") });

/// `mutation LiftoffPopWait`: a long-poll pop, held up to `wait_seconds`.
#[derive(Clone, Debug)]
pub struct LiftoffPopWait {
    pub entity: String,
    pub queue: String,
    pub agent_id: Option<String>,
    pub wait_seconds: i64,
}
impl Operation for LiftoffPopWait {
    type Output = Option<Popped>;
    const NAME: &'static str = "LiftoffPopWait";
    const TYPED: bool = true;
    fn document(&self) -> Cow<'static, str> {
        Cow::Borrowed(document!("liftoff/LiftoffPopWait"))
    }
    fn variables(&self) -> Option<Value> {
        vars([
            ("entity", json!(self.entity)),
            ("project", json!(LAUNCH_PROJECT)),
            ("queueName", json!(self.queue)),
            ("launchAgentId", json!(self.agent_id)),
            ("waitSeconds", json!(self.wait_seconds)),
        ])
    }
    fn decode(&self, data: Value) -> Result<Option<Popped>, Error> {
        decode_popped("LiftoffPopWait", &data)
    }
}

/// `mutation LiftoffSetItemPriority`.
#[derive(Clone, Debug)]
pub struct LiftoffSetItemPriority {
    pub item_id: String,
    pub priority: Priority,
}
operation!(LiftoffSetItemPriority, "LiftoffSetItemPriority", "liftoff/LiftoffSetItemPriority", typed = true, output = (),
    vars(self) { vars([("runQueueItemId", json!(self.item_id)), ("priority", json!(self.priority.level()))]) },
    decode(self, data) { success("LiftoffSetItemPriority", data.get("updateRunQueueItemPriority"), "the priority was not changed") });

/// `mutation LiftoffCancelItem`: a waiting item is removed; a running one
/// has its run stopped.
#[derive(Clone, Debug)]
pub struct LiftoffCancelItem {
    pub item_id: String,
}
operation!(LiftoffCancelItem, "LiftoffCancelItem", "liftoff/LiftoffCancelItem", typed = true, output = (),
    vars(self) { vars([("runQueueItemId", json!(self.item_id))]) },
    decode(self, data) { success("LiftoffCancelItem", data.get("cancelRunQueueItem"), "the item was not cancelled") });

/// `mutation LiftoffRequeueItem`: push a copy of a finished item again.
#[derive(Clone, Debug)]
pub struct LiftoffRequeueItem {
    pub item_id: String,
}
operation!(LiftoffRequeueItem, "LiftoffRequeueItem", "liftoff/LiftoffRequeueItem", typed = true, output = String,
vars(self) { vars([("runQueueItemId", json!(self.item_id))]) },
decode(self, data) {
    success("LiftoffRequeueItem", data.get("requeueRunQueueItem"), "the item was not requeued")?;
    crate::graphql::string_at("LiftoffRequeueItem", &data, &["requeueRunQueueItem", "runQueueItemId"])
});

/// `mutation LiftoffUpdateRunQueue`: a queue's Liftoff settings (retries of
/// failed runs, prioritization).
#[derive(Clone, Debug)]
pub struct LiftoffUpdateRunQueue {
    pub queue_id: String,
    pub max_retries: Option<i64>,
    pub prioritization_mode: Option<liftoff_model::queue::PrioritizationMode>,
}
operation!(LiftoffUpdateRunQueue, "LiftoffUpdateRunQueue", "liftoff/LiftoffUpdateRunQueue", typed = true, output = (),
    vars(self) { vars([("queueID", json!(self.queue_id)), ("maxRetries", json!(self.max_retries)), ("prioritizationMode", json!(self.prioritization_mode))]) },
    decode(self, data) { success("LiftoffUpdateRunQueue", data.get("updateRunQueue"), "the queue was not updated") });
