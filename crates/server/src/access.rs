//! Who may see what: a user sees and uses only the entities they belong to
//! (their own and their teams'). Everything else is "not found or access
//! denied", so that names of other entities do not leak.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{Entity, Project, Queue, User};

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: User,
    /// The URL this caller reached the server at (for links it is given).
    pub base_url: String,
}

pub fn denied(what: &str) -> ApiError {
    ApiError::NotFound(format!("{what} not found or access denied"))
}

/// The entity `name` (default: the caller's own) if the caller belongs to it.
pub async fn entity(state: &AppState, caller: &Caller, name: Option<&str>) -> ApiResult<Entity> {
    let name = name
        .filter(|n| !n.is_empty())
        .unwrap_or(&caller.user.username);
    if let Some(entity) = state.member_entity(caller.user.id, name).await? {
        return Ok(entity);
    }
    // The caller's own entities are theirs to know: naming them turns a
    // typo into a fix, and says nothing about anyone else's.
    let yours: Vec<String> = state
        .store
        .entities_of_user(caller.user.id)
        .await?
        .into_iter()
        .map(|e| e.name)
        .collect();
    Err(ApiError::NotFound(format!(
        "entity {name:?} not found or access denied{}",
        liftoff_model::spec::yours_hint(&yours)
    )))
}

/// A project of an entity the caller belongs to. The launch project
/// (`model-registry`) always exists; other projects may be absent.
pub async fn project(
    state: &AppState,
    caller: &Caller,
    entity_name: Option<&str>,
    name: &str,
) -> ApiResult<Option<(Entity, Project)>> {
    let entity = entity(state, caller, entity_name).await?;
    if let Some(p) = state.project(entity.id, name).await? {
        return Ok(Some((entity, p)));
    }
    if name == liftoff_model::LAUNCH_PROJECT {
        let (p, _) = state
            .store
            .project_upsert(entity.id, name, state.now())
            .await?;
        return Ok(Some((entity, p)));
    }
    Ok(None)
}

/// The entity a stored project belongs to, if the caller may use it.
pub async fn project_by_id(
    state: &AppState,
    caller: &Caller,
    project_id: i64,
    what: &str,
) -> ApiResult<(Entity, Project)> {
    let project = state
        .store
        .project_by_id(project_id)
        .await?
        .ok_or_else(|| denied(what))?;
    let entity = state
        .store
        .entity_by_id(project.entity_id)
        .await?
        .ok_or_else(|| denied(what))?;
    if !state.store.member_is(entity.id, caller.user.id).await? {
        return Err(denied(what));
    }
    Ok((entity, project))
}

/// A queue by id, with its entity, if the caller may use it.
pub async fn queue_by_id(
    state: &AppState,
    caller: &Caller,
    queue_id: i64,
) -> ApiResult<(Entity, Queue)> {
    let what = "queue";
    let queue = state
        .store
        .queue_by_id(queue_id)
        .await?
        .ok_or_else(|| denied(what))?;
    let (entity, _) = project_by_id(state, caller, queue.project_id, what).await?;
    Ok((entity, queue))
}

/// The entity id of a queue, if the caller may use it (cached: the hot
/// path of ack, fail and warn).
pub async fn queue_entity_id(state: &AppState, caller: &Caller, queue_id: i64) -> ApiResult<i64> {
    let (_, entity_name) = state
        .queue_home(queue_id)
        .await?
        .ok_or_else(|| denied("queue"))?;
    state
        .member_entity(caller.user.id, &entity_name)
        .await?
        .map(|e| e.id)
        .ok_or_else(|| denied("queue"))
}
