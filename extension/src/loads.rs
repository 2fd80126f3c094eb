//! Reads that take more than one operation, for the drawer, the chips and
//! the popup. Liftoff's reads when the server advertises them, W&B's own
//! operations otherwise (the same choice the web app makes). IO only
//! through the client's [`Transport`]; what answers mean is decided in
//! `liftoff-model`, `liftoff-client` and this crate's pure modules.

use time::OffsetDateTime;

use liftoff_client::ops::identity::{ServerFeaturesQuery, Viewer};
use liftoff_client::ops::items::{GetRunQueueItem, Pushed};
use liftoff_client::ops::liftoff::LiftoffRunQueue;
use liftoff_client::ops::runs::{Run, RunState as RunStateQuery};
use liftoff_client::ops::web::{Job, LiftoffRunPage};
use liftoff_client::view::Capabilities;
use liftoff_client::{Client, Error, Transport};
use liftoff_model::launch::{LaunchRequest, QueueChoice};
use liftoff_model::run::unwrap_config;
use liftoff_model::schema::JsonSchema;
use liftoff_model::spec::JobRef;
use liftoff_model::{LAUNCH_PROJECT, Viewer as ViewerInfo};

use crate::drawer::{Base, Offered};
use crate::recent::{ItemNow, Launched, status_from_states, status_in};

/// Who the key belongs to and what the server can do.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub viewer: ViewerInfo,
    pub caps: Capabilities,
}

/// `viewer` (a null viewer is a refused key) and `serverInfo.features`.
pub async fn session<T: Transport>(client: &Client<T>) -> Result<Session, Error> {
    let viewer = client.call(Viewer).await?;
    // A server without `serverInfo.features` simply has none of Liftoff's.
    let features = client.call(ServerFeaturesQuery).await.unwrap_or_default();
    Ok(Session {
        viewer,
        caps: Capabilities::of(&features),
    })
}

pub use liftoff_client::loads::{job, jobs};

/// The config schema of a job version: from the job already read when it
/// carries metadata, else W&B's artifact read of `name:version`.
pub async fn schema<T: Transport>(
    client: &Client<T>,
    caps: Capabilities,
    job: &JobRef,
    known: Option<&Job>,
) -> Result<Option<JsonSchema>, Error> {
    if caps.job_runs
        && let Some(version) = known.and_then(|j| j.version(&job.alias))
    {
        return Ok(version.metadata.config_schema());
    }
    let metadata = liftoff_client::loads::job_metadata(
        client,
        &job.entity,
        &job.project,
        &job.name,
        &job.alias,
    )
    .await?;
    Ok(metadata.config_schema())
}

/// The queues of some entities, as the drawer offers them.
pub async fn queues<T: Transport>(
    client: &Client<T>,
    caps: Capabilities,
    entities: &[String],
    now: OffsetDateTime,
) -> Result<Offered, Error> {
    let list = liftoff_client::loads::queues(client, caps, entities).await?;
    let queues: Vec<QueueChoice> = list.iter().map(|s| QueueChoice::of(&s.queue)).collect();
    // Only Liftoff's read lists each queue's agents.
    let active = caps.queue_admin.then(|| {
        list.iter()
            .zip(&queues)
            .filter(|(s, _)| s.agents.iter().any(|a| a.polls(now)))
            .map(|(_, q)| q.key())
            .collect()
    });
    Ok(Offered { queues, active })
}

/// A run's config, for a relaunch.
pub async fn run_base<T: Transport>(
    client: &Client<T>,
    entity: &str,
    project: &str,
    run: &str,
) -> Result<Base, Error> {
    let info = client
        .call(Run {
            entity: entity.into(),
            project: project.into(),
            name: run.into(),
        })
        .await?;
    Ok(Base {
        run: info.name.clone(),
        title: info
            .display_name
            .clone()
            .unwrap_or_else(|| info.name.clone()),
        config: unwrap_config(&info.config),
    })
}

/// Where a run came from, as far as the server says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOrigin {
    /// The job (and version) it was launched from.
    pub job: Option<JobRef>,
    /// The queue of the item that started it (`entity/name`).
    pub queue: Option<String>,
}

/// Where a run came from: its job is a job version that lists the run
/// among its users, else what a Liftoff server knows of the run (the job it
/// used, or the spec of the queue item that started it); its queue is that
/// item's (a Liftoff server only).
pub async fn run_origin<T: Transport>(
    client: &Client<T>,
    caps: Capabilities,
    jobs: &[Job],
    entity: &str,
    project: &str,
    run: &str,
) -> RunOrigin {
    let listed = jobs.iter().find_map(|job| {
        job.versions
            .iter()
            .find(|v| v.runs.iter().any(|r| r.run.name == run))
            .map(|version| JobRef {
                entity: entity.to_owned(),
                project: project.to_owned(),
                name: job.name.clone(),
                alias: version.version(),
            })
    });
    let detail = if caps.console {
        client
            .call(LiftoffRunPage {
                entity: entity.into(),
                project: project.into(),
                run: run.into(),
                launch_item: caps.launch_item,
            })
            .await
            .ok()
    } else {
        None
    };
    let Some(detail) = detail else {
        return RunOrigin {
            job: listed,
            queue: None,
        };
    };
    let queue = detail
        .launched
        .as_ref()
        .map(|l| format!("{}/{}", l.entity, l.queue));
    let known = match (detail.job, detail.launched.and_then(|l| l.job)) {
        (Some(used), _) => Some(JobRef {
            entity: used.entity,
            project: used.project,
            name: used.name,
            alias: used.version,
        }),
        (None, Some(pushed)) => JobRef::parse(&pushed).ok(),
        (None, None) => None,
    };
    RunOrigin {
        job: listed.or(known),
        queue,
    }
}

/// Push a checked launch.
pub async fn push<T: Transport>(
    client: &Client<T>,
    request: &LaunchRequest,
) -> Result<Pushed, Error> {
    client.call(liftoff_client::loads::push_of(request)).await
}

/// An item's status and run now: Liftoff's queue read (as its queue page
/// shows it), else W&B's item and run reads.
pub async fn status<T: Transport>(
    client: &Client<T>,
    caps: Capabilities,
    item: &Launched,
    now: OffsetDateTime,
) -> Result<ItemNow, Error> {
    if caps.queue_admin {
        let detail = client
            .call(LiftoffRunQueue {
                entity: item.queue_entity.clone(),
                queue: item.queue.clone(),
                first: 200,
                after: None,
            })
            .await?;
        return status_in(&detail, &item.item_id, now).ok_or_else(|| Error::NotFound {
            what: format!("item {} in queue {}", item.item_id, item.queue),
        });
    }
    let progress = client
        .call(GetRunQueueItem {
            entity: item.queue_entity.clone(),
            project: LAUNCH_PROJECT.into(),
            queue: item.queue.clone(),
            item_id: item.item_id.clone(),
        })
        .await?;
    let run_state = match &progress.associated_run_id {
        Some(run) => client
            .call(RunStateQuery {
                entity: item.entity.clone(),
                project: item.project.clone(),
                name: run.clone(),
            })
            .await
            .ok(),
        None => None,
    };
    Ok(ItemNow {
        status: status_from_states(progress.state, run_state, now),
        run: progress.associated_run_id,
        error: None,
    })
}
