//! Runs (buckets): what launch needs (spec §2.5) and the public reads.

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use serde_json::{Map, Value, json};

use crate::access;
use crate::error::{ApiError, ApiResult};
use crate::graphql::identity::{ProjectObj, caller, st};
use crate::graphql::launch::PageInfo;
use crate::graphql::scalars::{JsonString, datetime};
use crate::ids;
use crate::state::AppState;
use crate::store::{Entity, Project, Run, RunFields};

pub struct RunObj {
    pub run: Run,
    pub entity: Entity,
    pub project: Project,
}

impl RunObj {
    pub fn new(run: Run, entity: Entity, project: Project) -> Self {
        Self { run, entity, project }
    }
}

#[derive(SimpleObject)]
#[graphql(name = "RunUser")]
pub struct RunUser {
    name: String,
    username: String,
}

#[Object(name = "Run")]
impl RunObj {
    async fn id(&self) -> ID {
        ids::encode("Run", self.run.id).into()
    }
    async fn name(&self) -> &str {
        &self.run.name
    }
    async fn display_name(&self) -> Option<&str> {
        self.run.display_name.as_deref().or(Some(&self.run.name))
    }
    async fn state(&self) -> &str {
        &self.run.state
    }
    async fn stopped(&self) -> bool {
        self.run.stopped
    }
    async fn project_id(&self) -> String {
        self.project.id.to_string()
    }
    async fn project(&self) -> ProjectObj {
        ProjectObj { entity: self.entity.clone(), project: self.project.clone() }
    }
    /// `{key: {"value": v, "desc": ...}}` as a JSON string.
    async fn config(&self) -> JsonString {
        JsonString::text(&self.run.config)
    }
    async fn summary_metrics(&self) -> JsonString {
        JsonString::text(&self.run.summary)
    }
    async fn system_metrics(&self) -> JsonString {
        JsonString(json!({}))
    }
    async fn tags(&self) -> Vec<String> {
        serde_json::from_str(&self.run.tags).unwrap_or_default()
    }
    async fn sweep_name(&self) -> Option<&str> {
        self.run.sweep_name.as_deref()
    }
    async fn group(&self) -> Option<&str> {
        self.run.group_name.as_deref()
    }
    async fn job_type(&self) -> Option<&str> {
        self.run.job_type.as_deref()
    }
    async fn commit(&self) -> Option<&str> {
        self.run.commit_hash.as_deref()
    }
    async fn host(&self) -> Option<&str> {
        self.run.host.as_deref()
    }
    async fn program(&self) -> Option<&str> {
        self.run.program.as_deref()
    }
    async fn read_only(&self) -> bool {
        false
    }
    async fn created_at(&self) -> String {
        datetime(self.run.created_at)
    }
    async fn updated_at(&self) -> String {
        datetime(self.run.updated_at)
    }
    async fn heartbeat_at(&self) -> String {
        datetime(self.run.heartbeat_at)
    }
    async fn description(&self) -> Option<&str> {
        self.run.description.as_deref()
    }
    async fn notes(&self) -> Option<&str> {
        self.run.notes.as_deref()
    }
    async fn exitcode(&self) -> Option<i64> {
        self.run.exit_code
    }
    async fn history_line_count(&self) -> i64 {
        self.run.history_line_count
    }
    async fn events_line_count(&self) -> i64 {
        self.run.events_line_count
    }
    async fn log_line_count(&self) -> i64 {
        self.run.log_line_count
    }
    async fn user(&self) -> RunUser {
        RunUser { name: self.run.created_by.clone(), username: self.run.created_by.clone() }
    }
    async fn history_keys(&self) -> Json<Value> {
        Json(json!({"lastStep": self.run.history_line_count - 1, "keys": {}}))
    }
    async fn sweep(&self) -> Option<crate::graphql::identity::SweepObj> {
        None
    }
}

#[derive(SimpleObject)]
pub struct RunEdge {
    node: RunObj,
    cursor: String,
}

#[derive(SimpleObject)]
pub struct RunConnection {
    edges: Vec<RunEdge>,
    page_info: PageInfo,
}

impl RunConnection {
    pub async fn load(_state: &AppState, _entity: &Entity, _project: &Project, _first: Option<i32>, _after: Option<String>, _order: Option<String>) -> ApiResult<Self> {
        // Run listing arrives with run tracking (issue 6).
        Ok(Self { edges: vec![], page_info: PageInfo { end_cursor: None, has_next_page: false } })
    }
}

#[derive(InputObject)]
pub struct UpsertBucketInput {
    id: Option<String>,
    name: Option<String>,
    group_name: Option<String>,
    model_name: Option<String>,
    entity_name: Option<String>,
    description: Option<String>,
    display_name: Option<String>,
    notes: Option<String>,
    config: Option<JsonString>,
    commit: Option<String>,
    host: Option<String>,
    debug: Option<bool>,
    job_program: Option<String>,
    job_repo: Option<String>,
    job_type: Option<String>,
    state: Option<String>,
    sweep: Option<String>,
    tags: Option<Vec<String>>,
    summary_metrics: Option<JsonString>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct UpsertBucketPayload {
    bucket: RunObj,
    inserted: bool,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct StopRunInput {
    id: Option<ID>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct StopRunPayload {
    success: bool,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct DeleteRunInput {
    id: Option<ID>,
    delete_artifacts: Option<bool>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct DeleteRunPayload {
    client_mutation_id: Option<String>,
}

const RUN_STATES: &[&str] = &["pending", "running", "finished", "failed", "crashed", "killed", "preempting", "preempted"];

/// A run id: W&B's are short base36; accept `[A-Za-z0-9_.-]{1,128}`.
pub fn validate_run_name(name: &str) -> ApiResult<()> {
    if name.is_empty() || name.len() > 128 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
        return Err(ApiError::invalid(format!("run name {name:?} must be 1 to 128 letters, digits, '_', '.' or '-'")));
    }
    Ok(())
}

async fn run_by_node_id(state: &AppState, ctx: &Context<'_>, id: &str) -> ApiResult<(Run, Entity, Project)> {
    let rid = ids::decode("Run", id).ok_or_else(|| ApiError::invalid(format!("{id:?} is not a run id")))?;
    let run = state.store.run_by_id(rid).await?.ok_or_else(|| access::denied("run"))?;
    let (entity, project) = access::project_by_id(state, caller(ctx), run.project_id, "run").await?;
    Ok((run, entity, project))
}

#[derive(Default)]
pub struct RunMutation;

#[Object]
impl RunMutation {
    /// Create or update a run (`wandb.init`, the public API, Liftoff's agent).
    async fn upsert_bucket(&self, ctx: &Context<'_>, input: UpsertBucketInput) -> ApiResult<UpsertBucketPayload> {
        let state = st(ctx);
        let (entity, project, name) = match input.id.as_deref().filter(|i| !i.is_empty()) {
            Some(id) => {
                let (run, e, p) = run_by_node_id(state, ctx, id).await?;
                (e, p, run.name)
            }
            None => {
                let name = input.name.clone().filter(|n| !n.is_empty()).ok_or_else(|| ApiError::invalid("upsertBucket needs a run name or id"))?;
                validate_run_name(&name)?;
                let project = input.model_name.clone().filter(|p| !p.is_empty()).unwrap_or_else(|| "uncategorized".into());
                let entity = access::entity(state, caller(ctx), input.entity_name.as_deref()).await?;
                let (project, _) = state.store.project_upsert(entity.id, &project, state.now()).await?;
                (entity, project, name)
            }
        };
        if let Some(s) = input.state.as_deref() {
            if !RUN_STATES.contains(&s) {
                return Err(ApiError::invalid(format!("run state {s:?} is not one of {}", RUN_STATES.join(", "))));
            }
        }
        let object = |v: Option<JsonString>, what: &str| -> ApiResult<Option<String>> {
            match v.map(|j| j.0) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(m)) => Ok(Some(Value::Object(m).to_string())),
                Some(_) => Err(ApiError::invalid(format!("{what} must be a JSON object"))),
            }
        };
        let existing = state.store.run_get(project.id, &name).await?;
        // Config updates merge key by key into what the run has.
        let config = match object(input.config, "config")? {
            Some(new) => {
                let mut merged: Map<String, Value> = existing.as_ref().and_then(|r| serde_json::from_str(&r.config).ok()).unwrap_or_default();
                let new: Map<String, Value> = serde_json::from_str(&new).unwrap_or_default();
                merged.extend(new);
                Some(Value::Object(merged).to_string())
            }
            None => None,
        };
        let fields = RunFields {
            display_name: input.display_name,
            state: input.state,
            config,
            summary: object(input.summary_metrics, "summaryMetrics")?,
            job_type: input.job_type,
            host: input.host,
            program: input.job_program,
            tags: input.tags.map(|t| json!(t).to_string()),
            sweep_name: input.sweep,
            group_name: input.group_name,
            notes: input.notes,
            description: input.description,
            commit_hash: input.commit,
        };
        let (run, inserted) = state.store.run_upsert(project.id, &name, &fields, &caller(ctx).user.username, state.now()).await?;
        Ok(UpsertBucketPayload { bucket: RunObj::new(run, entity, project), inserted, client_mutation_id: input.client_mutation_id })
    }

    /// Ask a run to stop (its agent and its own `wandb` see `stopped`).
    async fn stop_run(&self, ctx: &Context<'_>, input: StopRunInput) -> ApiResult<StopRunPayload> {
        let state = st(ctx);
        let id = input.id.ok_or_else(|| ApiError::invalid("id is required"))?;
        let (run, _, _) = run_by_node_id(state, ctx, &id).await?;
        let ok = state.store.run_stop(run.id).await?;
        Ok(StopRunPayload { success: ok, client_mutation_id: input.client_mutation_id })
    }

    async fn delete_run(&self, ctx: &Context<'_>, input: DeleteRunInput) -> ApiResult<DeleteRunPayload> {
        let state = st(ctx);
        let id = input.id.ok_or_else(|| ApiError::invalid("id is required"))?;
        let (run, _, _) = run_by_node_id(state, ctx, &id).await?;
        let _ = input.delete_artifacts;
        state.store.run_delete(run.id).await?;
        Ok(DeleteRunPayload { client_mutation_id: input.client_mutation_id })
    }
}
