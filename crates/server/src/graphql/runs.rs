//! Runs (buckets): what launch needs (spec §2.5) and the public reads.

use async_graphql::{Context, ID, InputObject, Json, Object, SimpleObject};
use serde_json::{Map, Value, json};

use crate::access;
use crate::error::{ApiError, ApiResult};
use crate::graphql::artifacts::{ArtifactConnection, FileConnection, FileEdge, FileObj};
use crate::graphql::identity::{ProjectObj, caller, st};
use crate::graphql::launch::{PageInfo, RunQueueItemObj};
use crate::graphql::paging::Keyset;
use crate::graphql::scalars::{Int64, JsonString, datetime};
use crate::ids;
use crate::state::AppState;
use crate::store::{Entity, Lines, Project, Run, RunFields};

/// How many rows a chart gets at most (the server downsamples).
pub const MAX_SAMPLES: i64 = 10_000;

pub struct RunObj {
    pub run: Run,
    pub entity: Entity,
    pub project: Project,
}

impl RunObj {
    pub fn new(run: Run, entity: Entity, project: Project) -> Self {
        Self {
            run,
            entity,
            project,
        }
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
        ProjectObj {
            entity: self.entity.clone(),
            project: self.project.clone(),
        }
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
        RunUser {
            name: self.run.created_by.clone(),
            username: self.run.created_by.clone(),
        }
    }
    async fn sweep(&self) -> Option<crate::graphql::identity::SweepObj> {
        None
    }
    /// The versions this run created (`createArtifact` with its name), oldest
    /// first. wandb-core creates a run's job without naming the run and then
    /// declares it used, so a job shows up in `inputArtifacts`, as on W&B.
    async fn output_artifacts(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<ArtifactConnection> {
        let state = st(ctx);
        let list = state
            .store
            .artifacts_logged_by_run(self.project.id, &self.run.name)
            .await?;
        ArtifactConnection::of_run(state, caller(ctx), list, after, first).await
    }
    /// The versions this run declared it used (`useArtifact`), oldest first.
    async fn input_artifacts(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<ArtifactConnection> {
        let state = st(ctx);
        let list = state.store.artifacts_used_by_run(self.run.id).await?;
        ArtifactConnection::of_run(state, caller(ctx), list, after, first).await
    }
    /// History rows as JSON strings: sampled to `samples`, or the rows with
    /// `minStep <= _step < maxStep` (at most `samples`).
    async fn history(
        &self,
        ctx: &Context<'_>,
        samples: Option<i32>,
        min_step: Option<Int64>,
        max_step: Option<Int64>,
    ) -> ApiResult<Vec<String>> {
        let state = st(ctx);
        let samples = i64::from(samples.unwrap_or(500)).clamp(1, MAX_SAMPLES);
        if min_step.is_some() || max_step.is_some() {
            let min = min_step.map_or(0, |s| s.0);
            let max = max_step.map_or(i64::MAX, |s| s.0);
            return Ok(state
                .store
                .run_history_steps(self.run.id, min, max, samples)
                .await?);
        }
        let stride = (self.run.history_line_count + samples - 1) / samples;
        Ok(state
            .store
            .run_history_sample(self.run.id, stride.max(1))
            .await?)
    }
    /// System metrics rows (sampled), as JSON strings.
    async fn events(&self, ctx: &Context<'_>, samples: Option<i32>) -> ApiResult<Vec<String>> {
        let samples = i64::from(samples.unwrap_or(500)).clamp(1, MAX_SAMPLES);
        let rows = st(ctx)
            .store
            .run_lines(self.run.id, Lines::Events, 0, MAX_SAMPLES)
            .await?;
        let stride = ((rows.len() as i64 + samples - 1) / samples).max(1) as usize;
        Ok(rows
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % stride == 0)
            .map(|(_, (_, l))| l)
            .collect())
    }
    /// One list of sampled rows per spec `{"keys": [...], "samples": N}`,
    /// each row restricted to its keys.
    async fn sampled_history(
        &self,
        ctx: &Context<'_>,
        specs: Vec<JsonString>,
    ) -> ApiResult<Vec<Json<Value>>> {
        let state = st(ctx);
        let mut out = Vec::new();
        for spec in specs {
            let keys: Option<Vec<String>> = spec
                .0
                .get("keys")
                .and_then(|k| serde_json::from_value(k.clone()).ok());
            let samples = spec
                .0
                .get("samples")
                .and_then(Value::as_i64)
                .unwrap_or(500)
                .clamp(1, MAX_SAMPLES);
            let min = spec.0.get("minStep").and_then(Value::as_i64);
            let max = spec.0.get("maxStep").and_then(Value::as_i64);
            let rows = match (min, max) {
                (None, None) => {
                    let stride = (self.run.history_line_count + samples - 1) / samples;
                    state
                        .store
                        .run_history_sample(self.run.id, stride.max(1))
                        .await?
                }
                (a, b) => {
                    state
                        .store
                        .run_history_steps(
                            self.run.id,
                            a.unwrap_or(0),
                            b.map_or(i64::MAX, |m| m + 1),
                            samples,
                        )
                        .await?
                }
            };
            let picked: Vec<Value> = rows
                .iter()
                .filter_map(|r| match liftoff_model::json::parse_lenient(r) {
                    Ok(Value::Object(row)) => Some(row),
                    _ => None,
                })
                .filter_map(|row| match &keys {
                    None => Some(Value::Object(row)),
                    Some(keys) => {
                        let sub: Map<String, Value> = keys
                            .iter()
                            .filter_map(|k| row.get(k).map(|v| (k.clone(), v.clone())))
                            .collect();
                        // W&B leaves out rows that have none of the keys but `_step`
                        (sub.keys().any(|k| k != "_step")).then_some(Value::Object(sub))
                    }
                })
                .collect();
            out.push(Json(Value::Array(picked)));
        }
        Ok(out)
    }
    /// `{"lastStep": n, "keys": {key: {"typeCounts": [{"type", "count"}]}}}`,
    /// from a sample of the history.
    async fn history_keys(&self, ctx: &Context<'_>) -> ApiResult<Json<Value>> {
        let state = st(ctx);
        let stride = (self.run.history_line_count / 1000).max(1);
        let rows = state.store.run_history_sample(self.run.id, stride).await?;
        let mut keys: std::collections::BTreeMap<
            String,
            std::collections::BTreeMap<&'static str, i64>,
        > = Default::default();
        let mut last_step = -1;
        for r in &rows {
            let Ok(Value::Object(row)) = liftoff_model::json::parse_lenient(r) else {
                continue;
            };
            if let Some(s) = row.get("_step").and_then(Value::as_i64) {
                last_step = last_step.max(s);
            }
            for (k, v) in row {
                let t = match v {
                    Value::Number(_) => "number",
                    Value::String(_) => "string",
                    Value::Bool(_) => "boolean",
                    Value::Null => "nil",
                    Value::Array(_) => "list",
                    Value::Object(_) => "map",
                };
                *keys.entry(k).or_default().entry(t).or_default() += 1;
            }
        }
        let keys: Map<String, Value> = keys
            .into_iter()
            .map(|(k, counts)| {
                let tc: Vec<Value> = counts
                    .into_iter()
                    .map(|(t, c)| json!({"type": t, "count": c}))
                    .collect();
                (k, json!({"typeCounts": tc}))
            })
            .collect();
        Ok(Json(json!({"lastStep": last_step, "keys": keys})))
    }
    /// No parquet exports here: every row is live data.
    async fn parquet_history(
        &self,
        ctx: &Context<'_>,
        live_keys: Vec<String>,
    ) -> ApiResult<ParquetHistory> {
        let _ = live_keys;
        let rows = st(ctx)
            .store
            .run_lines(self.run.id, Lines::History, 0, i64::MAX)
            .await?;
        let live: Vec<Value> = rows
            .iter()
            .filter_map(|(_, l)| liftoff_model::json::parse_lenient(l).ok())
            .collect();
        Ok(ParquetHistory {
            parquet_urls: vec![],
            live_data: Json(Value::Array(live)),
        })
    }
    /// The last history lines, as a JSON array of JSON strings (for resume).
    async fn history_tail(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let rows = st(ctx)
            .store
            .run_lines_tail(self.run.id, Lines::History, 10)
            .await?;
        Ok(Value::Array(rows.into_iter().map(|(_, l)| Value::String(l)).collect()).to_string())
    }
    async fn events_tail(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let rows = st(ctx)
            .store
            .run_lines_tail(self.run.id, Lines::Events, 10)
            .await?;
        Ok(Value::Array(rows.into_iter().map(|(_, l)| Value::String(l)).collect()).to_string())
    }
    /// Values of the `_wandb` config entry, for `keys`.
    async fn wandb_config(&self, keys: Option<Vec<String>>) -> Json<Value> {
        let cfg: Value = serde_json::from_str(&self.run.config).unwrap_or(Value::Null);
        let inner = cfg
            .pointer("/_wandb/value")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let out: Map<String, Value> = match (inner.as_object(), keys) {
            (Some(o), Some(keys)) => o
                .iter()
                .filter(|(k, _)| keys.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            (Some(o), None) => o.clone(),
            _ => Map::new(),
        };
        Json(Value::Object(out))
    }
    /// Liftoff: console lines from `offset` (the SDK's `output.log`, or the
    /// console the agent captured when it streamed one).
    async fn log_lines(
        &self,
        ctx: &Context<'_>,
        offset: Option<i64>,
        limit: Option<i64>,
        agent: Option<bool>,
    ) -> ApiResult<Vec<LogLine>> {
        let which = match agent {
            Some(true) => Lines::AgentConsole,
            Some(false) => Lines::Console,
            None if self.run.agent_log_line_count > 0 => Lines::AgentConsole,
            None => Lines::Console,
        };
        let rows = st(ctx)
            .store
            .run_lines(
                self.run.id,
                which,
                offset.unwrap_or(0).max(0),
                limit.unwrap_or(1000).clamp(1, 10_000),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(line_no, text)| LogLine { line_no, text })
            .collect())
    }
    /// Liftoff: the queue item that started this run (its queue, its spec),
    /// if the caller may see that queue.
    async fn launch_item(&self, ctx: &Context<'_>) -> ApiResult<Option<RunQueueItemObj>> {
        let state = st(ctx);
        let here = Some((self.entity.name.clone(), self.project.name.clone()));
        // Run names are unique per project only: the spec says which project.
        // (Anyone may ack an item of their own queue with any run name, so
        // every item of this name is looked at, a page at a time.)
        let mut before = None;
        loop {
            let page = state
                .store
                .items_of_run(&self.run.name, 200, before)
                .await?;
            let Some(last) = page.last() else {
                break;
            };
            before = Some(last.id);
            for item in page {
                let Ok((entity, queue)) =
                    access::queue_by_id(state, caller(ctx), item.queue_id).await
                else {
                    continue;
                };
                if crate::launch::spec_project(&item.run_spec, &entity.name) == here {
                    return Ok(Some(RunQueueItemObj {
                        item,
                        queue,
                        entity,
                        id_override: None,
                    }));
                }
            }
        }
        Ok(None)
    }
    /// Liftoff: console lines the agent captured.
    async fn agent_log_line_count(&self) -> i64 {
        self.run.agent_log_line_count
    }
    async fn file_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        Ok(st(ctx).store.run_files(self.run.id).await?.len() as i64)
    }
    /// The run's files (`config.yaml`, `output.log`, `wandb-metadata.json`, ...).
    async fn files(
        &self,
        ctx: &Context<'_>,
        names: Option<Vec<Option<String>>>,
        after: Option<String>,
        first: Option<i32>,
        pattern: Option<String>,
    ) -> ApiResult<FileConnection> {
        let state = st(ctx);
        let mut files = state.store.run_files(self.run.id).await?;
        if let Some(names) = crate::graphql::artifacts::flat(names) {
            files.retain(|f| names.contains(&f.name));
        }
        if let Some(p) = pattern.filter(|p| !p.is_empty()) {
            let needle = p.replace(['%', '*'], "");
            files.retain(|f| f.name.contains(&needle));
        }
        let total = files.len() as i64;
        let start = match after.as_deref() {
            Some(c) if !c.is_empty() => ids::decode("Cursor", c)
                .ok_or_else(|| ApiError::invalid(format!("{c:?} is not a cursor")))?
                as usize,
            _ => 0,
        };
        let per = usize::try_from(first.unwrap_or(50).clamp(1, 10_000)).unwrap_or(50);
        let base = &caller(ctx).base_url;
        let mut edges = Vec::new();
        let mut next = start;
        for (i, f) in files.into_iter().enumerate().skip(start).take(per) {
            next = i + 1;
            let url = crate::graphql::artifacts::download_url(
                state,
                base,
                &format!("runs/{}/{}", self.run.id, f.name),
                &f.name,
            );
            let mut node = FileObj::link(
                ids::encode("File", self.run.id * 100_000 + i as i64),
                &f.name,
                url,
            );
            node.size_bytes = Some(Int64(f.size.unwrap_or(0)));
            node.updated_at = Some(datetime(f.updated_at));
            edges.push(FileEdge {
                node,
                cursor: ids::encode("Cursor", i as i64 + 1),
            });
        }
        Ok(FileConnection {
            edges,
            page_info: PageInfo {
                end_cursor: Some(ids::encode("Cursor", next as i64)),
                has_next_page: (next as i64) < total,
            },
            total_count: total,
        })
    }
}

#[derive(SimpleObject)]
pub struct ParquetHistory {
    parquet_urls: Vec<String>,
    live_data: Json<Value>,
}

#[derive(SimpleObject)]
pub struct LogLine {
    line_no: i64,
    text: String,
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
    /// Newest first (`-created_at`, W&B's default order); `filters` other
    /// than `{}` are refused with a message.
    pub async fn load(
        state: &AppState,
        entity: &Entity,
        project: &Project,
        first: Option<i32>,
        after: Option<String>,
        order: Option<String>,
        filters: Option<&Value>,
    ) -> ApiResult<Self> {
        if let Some(f) =
            filters.filter(|f| !f.is_null() && f.as_object().is_none_or(|o| !o.is_empty()))
        {
            return Err(ApiError::invalid(format!(
                "run filters are not supported by this server yet (got {f}); list all runs and filter on your side"
            )));
        }
        if let Some(o) = order.as_deref().filter(|o| {
            !o.is_empty() && *o != "-created_at" && *o != "+created_at" && *o != "created_at"
        }) {
            return Err(ApiError::invalid(format!(
                "order {o:?} is not supported: use -created_at"
            )));
        }
        let keyset = Keyset::new(after.as_deref(), first)?;
        let runs = state
            .store
            .runs_of_project(project.id, keyset.limit + 1, keyset.before)
            .await?;
        let (runs, page_info) = keyset.page(runs, |r| r.id);
        Ok(Self {
            edges: runs
                .into_iter()
                .map(|(cursor, r)| RunEdge {
                    cursor,
                    node: RunObj::new(r, entity.clone(), project.clone()),
                })
                .collect(),
            page_info,
        })
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

#[derive(InputObject)]
pub struct MarkRunFilesUploadedInput {
    entity_name: Option<String>,
    project_name: Option<String>,
    run_name: Option<String>,
    files: Option<Vec<String>>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct MarkRunFilesUploadedPayload {
    success: bool,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct DeleteRunPayload {
    client_mutation_id: Option<String>,
}

const RUN_STATES: &[&str] = &[
    "pending",
    "running",
    "finished",
    "failed",
    "crashed",
    "killed",
    "preempting",
    "preempted",
];

/// A project name that could be addressed later (`model::spec::project_name_problem`).
pub fn validate_project_name(name: &str) -> ApiResult<()> {
    match liftoff_model::spec::project_name_problem(name) {
        Some(problem) => Err(ApiError::invalid(problem)),
        None => Ok(()),
    }
}

/// A run id: W&B's are short base36; accept `[A-Za-z0-9_.-]{1,128}`.
pub fn validate_run_name(name: &str) -> ApiResult<()> {
    crate::graphql::artifacts::validate_safe_name("run name", name)
}

async fn run_by_node_id(
    state: &AppState,
    ctx: &Context<'_>,
    id: &str,
) -> ApiResult<(Run, Entity, Project)> {
    let rid = ids::decode("Run", id)
        .ok_or_else(|| ApiError::invalid(format!("{id:?} is not a run id")))?;
    let run = state
        .store
        .run_by_id(rid)
        .await?
        .ok_or_else(|| access::denied("run"))?;
    let (entity, project) =
        access::project_by_id(state, caller(ctx), run.project_id, "run").await?;
    Ok((run, entity, project))
}

#[derive(Default)]
pub struct RunMutation;

#[Object]
impl RunMutation {
    /// Create or update a run (`wandb.init`, the public API, Liftoff's agent).
    async fn upsert_bucket(
        &self,
        ctx: &Context<'_>,
        input: UpsertBucketInput,
    ) -> ApiResult<UpsertBucketPayload> {
        let state = st(ctx);
        let (entity, project, name) = match input.id.as_deref().filter(|i| !i.is_empty()) {
            Some(id) => {
                let (run, e, p) = run_by_node_id(state, ctx, id).await?;
                (e, p, run.name)
            }
            None => {
                let name = input
                    .name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| ApiError::invalid("upsertBucket needs a run name or id"))?;
                validate_run_name(&name)?;
                let project = input
                    .model_name
                    .clone()
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| "uncategorized".into());
                validate_project_name(&project)?;
                let entity =
                    access::entity(state, caller(ctx), input.entity_name.as_deref()).await?;
                let (project, _) = state
                    .store
                    .project_upsert(entity.id, &project, state.now())
                    .await?;
                (entity, project, name)
            }
        };
        if let Some(s) = input.state.as_deref()
            && !RUN_STATES.contains(&s)
        {
            return Err(ApiError::invalid(format!(
                "run state {s:?} is not one of {}",
                RUN_STATES.join(", ")
            )));
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
                let mut merged: Map<String, Value> = existing
                    .as_ref()
                    .and_then(|r| serde_json::from_str(&r.config).ok())
                    .unwrap_or_default();
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
        let (run, inserted) = state
            .store
            .run_upsert(
                project.id,
                &name,
                &fields,
                &caller(ctx).user.username,
                state.now(),
            )
            .await?;
        Ok(UpsertBucketPayload {
            bucket: RunObj::new(run, entity, project),
            inserted,
            client_mutation_id: input.client_mutation_id,
        })
    }

    /// Ask a run to stop (its agent and its own `wandb` see `stopped`).
    async fn stop_run(&self, ctx: &Context<'_>, input: StopRunInput) -> ApiResult<StopRunPayload> {
        let state = st(ctx);
        let id = input
            .id
            .ok_or_else(|| ApiError::invalid("id is required"))?;
        let (run, _, _) = run_by_node_id(state, ctx, &id).await?;
        let ok = state.store.run_stop(run.id).await?;
        Ok(StopRunPayload {
            success: ok,
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn mark_run_files_uploaded(
        &self,
        ctx: &Context<'_>,
        input: MarkRunFilesUploadedInput,
    ) -> ApiResult<MarkRunFilesUploadedPayload> {
        let state = st(ctx);
        let project = input
            .project_name
            .filter(|p| !p.is_empty())
            .ok_or_else(|| ApiError::invalid("projectName is required"))?;
        let run_name = input
            .run_name
            .filter(|r| !r.is_empty())
            .ok_or_else(|| ApiError::invalid("runName is required"))?;
        let (_, project) =
            access::project(state, caller(ctx), input.entity_name.as_deref(), &project)
                .await?
                .ok_or_else(|| access::denied("project"))?;
        let run = state
            .store
            .run_get(project.id, &run_name)
            .await?
            .ok_or_else(|| access::denied(&format!("run {run_name:?}")))?;
        for f in input.files.unwrap_or_default() {
            if liftoff_model::artifact::is_safe_artifact_path(&f) {
                let size = tokio::fs::metadata(
                    state
                        .config
                        .objects_dir
                        .join(format!("runs/{}/{f}", run.id)),
                )
                .await
                .map(|m| m.len() as i64)
                .unwrap_or(0);
                state
                    .store
                    .run_file_uploaded(run.id, &f, size, state.now())
                    .await?;
            }
        }
        Ok(MarkRunFilesUploadedPayload {
            success: true,
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn delete_run(
        &self,
        ctx: &Context<'_>,
        input: DeleteRunInput,
    ) -> ApiResult<DeleteRunPayload> {
        let state = st(ctx);
        let id = input
            .id
            .ok_or_else(|| ApiError::invalid("id is required"))?;
        let (run, _, _) = run_by_node_id(state, ctx, &id).await?;
        let _ = input.delete_artifacts;
        state.store.run_delete(run.id).await?;
        Ok(DeleteRunPayload {
            client_mutation_id: input.client_mutation_id,
        })
    }
}
