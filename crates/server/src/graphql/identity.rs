//! Users, entities, projects, server info.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use serde_json::json;

use crate::access::{self, Caller};
use crate::error::{ApiError, ApiResult};
use crate::graphql::artifacts::{
    ArtifactCollectionConnection, ArtifactCollectionIface, ArtifactObj, ArtifactTypeConnection,
    ArtifactTypeObj, MembershipObj,
};
use crate::graphql::launch::{DefaultResourceConfigObj, LaunchAgentObj, PageInfo, RunQueueObj};
use crate::graphql::paging::Keyset;
use crate::graphql::runs::{RunConnection, RunObj};
use crate::graphql::scalars::{JsonString, datetime};
use crate::ids;
use crate::state::AppState;
use crate::store::{Entity, Project, User};

pub fn st<'a>(ctx: &Context<'a>) -> &'a Arc<AppState> {
    ctx.data_unchecked::<Arc<AppState>>()
}

pub fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    ctx.data_unchecked::<Caller>()
}

/// Liftoff's features, as `serverInfo.features` advertises them.
pub const FEATURES: &[&str] = &[
    "LIFTOFF_LAUNCH_AGENTS",
    "LIFTOFF_STOP_POLLING",
    "LIFTOFF_LONG_POLL_POP",
    "LIFTOFF_QUEUE_ADMIN",
    "LIFTOFF_RUN_CONSOLE",
    "LIFTOFF_RUN_LAUNCH_ITEM",
];

pub struct UserObj(pub User);

#[derive(SimpleObject)]
#[graphql(name = "Team")]
pub struct TeamName {
    name: String,
}
#[derive(SimpleObject)]
#[graphql(name = "TeamEdge")]
pub struct TeamEdge {
    node: TeamName,
}
#[derive(SimpleObject)]
#[graphql(name = "TeamConnection")]
pub struct TeamConnection {
    edges: Vec<TeamEdge>,
}
#[derive(SimpleObject)]
#[graphql(name = "ApiKey")]
pub struct ApiKeyObj {
    id: ID,
    name: String,
    description: Option<String>,
}
#[derive(SimpleObject)]
#[graphql(name = "ApiKeyEdge")]
pub struct ApiKeyEdge {
    node: ApiKeyObj,
}
#[derive(SimpleObject)]
#[graphql(name = "ApiKeyConnection")]
pub struct ApiKeyConnection {
    edges: Vec<ApiKeyEdge>,
}

#[Object(name = "User")]
impl UserObj {
    async fn id(&self) -> ID {
        ids::encode("User", self.0.id).into()
    }
    async fn name(&self) -> &str {
        &self.0.username
    }
    async fn username(&self) -> &str {
        &self.0.username
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn admin(&self) -> bool {
        self.0.admin
    }
    async fn flags(&self) -> JsonString {
        JsonString(json!({}))
    }
    /// The user's default (personal) entity.
    async fn entity(&self) -> &str {
        &self.0.username
    }
    async fn deleted_at(&self) -> Option<String> {
        None
    }
    async fn created_at(&self) -> String {
        datetime(self.0.created_at)
    }
    /// Keys are stored hashed and never listed.
    async fn api_keys(&self) -> ApiKeyConnection {
        ApiKeyConnection { edges: vec![] }
    }
    async fn teams(&self, ctx: &Context<'_>) -> ApiResult<TeamConnection> {
        let entities = st(ctx).store.entities_of_user(self.0.id).await?;
        Ok(TeamConnection {
            edges: entities
                .into_iter()
                .filter(|e| e.is_team)
                .map(|e| TeamEdge {
                    node: TeamName { name: e.name },
                })
                .collect(),
        })
    }
    /// Liftoff: every entity the user may use (their own first).
    async fn entities(&self, ctx: &Context<'_>) -> ApiResult<Vec<EntityObj>> {
        Ok(st(ctx)
            .store
            .entities_of_user(self.0.id)
            .await?
            .into_iter()
            .map(EntityObj)
            .collect())
    }
}

pub struct EntityObj(pub Entity);

#[Object(name = "Entity")]
impl EntityObj {
    async fn id(&self) -> ID {
        ids::encode("Entity", self.0.id).into()
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn is_team(&self) -> bool {
        self.0.is_team
    }
    /// Liftoff entities belong to no organization.
    async fn organization(&self) -> Option<Organization> {
        None
    }
    async fn default_resource_config(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<Option<DefaultResourceConfigObj>> {
        let Some(id) = ids::decode("DefaultResourceConfig", &id) else {
            return Ok(None);
        };
        let row = st(ctx).store.resource_config_get(id).await?;
        Ok(row
            .filter(|r| r.entity_id == self.0.id)
            .map(DefaultResourceConfigObj))
    }
}

#[derive(SimpleObject)]
pub struct Organization {
    id: ID,
    name: String,
    core_weave_organization_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct ServerFeature {
    name: String,
    is_enabled: bool,
}

#[derive(SimpleObject)]
pub struct LocalVersionInfo {
    out_of_date: bool,
    latest_version_string: String,
    version_on_this_instance_string: String,
}

pub struct ServerInfo;

#[Object]
impl ServerInfo {
    async fn features(&self) -> Vec<ServerFeature> {
        FEATURES
            .iter()
            .map(|f| ServerFeature {
                name: (*f).to_owned(),
                is_enabled: true,
            })
            .collect()
    }
    async fn cli_version_info(&self) -> async_graphql::Json<serde_json::Value> {
        async_graphql::Json(json!({}))
    }
    async fn latest_local_version_info(&self) -> LocalVersionInfo {
        let v = env!("CARGO_PKG_VERSION").to_owned();
        LocalVersionInfo {
            out_of_date: false,
            latest_version_string: v.clone(),
            version_on_this_instance_string: v,
        }
    }
}

pub struct ProjectObj {
    pub entity: Entity,
    pub project: Project,
}

#[Object(name = "Project")]
impl ProjectObj {
    async fn id(&self) -> ID {
        ids::encode("Project", self.project.id).into()
    }
    async fn internal_id(&self) -> String {
        self.project.id.to_string()
    }
    async fn name(&self) -> &str {
        &self.project.name
    }
    async fn entity_name(&self) -> &str {
        &self.entity.name
    }
    async fn description(&self) -> Option<&str> {
        self.project.description.as_deref()
    }
    async fn access(&self) -> &str {
        "PRIVATE"
    }
    async fn views(&self) -> JsonString {
        JsonString(json!({}))
    }
    async fn created_at(&self) -> String {
        datetime(self.project.created_at)
    }
    /// W&B benchmarks do not exist here: every project is a plain one.
    async fn is_benchmark(&self) -> bool {
        false
    }
    /// The owner: the user of a personal entity. Liftoff does not record
    /// who created a team's project, so a team project has none (null).
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<UserObj>> {
        if self.entity.is_team {
            return Ok(None);
        }
        Ok(st(ctx)
            .store
            .user_by_name(&self.entity.name)
            .await?
            .map(UserObj))
    }
    async fn entity(&self) -> EntityObj {
        EntityObj(self.entity.clone())
    }
    async fn run_queues(&self, ctx: &Context<'_>) -> ApiResult<Vec<RunQueueObj>> {
        let queues = st(ctx).store.queues_of_project(self.project.id).await?;
        Ok(queues
            .into_iter()
            .map(|q| RunQueueObj {
                queue: q,
                entity: self.entity.clone(),
            })
            .collect())
    }
    async fn run_queue(&self, ctx: &Context<'_>, name: String) -> ApiResult<Option<RunQueueObj>> {
        let q = st(ctx).store.queue_get(self.project.id, &name).await?;
        Ok(q.map(|q| RunQueueObj {
            queue: q,
            entity: self.entity.clone(),
        }))
    }
    /// Liftoff: the agents of this entity.
    async fn launch_agents(&self, ctx: &Context<'_>) -> ApiResult<Vec<LaunchAgentObj>> {
        let agents = st(ctx).store.agents_of_entity(self.entity.id).await?;
        Ok(agents
            .into_iter()
            .map(|a| LaunchAgentObj {
                agent: a,
                entity: self.entity.clone(),
            })
            .collect())
    }
    async fn run(&self, ctx: &Context<'_>, name: String) -> ApiResult<Option<RunObj>> {
        let run = st(ctx).store.run_get(self.project.id, &name).await?;
        Ok(run.map(|r| RunObj::new(r, self.entity.clone(), self.project.clone())))
    }
    async fn runs(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        order: Option<String>,
        filters: Option<JsonString>,
    ) -> ApiResult<RunConnection> {
        RunConnection::load(
            st(ctx),
            &self.entity,
            &self.project,
            first,
            after,
            order,
            filters.as_ref().map(|f| &f.0),
        )
        .await
    }
    async fn run_count(&self, ctx: &Context<'_>, filters: Option<JsonString>) -> ApiResult<i64> {
        let _ = filters;
        Ok(st(ctx).store.run_count(self.project.id).await?)
    }
    async fn read_only(&self) -> bool {
        false
    }
    /// The run `name` (W&B's older name for a run is a bucket).
    async fn bucket(
        &self,
        ctx: &Context<'_>,
        name: String,
        missing_ok: Option<bool>,
    ) -> ApiResult<Option<RunObj>> {
        let _ = missing_ok;
        let run = st(ctx).store.run_get(self.project.id, &name).await?;
        Ok(run.map(|r| RunObj::new(r, self.entity.clone(), self.project.clone())))
    }
    async fn sweep(&self, #[graphql(name = "sweepName")] _sweep_name: String) -> Option<SweepObj> {
        None
    }
    async fn artifact_type(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> ApiResult<Option<ArtifactTypeObj>> {
        ArtifactTypeObj::load(st(ctx), &self.entity, &self.project, &name).await
    }
    /// The artifact types of the project, in the order they first appeared.
    async fn artifact_types(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<ArtifactTypeConnection> {
        let types = ArtifactTypeObj::of_project(st(ctx), &self.entity, &self.project).await?;
        ArtifactTypeConnection::page(types, after.as_deref(), first)
    }
    /// Every collection of the project, of any type.
    async fn artifact_collections(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
        filters: Option<JsonString>,
        order: Option<String>,
    ) -> ApiResult<ArtifactCollectionConnection> {
        let collections = st(ctx)
            .store
            .collections_of_project(self.project.id)
            .await?;
        ArtifactCollectionConnection::load(
            &self.entity,
            &self.project,
            collections,
            after,
            first,
            filters.as_ref().map(|f| &f.0),
            order.as_deref(),
        )
    }
    async fn artifact_collection_membership(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> ApiResult<Option<MembershipObj>> {
        MembershipObj::by_name(st(ctx), &self.entity, &self.project, &name).await
    }
    async fn artifact_collection(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> ApiResult<Option<ArtifactCollectionIface>> {
        ArtifactCollectionIface::by_name(st(ctx), &self.entity, &self.project, &name).await
    }
    async fn artifact(&self, ctx: &Context<'_>, name: String) -> ApiResult<Option<ArtifactObj>> {
        Ok(
            MembershipObj::by_name(st(ctx), &self.entity, &self.project, &name)
                .await?
                .map(|m| m.artifact),
        )
    }
}

#[derive(SimpleObject)]
pub struct ProjectEdge {
    node: ProjectObj,
    cursor: String,
}

#[derive(SimpleObject)]
pub struct ProjectConnection {
    edges: Vec<ProjectEdge>,
    page_info: PageInfo,
}

/// Sweeps are not supported; `project.sweep` answers null.
#[derive(SimpleObject)]
#[graphql(name = "Sweep")]
pub struct SweepObj {
    name: String,
    state: String,
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    async fn viewer(&self, ctx: &Context<'_>) -> UserObj {
        UserObj(caller(ctx).user.clone())
    }
    async fn server_info(&self) -> ServerInfo {
        ServerInfo
    }
    async fn entity(
        &self,
        ctx: &Context<'_>,
        name: Option<String>,
    ) -> ApiResult<Option<EntityObj>> {
        match access::entity(st(ctx), caller(ctx), name.as_deref()).await {
            Ok(e) => Ok(Some(EntityObj(e))),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
    /// The projects of an entity (default: the caller's own), newest first
    /// (W&B's older name for projects is models).
    async fn models(
        &self,
        ctx: &Context<'_>,
        entity_name: Option<String>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Option<ProjectConnection>> {
        let state = st(ctx);
        let entity = access::entity(state, caller(ctx), entity_name.as_deref()).await?;
        let keyset = Keyset::new(after.as_deref(), first)?;
        let projects = state
            .store
            .projects_of_entity(entity.id, keyset.limit + 1, keyset.before)
            .await?;
        let (projects, page_info) = keyset.page(projects, |p| p.id);
        Ok(Some(ProjectConnection {
            edges: projects
                .into_iter()
                .map(|(cursor, project)| ProjectEdge {
                    cursor,
                    node: ProjectObj {
                        entity: entity.clone(),
                        project,
                    },
                })
                .collect(),
            page_info,
        }))
    }
    /// W&B's older name for `project`.
    async fn model(
        &self,
        ctx: &Context<'_>,
        name: Option<String>,
        entity_name: Option<String>,
    ) -> ApiResult<Option<ProjectObj>> {
        project_of(ctx, name, entity_name).await
    }
    async fn project(
        &self,
        ctx: &Context<'_>,
        name: Option<String>,
        entity_name: Option<String>,
    ) -> ApiResult<Option<ProjectObj>> {
        project_of(ctx, name, entity_name).await
    }
}

async fn project_of(
    ctx: &Context<'_>,
    name: Option<String>,
    entity_name: Option<String>,
) -> ApiResult<Option<ProjectObj>> {
    {
        let Some(name) = name.filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        match access::project(st(ctx), caller(ctx), entity_name.as_deref(), &name).await {
            Ok(Some((entity, project))) => Ok(Some(ProjectObj { entity, project })),
            Ok(None) | Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[derive(InputObject)]
pub struct UpsertModelInput {
    name: Option<String>,
    entity_name: Option<String>,
    description: Option<String>,
    id: Option<String>,
    framework: Option<String>,
    access: Option<String>,
    views: Option<JsonString>,
    client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct UpsertModelPayload {
    project: ProjectObj,
    model: ProjectObj,
    inserted: bool,
    client_mutation_id: Option<String>,
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Create a project if absent (idempotent).
    async fn upsert_model(
        &self,
        ctx: &Context<'_>,
        input: UpsertModelInput,
    ) -> ApiResult<UpsertModelPayload> {
        let state = st(ctx);
        let name = input
            .name
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| ApiError::invalid("upsertModel needs a project name"))?;
        crate::graphql::runs::validate_project_name(&name)?;
        let entity = access::entity(state, caller(ctx), input.entity_name.as_deref()).await?;
        let (project, inserted) = state
            .store
            .project_upsert(entity.id, &name, state.now())
            .await?;
        Ok(UpsertModelPayload {
            project: ProjectObj {
                entity: entity.clone(),
                project: project.clone(),
            },
            model: ProjectObj { entity, project },
            inserted,
            client_mutation_id: input.client_mutation_id,
        })
    }
}
