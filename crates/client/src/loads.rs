//! Loads that take more than one operation, for the web app, the
//! extension, the agent and the CLI: most pick Liftoff's reads when the
//! server advertises them ([`Capabilities`]) and W&B's own operations otherwise.

use crate::ops::artifacts::{ArtifactMembershipByName, ArtifactOfType};
use crate::ops::items::{GetRunQueueItem, PushToRunQueueByName};
use crate::ops::liftoff::{
    ItemWithRun, LiftoffRunQueue, LiftoffRunQueues, QueueDetail, QueueSummary,
};
use crate::ops::queues::{
    GetDefaultResourceConfig, GetRunQueueItems, GetRunQueueMetadata, ProjectRunQueues,
    QueueMetadata,
};
use crate::ops::runs::Run as RunQuery;
use crate::ops::web::{
    Job, JobVersion, LiftoffArtifactFiles, LiftoffJob, LiftoffJobs, LiftoffRunPage, RunDetail,
};
use crate::view::Capabilities;
use liftoff_model::LAUNCH_PROJECT;
use liftoff_model::job::{JOB_FILE, JobMetadata, JobSpec};
use liftoff_model::launch::LaunchRequest;
use liftoff_model::queue::{DefaultResourceConfig, ExternalLinks, Queue};
use liftoff_model::spec::JobRef;
use liftoff_model::status::QueueItem;

use crate::client::Client;
use crate::error::Error;
use crate::transport::Transport;

/// The queues of some entities, with counts and agents when the server
/// has Liftoff's queue reads, else W&B's queue list and metadata.
pub async fn queues<T: Transport>(
    client: &Client<T>,
    caps: Capabilities,
    entities: &[String],
) -> Result<Vec<QueueSummary>, Error> {
    let mut out = Vec::new();
    for entity in entities {
        if caps.queue_admin {
            out.extend(
                client
                    .call(LiftoffRunQueues {
                        entity: entity.clone(),
                    })
                    .await?,
            );
            continue;
        }
        let list = match client.call(ProjectRunQueues::new(entity.clone())).await {
            Ok(list) => list,
            // An entity that never made a queue has no launch project.
            Err(Error::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        for q in list {
            let (meta, config) = queue_config(client, entity, LAUNCH_PROJECT, &q.name).await?;
            out.push(QueueSummary {
                queue: Queue {
                    id: q.id,
                    name: q.name,
                    entity_name: entity.clone(),
                    access: q.access.unwrap_or_default(),
                    prioritization_mode: meta.prioritization_mode.unwrap_or_default(),
                    created_by: q.created_by,
                    created_at: None,
                    default_resource_config_id: meta.default_resource_config_id,
                    default_resource_config: config,
                    external_links: meta.external_links.unwrap_or(ExternalLinks::default()),
                },
                agents: vec![],
                statuses: vec![],
            });
        }
    }
    Ok(out)
}

/// `e` said with the entities the caller can use when it is an entity not
/// found (a client's reading of a null answer; a Liftoff server names them
/// itself), so a typo in `-e` comes with its fix.
pub async fn with_your_entities<T: Transport>(client: &Client<T>, e: Error) -> String {
    let hint = match &e {
        Error::NotFound { what } if what.starts_with("entity ") => {
            match client.call(crate::ops::identity::Viewer).await {
                Ok(me) => liftoff_model::spec::yours_hint(
                    &std::iter::once(me.entity)
                        .chain(me.teams)
                        .filter(|n| !n.is_empty())
                        .collect::<Vec<_>>(),
                ),
                Err(_) => String::new(),
            }
        }
        _ => String::new(),
    };
    format!("{e}{hint}")
}

/// A queue's metadata (W&B's `GetRunQueueMetadata`, which fails for a
/// queue not there) and its default resource config when it has one that
/// can be read (`None` also when the read fails).
pub async fn queue_config<T: Transport>(
    client: &Client<T>,
    entity: &str,
    project: &str,
    queue: &str,
) -> Result<(QueueMetadata, Option<DefaultResourceConfig>), Error> {
    let meta = client
        .call(GetRunQueueMetadata {
            entity: entity.to_owned(),
            project: project.to_owned(),
            queue: queue.to_owned(),
        })
        .await?;
    let config = match &meta.default_resource_config_id {
        Some(id) => client
            .call(GetDefaultResourceConfig {
                entity: entity.to_owned(),
                id: id.clone(),
            })
            .await
            .ok(),
        None => None,
    };
    Ok((meta, config))
}

/// A project's jobs: with versions' metadata and runs from a Liftoff
/// server, versions and aliases from any other.
pub async fn jobs<T: Transport>(
    client: &Client<T>,
    caps: Capabilities,
    entity: &str,
    project: &str,
) -> Result<Vec<Job>, Error> {
    if caps.job_runs {
        return client
            .call(LiftoffJobs {
                entity: entity.into(),
                project: project.into(),
            })
            .await;
    }
    let list = client
        .call(ArtifactOfType {
            entity: entity.into(),
            project: project.into(),
            type_name: "job".into(),
        })
        .await?;
    Ok(list.iter().map(Job::from_collection).collect())
}

/// One job.
pub async fn job<T: Transport>(
    client: &Client<T>,
    caps: Capabilities,
    entity: &str,
    project: &str,
    name: &str,
) -> Result<Job, Error> {
    if caps.job_runs {
        return client
            .call(LiftoffJob {
                entity: entity.into(),
                project: project.into(),
                name: name.into(),
            })
            .await;
    }
    jobs(client, caps, entity, project)
        .await?
        .into_iter()
        .find(|j| j.name == name)
        .ok_or_else(|| Error::NotFound {
            what: format!("job {entity}/{project}/{name}"),
        })
}

/// A version's metadata (its input schemas), by W&B's own read.
pub async fn job_metadata<T: Transport>(
    client: &Client<T>,
    entity: &str,
    project: &str,
    name: &str,
    alias: &str,
) -> Result<JobMetadata, Error> {
    let info = client
        .call(ArtifactMembershipByName {
            entity: entity.into(),
            project: project.into(),
            name: format!("{name}:{alias}"),
        })
        .await?;
    Ok(serde_json::from_value(serde_json::Value::Object(info.metadata)).unwrap_or_default())
}

/// A queue page: Liftoff's one read (queue, agents, items with runs), or
/// W&B's operations (metadata, config, item ids, each item's state).
pub async fn queue_detail<T: Transport>(
    client: &Client<T>,
    caps: Capabilities,
    entity: &str,
    queue: &str,
    first: i64,
) -> Result<QueueDetail, Error> {
    if caps.queue_admin {
        return client
            .call(LiftoffRunQueue {
                entity: entity.into(),
                queue: queue.into(),
                first,
                after: None,
            })
            .await;
    }
    let summary = queues(client, caps, &[entity.to_owned()])
        .await?
        .into_iter()
        .find(|q| q.queue.name == queue)
        .ok_or_else(|| Error::NotFound {
            what: format!("queue {queue:?} in entity {entity:?}"),
        })?;
    let ids = client
        .call(GetRunQueueItems {
            entity: entity.into(),
            project: LAUNCH_PROJECT.into(),
            queue: queue.into(),
        })
        .await?;
    let mut items = Vec::new();
    for id in ids.into_iter().take(first.max(0) as usize) {
        let p = client
            .call(GetRunQueueItem {
                entity: entity.into(),
                project: LAUNCH_PROJECT.into(),
                queue: queue.into(),
                item_id: id,
            })
            .await?;
        let mut item = QueueItem::new(p.id, p.state);
        item.associated_run_id = p.associated_run_id;
        items.push(ItemWithRun { item, run: None });
    }
    Ok(QueueDetail {
        queue: summary.queue,
        agents: vec![],
        items,
        end_cursor: None,
        has_next_page: false,
    })
}

/// A job version's `wandb-job.json`: one file read from a Liftoff server,
/// else the whole version through W&B's artifact reads.
pub async fn job_spec<T: Transport>(
    client: &Client<T>,
    caps: Capabilities,
    entity: &str,
    project: &str,
    name: &str,
    version: &JobVersion,
) -> Result<JobSpec, Error> {
    if caps.job_runs {
        let files = client
            .call(LiftoffArtifactFiles {
                id: version.id.clone(),
                names: Some(vec![JOB_FILE.into()]),
                first: 1,
            })
            .await?;
        let url = files
            .into_iter()
            .find(|f| f.name == JOB_FILE)
            .and_then(|f| f.url)
            .ok_or_else(|| Error::NotFound {
                what: format!("{JOB_FILE} of job {name}:{}", version.version()),
            })?;
        let bytes = client.get(&url).await?;
        return JobSpec::from_json(&String::from_utf8_lossy(&bytes)).map_err(|e| Error::Decode {
            operation: format!("job {name}"),
            message: e.to_string(),
        });
    }
    let job = JobRef {
        entity: entity.into(),
        project: project.into(),
        name: name.into(),
        alias: version.version(),
    };
    Ok(client.fetch_job(&job).await?.spec)
}

/// A run page: Liftoff's read (with history keys, console size and files),
/// or W&B's public `Run` read (charts offered for the summary's numbers).
pub async fn run_detail<T: Transport>(
    client: &Client<T>,
    caps: Capabilities,
    entity: &str,
    project: &str,
    run: &str,
) -> Result<RunDetail, Error> {
    if caps.console {
        return client
            .call(LiftoffRunPage {
                entity: entity.into(),
                project: project.into(),
                run: run.into(),
                launch_item: caps.launch_item,
            })
            .await;
    }
    let info = client
        .call(RunQuery {
            entity: entity.into(),
            project: project.into(),
            name: run.into(),
        })
        .await?;
    Ok(RunDetail::from_run(info))
}

/// The push a checked launch becomes.
pub fn push_of(request: &LaunchRequest) -> PushToRunQueueByName {
    PushToRunQueueByName {
        entity: request.queue_entity.clone(),
        project: LAUNCH_PROJECT.into(),
        queue: request.queue.clone(),
        spec: request.spec.clone(),
        priority: request.priority,
        template_values: request.template_values.clone(),
    }
}
