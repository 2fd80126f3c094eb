//! Runs, as launch needs them (spec §2.5) plus the public `Run` read.

use liftoff_model::run::{Run as RunInfo, RunState as State};
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::graphql::{at, decode_err, string_at, success, vars};
use crate::ops::operation;

fn run_not_found(entity: &str, project: &str, name: &str) -> Error {
    Error::NotFound {
        what: format!("run {entity}/{project}/{name}"),
    }
}

fn parse_json_field(op: &str, v: Option<&Value>) -> Result<Map<String, Value>, Error> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::String(text)) if text.is_empty() => Ok(Map::new()),
        Some(Value::String(text)) => {
            liftoff_model::json::parse(text).map_err(|e| decode_err(op, e.to_string()))
        }
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(other) => Err(decode_err(
            op,
            format!("expected a JSON object, got {other}"),
        )),
    }
}

/// `query RunState` (the agent's completion check).
#[derive(Clone, Debug)]
pub struct RunState {
    pub entity: String,
    pub project: String,
    pub name: String,
}
operation!(RunState, "RunState", "RunState", typed = false, output = State,
vars(self) { vars([("project", json!(self.project)), ("entity", json!(self.entity)), ("name", json!(self.name))]) },
decode(self, data) {
    let state = at(&data, &["project", "run", "state"]).and_then(Value::as_str)
        .ok_or_else(|| run_not_found(&self.entity, &self.project, &self.name))?;
    Ok(State::parse(state))
});

/// `query RunStoppedStatus`: `false` when the run does not exist.
#[derive(Clone, Debug)]
pub struct RunStoppedStatus {
    pub entity: String,
    pub project: String,
    pub run_id: String,
}
operation!(RunStoppedStatus, "RunStoppedStatus", "RunStoppedStatus", typed = false, output = bool,
    vars(self) { vars([("projectName", json!(self.project)), ("entityName", json!(self.entity)), ("runId", json!(self.run_id))]) },
    decode(self, data) { Ok(at(&data, &["project", "run", "stopped"]).and_then(Value::as_bool).unwrap_or(false)) });

/// `mutation StopRun`, by the run's node id.
#[derive(Clone, Debug)]
pub struct StopRun {
    pub id: String,
}
operation!(StopRun, "StopRun", "StopRun", typed = true, output = (),
    vars(self) { vars([("id", json!(self.id))]) },
    decode(self, data) { success("StopRun", data.get("stopRun"), "the run was not stopped") });

/// `mutation DeleteRun`.
#[derive(Clone, Debug)]
pub struct DeleteRun {
    pub id: String,
    pub delete_artifacts: bool,
}
operation!(DeleteRun, "DeleteRun", "DeleteRun", typed = false, output = (),
    vars(self) { vars([("id", json!(self.id)), ("deleteArtifacts", json!(self.delete_artifacts))]) },
    decode(self, data) { Ok(()) });

/// `query Run` (public API): a run with its config and summary.
#[derive(Clone, Debug)]
pub struct Run {
    pub entity: String,
    pub project: String,
    pub name: String,
}
operation!(Run, "Run", "Run", typed = false, output = RunInfo,
vars(self) { vars([("project", json!(self.project)), ("entity", json!(self.entity)), ("name", json!(self.name))]) },
decode(self, data) {
    let r = at(&data, &["project", "run"]).ok_or_else(|| run_not_found(&self.entity, &self.project, &self.name))?;
    Ok(RunInfo {
        id: string_at("Run", r, &["id"])?,
        name: string_at("Run", r, &["name"])?,
        display_name: at(r, &["displayName"]).and_then(Value::as_str).map(str::to_owned),
        state: State::parse(at(r, &["state"]).and_then(Value::as_str).unwrap_or("pending")),
        stopped: false,
        created_at: at(r, &["createdAt"]).and_then(Value::as_str).map(str::to_owned),
        heartbeat_at: at(r, &["heartbeatAt"]).and_then(Value::as_str).map(str::to_owned),
        project: Some(self.project.clone()),
        entity: Some(self.entity.clone()),
        config: parse_json_field("Run", r.get("config"))?,
        summary: parse_json_field("Run", r.get("summaryMetrics"))?,
        exit_code: None,
    })
});

/// `query GetSweepState` (sweep jobs only).
#[derive(Clone, Debug)]
pub struct GetSweepState {
    pub entity: String,
    pub project: String,
    pub sweep: String,
}
operation!(GetSweepState, "GetSweepState", "GetSweepState", typed = false, output = String,
vars(self) { vars([("entity", json!(self.entity)), ("project", json!(self.project)), ("sweep", json!(self.sweep))]) },
decode(self, data) {
    at(&data, &["project", "sweep", "state"]).and_then(Value::as_str).map(str::to_owned)
        .ok_or_else(|| Error::NotFound { what: format!("sweep {}/{}/{}", self.entity, self.project, self.sweep) })
});

/// `mutation UpsertSweep` (used to cancel a sweep whose scheduler failed).
#[derive(Clone, Debug)]
pub struct UpsertSweep {
    pub id: String,
    pub state: String,
    pub entity: String,
    pub project: String,
}
operation!(UpsertSweep, "UpsertSweep", "UpsertSweep", typed = false, output = (),
    vars(self) { vars([("id", json!(self.id)), ("state", json!(self.state)), ("entityName", json!(self.entity)), ("projectName", json!(self.project))]) },
    decode(self, data) { Ok(()) });

/// The run an upsert created or updated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    pub id: String,
    pub name: String,
    pub inserted: bool,
    pub history_line_count: i64,
}

/// `mutation UpsertBucket` (wandb-core's, typed): create or update a run.
/// Every variable is always sent, `null` when unset.
#[derive(Clone, Debug, Default)]
pub struct UpsertBucket {
    pub name: String,
    pub project: String,
    pub entity: String,
    pub display_name: Option<String>,
    /// `{key: {"value": v}}`.
    pub config: Option<Map<String, Value>>,
    pub host: Option<String>,
    pub program: Option<String>,
    pub job_type: Option<String>,
    pub state: Option<String>,
    pub summary: Option<Map<String, Value>>,
}
operation!(UpsertBucket, "UpsertBucket", "UpsertBucket", typed = true, output = Bucket,
vars(self) {
    let js = |m: &Option<Map<String, Value>>| json!(m.as_ref().map(|m| Value::Object(m.clone()).to_string()));
    vars([
        ("id", Value::Null), ("name", json!(self.name)), ("project", json!(self.project)),
        ("entity", json!(self.entity)), ("groupName", Value::Null), ("description", Value::Null),
        ("displayName", json!(self.display_name)), ("notes", Value::Null), ("commit", Value::Null),
        ("config", js(&self.config)), ("host", json!(self.host)), ("debug", Value::Null),
        ("program", json!(self.program)), ("repo", Value::Null), ("jobType", json!(self.job_type)),
        ("state", json!(self.state)), ("sweep", Value::Null), ("tags", Value::Null),
        ("summaryMetrics", js(&self.summary)),
    ])
},
decode(self, data) {
    let b = at(&data, &["upsertBucket", "bucket"])
        .ok_or_else(|| Error::Rejected { operation: "UpsertBucket".into(), message: format!("run {} was not saved", self.name) })?;
    Ok(Bucket {
        id: string_at("UpsertBucket", b, &["id"])?,
        name: string_at("UpsertBucket", b, &["name"])?,
        inserted: at(&data, &["upsertBucket", "inserted"]).and_then(Value::as_bool).unwrap_or(false),
        history_line_count: at(b, &["historyLineCount"]).and_then(Value::as_i64).unwrap_or(0),
    })
});
