//! Queues, items and agents: the launch rules, independent of GraphQL.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use liftoff_model::agent::{AgentStatus, Liveness};
use liftoff_model::json::JsonString;
use liftoff_model::push::{check_job, merge_for_push};
use liftoff_model::queue::{
    DefaultResourceConfig, ExternalLinks, PrioritizationMode, QueueAccess, ResourceType,
    TemplateVariable, template_variables_from_input, validate_queue_name,
};
use liftoff_model::run::RunState;
use liftoff_model::schema::{JsonSchema, Problem};
use liftoff_model::spec::LaunchSpec;
use liftoff_model::status::{
    DisplayStatus, ItemState, QueueItem, RunView, StatusContext, display_status,
};
use liftoff_model::template::{summarize, validate_definitions};
use liftoff_model::{LAUNCH_PROJECT, Priority};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::access::{self, Caller, denied};
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::state::AppState;
use crate::store::{self, Entity, Item, Queue, QueueFields};

/// Largest run spec accepted (JSON text).
pub const MAX_SPEC_BYTES: usize = 1 << 20;

/// Parse a stored template-variable list.
pub fn stored_template_variables(text: &str) -> Vec<TemplateVariable> {
    serde_json::from_str::<Vec<Value>>(text)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| {
            let name = v.get("name")?.as_str()?.to_owned();
            let schema: JsonSchema = serde_json::from_value(v.get("schema")?.clone()).ok()?;
            Some(TemplateVariable::new(name, schema))
        })
        .collect()
}

fn store_template_variables(vars: &[TemplateVariable]) -> String {
    let list: Vec<Value> = vars
        .iter()
        .map(|v| json!({"name": v.name, "schema": v.schema()}))
        .collect();
    Value::Array(list).to_string()
}

/// A stored resource config as the model sees it.
pub fn resource_config(row: &store::ResourceConfig) -> ApiResult<DefaultResourceConfig> {
    let resource: ResourceType = row
        .resource
        .parse()
        .map_err(|e| ApiError::Internal(format!("stored resource: {e}")))?;
    Ok(DefaultResourceConfig {
        id: Some(ids::encode("DefaultResourceConfig", row.id)),
        resource,
        config: serde_json::from_str(&row.config).unwrap_or(Value::Null),
        template_variables: stored_template_variables(&row.template_variables),
    })
}

/// Validate a resource config input (`{"resource_args": {<resource>: {...}}}`
/// as a JSON string) and its template variables; every problem listed.
fn parse_config(
    resource: &str,
    config: &Value,
    template_variables: Option<&Value>,
) -> ApiResult<(ResourceType, Value, Vec<TemplateVariable>)> {
    let resource: ResourceType = resource
        .parse()
        .map_err(|e: liftoff_model::queue::ParseResourceError| ApiError::invalid(e.to_string()))?;
    let Some(args) = config.get("resource_args") else {
        return Err(ApiError::invalid(format!(
            "the resource config must look like {{\"resource_args\": {{\"{resource}\": {{...}}}}}}"
        )));
    };
    let inner = args
        .get(resource.as_str())
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !inner.is_object() {
        return Err(ApiError::invalid(format!(
            "resource_args.{resource} must be an object"
        )));
    }
    let vars = match template_variables {
        None | Some(Value::Null) => vec![],
        Some(v) => template_variables_from_input(v).map_err(ApiError::invalid)?,
    };
    let problems = validate_definitions(&inner, &vars);
    if !problems.is_empty() {
        return Err(ApiError::invalid(format!(
            "invalid queue config: {}",
            summarize(&problems)
        )));
    }
    Ok((resource, DefaultResourceConfig::wrap(resource, inner), vars))
}

pub async fn create_resource_config(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    resource: &str,
    config: &Value,
    template_variables: Option<&Value>,
) -> ApiResult<i64> {
    let entity = access::entity(state, caller, Some(entity)).await?;
    let (resource, config, vars) = parse_config(resource, config, template_variables)?;
    let row = state
        .store
        .resource_config_create(
            entity.id,
            resource.as_str(),
            &config.to_string(),
            &store_template_variables(&vars),
            state.now(),
        )
        .await?;
    Ok(row.id)
}

fn queue_fields(
    access: QueueAccess,
    mode: PrioritizationMode,
    config_id: Option<i64>,
    links: &ExternalLinks,
) -> QueueFields {
    QueueFields {
        access: serde_json::to_value(access)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "PROJECT".into()),
        prioritization_mode: mode.as_str().to_owned(),
        resource_config_id: config_id,
        external_links: serde_json::to_string(links).unwrap_or_else(|_| "{\"links\":[]}".into()),
        max_retries: 0,
    }
}

fn launch_project_name(project: Option<&str>) -> ApiResult<&str> {
    match project.unwrap_or(LAUNCH_PROJECT) {
        LAUNCH_PROJECT => Ok(LAUNCH_PROJECT),
        other => Err(ApiError::invalid(format!(
            "queues live in project \"{LAUNCH_PROJECT}\", not {other:?}; pass projectName: \"{LAUNCH_PROJECT}\""
        ))),
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn create_queue(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    project: Option<&str>,
    name: &str,
    access: QueueAccess,
    mode: Option<PrioritizationMode>,
    config_id: Option<&str>,
) -> ApiResult<Queue> {
    validate_queue_name(name).map_err(ApiError::invalid)?;
    let project = launch_project_name(project)?;
    let (entity, project) = access::project(state, caller, Some(entity), project)
        .await?
        .ok_or_else(|| denied("project"))?;
    let config_id = match config_id {
        Some(text) => {
            let id = ids::decode("DefaultResourceConfig", text).ok_or_else(|| {
                ApiError::invalid(format!("{text:?} is not a resource config id"))
            })?;
            let row = state
                .store
                .resource_config_get(id)
                .await?
                .ok_or_else(|| denied("resource config"))?;
            if row.entity_id != entity.id {
                return Err(denied("resource config"));
            }
            Some(id)
        }
        None => None,
    };
    let fields = queue_fields(
        access,
        mode.unwrap_or_default(),
        config_id,
        &ExternalLinks::default(),
    );
    let queue = state
        .store
        .queue_create(
            project.id,
            name,
            &fields,
            &caller.user.username,
            state.now(),
        )
        .await
        .map_err(|e| match e {
            store::Error::Conflict(_) => ApiError::Conflict(format!(
                "queue {name:?} already exists in entity {:?}",
                entity.name
            )),
            other => other.into(),
        })?;
    Ok(queue)
}

/// Create or replace a queue with its config (`upsertRunQueue`).
#[allow(clippy::too_many_arguments)]
pub async fn upsert_queue(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    project: Option<&str>,
    name: &str,
    resource: &str,
    config: &Value,
    template_variables: Option<&Value>,
    mode: Option<PrioritizationMode>,
    links: Option<&Value>,
) -> ApiResult<Queue> {
    validate_queue_name(name).map_err(ApiError::invalid)?;
    let project = launch_project_name(project)?;
    let (resource, config, vars) = parse_config(resource, config, template_variables)?;
    // Left out or null: none (wandb's `upsert_run_queue` sends null for
    // no links, and an upsert replaces them).
    let links: ExternalLinks = match links {
        None | Some(Value::Null) => ExternalLinks::default(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| ApiError::invalid(format!("externalLinks must look like {{\"links\": [{{\"label\": ..., \"url\": ...}}]}}: {e}")))?,
    };
    let (entity, project) = access::project(state, caller, Some(entity), project)
        .await?
        .ok_or_else(|| denied("project"))?;
    let vars_text = store_template_variables(&vars);
    // A new config row each time, which the queue then points at: the
    // queue's old one is left as it was (another queue created with the same
    // config id keeps its settings, and a failure part-way changes nothing).
    let config_id = state
        .store
        .resource_config_create(
            entity.id,
            resource.as_str(),
            &config.to_string(),
            &vars_text,
            state.now(),
        )
        .await?
        .id;
    // Twice at most: an upsert that meets a queue created meanwhile updates it.
    for _ in 0..2 {
        let Some(existing) = state.store.queue_get(project.id, name).await? else {
            let fields = queue_fields(
                QueueAccess::Project,
                mode.unwrap_or_default(),
                Some(config_id),
                &links,
            );
            match state
                .store
                .queue_create(
                    project.id,
                    name,
                    &fields,
                    &caller.user.username,
                    state.now(),
                )
                .await
            {
                Err(crate::store::Error::Conflict(_)) => continue,
                created => return Ok(created?),
            }
        };
        let access: QueueAccess =
            serde_json::from_value(json!(existing.access)).unwrap_or_default();
        // A prioritization left out stays as it was (wandb's client
        // always sends one).
        let mode = mode.unwrap_or_else(|| {
            serde_json::from_value(json!(existing.prioritization_mode)).unwrap_or_default()
        });
        let mut fields = queue_fields(access, mode, Some(config_id), &links);
        fields.max_retries = existing.max_retries;
        state.store.queue_update(existing.id, &fields).await?;
        state.queues_changed();
        return state
            .store
            .queue_by_id(existing.id)
            .await?
            .ok_or_else(|| denied("queue"));
    }
    Err(ApiError::Conflict(format!(
        "queue {name:?} was created and deleted while this upsert ran; send it again"
    )))
}

/// A queue by entity and name.
pub async fn queue(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    project: Option<&str>,
    name: &str,
) -> ApiResult<(Entity, Queue)> {
    let project = launch_project_name(project)?;
    let (entity, project) = access::project(state, caller, Some(entity), project)
        .await?
        .ok_or_else(|| denied("project"))?;
    match state.queue(project.id, name).await? {
        Some(q) => Ok((entity, q)),
        None => {
            let known: Vec<String> = state
                .store
                .queues_of_project(project.id)
                .await?
                .into_iter()
                .map(|q| q.name)
                .collect();
            let hint = if known.is_empty() {
                "it has no queues yet".to_owned()
            } else {
                format!("known queues: {}", known.join(", "))
            };
            Err(ApiError::NotFound(format!(
                "queue {name:?} not found in entity {:?}; {hint}",
                entity.name
            )))
        }
    }
}

/// The queue's default resource config, if it has one.
pub async fn queue_config(
    state: &AppState,
    queue: &Queue,
) -> ApiResult<Option<DefaultResourceConfig>> {
    match queue.resource_config_id {
        Some(id) => match state.resource_config(id).await? {
            Some(row) => Ok(Some(resource_config(&row)?)),
            None => Ok(None),
        },
        None => Ok(None),
    }
}

/// The agent makes the run in the spec's entity: one the pusher (or the
/// caller requeueing an item) belongs to, else the item could only fail
/// there, or make a run by way of a team's queue in an entity the caller
/// may not write to. The queue's own entity, and none, are always fine.
pub async fn check_run_entity(
    state: &AppState,
    caller: &Caller,
    queue_entity: &Entity,
    queue: &Queue,
    run_entity: Option<&str>,
) -> ApiResult<()> {
    let Some(dest) = run_entity.filter(|e| !e.is_empty() && *e != queue_entity.name) else {
        return Ok(());
    };
    crate::access::entity(state, caller, Some(dest))
        .await
        .map(drop)
        .map_err(|e| match e {
            ApiError::NotFound(_) => ApiError::invalid(format!(
                "cannot push to queue {:?}: the run's entity {dest:?} does not exist or is not one you belong to: launch into {:?} (yours) or a team you are in",
                queue.name, caller.user.username
            )),
            other => other,
        })
}

/// Push a spec: validate, merge with the queue's config, store, wake pollers.
/// Answers the item and the merged spec.
pub async fn push(
    state: &AppState,
    caller: &Caller,
    entity: &Entity,
    queue: &Queue,
    run_spec: &str,
    priority: Option<i64>,
    template_values: Option<&str>,
) -> ApiResult<(Item, Value)> {
    if run_spec.len() > MAX_SPEC_BYTES {
        return Err(ApiError::invalid(format!(
            "the run spec is {:.1} MB, over this server's limit of {:.1} MB: make the config smaller (large inputs belong in an artifact the job reads)",
            run_spec.len() as f64 / 1e6,
            MAX_SPEC_BYTES as f64 / 1e6
        )));
    }
    let mut spec = LaunchSpec::from_json(run_spec).map_err(|e| ApiError::invalid(e.to_string()))?;
    spec.validate_source()
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    check_run_entity(state, caller, entity, queue, spec.entity.as_deref()).await?;
    let mode: PrioritizationMode =
        serde_json::from_value(json!(queue.prioritization_mode)).unwrap_or_default();
    let priority = match priority {
        None => Priority::Medium,
        Some(level) => {
            let p = Priority::from_level(level).ok_or_else(|| {
                ApiError::invalid(format!(
                    "priority {level} is out of range: use 0 (critical) to 3 (low)"
                ))
            })?;
            if p != Priority::Medium && !mode.enabled() {
                return Err(ApiError::invalid(format!(
                    "queue {:?} does not use priorities (prioritization is DISABLED); push without a priority, or turn prioritization on (`liftoff queue update {0} -e {1} --prioritization on`, or the queue's Config tab in the web app)",
                    queue.name, entity.name
                )));
            }
            p
        }
    };
    let values: Map<String, Value> = match template_values {
        None => Map::new(),
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => m,
            Ok(Value::Null) => Map::new(),
            Ok(_) => {
                return Err(ApiError::invalid(
                    "templateVariableValues must be a JSON object like {\"cpu\": 4}",
                ));
            }
            Err(e) => {
                return Err(ApiError::invalid(format!(
                    "templateVariableValues is not valid JSON: {e}"
                )));
            }
        },
    };
    let config = queue_config(state, queue).await?;
    let refused = |problems: &[Problem]| {
        ApiError::invalid(format!(
            "cannot push to queue {:?}: {}",
            queue.name,
            summarize(problems)
        ))
    };
    merge_for_push(&mut spec, &queue.name, config.as_ref(), &values)
        .map_err(|problems| refused(&problems))?;
    // The image a job brings, once the job is read (its spec named none);
    // read only for a queue that could not run one.
    if let (Some(cfg), None, Some(job)) = (config.as_ref(), spec.image_field(), spec.job.as_deref())
        && !cfg.resource.runs_images()
        && let Some(job_spec) = crate::graphql::artifacts::job_spec(state, caller, job).await?
    {
        check_job(cfg.resource, job, &job_spec).map_err(|problem| refused(&[problem]))?;
    }
    let merged = spec.to_value();
    // The values the queue declares (others are ignored, as W&B does),
    // kept with the item for the queue page, a requeue and a retry.
    let declared: Map<String, Value> = values
        .into_iter()
        .filter(|(name, _)| {
            config
                .as_ref()
                .is_some_and(|c| c.template_variables.iter().any(|v| &v.name == name))
        })
        .collect();
    let kept = (!declared.is_empty()).then(|| Value::Object(declared).to_string());
    let item = state
        .store
        .item_push(
            queue.id,
            &merged.to_string(),
            kept.as_deref(),
            priority.level(),
            &caller.user.username,
            state.now(),
        )
        .await?;
    state.notify_queue(queue.id);
    Ok((item, merged))
}

/// Lease the next item; with `wait`, hold the call until one arrives.
pub async fn pop(
    state: &AppState,
    queue: &Queue,
    agent_id: Option<i64>,
    wait: Duration,
) -> ApiResult<Option<Item>> {
    let deadline = tokio::time::Instant::now() + wait;
    let prioritized = queue.prioritization_mode == "V0";
    let waiter = state.queue_waiter(queue.id);
    loop {
        let notified = waiter.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if let Some(item) = state
            .store
            .item_pop(
                queue.id,
                agent_id,
                prioritized,
                state.now(),
                state.config.lease_ms,
            )
            .await?
        {
            return Ok(Some(item));
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        // Another replica may take the push: look again at least every second.
        let nap = (deadline - now).min(Duration::from_secs(1));
        let _ = tokio::time::timeout(nap, notified).await;
    }
}

/// An item by (possibly leased) id, with its queue, if the caller may use it.
pub async fn item(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(Item, Option<i64>, Queue, Entity)> {
    let (item_id, lease) = ids::decode_item(id)
        .ok_or_else(|| ApiError::invalid(format!("{id:?} is not a run queue item id")))?;
    let item = state
        .store
        .item_get(item_id)
        .await?
        .ok_or_else(|| denied("run queue item"))?;
    let (entity, queue) = access::queue_by_id(state, caller, item.queue_id)
        .await
        .map_err(|_| denied("run queue item"))?;
    Ok((item, lease, queue, entity))
}

/// An item by (possibly leased) id, checking only that the caller may use
/// its queue (the agent's hot path: ack, fail, warn).
pub async fn item_for_agent(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<(Item, Option<i64>)> {
    let (item_id, lease) = ids::decode_item(id)
        .ok_or_else(|| ApiError::invalid(format!("{id:?} is not a run queue item id")))?;
    let item = state
        .store
        .item_get(item_id)
        .await?
        .ok_or_else(|| denied("run queue item"))?;
    access::queue_entity_id(state, caller, item.queue_id)
        .await
        .map_err(|_| denied("run queue item"))?;
    Ok((item, lease))
}

/// The display form of a stored item state: an expired lease is waiting.
pub fn item_state(item: &Item, now: i64) -> &str {
    if item.state == "LEASED" && item.lease_expires_at.is_some_and(|t| t < now) {
        "PENDING"
    } else {
        &item.state
    }
}

/// Decode the JSONString inputs of a push.
pub fn parse_json_input(name: &str, text: &str) -> ApiResult<Value> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::invalid(format!("{name} is not valid JSON: {e}")))
}

/// A template variable map from the `templateVariables` JSONString input.
pub fn parse_template_variables(text: Option<&str>) -> ApiResult<Option<Value>> {
    match text {
        None => Ok(None),
        Some(t) if t.trim().is_empty() => Ok(None),
        Some(t) => parse_json_input("templateVariables", t).map(Some),
    }
}

pub fn encode_schema(schema: &JsonSchema) -> String {
    serde_json::to_string(&JsonString(schema.clone()))
        .ok()
        .and_then(|s| serde_json::from_str::<String>(&s).ok())
        .unwrap_or_default()
}

/// A failed run is pushed again while the queue allows retries
/// (`maxRetries`, a Liftoff setting, 0 by default).
pub async fn retry_if_allowed(state: &AppState, item: &Item) -> ApiResult<Option<Item>> {
    let Some(queue) = state.store.queue_by_id(item.queue_id).await? else {
        return Ok(None);
    };
    if item.retries >= queue.max_retries {
        return Ok(None);
    }
    let mut spec: Value = serde_json::from_str(&item.run_spec).unwrap_or(Value::Null);
    if let Some(o) = spec.as_object_mut() {
        o.remove("run_id");
    }
    let of = Item {
        priority: copied_priority(&queue, item.priority),
        ..item.clone()
    };
    let copy = state
        .store
        .item_push_retry(&of, &spec.to_string(), state.now())
        .await?;
    let note = format!(
        "retry {} of {} pushed as item {}",
        item.retries + 1,
        queue.max_retries,
        ids::encode("RunQueueItem", copy.id)
    );
    state
        .store
        .item_warning_add(item.id, &note, "retry", "[]", state.now())
        .await?;
    state.notify_queue(queue.id);
    Ok(Some(copy))
}

/// Agents that stopped heartbeating are gone: each item they claimed fails
/// (stage `agent`, saying why) and its run, if still going, is `crashed`.
pub async fn reap_gone_agents(state: &AppState) -> ApiResult<()> {
    let now = state.now();
    let gone = state
        .store
        .agents_stale(now - state.config.agent_gone_after_ms)
        .await?;
    // Each step can be done again: an error part-way leaves the agent for
    // the next sweep (marked gone last, or its items would stay claimed),
    // and an item is failed before its run is crashed (a crashed run's item
    // is taken for one that ended on its own).
    for agent in gone {
        let last = crate::graphql::scalars::datetime(agent.heartbeat_at);
        tracing::warn!(
            agent = agent.name,
            "agent stopped sending heartbeats (last at {last})"
        );
        for item in state.store.items_claimed_by(&[agent.id]).await? {
            let mut crash = None;
            if let (Some(run_name), Some((_, home))) = (
                &item.associated_run_id,
                state.queue_home(item.queue_id).await?,
            ) && let Some((entity_name, project)) = spec_project(&item.run_spec, &home)
                && let Some(entity) = state.store.entity_by_name(&entity_name).await?
                && let Some(p) = state.store.project_get(entity.id, &project).await?
                && let Some(run) = state.store.run_get(p.id, run_name).await?
            {
                if liftoff_model::RunState::parse(&run.state).is_terminal() {
                    // The job ended before its agent went (W&B's agent never
                    // acks a finished item): the item shows its run's end.
                    continue;
                }
                crash = Some((p.id, run_name.clone(), run.created_by));
            }
            let message = format!(
                "agent {} on {} stopped sending heartbeats (last at {last} UTC){}; the job may still be running there",
                agent.name,
                agent.hostname,
                if crash.is_some() {
                    " and its run was marked crashed"
                } else {
                    ""
                }
            );
            let error = json!({"message": message, "stage": "agent", "filePaths": []});
            state
                .store
                .item_fail_if_owned(item.id, None, &error.to_string(), now)
                .await?;
            if let Some((project_id, run_name, created_by)) = crash {
                let f = crate::store::RunFields {
                    state: Some("crashed".into()),
                    ..Default::default()
                };
                state
                    .store
                    .run_upsert(project_id, &run_name, &f, &created_by, now)
                    .await?;
            }
        }
        state.store.agent_set_status(agent.id, "GONE").await?;
    }
    Ok(())
}

/// The queue ids an agent polls (its stored JSON list).
pub fn queue_ids(agent: &store::Agent) -> Vec<i64> {
    serde_json::from_str(&agent.queue_ids).unwrap_or_default()
}

/// A stored time (milliseconds since the epoch; the epoch itself when out of range).
pub fn instant(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Whether an agent is alive at `now` (the rule clients apply to `LaunchAgent`s).
fn agent_alive(agent: &store::Agent, now: OffsetDateTime) -> bool {
    let status = AgentStatus::parse(&agent.status);
    Liveness::of(&status, Some(instant(agent.heartbeat_at)), now).is_alive()
}

/// The entity and project an item's run goes to, from its spec (where the
/// agent creates it: `liftoff_model::spec::run_home`, with the queue's
/// entity when the spec names none); `None` when the spec is not JSON.
pub fn spec_project(run_spec: &str, queue_entity: &str) -> Option<(String, String)> {
    let spec: Value = serde_json::from_str(run_spec).ok()?;
    let field = |k: &str| spec.get(k).and_then(Value::as_str);
    Some(liftoff_model::spec::run_home(
        field("entity"),
        field("project"),
        field("job"),
        queue_entity,
    ))
}

/// What a user sees for one item (its row's Status, as [`status_counts`]
/// derives it): waiting, taken, or following its run and its agent.
pub async fn item_status(
    state: &AppState,
    caller: &Caller,
    item: &Item,
    entity: &Entity,
) -> ApiResult<DisplayStatus> {
    let now = instant(state.now());
    let stored = match item.state.as_str() {
        "PENDING" => ItemState::Pending,
        "LEASED" if item.lease_expires_at.is_some_and(|t| t < state.now()) => ItemState::Pending,
        "LEASED" => ItemState::Leased,
        "FAILED" => ItemState::Failed,
        _ => ItemState::Claimed,
    };
    let mut ctx = StatusContext {
        run: None,
        // Only which of Idle or Queued it is depends on it: both wait.
        queue_has_live_agent: false,
        owner_alive: None,
        now,
    };
    if stored == ItemState::Claimed
        && let Some(id) = item.agent_id
    {
        ctx.owner_alive = state
            .store
            .agent_get(id)
            .await?
            .map(|a| agent_alive(&a, now));
    }
    if matches!(stored, ItemState::Claimed | ItemState::Failed) {
        ctx.run = item_run(state, caller, item, entity).await?;
    }
    // A failed item's run may still be going: an item failed because its
    // agent went quiet keeps a job that may run on ("the job may still be
    // running there") and report again.
    if stored == ItemState::Failed
        && let Some(run) = &ctx.run
        && matches!(
            run.state,
            RunState::Pending | RunState::Running | RunState::Preempting
        )
        && run.heartbeat_at.is_some_and(|t| {
            (now - t).whole_seconds() <= liftoff_model::status::RUN_CRASHED_AFTER_SECS
        })
    {
        return Ok(DisplayStatus::Running);
    }
    Ok(display_status(&QueueItem::new("", stored), &ctx))
}

/// The state of an item's run, where its spec sends it (the project as
/// named, else lower-cased as wandb's agent makes it); `None` when it has
/// none yet or the caller cannot see it.
async fn item_run(
    state: &AppState,
    caller: &Caller,
    item: &Item,
    entity: &Entity,
) -> ApiResult<Option<RunView>> {
    let (Some(name), Some((run_entity, project))) = (
        &item.associated_run_id,
        spec_project(&item.run_spec, &entity.name),
    ) else {
        return Ok(None);
    };
    let lower = project.to_lowercase();
    let candidates = if lower == project {
        vec![project]
    } else {
        vec![project, lower]
    };
    for project in candidates {
        // A project the caller cannot see (or that is gone): as the counts.
        let Ok(Some((_, found))) =
            access::project(state, caller, Some(&run_entity), &project).await
        else {
            continue;
        };
        if let Some((_, run_state, heartbeat)) = state
            .store
            .run_states_by_names(found.id, std::slice::from_ref(name))
            .await?
            .into_iter()
            .next()
        {
            return Ok(Some(RunView {
                state: RunState::parse(&run_state),
                heartbeat_at: Some(instant(heartbeat)),
            }));
        }
    }
    Ok(None)
}

/// The priority a copy of an item (a requeue, a retry) is pushed with: its
/// own on a queue that uses priorities, else the default (a FIFO queue's
/// items all have it, so none jumps the line).
pub fn copied_priority(queue: &Queue, priority: i64) -> i64 {
    let mode: PrioritizationMode =
        serde_json::from_value(json!(queue.prioritization_mode)).unwrap_or_default();
    if mode.enabled() {
        priority
    } else {
        Priority::Medium.level()
    }
}

/// How many of a queue's items a user sees in each status (the queue page's
/// Status column, counted; `liftoff_model::status::display_status` for each
/// item): waiting items are Queued or Idle by whether an agent polls the
/// queue, started ones follow their run. Statuses in `DisplayStatus::ALL`
/// order, zeros left out.
pub async fn status_counts(
    state: &AppState,
    caller: &Caller,
    queue: &Queue,
    entity: &Entity,
) -> ApiResult<Vec<(DisplayStatus, i64)>> {
    let now_ms = state.now();
    let now = instant(now_ms);
    let agents: Vec<store::Agent> = state
        .store
        .agents_of_entity(entity.id)
        .await?
        .into_iter()
        .filter(|a| queue_ids(a).contains(&queue.id))
        .collect();
    // As the queue page: an agent told to stop polling takes nothing new.
    let live = agents
        .iter()
        .any(|a| !a.stop_polling && agent_alive(a, now));
    let mut counts = [0i64; DisplayStatus::ALL.len()];
    let mut add = |status: DisplayStatus, n: i64| {
        if let Some(i) = DisplayStatus::ALL.iter().position(|s| *s == status) {
            counts[i] += n;
        }
    };
    let context = |run: Option<RunView>, owner_alive: Option<bool>| StatusContext {
        run,
        queue_has_live_agent: live,
        owner_alive,
        now,
    };
    // The items in one read, so one that is claimed meanwhile counts once.
    let census = state.store.item_census(queue.id, now_ms).await?;
    for (stored, n) in census.counts {
        let item = match stored.as_str() {
            "PENDING" => ItemState::Pending,
            "LEASED" => ItemState::Leased,
            "FAILED" => ItemState::Failed,
            // Claimed items are counted one by one below, by their runs.
            _ => continue,
        };
        add(
            display_status(&QueueItem::new("", item), &context(None, None)),
            n,
        );
    }
    // Claimed items: (owner, run name, the run's entity and project).
    let claimed: Vec<_> = census
        .claimed
        .into_iter()
        .map(|(agent, run, spec)| (agent, run, spec_project(&spec, &entity.name)))
        .collect();
    // Their runs, one query per project.
    let mut by_project: BTreeMap<&(String, String), Vec<String>> = BTreeMap::new();
    for (_, run, at) in &claimed {
        if let (Some(name), Some(at)) = (run, at) {
            by_project.entry(at).or_default().push(name.clone());
        }
    }
    let mut runs: HashMap<(&(String, String), String), RunView> = HashMap::new();
    for (at, names) in by_project {
        // A project the caller cannot see (or that is gone): its runs are unknown.
        let Ok(Some((_, found))) = access::project(state, caller, Some(&at.0), &at.1).await else {
            continue;
        };
        for (name, run_state, heartbeat) in
            state.store.run_states_by_names(found.id, &names).await?
        {
            let view = RunView {
                state: RunState::parse(&run_state),
                heartbeat_at: Some(instant(heartbeat)),
            };
            runs.insert((at, name), view);
        }
    }
    for (agent, run, at) in &claimed {
        let run = match (run, at) {
            (Some(name), Some(at)) => runs.get(&(at, name.clone())).cloned(),
            _ => None,
        };
        let owner_alive = agent
            .and_then(|id| agents.iter().find(|a| a.id == id))
            .map(|a| agent_alive(a, now));
        let ctx = context(run, owner_alive);
        add(
            display_status(&QueueItem::new("", ItemState::Claimed), &ctx),
            1,
        );
    }
    Ok(DisplayStatus::ALL
        .into_iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .collect())
}
