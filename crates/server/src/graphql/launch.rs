//! Queues, items and agents in GraphQL (spec §2.2-2.4, Liftoff extensions).

use std::time::Duration;

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, SimpleObject};
use liftoff_model::agent::safe_agent_name;
use liftoff_model::queue::{PrioritizationMode, QueueAccess};
use liftoff_model::status::ItemError;
use serde_json::{Value, json};

use crate::access::{self, denied};
use crate::error::{ApiError, ApiResult};
use crate::graphql::identity::{caller, st};
use crate::graphql::runs::RunObj;
use crate::graphql::scalars::{JsonString, datetime};
use crate::ids;
use crate::launch::{self as svc, item_state, queue_ids};
use crate::store::{Agent, Entity, Item, Queue, ResourceConfig};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "RunQueueAccessType")]
pub enum AccessType {
    #[graphql(name = "PROJECT")]
    Project,
    #[graphql(name = "USER")]
    User,
}

impl From<AccessType> for QueueAccess {
    fn from(a: AccessType) -> Self {
        match a {
            AccessType::Project => QueueAccess::Project,
            AccessType::User => QueueAccess::User,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "RunQueuePrioritizationMode")]
pub enum PrioritizationModeGql {
    #[graphql(name = "DISABLED")]
    Disabled,
    V0,
}

impl From<PrioritizationModeGql> for PrioritizationMode {
    fn from(m: PrioritizationModeGql) -> Self {
        match m {
            PrioritizationModeGql::Disabled => PrioritizationMode::Disabled,
            PrioritizationModeGql::V0 => PrioritizationMode::V0,
        }
    }
}

pub struct DefaultResourceConfigObj(pub ResourceConfig);

#[derive(SimpleObject)]
pub struct TemplateVariable {
    name: String,
    /// The variable's JSON schema, as a compact JSON string.
    schema: String,
}

#[Object(name = "DefaultResourceConfig")]
impl DefaultResourceConfigObj {
    async fn id(&self) -> ID {
        ids::encode("DefaultResourceConfig", self.0.id).into()
    }
    async fn resource(&self) -> &str {
        &self.0.resource
    }
    /// `{"resource_args": {<resource>: {...}}}`.
    async fn config(&self) -> Json<Value> {
        Json(serde_json::from_str(&self.0.config).unwrap_or(Value::Null))
    }
    async fn template_variables(&self) -> Vec<TemplateVariable> {
        svc::stored_template_variables(&self.0.template_variables)
            .into_iter()
            .map(|v| TemplateVariable {
                schema: svc::encode_schema(v.schema()),
                name: v.name,
            })
            .collect()
    }
}

pub struct RunQueueObj {
    pub queue: Queue,
    pub entity: Entity,
}

#[derive(SimpleObject)]
pub struct PageInfo {
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

#[derive(SimpleObject)]
pub struct RunQueueItemEdge {
    node: RunQueueItemObj,
    cursor: String,
}

#[derive(SimpleObject)]
pub struct RunQueueItemConnection {
    edges: Vec<RunQueueItemEdge>,
    page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct ItemCount {
    state: String,
    count: i64,
}

/// Liftoff: how many items of a queue show a status.
#[derive(SimpleObject)]
pub struct StatusCount {
    status: String,
    count: i64,
}

#[Object(name = "RunQueue")]
impl RunQueueObj {
    async fn id(&self) -> ID {
        ids::encode("RunQueue", self.queue.id).into()
    }
    async fn name(&self) -> &str {
        &self.queue.name
    }
    async fn entity_name(&self) -> &str {
        &self.entity.name
    }
    async fn access(&self) -> &str {
        &self.queue.access
    }
    async fn created_by(&self) -> &str {
        &self.queue.created_by
    }
    async fn created_at(&self) -> String {
        datetime(self.queue.created_at)
    }
    async fn prioritization_mode(&self) -> &str {
        &self.queue.prioritization_mode
    }
    #[graphql(name = "defaultResourceConfigID")]
    async fn default_resource_config_id(&self) -> Option<ID> {
        self.queue
            .resource_config_id
            .map(|id| ids::encode("DefaultResourceConfig", id).into())
    }
    async fn default_resource_config(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<DefaultResourceConfigObj>> {
        let Some(id) = self.queue.resource_config_id else {
            return Ok(None);
        };
        Ok(st(ctx)
            .store
            .resource_config_get(id)
            .await?
            .map(DefaultResourceConfigObj))
    }
    async fn external_links(&self) -> Json<Value> {
        Json(
            serde_json::from_str(&self.queue.external_links)
                .unwrap_or_else(|_| json!({"links": []})),
        )
    }
    /// Liftoff: how many failed runs an item is retried (0: never).
    async fn max_retries(&self) -> i64 {
        self.queue.max_retries
    }
    /// Items, newest first. `after` is the cursor of the last item seen.
    async fn run_queue_items(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<RunQueueItemConnection> {
        let limit = i64::from(first.unwrap_or(100).clamp(1, 1000));
        let before = match after.as_deref() {
            Some(c) if !c.is_empty() => Some(ids::decode("Cursor", c).ok_or_else(|| {
                ApiError::invalid(format!("{c:?} is not a cursor from this server"))
            })?),
            _ => None,
        };
        let mut items = st(ctx)
            .store
            .items_of_queue(self.queue.id, limit + 1, before)
            .await?;
        let has_next_page = items.len() as i64 > limit;
        items.truncate(limit as usize);
        let end_cursor = items.last().map(|i| ids::encode("Cursor", i.id));
        Ok(RunQueueItemConnection {
            edges: items
                .into_iter()
                .map(|item| RunQueueItemEdge {
                    cursor: ids::encode("Cursor", item.id),
                    node: RunQueueItemObj {
                        item,
                        queue: self.queue.clone(),
                        entity: self.entity.clone(),
                        id_override: None,
                    },
                })
                .collect(),
            page_info: PageInfo {
                end_cursor,
                has_next_page,
            },
        })
    }
    async fn run_queue_item(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<Option<RunQueueItemObj>> {
        let Some((item_id, _)) = ids::decode_item(&id) else {
            return Ok(None);
        };
        let item = st(ctx).store.item_get(item_id).await?;
        Ok(item
            .filter(|i| i.queue_id == self.queue.id)
            .map(|item| RunQueueItemObj {
                item,
                queue: self.queue.clone(),
                entity: self.entity.clone(),
                id_override: None,
            }))
    }
    /// Liftoff: the agents polling this queue.
    async fn launch_agents(&self, ctx: &Context<'_>) -> ApiResult<Vec<LaunchAgentObj>> {
        let agents = st(ctx).store.agents_of_entity(self.entity.id).await?;
        Ok(agents
            .into_iter()
            .filter(|a| queue_ids(a).contains(&self.queue.id))
            .map(|a| LaunchAgentObj {
                agent: a,
                entity: self.entity.clone(),
            })
            .collect())
    }
    /// Liftoff: item counts by what a user sees (`Idle`, `Queued`, `Pending`,
    /// `Running`, `Finished`, `Failed`, `Crashed`, `Killed`), from each item,
    /// its run and the queue's agents, as the queue's items list shows them.
    async fn status_counts(&self, ctx: &Context<'_>) -> ApiResult<Vec<StatusCount>> {
        let counts = svc::status_counts(st(ctx), caller(ctx), &self.queue, &self.entity).await?;
        Ok(counts
            .into_iter()
            .map(|(status, count)| StatusCount {
                status: status.label().to_owned(),
                count,
            })
            .collect())
    }
    /// Liftoff: item counts by state (expired leases count as PENDING).
    async fn item_counts(&self, ctx: &Context<'_>) -> ApiResult<Vec<ItemCount>> {
        let state = st(ctx);
        let counts = state.store.item_counts(self.queue.id, state.now()).await?;
        Ok(counts
            .into_iter()
            .map(|(state, count)| ItemCount { state, count })
            .collect())
    }
}

pub struct RunQueueItemObj {
    pub item: Item,
    pub queue: Queue,
    pub entity: Entity,
    pub id_override: Option<String>,
}

#[derive(SimpleObject)]
pub struct RunQueueItemError {
    message: String,
    stage: String,
    file_paths: Vec<String>,
}

#[derive(SimpleObject)]
pub struct RunQueueItemWarning {
    message: String,
    stage: String,
    file_paths: Vec<String>,
    created_at: String,
}

#[Object(name = "RunQueueItem")]
impl RunQueueItemObj {
    async fn id(&self) -> ID {
        self.id_override
            .clone()
            .unwrap_or_else(|| ids::encode("RunQueueItem", self.item.id))
            .into()
    }
    /// PENDING, LEASED, CLAIMED or FAILED (an expired lease reads PENDING).
    async fn state(&self, ctx: &Context<'_>) -> String {
        item_state(&self.item, st(ctx).now()).to_owned()
    }
    async fn associated_run_id(&self) -> Option<&str> {
        self.item.associated_run_id.as_deref()
    }
    async fn run_spec(&self) -> Json<Value> {
        Json(serde_json::from_str(&self.item.run_spec).unwrap_or(Value::Null))
    }
    /// The template-variable values it was pushed with (null: none).
    async fn template_variable_values(&self) -> Option<Json<Value>> {
        let text = self.item.template_values.as_deref()?;
        serde_json::from_str(text).ok().map(Json)
    }
    async fn priority(&self) -> i64 {
        self.item.priority
    }
    async fn created_at(&self) -> String {
        datetime(self.item.created_at)
    }
    async fn created_by(&self) -> &str {
        &self.item.created_by
    }
    async fn claimed_at(&self) -> Option<String> {
        self.item.claimed_at.map(datetime)
    }
    async fn launch_agent_id(&self) -> Option<ID> {
        self.item
            .agent_id
            .map(|a| ids::encode("LaunchAgent", a).into())
    }
    async fn retries(&self) -> i64 {
        self.item.retries
    }
    async fn error(&self) -> Option<RunQueueItemError> {
        let e: ItemError = serde_json::from_str(self.item.error.as_deref()?).ok()?;
        Some(RunQueueItemError {
            message: e.message,
            stage: e.stage,
            file_paths: e.file_paths,
        })
    }
    async fn warnings(&self, ctx: &Context<'_>) -> ApiResult<Vec<RunQueueItemWarning>> {
        let rows = st(ctx).store.item_warnings(&[self.item.id]).await?;
        Ok(rows
            .into_iter()
            .map(|w| RunQueueItemWarning {
                message: w.message,
                stage: w.stage,
                file_paths: serde_json::from_str(&w.file_paths).unwrap_or_default(),
                created_at: datetime(w.created_at),
            })
            .collect())
    }
    /// Liftoff: the queue the item is in.
    async fn run_queue(&self) -> RunQueueObj {
        RunQueueObj {
            queue: self.queue.clone(),
            entity: self.entity.clone(),
        }
    }
    /// Liftoff: the run the item started (in the spec's entity and project).
    async fn run(&self, ctx: &Context<'_>) -> ApiResult<Option<RunObj>> {
        let Some(name) = &self.item.associated_run_id else {
            return Ok(None);
        };
        let Some((entity, project)) = svc::spec_project(&self.item.run_spec, &self.entity.name)
        else {
            return Ok(None);
        };
        let state = st(ctx);
        let Ok(Some((entity, project))) =
            access::project(state, caller(ctx), Some(&entity), &project).await
        else {
            return Ok(None);
        };
        Ok(state
            .store
            .run_get(project.id, name)
            .await?
            .map(|r| RunObj::new(r, entity, project)))
    }
}

pub struct LaunchAgentObj {
    pub agent: Agent,
    pub entity: Entity,
}

#[Object(name = "LaunchAgent")]
impl LaunchAgentObj {
    async fn id(&self) -> ID {
        ids::encode("LaunchAgent", self.agent.id).into()
    }
    async fn name(&self) -> &str {
        &self.agent.name
    }
    async fn run_queues(&self) -> Vec<ID> {
        queue_ids(&self.agent)
            .into_iter()
            .map(|q| ids::encode("RunQueue", q).into())
            .collect()
    }
    async fn hostname(&self) -> &str {
        &self.agent.hostname
    }
    async fn agent_status(&self) -> &str {
        &self.agent.status
    }
    async fn stop_polling(&self) -> bool {
        self.agent.stop_polling
    }
    async fn heartbeat_at(&self) -> String {
        datetime(self.agent.heartbeat_at)
    }
    async fn created_at(&self) -> String {
        datetime(self.agent.created_at)
    }
    async fn version(&self) -> Option<&str> {
        self.agent.version.as_deref()
    }
    async fn agent_config(&self) -> Json<Value> {
        Json(serde_json::from_str(&self.agent.config).unwrap_or(Value::Null))
    }
    async fn entity_name(&self) -> &str {
        &self.entity.name
    }
}

#[derive(Default)]
pub struct LaunchQuery;

#[Object]
impl LaunchQuery {
    async fn launch_agent(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<LaunchAgentObj>> {
        let Some(id) = ids::decode("LaunchAgent", &id) else {
            return Ok(None);
        };
        let state = st(ctx);
        let Some(agent) = state.store.agent_get(id).await? else {
            return Ok(None);
        };
        let Some(entity) = state.store.entity_by_id(agent.entity_id).await? else {
            return Ok(None);
        };
        if !state
            .store
            .member_is(entity.id, caller(ctx).user.id)
            .await?
        {
            return Ok(None);
        }
        Ok(Some(LaunchAgentObj { agent, entity }))
    }
}

// ---- mutation inputs and payloads ----

#[derive(InputObject)]
pub struct CreateDefaultResourceConfigInput {
    entity_name: Option<String>,
    resource: Option<String>,
    config: Option<JsonString>,
    template_variables: Option<JsonString>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateDefaultResourceConfigPayload {
    #[graphql(name = "defaultResourceConfigID")]
    default_resource_config_id: Option<ID>,
    success: bool,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct CreateRunQueueInput {
    entity_name: Option<String>,
    project_name: Option<String>,
    queue_name: Option<String>,
    access: Option<AccessType>,
    prioritization_mode: Option<PrioritizationModeGql>,
    #[graphql(name = "defaultResourceConfigID")]
    default_resource_config_id: Option<ID>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateRunQueuePayload {
    success: Option<bool>,
    #[graphql(name = "queueID")]
    queue_id: Option<ID>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct UpsertRunQueueInput {
    entity_name: Option<String>,
    project_name: Option<String>,
    queue_name: Option<String>,
    resource_type: Option<String>,
    resource_config: Option<JsonString>,
    template_variables: Option<JsonString>,
    prioritization_mode: Option<PrioritizationModeGql>,
    external_links: Option<JsonString>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct UpsertRunQueuePayload {
    success: Option<bool>,
    config_schema_validation_errors: Option<Vec<String>>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct DeleteRunQueuesInput {
    #[graphql(name = "queueIDs")]
    queue_ids: Option<Vec<ID>>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct SuccessPayload {
    success: bool,
    client_mutation_id: Option<String>,
}

impl SuccessPayload {
    fn of(success: bool, client_mutation_id: Option<String>) -> Self {
        Self {
            success,
            client_mutation_id,
        }
    }
}

#[derive(InputObject)]
pub struct DeleteFromRunQueueInput {
    #[graphql(name = "queueID")]
    queue_id: Option<ID>,
    run_queue_item_id: Option<ID>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct PushToRunQueueByNameInput {
    entity_name: Option<String>,
    project_name: Option<String>,
    queue_name: Option<String>,
    run_spec: Option<JsonString>,
    priority: Option<i64>,
    template_variable_values: Option<JsonString>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct PushToRunQueueByNamePayload {
    run_queue_item_id: ID,
    /// The merged spec, as a JSON string.
    run_spec: JsonString,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct PushToRunQueueInput {
    #[graphql(name = "queueID")]
    queue_id: Option<ID>,
    run_spec: Option<JsonString>,
    priority: Option<i64>,
    template_variable_values: Option<JsonString>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct PushToRunQueuePayload {
    run_queue_item_id: ID,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct PopFromRunQueueInput {
    entity_name: Option<String>,
    project_name: Option<String>,
    queue_name: Option<String>,
    launch_agent_id: Option<ID>,
    /// Liftoff: hold the call up to this many seconds for an item.
    wait_seconds: Option<i32>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct PopFromRunQueuePayload {
    run_queue_item_id: ID,
    /// The merged spec, a JSON object.
    run_spec: Json<Value>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct AckRunQueueItemInput {
    run_queue_item_id: Option<ID>,
    run_name: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct FailRunQueueItemInput {
    run_queue_item_id: Option<ID>,
    message: Option<String>,
    stage: Option<String>,
    file_paths: Option<Vec<String>>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateRunQueueItemWarningInput {
    run_queue_item_id: Option<ID>,
    message: Option<String>,
    stage: Option<String>,
    file_paths: Option<Vec<String>>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct CreateLaunchAgentInput {
    entity_name: Option<String>,
    project_name: Option<String>,
    run_queues: Option<Vec<ID>>,
    hostname: Option<String>,
    agent_config: Option<JsonString>,
    version: Option<String>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct CreateLaunchAgentPayload {
    launch_agent_id: ID,
    name: String,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateLaunchAgentInput {
    launch_agent_id: Option<ID>,
    agent_status: Option<String>,
    /// Liftoff: ask the agent to stop polling.
    stop_polling: Option<bool>,
    client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateRunQueueItemPriorityInput {
    run_queue_item_id: Option<ID>,
    priority: Option<i64>,
}

#[derive(InputObject)]
pub struct UpdateRunQueueInput {
    #[graphql(name = "queueID")]
    queue_id: Option<ID>,
    /// Retry a failed run this many times (0: never).
    max_retries: Option<i64>,
    prioritization_mode: Option<PrioritizationModeGql>,
}

#[derive(InputObject)]
pub struct RunQueueItemIdInput {
    run_queue_item_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct RequeuePayload {
    success: bool,
    run_queue_item_id: Option<ID>,
}

fn required<T>(value: Option<T>, field: &str) -> ApiResult<T> {
    value.ok_or_else(|| ApiError::invalid(format!("{field} is required")))
}

fn required_str(value: Option<String>, field: &str) -> ApiResult<String> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::invalid(format!("{field} is required")))
}

/// Cap free text stored from agents (messages, stages).
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes cut)", &text[..end], text.len() - end)
}

#[derive(Default)]
pub struct LaunchMutation;

#[Object]
impl LaunchMutation {
    async fn create_default_resource_config(
        &self,
        ctx: &Context<'_>,
        input: CreateDefaultResourceConfigInput,
    ) -> ApiResult<CreateDefaultResourceConfigPayload> {
        let entity = required_str(input.entity_name, "entityName")?;
        let resource = required_str(input.resource, "resource")?;
        let config = required(input.config, "config")?;
        let vars = input
            .template_variables
            .map(|t| t.0)
            .filter(|v| !v.is_null());
        let id = svc::create_resource_config(
            st(ctx),
            caller(ctx),
            &entity,
            &resource,
            &config.0,
            vars.as_ref(),
        )
        .await?;
        Ok(CreateDefaultResourceConfigPayload {
            default_resource_config_id: Some(ids::encode("DefaultResourceConfig", id).into()),
            success: true,
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn create_run_queue(
        &self,
        ctx: &Context<'_>,
        input: CreateRunQueueInput,
    ) -> ApiResult<CreateRunQueuePayload> {
        let entity = required_str(input.entity_name, "entityName")?;
        let name = required_str(input.queue_name, "queueName")?;
        let access = input.access.map(QueueAccess::from).unwrap_or_default();
        let queue = svc::create_queue(
            st(ctx),
            caller(ctx),
            &entity,
            input.project_name.as_deref(),
            &name,
            access,
            input.prioritization_mode.map(Into::into),
            input
                .default_resource_config_id
                .as_ref()
                .map(|i| i.as_str()),
        )
        .await?;
        Ok(CreateRunQueuePayload {
            success: Some(true),
            queue_id: Some(ids::encode("RunQueue", queue.id).into()),
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn upsert_run_queue(
        &self,
        ctx: &Context<'_>,
        input: UpsertRunQueueInput,
    ) -> ApiResult<UpsertRunQueuePayload> {
        let entity = required_str(input.entity_name, "entityName")?;
        let name = required_str(input.queue_name, "queueName")?;
        let resource = required_str(input.resource_type, "resourceType")?;
        let config = required(input.resource_config, "resourceConfig")?;
        let vars = input
            .template_variables
            .map(|t| t.0)
            .filter(|v| !v.is_null());
        let links = input.external_links.map(|t| t.0);
        svc::upsert_queue(
            st(ctx),
            caller(ctx),
            &entity,
            input.project_name.as_deref(),
            &name,
            &resource,
            &config.0,
            vars.as_ref(),
            input.prioritization_mode.map(Into::into),
            links.as_ref(),
        )
        .await?;
        Ok(UpsertRunQueuePayload {
            success: Some(true),
            config_schema_validation_errors: Some(vec![]),
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn delete_run_queues(
        &self,
        ctx: &Context<'_>,
        input: DeleteRunQueuesInput,
    ) -> ApiResult<SuccessPayload> {
        let state = st(ctx);
        let ids_in = required(input.queue_ids, "queueIDs")?;
        // Check every queue first: all or nothing.
        let mut queues = Vec::new();
        for id in &ids_in {
            let qid = ids::decode("RunQueue", id).ok_or_else(|| {
                ApiError::invalid(format!("{:?} is not a run queue id", id.as_str()))
            })?;
            queues.push(access::queue_by_id(state, caller(ctx), qid).await?.1);
        }
        for q in queues {
            state.store.queue_delete(q.id).await?;
            state.forget_queue(q.id);
        }
        Ok(SuccessPayload::of(true, input.client_mutation_id))
    }

    async fn delete_from_run_queue(
        &self,
        ctx: &Context<'_>,
        input: DeleteFromRunQueueInput,
    ) -> ApiResult<SuccessPayload> {
        let state = st(ctx);
        let item_id = required(input.run_queue_item_id, "runQueueItemId")?;
        let (item, _, queue, _) = svc::item(state, caller(ctx), &item_id).await?;
        // A queue id that does not decode is refused, not skipped: the
        // delete must not happen on a check that never ran.
        if let Some(given) = input.queue_id.as_deref() {
            let q = ids::decode("RunQueue", given).ok_or_else(|| {
                ApiError::invalid(format!(
                    "queueID {given:?} is not a run queue id (RunQueue ids come from the queue's `id`); leave it out to delete by item id alone"
                ))
            })?;
            if q != queue.id {
                return Err(ApiError::invalid("that item is not in that queue"));
            }
        }
        let deleted = state.store.item_delete(item.id).await?;
        Ok(SuccessPayload::of(deleted, input.client_mutation_id))
    }

    async fn push_to_run_queue_by_name(
        &self,
        ctx: &Context<'_>,
        input: PushToRunQueueByNameInput,
    ) -> ApiResult<PushToRunQueueByNamePayload> {
        let state = st(ctx);
        let entity = required_str(input.entity_name, "entityName")?;
        let name = required_str(input.queue_name, "queueName")?;
        let spec = required(input.run_spec, "runSpec")?;
        let (entity, queue) = svc::queue(
            state,
            caller(ctx),
            &entity,
            input.project_name.as_deref(),
            &name,
        )
        .await?;
        let tv = input.template_variable_values.map(|t| t.0.to_string());
        let (item, merged) = svc::push(
            state,
            caller(ctx),
            &entity,
            &queue,
            &spec.0.to_string(),
            input.priority,
            tv.as_deref(),
        )
        .await?;
        Ok(PushToRunQueueByNamePayload {
            run_queue_item_id: ids::encode("RunQueueItem", item.id).into(),
            run_spec: JsonString(merged),
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn push_to_run_queue(
        &self,
        ctx: &Context<'_>,
        input: PushToRunQueueInput,
    ) -> ApiResult<PushToRunQueuePayload> {
        let state = st(ctx);
        let qid = required(input.queue_id, "queueID")?;
        let qid = ids::decode("RunQueue", &qid).ok_or_else(|| {
            ApiError::invalid(format!("{:?} is not a run queue id", qid.as_str()))
        })?;
        let spec = required(input.run_spec, "runSpec")?;
        let (entity, queue) = access::queue_by_id(state, caller(ctx), qid).await?;
        let tv = input.template_variable_values.map(|t| t.0.to_string());
        let (item, _) = svc::push(
            state,
            caller(ctx),
            &entity,
            &queue,
            &spec.0.to_string(),
            input.priority,
            tv.as_deref(),
        )
        .await?;
        Ok(PushToRunQueuePayload {
            run_queue_item_id: ids::encode("RunQueueItem", item.id).into(),
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn pop_from_run_queue(
        &self,
        ctx: &Context<'_>,
        input: PopFromRunQueueInput,
    ) -> ApiResult<Option<PopFromRunQueuePayload>> {
        let state = st(ctx);
        let entity = required_str(input.entity_name, "entityName")?;
        let name = required_str(input.queue_name, "queueName")?;
        let (entity, queue) = svc::queue(
            state,
            caller(ctx),
            &entity,
            input.project_name.as_deref(),
            &name,
        )
        .await?;
        let agent_id = match input.launch_agent_id.as_deref() {
            Some(a) => {
                let id = ids::decode("LaunchAgent", a)
                    .ok_or_else(|| ApiError::invalid(format!("{a:?} is not a launch agent id")))?;
                let agent = state
                    .store
                    .agent_get(id)
                    .await?
                    .ok_or_else(|| denied("launch agent"))?;
                if agent.entity_id != entity.id {
                    return Err(denied("launch agent"));
                }
                Some(id)
            }
            None => None,
        };
        let max = state.config.long_poll_max_secs;
        let wait = Duration::from_secs(
            u64::try_from(input.wait_seconds.unwrap_or(0))
                .unwrap_or(0)
                .min(max),
        );
        let Some(item) = svc::pop(state, &queue, agent_id, wait).await? else {
            return Ok(None);
        };
        Ok(Some(PopFromRunQueuePayload {
            run_queue_item_id: ids::encode_leased_item(item.id, item.lease_seq).into(),
            run_spec: Json(serde_json::from_str(&item.run_spec).unwrap_or(Value::Null)),
            client_mutation_id: input.client_mutation_id,
        }))
    }

    async fn ack_run_queue_item(
        &self,
        ctx: &Context<'_>,
        input: AckRunQueueItemInput,
    ) -> ApiResult<SuccessPayload> {
        let state = st(ctx);
        let id = required(input.run_queue_item_id, "runQueueItemId")?;
        let run = required_str(input.run_name, "runName")?;
        // The item would wait for a run no upsertBucket can make.
        if run == "None" {
            return Err(ApiError::invalid(format!(
                "runName {run:?} is not a run id"
            )));
        }
        crate::graphql::runs::validate_run_name(&run)?;
        let (item, lease) = svc::item_for_agent(state, caller(ctx), &id).await?;
        let mut ok = state
            .store
            .item_ack_if_leased(item.id, lease, &run, state.now())
            .await?;
        if !ok {
            // The same ack again (its answer lost on the way, so the agent
            // asked twice): done already, so a success.
            ok = state.store.item_get(item.id).await?.is_some_and(|now| {
                now.state == "CLAIMED"
                    && now.associated_run_id.as_deref() == Some(run.as_str())
                    && lease.is_none_or(|l| l == now.lease_seq)
            });
        }
        Ok(SuccessPayload::of(ok, input.client_mutation_id))
    }

    async fn fail_run_queue_item(
        &self,
        ctx: &Context<'_>,
        input: FailRunQueueItemInput,
    ) -> ApiResult<SuccessPayload> {
        let state = st(ctx);
        let id = required(input.run_queue_item_id, "runQueueItemId")?;
        let message = required(input.message, "message")?;
        let stage = required_str(input.stage, "stage")?;
        let (item, lease) = svc::item_for_agent(state, caller(ctx), &id).await?;
        let error = ItemError {
            message: clip(&message, 64 << 10),
            stage: clip(&stage, 64),
            file_paths: input.file_paths.unwrap_or_default(),
        };
        let ok = state
            .store
            .item_fail_if_owned(item.id, lease, &json!(error).to_string(), state.now())
            .await?;
        if ok && stage == "run" {
            svc::retry_if_allowed(state, &item).await?;
        }
        Ok(SuccessPayload::of(ok, input.client_mutation_id))
    }

    async fn update_run_queue_item_warning(
        &self,
        ctx: &Context<'_>,
        input: UpdateRunQueueItemWarningInput,
    ) -> ApiResult<SuccessPayload> {
        let state = st(ctx);
        let id = required(input.run_queue_item_id, "runQueueItemId")?;
        let message = required(input.message, "message")?;
        let stage = required_str(input.stage, "stage")?;
        let (item, _) = svc::item_for_agent(state, caller(ctx), &id).await?;
        let paths = json!(input.file_paths.unwrap_or_default()).to_string();
        let ok = state
            .store
            .item_warning_add(
                item.id,
                &clip(&message, 64 << 10),
                &clip(&stage, 64),
                &paths,
                state.now(),
            )
            .await?;
        Ok(SuccessPayload::of(ok, input.client_mutation_id))
    }

    async fn create_launch_agent(
        &self,
        ctx: &Context<'_>,
        input: CreateLaunchAgentInput,
    ) -> ApiResult<CreateLaunchAgentPayload> {
        let state = st(ctx);
        let entity = required_str(input.entity_name, "entityName")?;
        let (entity, project) = access::project(
            state,
            caller(ctx),
            Some(&entity),
            input
                .project_name
                .as_deref()
                .unwrap_or(liftoff_model::LAUNCH_PROJECT),
        )
        .await?
        .ok_or_else(|| denied("project"))?;
        let mut queue_ids = Vec::new();
        for q in input.run_queues.unwrap_or_default() {
            let id = ids::decode("RunQueue", &q).ok_or_else(|| {
                ApiError::invalid(format!("{:?} is not a run queue id", q.as_str()))
            })?;
            let (qe, _) = access::queue_by_id(state, caller(ctx), id).await?;
            if qe.id != entity.id {
                return Err(ApiError::invalid(
                    "an agent polls queues of its own entity only",
                ));
            }
            queue_ids.push(id);
        }
        let hostname = clip(input.hostname.as_deref().unwrap_or("unknown"), 255);
        let config = input.agent_config.map(|c| c.0).unwrap_or_else(|| json!({}));
        // Run-id and label safe: `<host>-<6 base36 chars>` (from the clock, so
        // names sort by creation; retried on the rare clash).
        let host = safe_agent_name(&hostname)
            .chars()
            .take(48)
            .collect::<String>();
        let mut attempt = 0;
        let agent = loop {
            let name = format!("{host}-{}", base36_suffix(state.now() + attempt));
            match state
                .store
                .agent_create(
                    entity.id,
                    project.id,
                    &name,
                    &hostname,
                    &json!(queue_ids).to_string(),
                    &config.to_string(),
                    input.version.as_deref(),
                    state.now(),
                )
                .await
            {
                Err(crate::store::Error::Conflict(_)) if attempt < 16 => attempt += 1,
                other => break other?,
            }
        };
        Ok(CreateLaunchAgentPayload {
            launch_agent_id: ids::encode("LaunchAgent", agent.id).into(),
            name: agent.name,
            client_mutation_id: input.client_mutation_id,
        })
    }

    async fn update_launch_agent(
        &self,
        ctx: &Context<'_>,
        input: UpdateLaunchAgentInput,
    ) -> ApiResult<SuccessPayload> {
        let state = st(ctx);
        let id = required(input.launch_agent_id, "launchAgentId")?;
        let id = ids::decode("LaunchAgent", &id).ok_or_else(|| {
            ApiError::invalid(format!("{:?} is not a launch agent id", id.as_str()))
        })?;
        let agent = state
            .store
            .agent_get(id)
            .await?
            .ok_or_else(|| denied("launch agent"))?;
        if !state
            .store
            .member_is(agent.entity_id, caller(ctx).user.id)
            .await?
        {
            return Err(denied("launch agent"));
        }
        if input.stop_polling == Some(true) {
            state.store.agent_stop_polling(id).await?;
        }
        if let Some(status) = input.agent_status.as_deref() {
            let status = status.trim().to_ascii_uppercase();
            if status.is_empty() || status.len() > 32 {
                return Err(ApiError::invalid(
                    "agentStatus must be 1 to 32 characters: POLLING, RUNNING or KILLED (what wandb's agent sends)",
                ));
            }
            state
                .store
                .agent_heartbeat(id, Some(&status), state.now())
                .await?;
        } else if input.stop_polling.is_none() {
            state.store.agent_heartbeat(id, None, state.now()).await?;
        }
        Ok(SuccessPayload::of(true, input.client_mutation_id))
    }

    /// Liftoff: change a queue's settings (retries, prioritization).
    async fn update_run_queue(
        &self,
        ctx: &Context<'_>,
        input: UpdateRunQueueInput,
    ) -> ApiResult<SuccessPayload> {
        let state = st(ctx);
        let id = required(input.queue_id, "queueID")?;
        let qid = ids::decode("RunQueue", &id)
            .ok_or_else(|| ApiError::invalid(format!("{:?} is not a run queue id", id.as_str())))?;
        let (_, queue) = access::queue_by_id(state, caller(ctx), qid).await?;
        let mut fields = crate::store::QueueFields {
            access: queue.access.clone(),
            prioritization_mode: queue.prioritization_mode.clone(),
            resource_config_id: queue.resource_config_id,
            external_links: queue.external_links.clone(),
            max_retries: queue.max_retries,
        };
        if let Some(n) = input.max_retries {
            if !(0..=10).contains(&n) {
                return Err(ApiError::invalid(format!(
                    "maxRetries {n} is out of range: use 0 to 10"
                )));
            }
            fields.max_retries = n;
        }
        if let Some(m) = input.prioritization_mode {
            fields.prioritization_mode = PrioritizationMode::from(m).as_str().to_owned();
        }
        state.store.queue_update(qid, &fields).await?;
        state.queues_changed();
        Ok(SuccessPayload::of(true, None))
    }

    /// Liftoff: change the priority of a waiting item.
    async fn update_run_queue_item_priority(
        &self,
        ctx: &Context<'_>,
        input: UpdateRunQueueItemPriorityInput,
    ) -> ApiResult<SuccessPayload> {
        let state = st(ctx);
        let id = required(input.run_queue_item_id, "runQueueItemId")?;
        let level = required(input.priority, "priority")?;
        let p = liftoff_model::Priority::from_level(level).ok_or_else(|| {
            ApiError::invalid(format!(
                "priority {level} is out of range: use 0 (critical) to 3 (low)"
            ))
        })?;
        let (item, _, queue, entity) = svc::item(state, caller(ctx), &id).await?;
        // The item first: turning priorities on would not help one that ran.
        if item_state(&item, state.now()) != "PENDING" {
            return Err(ApiError::invalid(
                "only a waiting item's priority can change, and this one has been taken by an agent already",
            ));
        }
        if queue.prioritization_mode != "V0" && p != liftoff_model::Priority::Medium {
            return Err(ApiError::invalid(format!(
                "queue {:?} does not use priorities: turn prioritization on first (`liftoff queue update {0} -e {1} --prioritization on`, or the queue's Config tab in the web app)",
                queue.name, entity.name
            )));
        }
        Ok(SuccessPayload::of(
            state.store.item_set_priority(item.id, p.level()).await?,
            None,
        ))
    }

    /// Liftoff: cancel an item: a waiting one is removed; a running one has
    /// its run stopped.
    async fn cancel_run_queue_item(
        &self,
        ctx: &Context<'_>,
        input: RunQueueItemIdInput,
    ) -> ApiResult<SuccessPayload> {
        let state = st(ctx);
        let id = required(input.run_queue_item_id, "runQueueItemId")?;
        let (item, _, _, entity) = svc::item(state, caller(ctx), &id).await?;
        if state
            .store
            .item_delete_if_waiting(item.id, state.now())
            .await?
        {
            return Ok(SuccessPayload::of(true, None));
        }
        let Some(run_name) = &item.associated_run_id else {
            return Err(ApiError::invalid(if item.state == "FAILED" {
                "the item has failed already: there is nothing to cancel (requeue it to run it again)"
            } else {
                "the item was just taken by an agent; try again in a moment"
            }));
        };
        let not_started = || {
            if item.state == "FAILED" {
                ApiError::invalid(format!(
                    "the item failed before its run {run_name} started: there is nothing to cancel (requeue it to run it again)"
                ))
            } else {
                ApiError::not_found(format!(
                    "the item's run {run_name} has not started yet; try again in a moment"
                ))
            }
        };
        let (run_entity, project) =
            svc::spec_project(&item.run_spec, &entity.name).unwrap_or_default();
        let Some((_, project)) =
            access::project(state, caller(ctx), Some(&run_entity), &project).await?
        else {
            return Err(not_started());
        };
        let run = state
            .store
            .run_get(project.id, run_name)
            .await?
            .ok_or_else(not_started)?;
        // A crashed run may be a quiet one still going (a heartbeat revives
        // it), and a failed item's run may outlive its agent: both can still
        // be asked to stop. One that ended for good cannot.
        let ended = liftoff_model::run::RunState::parse(&run.state);
        if ended.is_terminal() && ended != liftoff_model::run::RunState::Crashed {
            return Err(ApiError::invalid(format!(
                "the item's run {run_name} has ended already ({}): there is nothing to cancel",
                run.state
            )));
        }
        let stopped = state.store.run_stop(run.id).await?;
        // (Once: a cancel asked again is not said again.)
        if stopped && !run.stopped {
            // Who stopped it, where the row shows it (a team's queue).
            let note = format!("cancelled by {}", caller(ctx).user.username);
            state
                .store
                .item_warning_add(item.id, &note, "cancel", "[]", state.now())
                .await?;
        }
        Ok(SuccessPayload::of(stopped, None))
    }

    /// Liftoff: push a copy of an item's spec to its queue again.
    async fn requeue_run_queue_item(
        &self,
        ctx: &Context<'_>,
        input: RunQueueItemIdInput,
    ) -> ApiResult<RequeuePayload> {
        let state = st(ctx);
        let id = required(input.run_queue_item_id, "runQueueItemId")?;
        let (item, _, queue, entity) = svc::item(state, caller(ctx), &id).await?;
        let mut spec: Value = serde_json::from_str(&item.run_spec).unwrap_or(Value::Null);
        if let Some(obj) = spec.as_object_mut() {
            obj.remove("run_id");
        }
        // The requeued item is the caller's: its run goes where they may.
        svc::check_run_entity(
            state,
            caller(ctx),
            &entity,
            &queue,
            spec.get("entity").and_then(Value::as_str),
        )
        .await?;
        // A copy of an item still waiting or running would run its job twice.
        let status = svc::item_status(state, caller(ctx), &item, &entity).await?;
        if status.is_active() {
            use liftoff_model::status::DisplayStatus;
            // A waiting item runs in its turn (and a cancelled one is gone).
            let what = if matches!(status, DisplayStatus::Idle | DisplayStatus::Queued) {
                "it runs when an agent takes it, so there is nothing to requeue"
            } else {
                "requeue it once it has ended (or cancel it, which stops its run, then requeue it)"
            };
            return Err(ApiError::invalid(format!(
                "the item is still {} ({}): {what}",
                status.label().to_lowercase(),
                status.meaning()
            )));
        }
        let new = state
            .store
            .item_push(
                queue.id,
                &spec.to_string(),
                item.template_values.as_deref(),
                svc::copied_priority(&queue, item.priority),
                &caller(ctx).user.username,
                state.now(),
            )
            .await?;
        state.notify_queue(queue.id);
        Ok(RequeuePayload {
            success: true,
            run_queue_item_id: Some(ids::encode("RunQueueItem", new.id).into()),
        })
    }
}

/// Six base36 characters of `n`.
fn base36_suffix(n: i64) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut n = n.unsigned_abs();
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 36) as usize];
        n /= 36;
    }
    String::from_utf8_lossy(&out).into_owned()
}
