//! `liftoff queue create|list|show`.

use std::path::Path;

use anyhow::Context as _;
use liftoff_client::Client;
use liftoff_client::native::NativeTransport;
use liftoff_client::ops::identity::CreateProject;
use liftoff_client::ops::liftoff::{
    LiftoffCancelItem, LiftoffRequeueItem, LiftoffRunQueue, LiftoffRunQueues,
    LiftoffSetItemPriority,
};
use liftoff_client::ops::queues::{
    CreateDefaultResourceConfig, CreateRunQueue, FetchRunQueueId, ProjectRunQueues,
};
use liftoff_client::view::agent_commands;
use liftoff_client::view::items::{has_live_agent, item_rows};
use liftoff_client::view::queues::queue_rows;
use liftoff_model::queue::{PrioritizationMode, QueueAccess, ResourceType};
use liftoff_model::{LAUNCH_PROJECT, Priority, timefmt};
use serde_json::{Map, Value};

use crate::cli::QueueCommand;
use crate::cmd::conn;

/// Read a YAML or JSON file into JSON.
pub fn read_config(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    let value: Value = if is_json {
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?
    } else {
        let y: serde_yaml::Value = serde_yaml::from_str(&text)
            .with_context(|| format!("{} is not valid YAML", path.display()))?;
        serde_json::to_value(y)
            .with_context(|| format!("{} has values JSON cannot hold", path.display()))?
    };
    anyhow::ensure!(
        value.is_object() || value.is_null(),
        "it must hold a mapping (keys and values), not a {}",
        if value.is_array() {
            "list"
        } else {
            "single value"
        }
    );
    Ok(if value.is_null() {
        Value::Object(Map::new())
    } else {
        value
    })
}

/// A file path or inline JSON, as `wandb launch -c/-R` take it: a JSON or
/// YAML file holding a mapping, or a JSON object (`example`, quoted for a
/// shell), or a YAML mapping written inline.
pub fn file_or_json(
    arg: &str,
    flag: &str,
    example: &str,
    yaml_example: &str,
) -> anyhow::Result<Value> {
    let path = Path::new(arg);
    if path.is_file() {
        return read_config(path).with_context(|| format!("{flag} {arg}"));
    }
    let looks_like_json = matches!(arg.trim_start().chars().next(), Some('{' | '['));
    // Inline YAML too (`-R 'memory: 2g'`, `-R '{memory: 2g}'`), when it is a
    // mapping: a path that is not there reads as a single value, and is
    // said as a path; text that is YAML-shaped but broken says why.
    let yaml_shaped = arg.contains(": ") || arg.contains('\n') || arg.trim_end().ends_with(':');
    let yaml = || serde_yaml::from_str::<serde_yaml::Value>(arg);
    let from_yaml = |m: serde_yaml::Mapping| {
        serde_json::to_value(m)
            .with_context(|| format!("{flag}: the YAML given has values JSON cannot hold"))
    };
    if looks_like_json {
        return match serde_json::from_str::<Value>(arg) {
            Ok(value) => {
                anyhow::ensure!(
                    value.is_object(),
                    "{flag}: give a JSON object, like {example}"
                );
                Ok(value)
            }
            Err(json_error) => match yaml() {
                Ok(serde_yaml::Value::Mapping(m)) => from_yaml(m),
                _ => {
                    Err(json_error).with_context(|| format!("{flag}: the JSON given is not valid"))
                }
            },
        };
    }
    match yaml() {
        Ok(serde_yaml::Value::Mapping(m)) => return from_yaml(m),
        Err(e) if yaml_shaped => {
            return Err(e).with_context(|| format!("{flag}: the YAML given is not valid"));
        }
        _ => {}
    }
    anyhow::bail!(
        "{flag} {arg:?}: {}; pass the path of a JSON or YAML file, a JSON object like {example}, or YAML such as {yaml_example}",
        if path.is_dir() {
            "is a directory"
        } else {
            "no such file"
        }
    )
}

/// `NAME=SCHEMA` pairs into `{"NAME": {"schema": SCHEMA}}`.
pub fn parse_template_variables(pairs: &[String]) -> anyhow::Result<Option<Value>> {
    if pairs.is_empty() {
        return Ok(None);
    }
    let mut map = Map::new();
    for p in pairs {
        let (name, schema) = p.split_once('=').with_context(|| format!("--template-variable {p:?}: write NAME=SCHEMA, e.g. cpus='{{\"type\":\"integer\",\"minimum\":1}}'"))?;
        let schema: Value = serde_json::from_str(schema)
            .with_context(|| format!("--template-variable {name}: the schema is not valid JSON"))?;
        map.insert(
            name.trim().to_owned(),
            serde_json::json!({ "schema": schema }),
        );
    }
    Ok(Some(Value::Object(map)))
}

pub async fn run(cmd: QueueCommand) -> anyhow::Result<()> {
    match cmd {
        QueueCommand::Create {
            name,
            entity,
            resource,
            config,
            prioritization,
            template_variables,
            max_retries,
            conn: c,
        } => {
            let resource: ResourceType = resource
                .parse()
                .map_err(|e| anyhow::anyhow!("--resource: {e}"))?;
            liftoff_model::queue::validate_queue_name(&name).map_err(anyhow::Error::msg)?;
            let config = match &config {
                Some(c) => {
                    file_or_json(c, "--config", r#"'{"env": ["LR=0.1"]}'"#, "'env: [LR=0.1]'")?
                }
                None => Value::Object(Map::new()),
            };
            if let Some(note) = liftoff_model::template::not_placeholders_note(&config) {
                crate::warn_line!("warning: {note}");
            }
            let vars = parse_template_variables(&template_variables)?;
            let client = conn::client(&c)?;
            conn::check_resource_options(&client, None, "--config", resource, &config).await?;
            let entity = conn::entity(&client, entity.as_deref()).await?;
            client
                .call(CreateProject {
                    entity: entity.clone(),
                    name: LAUNCH_PROJECT.into(),
                })
                .await?;
            let config_id = client
                .call(CreateDefaultResourceConfig {
                    entity: entity.clone(),
                    resource,
                    config,
                    template_variables: vars,
                })
                .await?;
            let queue_id = client
                .call(CreateRunQueue {
                    entity: entity.clone(),
                    project: LAUNCH_PROJECT.into(),
                    name: name.clone(),
                    access: QueueAccess::Project,
                    prioritization_mode: prioritization.then_some(PrioritizationMode::V0),
                    default_resource_config_id: Some(config_id),
                })
                .await?;
            if max_retries > 0 {
                client
                    .call(liftoff_client::ops::liftoff::LiftoffUpdateRunQueue {
                        queue_id,
                        max_retries: Some(max_retries),
                        prioritization_mode: None,
                    })
                    .await
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "the queue was created, but --max-retries needs a Liftoff server: {e}"
                        )
                    })?;
            }
            crate::out!("Created queue {name} ({resource}) in entity {entity}.");
            let [start, wandb] = agent_commands(&entity, &name);
            match resource.agent_note() {
                // W&B's agent runs it: its command, not one that refuses it.
                Some(note) => crate::out!("{note}\nStart one for it: {wandb}"),
                None => crate::out!("Start an agent for it: {start}"),
            }
            Ok(())
        }
        QueueCommand::List { entity, conn: c } => {
            let client = conn::client(&c)?;
            let entity = conn::entity(&client, entity.as_deref()).await?;
            if conn::is_liftoff(&client).await {
                let now = time::OffsetDateTime::now_utc();
                let list = match client
                    .call(LiftoffRunQueues {
                        entity: entity.clone(),
                    })
                    .await
                {
                    Ok(list) => list,
                    Err(e) => anyhow::bail!(
                        "{}",
                        liftoff_client::loads::with_your_entities(&client, e).await
                    ),
                };
                if list.is_empty() {
                    crate::out!(
                        "No queues in {entity} yet. Create one with: liftoff queue create NAME -e {entity} --resource local-process"
                    );
                    return Ok(());
                }
                crate::out!(
                    "{:<24} {:<16} {:<11} {:>17}  ITEMS",
                    "QUEUE",
                    "RESOURCE",
                    "STATE",
                    "AGENTS (LIVE/ALL)"
                );
                for row in queue_rows(&list, now) {
                    // As the queue's items list shows them: "1 Running, 3 Finished".
                    let items = row
                        .statuses
                        .iter()
                        .map(|(status, n)| format!("{n} {status}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    crate::out!(
                        "{:<24} {:<16} {:<11} {:>17}  {}",
                        row.queue.name,
                        row.queue.resource().map_or("-".into(), |r| r.to_string()),
                        if row.active { "Active" } else { "Not active" },
                        format!("{}/{}", row.live_agents, row.agents),
                        if items.is_empty() { "none" } else { &items },
                    );
                }
            } else {
                for q in client.call(ProjectRunQueues::new(&entity)).await? {
                    crate::out!("{}", q.name);
                }
            }
            Ok(())
        }
        QueueCommand::Show {
            name,
            entity,
            item: Some(item),
            conn: c,
        } => {
            let client = conn::client(&c)?;
            let entity = conn::entity(&client, entity.as_deref()).await?;
            show_item(&client, &entity, &name, &item).await
        }
        QueueCommand::Show {
            name,
            entity,
            item: None,
            conn: c,
        } => {
            let client = conn::client(&c)?;
            let entity = conn::entity(&client, entity.as_deref()).await?;
            let d = queue_page(&client, &entity, &name, 50, None).await?;
            let now = time::OffsetDateTime::now_utc();
            // Statuses as the queue page derives them (one row per item, in order).
            let rows = item_rows(&d, now);
            crate::out!(
                "Queue {name} in {entity}: {} ({}), {}",
                d.queue
                    .resource()
                    .map_or("no resource config".into(), |r| r.to_string()),
                if has_live_agent(&d, now) {
                    "active"
                } else {
                    "no agent polling"
                },
                if d.queue.prioritization_mode.enabled() {
                    "prioritized (critical, high, medium, low; first in, first out within each)"
                } else {
                    "first in, first out (no priorities)"
                }
            );
            crate::out!("\nITEMS");
            // Ids differ in length (W&B's are longer than Liftoff's).
            let id_width = rows
                .iter()
                .map(|r| r.item.id.len())
                .max()
                .unwrap_or(4)
                .max(4);
            if rows.is_empty() {
                crate::out!(
                    "none. Push one with: liftoff launch --job ENTITY/PROJECT/JOB --queue {name} -e {entity}"
                );
            } else {
                crate::out!(
                    "{:<id_width$} {:<10} {:<4} {:<9} {:<10} {:<20} SOURCE",
                    "ITEM",
                    "STATUS",
                    "#",
                    "PRIORITY",
                    "RUN",
                    "CREATED"
                );
            }
            let prioritized = d.queue.prioritization_mode.enabled();
            for row in &rows {
                let source = row.job.as_ref().map_or("-".into(), |r| r.to_string());
                crate::out!(
                    "{:<id_width$} {:<10} {:<4} {:<9} {:<10} {:<20} {source}",
                    row.item.id,
                    row.status.label(),
                    // Place in line (1: next), for waiting items.
                    row.position.map_or("-".into(), |p| (p + 1).to_string()),
                    // A queue without priorities serves in order.
                    if prioritized {
                        row.item.priority.as_str()
                    } else {
                        "-"
                    },
                    row.item.associated_run_id.as_deref().unwrap_or("-"),
                    row.item.created_at.as_deref().unwrap_or("-"),
                );
                if let Some(e) = &row.item.error {
                    crate::out!(
                        "{:<id_width$} {:<10} {} error: {}",
                        "",
                        "",
                        e.stage,
                        liftoff_client::view::items::error_line(&e.message)
                    );
                }
            }
            if let Some(wait) = rows
                .iter()
                .find(|r| r.position == Some(0))
                .and_then(|r| r.wait.as_ref())
            {
                crate::out!("\nThe next item (# 1) waits: {wait}.");
            }
            crate::out!("\nAGENTS");
            if d.agents.is_empty() {
                let [start, _] = agent_commands(&entity, &name);
                crate::out!("none. Start one with: {start}");
            }
            // Agents that are gone are counted, not listed (they pile up).
            let gone = d
                .agents
                .iter()
                .filter(|a| !a.liveness(now).is_alive())
                .count();
            if gone > 0 && gone == d.agents.len() {
                let [start, _] = agent_commands(&entity, &name);
                crate::out!("none running ({gone} gone). Start one with: {start}");
            }
            for a in d.agents.iter().filter(|a| a.liveness(now).is_alive()) {
                let seen = a
                    .heartbeat()
                    .map_or("never".into(), |t| timefmt::ago(t, now));
                let state = a.liveness(now);
                crate::out!(
                    "{:<28} {:<8} {:<16} last heartbeat {seen}",
                    a.name,
                    state.label(),
                    a.hostname
                );
            }
            if gone > 0 && gone < d.agents.len() {
                crate::out!("({gone} more gone, not listed)");
            }
            Ok(())
        }
        QueueCommand::Update {
            name,
            entity,
            prioritization,
            max_retries,
            conn: c,
        } => {
            anyhow::ensure!(
                prioritization.is_some() || max_retries.is_some(),
                "nothing to change: pass --prioritization on|off and/or --max-retries N"
            );
            let client = conn::client(&c)?;
            let entity = conn::entity(&client, entity.as_deref()).await?;
            let queue_id = match client
                .call(FetchRunQueueId {
                    entity: entity.clone(),
                    project: LAUNCH_PROJECT.into(),
                    queue: name.clone(),
                })
                .await
            {
                Ok(id) => id,
                Err(e) if is_not_found(&e) => {
                    return Err(with_known_queues(&client, &entity, e).await);
                }
                Err(e) => return Err(e.into()),
            };
            client
                .call(liftoff_client::ops::liftoff::LiftoffUpdateRunQueue {
                    queue_id,
                    max_retries,
                    prioritization_mode: prioritization.map(|on| {
                        if on {
                            PrioritizationMode::V0
                        } else {
                            PrioritizationMode::Disabled
                        }
                    }),
                })
                .await
                .map_err(|e| {
                    if e.is_unknown_field() {
                        anyhow::anyhow!("this server cannot change a queue's settings (a Liftoff server can); on W&B, use its web UI")
                    } else {
                        e.into()
                    }
                })?;
            let mut said = vec![];
            if let Some(on) = prioritization {
                said.push(
                    if on {
                        "prioritized (critical, high, medium, low)"
                    } else {
                        "first in, first out"
                    }
                    .to_owned(),
                );
            }
            if let Some(n) = max_retries {
                said.push(format!("failed runs pushed again up to {n} time(s)"));
            }
            crate::out!("Queue {name} in {entity}: {}.", said.join("; "));
            Ok(())
        }
        QueueCommand::Cancel { items, conn: c } => {
            let client = conn::client(&c)?;
            each_item(&items, |item_id| async {
                client.call(LiftoffCancelItem { item_id }).await?;
                Ok("cancelled".to_owned())
            })
            .await
        }
        QueueCommand::Requeue { items, conn: c } => {
            let client = conn::client(&c)?;
            each_item(&items, |item_id| async {
                let copy = client.call(LiftoffRequeueItem { item_id }).await?;
                Ok(format!("pushed again as item {copy}"))
            })
            .await
        }
        QueueCommand::Priority {
            priority,
            items,
            conn: c,
        } => {
            let priority: Priority = priority
                .parse()
                .map_err(|e| anyhow::anyhow!("PRIORITY: {e}"))?;
            let client = &conn::client(&c)?;
            each_item(&items, |item_id| async move {
                client
                    .call(LiftoffSetItemPriority { item_id, priority })
                    .await?;
                Ok(format!("priority {priority}"))
            })
            .await
        }
    }
}

/// Do `act` to each item, saying each one's outcome (what `act` answers);
/// every item is tried, and the command fails if any one did. A server
/// without Liftoff's item operations (W&B's) is said once.
async fn each_item<F, Fut>(items: &[String], act: F) -> anyhow::Result<()>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<String, liftoff_client::Error>>,
{
    let mut failed = 0;
    for item in items {
        match act(item.clone()).await {
            Ok(done) => crate::out!("Item {item}: {done}."),
            Err(e) if e.is_unknown_field() => anyhow::bail!(
                "this server has no such operation on items (cancel, requeue and priority are a Liftoff server's); on W&B, use its web UI"
            ),
            Err(e) => {
                failed += 1;
                crate::warn_line!("Item {item}: {e}");
            }
        }
    }
    anyhow::ensure!(failed == 0, "{failed} of {} item(s) failed", items.len());
    Ok(())
}

/// A queue (or another thing) the server says is not there.
pub fn is_not_found(e: &liftoff_client::Error) -> bool {
    matches!(e, liftoff_client::Error::NotFound { .. }) || e.code() == Some("NOT_FOUND")
}

/// A queue not found in `entity`, said with the queues there are (as
/// `launch` and `agent` say it), or how to make one.
pub async fn with_known_queues(
    client: &Client<NativeTransport>,
    entity: &str,
    e: liftoff_client::Error,
) -> anyhow::Error {
    match client.call(ProjectRunQueues::new(entity)).await {
        Ok(qs) if qs.is_empty() => anyhow::anyhow!(
            "{e}; entity {entity:?} has no queues: create one with `liftoff queue create NAME -e {entity} --resource local-process`"
        ),
        Ok(qs) => anyhow::anyhow!(
            "{e}; known queues: {}",
            qs.iter()
                .map(|q| q.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        // No such entity, or not one of yours: the ones the key can use.
        Err(_) => match client.call(liftoff_client::ops::identity::Viewer).await {
            Ok(v)
                if !v.entity.is_empty()
                    && v.entity != entity
                    && !v.teams.iter().any(|t| t == entity) =>
            {
                let mut yours = vec![v.entity.clone()];
                yours.extend(v.teams);
                anyhow::anyhow!(
                    "{e}: entity {entity:?} does not exist or is not yours (yours: {}); pick one with -e",
                    yours.join(", ")
                )
            }
            _ => e.into(),
        },
    }
}

/// A page of a queue's items with the queue and its agents; a queue not
/// found names the entity's queues ([`with_known_queues`]).
async fn queue_page(
    client: &Client<NativeTransport>,
    entity: &str,
    queue: &str,
    first: i64,
    after: Option<String>,
) -> anyhow::Result<liftoff_client::ops::liftoff::QueueDetail> {
    match client
        .call(LiftoffRunQueue {
            entity: entity.to_owned(),
            queue: queue.to_owned(),
            first,
            after,
        })
        .await
    {
        Ok(d) => Ok(d),
        Err(e) if is_not_found(&e) => Err(with_known_queues(client, entity, e).await),
        Err(e) => Err(e.into()),
    }
}

/// `queue show Q --item ID`: the item found page by page, said in full.
async fn show_item(
    client: &Client<NativeTransport>,
    entity: &str,
    queue: &str,
    id: &str,
) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc();
    // Every page (up to 10,000 items): a place in line counts them all.
    let mut all: Option<liftoff_client::ops::liftoff::QueueDetail> = None;
    for _ in 0..100 {
        let after = all.as_ref().and_then(|d| d.end_cursor.clone());
        let d = queue_page(client, entity, queue, 100, after).await?;
        let more = d.has_next_page && d.end_cursor.is_some();
        match &mut all {
            Some(a) => {
                a.items.extend(d.items);
                a.end_cursor = d.end_cursor;
            }
            None => all = Some(d),
        }
        if !more {
            break;
        }
    }
    let d = all.context("the queue answered nothing")?;
    let row = item_rows(&d, now)
        .into_iter()
        .find(|r| r.item.id == id)
        .with_context(|| {
            format!(
                "no item {id} in queue {queue} of {entity}: `liftoff queue show {queue} -e {entity}` lists its items (a waiting item that was cancelled is gone)"
            )
        })?;
    let item = &row.item;
    crate::out!("Item {id} in queue {queue} of {entity}");
    crate::out!(
        "status:    {} ({})",
        row.status.label(),
        row.status.meaning()
    );
    if let Some(p) = row.position {
        let wait = row
            .wait
            .as_ref()
            .map(|w| format!(": {w}"))
            .unwrap_or_default();
        crate::out!("in line:   #{}{wait}", p + 1);
    }
    crate::out!("priority:  {}", item.priority.as_str());
    crate::out!(
        "pushed:    {} by {}",
        item.created_at.as_deref().unwrap_or("-"),
        item.created_by.as_deref().unwrap_or("-")
    );
    if let Some(run) = &item.associated_run_id {
        crate::out!(
            "run:       {run}{} (taken {})",
            row.run
                .as_ref()
                .map(|r| format!(", {}", r.state.as_str()))
                .unwrap_or_default(),
            item.claimed_at.as_deref().unwrap_or("-")
        );
    }
    if let Some(job) = &row.job {
        crate::out!("source:    {job}");
    }
    if item.retries > 0 {
        crate::out!("retries:   {}", item.retries);
    }
    if !item.template_values.is_empty() {
        crate::out!(
            "values:    {}",
            serde_json::Value::Object(item.template_values.clone())
        );
    }
    if let Some(e) = &item.error {
        crate::out!("\nERROR (stage {})", e.stage);
        for line in e.message.lines() {
            crate::out!("  {line}");
        }
        if !e.file_paths.is_empty() {
            crate::out!("  files: {}", e.file_paths.join(", "));
        }
    }
    if !item.warnings.is_empty() {
        crate::out!("\nWARNINGS");
        for w in &item.warnings {
            crate::out!(
                "  {} [{}] {}",
                w.created_at.as_deref().unwrap_or("-"),
                w.stage,
                w.message
            );
        }
    }
    if let Some(spec) = &item.run_spec {
        crate::out!("\nRUN SPEC");
        let text = serde_json::to_string_pretty(spec).unwrap_or_default();
        for line in text.lines() {
            crate::out!("  {line}");
        }
    }
    Ok(())
}
