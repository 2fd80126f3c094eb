//! The agent: register, pop from its queues in rotation, acknowledge, run,
//! heartbeat, report (spec §4).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use liftoff_client::native::NativeTransport;
use liftoff_client::ops::agents::{CreateLaunchAgent, LaunchAgent, UpdateLaunchAgent};
use liftoff_client::ops::artifacts::UseArtifact;
use liftoff_client::ops::identity::{EntityIsTeam, ServerFeaturesQuery, features};
use liftoff_client::ops::items::{
    AckRunQueueItem, FailRunQueueItem, PopFromRunQueue, Popped, UpdateRunQueueItemWarning,
};
use liftoff_client::ops::liftoff::LiftoffPopWait;
use liftoff_client::ops::queues::{CreateRunQueue, ProjectRunQueues, QueueRef};
use liftoff_client::ops::runs::{RunState, RunStoppedStatus, UpsertBucket};
use liftoff_client::{Client, Error as ClientError};
use liftoff_model::LAUNCH_PROJECT;
use liftoff_model::agent::AgentStatus;
use liftoff_model::config::AgentConfig;
use liftoff_model::macros::{MacroContext, expand};
use liftoff_model::queue::QueueAccess;
use liftoff_model::resource_args::{check_kubernetes, check_local_container};
use liftoff_model::run::{RunState as State, wrap_config};
use liftoff_model::spec::{JobRef, LaunchSpec};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::env::{JobIdentity, job_env};
use crate::log::JobLog;
use crate::runner::container::ContainerRunner;
use crate::runner::kubernetes::KubernetesRunner;
use crate::runner::process::ProcessRunner;
use crate::runner::{JobContext, Outcome, Runner, StageError, Warning};
use crate::source::materialize_context;

/// How an agent runs.
#[derive(Clone, Debug)]
pub struct AgentOptions {
    pub entity: String,
    /// The resolved launch-config (queues, max_jobs, ...).
    pub config: AgentConfig,
    /// Logs, job directories, venvs.
    pub work_dir: PathBuf,
    pub hostname: String,
    pub version: String,
    /// Stop running jobs when the agent stops (else they run to the end).
    pub stop_jobs_on_exit: bool,
    /// The agent's environment (for `${MACRO}`s).
    pub env: BTreeMap<String, String>,
    /// Sleep between polls when the server has no long poll (W&B: 10 s).
    pub poll_interval: Duration,
    pub heartbeat_interval: Duration,
    /// How often a running job's `stopped` flag is checked.
    pub stop_check_interval: Duration,
    /// SIGINT to SIGKILL (SIGTERM half way).
    pub stop_grace: Duration,
    /// Print job output on the agent's stdout.
    pub echo_jobs: bool,
}

impl AgentOptions {
    pub fn new(entity: String, config: AgentConfig, work_dir: PathBuf) -> Self {
        Self {
            entity,
            config,
            work_dir,
            hostname: hostname(),
            version: format!("liftoff@{}", env!("CARGO_PKG_VERSION")),
            stop_jobs_on_exit: false,
            env: std::env::vars().collect(),
            poll_interval: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(
                std::env::var("LIFTOFF_AGENT_HEARTBEAT_SECS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n > 0)
                    .unwrap_or(20),
            ),
            stop_check_interval: Duration::from_secs(5),
            stop_grace: Duration::from_secs(10),
            echo_jobs: true,
        }
    }
}

pub fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// What the agent did, for its exit message.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub name: String,
    pub jobs_started: u64,
    pub reason: String,
}

struct Shared {
    client: Client<NativeTransport>,
    opts: AgentOptions,
    agent_id: String,
    /// The server keeps a console for runs (`LIFTOFF_RUN_CONSOLE`).
    run_console: bool,
    process: ProcessRunner,
    /// Found on the first container job (asking docker or podman for `info`
    /// takes a while, and most agents never run a container).
    container: tokio::sync::OnceCell<ContainerRunner>,
    kubernetes: KubernetesRunner,
    /// Set when running jobs must stop (shutdown with --stop-jobs-on-exit,
    /// or Ctrl-C during `liftoff launch` without a queue).
    stop_jobs: watch::Receiver<bool>,
    /// Why, in the job's log and error, when `stop_jobs` is set.
    stop_jobs_reason: &'static str,
}

/// `name` is a program this agent can run: a file with an execute bit,
/// named by its path or found on PATH.
fn program_exists(name: &str) -> bool {
    let runnable = |p: &std::path::Path| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        {
            p.is_file()
        }
    };
    if name.contains('/') {
        return runnable(std::path::Path::new(name));
    }
    crate::runner::on_path(name, runnable)
}

/// The work dir can hold the agent's files: create `logs/` and `jobs/` in it
/// and write a file there.
fn check_work_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let probe = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join("jobs"))?;
        std::fs::create_dir_all(dir.join("logs"))?;
        let file = dir
            .join("logs")
            .join(format!(".probe-{}", std::process::id()));
        std::fs::write(&file, b"")?;
        std::fs::remove_file(&file)
    };
    probe().with_context(|| {
        format!(
            "cannot use {} as the agent's work dir (jobs' logs and code go there): pass --work-dir DIR or set LIFTOFF_AGENT_DIR to a directory you can write",
            dir.display()
        )
    })
}

/// Run the agent until `shutdown` resolves or the server asks it to stop polling.
pub async fn run(
    client: Client<NativeTransport>,
    opts: AgentOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<Summary> {
    tokio::pin!(shutdown);
    let entity = opts.entity.clone();
    // `-q a -q a` polls a once.
    let mut wanted: Vec<String> = Vec::new();
    for q in &opts.config.queues {
        if !wanted.contains(q) {
            wanted.push(q.clone());
        }
    }
    anyhow::ensure!(
        !wanted.is_empty(),
        "no queue to poll: pass -q QUEUE (or `queues:` in launch-config.yaml)"
    );
    // Every job's log, code and venv go under the work dir: one that cannot
    // be written would fail each job the agent takes.
    check_work_dir(&opts.work_dir)?;
    tracing::debug!(
        entity,
        queues = ?wanted,
        work_dir = %opts.work_dir.display(),
        "looking up the queues to poll"
    );
    let queues = resolve_queues(&client, &entity, &wanted).await?;
    let may_run_processes = check_runnable(&client, &entity, &queues).await?;
    // A python named in launch-config.yaml that is not here would fail
    // every local-process job: said now (when this agent may run one).
    if let Some(python) = opts
        .config
        .runner_str("python")
        .filter(|_| may_run_processes)
    {
        anyhow::ensure!(
            program_exists(python),
            "runner.python {python:?} (launch-config.yaml) is not a program on this machine: name one that is (such as python3), or leave it out"
        );
    }
    let resolved = opts.config.resolved();
    let mut agent_config = resolved.clone();
    if let Some(o) = agent_config.as_object_mut() {
        o.remove("project");
    }
    let agent_id = client
        .call(CreateLaunchAgent::new(
            &entity,
            queues.iter().map(|q| q.id.clone()).collect(),
            &opts.hostname,
            agent_config,
            &opts.version,
        ))
        .await
        .context("cannot register the agent")?;
    if client
        .call(EntityIsTeam {
            entity: entity.clone(),
        })
        .await
        .unwrap_or(false)
    {
        tracing::info!("entity {entity} is a team: jobs run with this agent's API key");
    }
    let me = client
        .call(LaunchAgent {
            id: agent_id.clone(),
        })
        .await
        .context("cannot read the agent back")?;
    let server_features = client.call(ServerFeaturesQuery).await.unwrap_or_default();
    let long_poll = server_features.has(features::LONG_POLL_POP);
    let names: Vec<&str> = queues.iter().map(|q| q.name.as_str()).collect();
    crate::log::say!(
        "Agent {} polling {} in entity {entity} (max jobs: {}; {})",
        me.name,
        names.join(", "),
        match opts.config.max_jobs() {
            n if n < 0 => "unlimited".to_owned(),
            n => n.to_string(),
        },
        if long_poll {
            "long poll"
        } else {
            "polling every 10 s"
        }
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        run_console: server_features.has(features::RUN_CONSOLE),
        process: process_runner(&opts.config),
        container: tokio::sync::OnceCell::new(),
        kubernetes: KubernetesRunner::new(
            Some(me.name.clone()),
            opts.config.runner_str("namespace").map(str::to_owned),
        ),
        client,
        opts,
        agent_id: agent_id.clone(),
        stop_jobs: stop_rx,
        stop_jobs_reason: "the agent is stopping its jobs",
    });
    let max_jobs = shared.opts.config.max_jobs();
    let mut jobs: JoinSet<()> = JoinSet::new();
    // Which item each job task runs: said on the items left running.
    let mut started: Vec<(tokio::task::AbortHandle, String)> = Vec::new();
    let mut order: Vec<String> = queues.iter().map(|q| q.name.clone()).collect();
    let mut summary = Summary {
        name: me.name.clone(),
        ..Default::default()
    };
    // Heartbeats run on their own clock; the loop only says what to report.
    let (status_tx, status_rx) = watch::channel(AgentStatus::Polling);
    let beat = tokio::spawn(heartbeats(shared.clone(), status_rx));
    let mut failing = Duration::ZERO;
    summary.reason = loop {
        while let Some(done) = jobs.try_join_next() {
            if let Err(e) = done {
                tracing::error!(error = %e, "a job task panicked");
            }
        }
        let running = jobs.len() as i64;
        status_tx.send_if_modified(|s| {
            let now = if running > 0 {
                AgentStatus::Running
            } else {
                AgentStatus::Polling
            };
            let changed = *s != now;
            *s = now;
            changed
        });
        match shared
            .client
            .call(LaunchAgent {
                id: agent_id.clone(),
            })
            .await
        {
            Ok(a) if a.stop_polling => {
                break "the server asked this agent to stop polling".to_owned();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the agent's state; retrying"),
        }
        let has_room = max_jobs < 0 || running < max_jobs;
        if !has_room {
            tokio::select! {
                () = &mut shutdown => break "shutdown requested".to_owned(),
                _ = jobs.join_next() => {},
                () = tokio::time::sleep(shared.opts.heartbeat_interval) => {},
            }
            continue;
        }
        let wait = if long_poll {
            if order.len() == 1 { 10 } else { 1 }
        } else {
            0
        };
        let popped = tokio::select! {
            () = &mut shutdown => break "shutdown requested".to_owned(),
            p = pop_next(&shared, &mut order, wait) => p,
        };
        // Every pop failed (a deleted queue, a revoked key, a server that
        // refuses): wait, longer each time, rather than ask again at once.
        let popped = match popped {
            Pop::Item(queue, item) => {
                failing = Duration::ZERO;
                Some((queue, item))
            }
            Pop::Empty => {
                failing = Duration::ZERO;
                None
            }
            Pop::Failed => {
                failing = (failing * 2).clamp(Duration::from_secs(1), POP_BACKOFF_MAX);
                tokio::select! {
                    () = &mut shutdown => break "shutdown requested".to_owned(),
                    () = tokio::time::sleep(failing) => {},
                }
                continue;
            }
        };
        match popped {
            Some((queue, item)) => {
                summary.jobs_started += 1;
                status_tx.send_if_modified(|s| {
                    let changed = *s != AgentStatus::Running;
                    *s = AgentStatus::Running;
                    changed
                });
                let shared = shared.clone();
                let item_id = item.item_id.clone();
                started.retain(|(task, _)| !task.is_finished());
                let task = jobs.spawn(async move { handle_item(shared, queue, item).await });
                started.push((task, item_id));
            }
            None if !long_poll => {
                tokio::select! {
                    () = &mut shutdown => break "shutdown requested".to_owned(),
                    _ = jobs.join_next(), if !jobs.is_empty() => {},
                    () = tokio::time::sleep(shared.opts.poll_interval) => {},
                }
            }
            None => {}
        }
    };
    crate::log::say!("Agent {} stopping: {}", summary.name, summary.reason);
    // Heartbeats go on while jobs are waited for: an agent reported gone
    // has its items failed by the server, and one killed while it waits
    // (systemd's SIGKILL after SIGTERM) is then found gone by its silence.
    if !jobs.is_empty() {
        if shared.opts.stop_jobs_on_exit {
            crate::log::say!(
                "Stopping {} running job(s) (--stop-jobs-on-exit)",
                jobs.len()
            );
            let _ = stop_tx.send(true);
        } else {
            crate::log::say!(
                "Waiting for {} running job(s) to finish (Ctrl-C or SIGTERM again to leave them running)",
                jobs.len()
            );
        }
        let drain = async { while jobs.join_next().await.is_some() {} };
        tokio::select! {
            () = drain => {},
            () = interrupt_or_terminate() => {
                let left: Vec<String> = started
                    .into_iter()
                    .filter(|(task, _)| !task.is_finished())
                    .map(|(_, item)| item)
                    .collect();
                leave_running(&shared, &summary.name, &left).await;
            }
        }
    }
    // The heartbeat task ends (a beat on the way lands first, not after
    // KILLED), then KILLED is the last word.
    drop(status_tx);
    let beat_abort = beat.abort_handle();
    if tokio::time::timeout(Duration::from_secs(5), beat)
        .await
        .is_err()
    {
        beat_abort.abort();
    }
    heartbeat(&shared, AgentStatus::Killed).await;
    Ok(summary)
}

/// Ctrl-C or SIGTERM (a supervisor's second stop is a SIGTERM too).
pub async fn interrupt_or_terminate() {
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = term => {},
    }
}

/// A second Ctrl-C: the jobs go on without this agent. Nothing will report
/// their end and their output no longer reaches their runs (it goes on into
/// their output files, `runner::process::spawn_job`), so each item says so
/// (where the queue page shows it), and so does the terminal.
async fn leave_running(shared: &Shared, agent: &str, items: &[String]) {
    let logs = shared.opts.work_dir.join("logs");
    crate::log::say!(
        "Leaving {} job(s) running without this agent. Nothing reports their end: the server marks their runs crashed once it hears nothing from them. A local process's or container's output goes on into RUN_ID.stdout and RUN_ID.stderr in {}.",
        items.len(),
        logs.display()
    );
    let message = format!(
        "agent {agent} on {} exited and left this job running (stopped twice): nothing reports its end, so its run shows Crashed once the server hears nothing from it; a local process's or container's output goes on into RUN_ID.stdout and RUN_ID.stderr in {} on that machine",
        shared.opts.hostname,
        logs.display()
    );
    let mut posts = JoinSet::new();
    for item in items {
        let call = UpdateRunQueueItemWarning {
            item_id: item.clone(),
            message: message.clone(),
            stage: "agent".into(),
            file_paths: vec![],
        };
        let client = shared.client.clone();
        posts.spawn(async move { (call.item_id.clone(), client.call(call).await) });
    }
    // Leaving must not hang on a server that is gone: 5 s for all of them.
    let all = async {
        while let Some(done) = posts.join_next().await {
            if let Ok((item, Err(e))) = done {
                tracing::warn!(item, error = %e, "cannot post a warning on the item");
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(5), all)
        .await
        .is_err()
    {
        tracing::warn!("cannot post the warnings on the items left running: no answer in 5 s");
    }
}

fn process_runner(config: &AgentConfig) -> ProcessRunner {
    ProcessRunner {
        python: config.runner_str("python").unwrap_or("python3").to_owned(),
    }
}

/// Stream a job's console into its run (`liftoff-console.log`), a batch
/// every second; ends when the log stops streaming.
fn stream_console(
    shared: &Shared,
    target: &RunTarget,
    run_id: &str,
    log: &JobLog,
) -> Option<tokio::task::JoinHandle<()>> {
    if !shared.run_console {
        return None;
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(bool, String)>();
    log.stream_to(tx);
    let client = shared.client.clone();
    let (entity, project, run) = (
        target.entity.clone(),
        target.project.clone(),
        run_id.to_owned(),
    );
    Some(tokio::spawn(async move {
        let mut offset: i64 = 0;
        let mut open = true;
        while open {
            let mut batch = Vec::new();
            let deadline = tokio::time::sleep(Duration::from_secs(1));
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    line = rx.recv() => match line {
                        Some((stderr, l)) => batch.push(console_entry(stderr, &l, &console_time())),
                        None => { open = false; break; }
                    },
                    () = &mut deadline => break,
                }
            }
            if batch.is_empty() {
                continue;
            }
            let body =
                json!({"files": {"liftoff-console.log": {"offset": offset, "content": batch}}});
            match client.file_stream(&entity, &project, &run, &body).await {
                Ok(_) => {
                    offset += body["files"]["liftoff-console.log"]["content"]
                        .as_array()
                        .map_or(0, |a| a.len() as i64)
                }
                Err(e) => {
                    tracing::debug!(error = %e, "cannot stream the console; lines stay in the local log")
                }
            }
        }
    }))
}

/// A console line as the SDK writes `output.log`: `<time> <text>`, and
/// `ERROR <time> <text>` for stderr.
fn console_entry(stderr: bool, line: &str, time: &str) -> String {
    if stderr {
        format!("ERROR {time} {line}")
    } else {
        format!("{time} {line}")
    }
}

/// `2026-11-28T22:44:12.833068`, the SDK's console timestamp.
fn console_time() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]"
    );
    now.format(fmt).unwrap_or_default()
}

/// Report the agent's status every heartbeat interval, and at once when it changes.
async fn heartbeats(shared: Arc<Shared>, mut status: watch::Receiver<AgentStatus>) {
    loop {
        let current = status.borrow_and_update().clone();
        // A missed heartbeat is tried again soon: the server counts an agent
        // gone after a minute without one.
        let next = if heartbeat(&shared, current).await {
            shared.opts.heartbeat_interval
        } else {
            shared.opts.heartbeat_interval.min(Duration::from_secs(5))
        };
        tokio::select! {
            changed = status.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(next) => {},
        }
    }
}

async fn heartbeat(shared: &Shared, status: AgentStatus) -> bool {
    let sent = shared
        .client
        .call(UpdateLaunchAgent {
            id: shared.agent_id.clone(),
            status,
        })
        .await;
    if let Err(e) = &sent {
        tracing::warn!(error = %e, "heartbeat failed");
    }
    sent.is_ok()
}

/// Find the requested queues; like W&B, create `default` when the entity has
/// no queues at all.
async fn resolve_queues(
    client: &Client<NativeTransport>,
    entity: &str,
    wanted: &[String],
) -> anyhow::Result<Vec<QueueRef>> {
    let mut all = match client.call(ProjectRunQueues::new(entity)).await {
        Ok(all) => all,
        Err(e) => anyhow::bail!(
            "cannot list the queues of entity {entity:?} (check -e or WANDB_ENTITY): {}",
            liftoff_client::loads::with_your_entities(client, e).await
        ),
    };
    if all.is_empty() && wanted.iter().any(|w| w == "default") {
        client
            .call(CreateRunQueue {
                entity: entity.into(),
                project: LAUNCH_PROJECT.into(),
                name: "default".into(),
                access: QueueAccess::Project,
                prioritization_mode: None,
                default_resource_config_id: None,
            })
            .await
            .context("cannot create the default queue")?;
        all = client.call(ProjectRunQueues::new(entity)).await?;
    }
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for w in wanted {
        match all.iter().find(|q| &q.name == w) {
            Some(q) => out.push(q.clone()),
            None => missing.push(w.clone()),
        }
    }
    if !missing.is_empty() {
        let known: Vec<&str> = all.iter().map(|q| q.name.as_str()).collect();
        anyhow::bail!(
            "queue(s) {} not found in entity {entity:?}; known queues: {}. Create one with `liftoff queue create NAME -e {entity} --resource local-process`",
            missing.join(", "),
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        );
    }
    Ok(out)
}

/// Queues whose items this agent could only fail (a sagemaker queue, a
/// kubernetes one on a machine with no cluster) are refused before it
/// registers for them, so it never takes their items. A queue whose config
/// cannot be read is let through (the item says it later, if need be).
/// Answers whether one of them may run local-process jobs (it does, or its
/// config could not be read).
async fn check_runnable(
    client: &Client<NativeTransport>,
    entity: &str,
    queues: &[QueueRef],
) -> anyhow::Result<bool> {
    let mut processes = false;
    for q in queues {
        let Ok((_, Some(config))) =
            liftoff_client::loads::queue_config(client, entity, LAUNCH_PROJECT, &q.name).await
        else {
            processes = true;
            continue;
        };
        let resource = config.resource;
        processes |= resource == liftoff_model::ResourceType::LocalProcess;
        anyhow::ensure!(
            resource.liftoff_agent_runs(),
            "queue {} runs {resource} jobs, which this agent cannot run (it runs local-process, local-container and kubernetes): run W&B's agent (wandb launch-agent) for it, or leave it out of -q",
            q.name
        );
        anyhow::ensure!(
            resource != liftoff_model::ResourceType::Kubernetes
                || crate::runner::kubernetes::has_cluster_config(&|name| std::env::var_os(name)),
            "queue {} runs kubernetes jobs, which need a cluster: no kubeconfig found (KUBECONFIG or ~/.kube/config) and not running in one. Point KUBECONFIG at your cluster's config, or leave the queue out of -q",
            q.name
        );
    }
    Ok(processes)
}

/// The longest wait between pops while every pop fails.
const POP_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// What one round of pops over the agent's queues gave.
enum Pop {
    Item(String, Popped),
    /// No queue had an item (and at least one answered).
    Empty,
    /// Every queue's pop failed.
    Failed,
}

/// Pop from the queues in order; the queue that gave an item goes last.
async fn pop_next(shared: &Shared, order: &mut Vec<String>, wait_seconds: i64) -> Pop {
    let mut answered = false;
    for i in 0..order.len() {
        let queue = order[i].clone();
        let result = if wait_seconds > 0 {
            shared
                .client
                .call(LiftoffPopWait {
                    entity: shared.opts.entity.clone(),
                    queue: queue.clone(),
                    agent_id: Some(shared.agent_id.clone()),
                    wait_seconds,
                })
                .await
        } else {
            shared
                .client
                .call(PopFromRunQueue {
                    entity: shared.opts.entity.clone(),
                    project: LAUNCH_PROJECT.into(),
                    queue: queue.clone(),
                    agent_id: Some(shared.agent_id.clone()),
                })
                .await
        };
        match result {
            Ok(Some(item)) => {
                let q = order.remove(i);
                order.push(q);
                return Pop::Item(queue, item);
            }
            Ok(None) => answered = true,
            Err(e) => tracing::warn!(queue, error = %e, "pop failed"),
        }
    }
    if answered { Pop::Empty } else { Pop::Failed }
}

/// A run id that is safe as a file and container name (see `handle_item`).
fn safe_run_id(id: &str) -> bool {
    liftoff_model::job::is_safe_name(id) && !id.chars().all(|c| c == '.')
}

/// A short random run id: 8 base36 characters, like W&B's.
pub fn new_run_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..8)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// How long the agent keeps trying to report an outcome while the server
/// is unreachable (it may be restarting).
const REPORT_PATIENCE: Duration = Duration::from_secs(600);

/// Run `op` until it succeeds or fails for good: transient errors (network,
/// 429, 5xx) are retried with backoff (1 s doubling to 30 s) for `patience`.
pub async fn with_retry<T, F, Fut>(
    what: &str,
    patience: Duration,
    mut op: F,
) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let deadline = tokio::time::Instant::now() + patience;
    let mut wait = Duration::from_secs(1);
    loop {
        match op().await {
            Err(e) if e.is_transient() && tokio::time::Instant::now() + wait < deadline => {
                tracing::warn!(error = %e, "{what}: the server is unreachable; retrying in {} s", wait.as_secs());
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            other => return other,
        }
    }
}

async fn fail(shared: &Shared, item_id: &str, e: &StageError) {
    tracing::warn!(
        item = item_id,
        stage = e.stage.as_str(),
        "job failed: {}",
        liftoff_client::view::items::error_line(&e.message)
    );
    let call = FailRunQueueItem {
        item_id: item_id.to_owned(),
        message: e.message.clone(),
        stage: e.stage.as_str().to_owned(),
        file_paths: vec![],
    };
    if let Err(err) = with_retry("reporting a failure", REPORT_PATIENCE, || {
        shared.client.call(call.clone())
    })
    .await
    {
        tracing::error!(error = %err, "cannot report the failure");
    }
}

/// Checks made before the item is acknowledged (W&B's `_assert_secure`).
fn preflight(spec_value: &Value, secure: bool) -> Result<LaunchSpec, StageError> {
    let spec =
        LaunchSpec::from_value(spec_value.clone()).map_err(|e| StageError::agent(e.to_string()))?;
    spec.validate_source()
        .map_err(|e| StageError::agent(e.to_string()))?;
    // "local" is run as local-container (`run_job`), with its own args.
    for resource in ["local-container", "local"] {
        if let Some(args) = spec.resource_args_for(resource) {
            check_local_container(args).map_err(StageError::agent)?;
        }
    }
    if let Some(args) = spec.resource_args_for("kubernetes") {
        check_kubernetes(args).map_err(StageError::agent)?;
    }
    if secure && spec.overrides().entry_point.is_some() {
        return Err(StageError::agent(
            "secure_mode is on: entry point overrides are not allowed",
        ));
    }
    if secure && let Some(k8s) = spec.resource_args_for("kubernetes") {
        secure_pod(k8s).map_err(StageError::agent)?;
    }
    Ok(spec)
}

/// What secure mode also refuses in a Kubernetes job (W&B's
/// `_assert_secure`): host namespaces and init containers in the pod spec,
/// and a container `command`.
fn secure_pod(manifest: &Value) -> Result<(), String> {
    let pod = manifest
        .pointer("/spec/template/spec")
        .and_then(Value::as_object);
    let Some(pod) = pod else { return Ok(()) };
    for key in ["hostPID", "hostIPC", "hostNetwork", "initContainers"] {
        if pod.contains_key(key) {
            return Err(format!(
                "secure_mode is on: the Kubernetes pod spec may not set {key:?} (resource_args.kubernetes.spec.template.spec.{key})"
            ));
        }
    }
    let containers = pod.get("containers").and_then(Value::as_array);
    if containers.is_some_and(|c| c.iter().any(|c| c.get("command").is_some())) {
        return Err(
            "secure_mode is on: a Kubernetes container may not set \"command\" (resource_args.kubernetes.spec.template.spec.containers[].command)".into(),
        );
    }
    Ok(())
}

async fn handle_item(shared: Arc<Shared>, queue: String, item: Popped) {
    let spec = match preflight(&item.run_spec, shared.opts.config.secure_mode()) {
        Ok(s) => s,
        Err(e) => return fail(&shared, &item.item_id, &e).await,
    };
    let run_id = spec
        .run_id
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(new_run_id);
    // The run id names the job's directory and container: a spec's own
    // (a W&B server takes any) must not climb out of the work dir.
    if !safe_run_id(&run_id) {
        let e = StageError::agent(format!(
            "the run id {run_id:?} cannot be used: it must be 1 to 128 letters, digits, '_', '-' or '.', and not only dots; launch with another run id"
        ));
        return fail(&shared, &item.item_id, &e).await;
    }
    // Within the item's lease (a minute); the server takes a repeated ack.
    if let Err(e) = with_retry("acknowledging an item", Duration::from_secs(30), || {
        shared.client.call(AckRunQueueItem {
            item_id: item.item_id.clone(),
            run_id: run_id.clone(),
        })
    })
    .await
    {
        tracing::warn!(queue, error = %e, "could not acknowledge an item (another agent may have it); skipping it");
        return;
    }
    let log = match JobLog::create(
        &shared
            .opts
            .work_dir
            .join("logs")
            .join(format!("{run_id}.log")),
        &format!("[{run_id}]"),
        shared.opts.echo_jobs,
    ) {
        Ok(l) => l,
        Err(e) => {
            return fail(
                &shared,
                &item.item_id,
                &StageError::agent(format!(
                    "cannot create the job's log in {}: {e}",
                    shared.opts.work_dir.join("logs").display()
                )),
            )
            .await;
        }
    };
    crate::log::say!("Job {run_id} from queue {queue}: {}", describe(&spec));
    let target = run_target(&shared, &spec);
    if let Err(e) = open_run(&shared, &target, &run_id, &spec).await {
        log.note(&format!("failed ({}): {}", e.stage.as_str(), e.message));
        return fail(&shared, &item.item_id, &e).await;
    }
    let streamer = stream_console(&shared, &target, &run_id, &log);
    let outcome = run_job(&shared, &queue, &item.item_id, &spec, &run_id, &log).await;
    // Where a code job's files were put (`run_job`), until they are removed below.
    let code_dir = shared.opts.work_dir.join("jobs").join(&run_id).join("code");
    match outcome {
        Err(e) => {
            log.note(&format!("failed ({}): {}", e.stage.as_str(), e.message));
            set_run_state(&shared, &target, &run_id, &spec, State::Failed, None).await;
            fail(&shared, &item.item_id, &e).await;
        }
        Ok(Outcome::Exited(0)) => {
            log.note("the job finished");
            set_run_state(&shared, &target, &run_id, &spec, State::Finished, Some(0)).await;
        }
        Ok(Outcome::Exited(code)) => {
            log.note(&format!("the job exited with code {code}"));
            set_run_state(&shared, &target, &run_id, &spec, State::Failed, Some(code)).await;
            let msg = with_output(
                format!("the job exited with code {code}"),
                &log,
                Some(&code_dir),
            );
            fail(&shared, &item.item_id, &StageError::run(msg)).await;
        }
        Ok(Outcome::Signaled(sig)) => {
            log.note(&format!("the job was killed by {sig}"));
            set_run_state(&shared, &target, &run_id, &spec, State::Crashed, None).await;
            let msg = with_output(
                format!("the job was killed by {sig}"),
                &log,
                Some(&code_dir),
            );
            fail(&shared, &item.item_id, &StageError::run(msg)).await;
        }
        Ok(Outcome::Stopped) => {
            log.note("the job was stopped");
            set_run_state(&shared, &target, &run_id, &spec, State::Killed, None).await;
        }
    }
    log.stop_streaming();
    if let Some(s) = streamer {
        let _ = s.await;
    }
    let _ = tokio::fs::remove_dir_all(shared.opts.work_dir.join("jobs").join(&run_id)).await;
}

fn describe(spec: &LaunchSpec) -> String {
    if let Some(job) = &spec.job {
        return format!("job {job}");
    }
    if let Some(image) = spec.docker_image() {
        return format!("image {image}");
    }
    spec.command()
        .map_or("(no source)".into(), |c| format!("command {}", c.join(" ")))
}

/// Where the job's run lives: the spec's entity and project.
struct RunTarget {
    entity: String,
    project: String,
}

fn run_target(shared: &Shared, spec: &LaunchSpec) -> RunTarget {
    let (entity, project) = liftoff_model::spec::run_home(
        spec.entity.as_deref(),
        spec.project.as_deref(),
        spec.job.as_deref(),
        &shared.opts.entity,
    );
    RunTarget { entity, project }
}

/// How long setting up a job's run (creating it, linking it to its job)
/// may hold up the job: it is for the UI, the job runs without it.
const RUN_SETUP_PATIENCE: Duration = Duration::from_secs(30);

/// Create the job's run with its launch config before its console streams
/// into it (a Liftoff server only: on W&B the job's own `wandb.init` makes
/// the run). A job that never calls `wandb.init` still shows the config it
/// was launched with; one that does sends the same config again.
///
/// A server that refuses the run (no such entity, not a member) fails the
/// job before it starts: its own `wandb.init` would be refused the same way,
/// and its item would wait for a run that never comes. A server that cannot
/// be reached only delays the run.
async fn open_run(
    shared: &Shared,
    target: &RunTarget,
    run_id: &str,
    spec: &LaunchSpec,
) -> Result<(), StageError> {
    if !shared.run_console {
        return Ok(());
    }
    let upsert = UpsertBucket {
        name: run_id.to_owned(),
        project: target.project.clone(),
        entity: target.entity.clone(),
        display_name: spec.name.clone(),
        config: spec.overrides().run_config.map(|c| wrap_config(&c)),
        host: Some(shared.opts.hostname.clone()),
        // Pending while the agent fetches, builds and installs; running once
        // the job's process starts (`mark_running`, or the job's own wandb).
        state: Some("pending".into()),
        ..Default::default()
    };
    if let Err(e) = with_retry("creating the job's run", RUN_SETUP_PATIENCE, || {
        shared.client.call(upsert.clone())
    })
    .await
    {
        if !e.is_transient() {
            return Err(StageError::agent(format!(
                "cannot create the job's run {run_id} in {}/{}: {e}; check the entity and project the job was launched to",
                target.entity, target.project
            )));
        }
        tracing::warn!(run = run_id, error = %e, "cannot create the job's run; its console stays in the local log until it can");
    }
    Ok(())
}

/// The job's process has started: its run (made pending by [`open_run`])
/// is running, for a job that never calls `wandb.init` too.
async fn mark_running(shared: &Shared, target: &RunTarget, run_id: &str) {
    if !shared.run_console {
        return;
    }
    let upsert = UpsertBucket {
        name: run_id.to_owned(),
        project: target.project.clone(),
        entity: target.entity.clone(),
        state: Some("running".into()),
        ..Default::default()
    };
    if let Err(e) = with_retry(
        "marking the job's run running",
        Duration::from_secs(5),
        || shared.client.call(upsert.clone()),
    )
    .await
    {
        tracing::debug!(run = run_id, error = %e, "cannot mark the run running; its job's wandb or its end will");
    }
}

/// Link the run the agent made to the job version it runs (a Liftoff server
/// only, as for [`open_run`]), so the job lists the run even when the job
/// never calls `wandb.init` (whose `use_artifact` would do the same; the
/// server keeps one link).
async fn record_job_use(shared: &Shared, target: &RunTarget, run_id: &str, artifact_id: &str) {
    if !shared.run_console {
        return;
    }
    let used = UseArtifact {
        artifact_id: artifact_id.to_owned(),
        entity: target.entity.clone(),
        project: target.project.clone(),
        run_name: run_id.to_owned(),
    };
    if let Err(e) = with_retry("linking the run to its job", RUN_SETUP_PATIENCE, || {
        shared.client.call(used.clone())
    })
    .await
    {
        tracing::warn!(run = run_id, error = %e, "cannot link the run to its job; the job's page will not list it");
    }
}

/// Make the run's state reflect how the job ended, unless the job's own
/// `wandb` already recorded an outcome.
async fn set_run_state(
    shared: &Shared,
    target: &RunTarget,
    run_id: &str,
    spec: &LaunchSpec,
    state: State,
    exit: Option<i32>,
) {
    let query = RunState {
        entity: target.entity.clone(),
        project: target.project.clone(),
        name: run_id.to_owned(),
    };
    let current = with_retry("reading the run's state", REPORT_PATIENCE, || {
        shared.client.call(query.clone())
    })
    .await;
    // A terminal state stands, except `crashed`, which the server sets when
    // it lost this agent for a while: the agent knows better.
    if let Ok(s) = &current
        && s.is_terminal()
        && *s != State::Crashed
        && !matches!(state, State::Killed)
    {
        // A run the job's wandb marked failed keeps that, but its exit code
        // is the process's (wandb says 1 for any exception, even a
        // `sys.exit(2)`), as the item's error says.
        if *s == State::Failed && state == State::Failed {
            record_exit_code(shared, target, run_id, exit).await;
        }
        return;
    }
    let upsert = UpsertBucket {
        name: run_id.to_owned(),
        project: target.project.clone(),
        entity: target.entity.clone(),
        display_name: spec.name.clone(),
        config: match (&current, spec.overrides().run_config) {
            (Err(ClientError::NotFound { .. }), Some(cfg)) => Some(wrap_config(&cfg)),
            _ => None,
        },
        host: Some(shared.opts.hostname.clone()),
        state: Some(state.as_str().to_owned()),
        ..Default::default()
    };
    if let Err(e) = with_retry("recording the run's state", REPORT_PATIENCE, || {
        shared.client.call(upsert.clone())
    })
    .await
    {
        tracing::warn!(run = run_id, error = %e, "cannot record the run's state");
        return;
    }
    record_exit_code(shared, target, run_id, exit).await;
}

/// A failed job's error: `what` happened, the likely cause (the job's last
/// error line, [`JobLog::cause`]) and its last output. `code`: the job's
/// code folder, when it has one here (a module found there is its own).
fn with_output(what: String, log: &JobLog, code: Option<&std::path::Path>) -> String {
    let found = log.cause();
    let cause = found
        .as_deref()
        .map(|c| format!(": {c}"))
        .unwrap_or_default();
    // A module file, or a folder with Python in it (not a data folder the
    // job made that happens to share a pip package's name).
    let own = |module: &str| {
        code.is_some_and(|dir| {
            dir.join(format!("{module}.py")).is_file()
                || std::fs::read_dir(dir.join(module)).is_ok_and(|entries| {
                    entries
                        .flatten()
                        .any(|e| e.path().extension().is_some_and(|x| x == "py"))
                })
        })
    };
    let hint = found
        .as_deref()
        .and_then(|c| liftoff_model::status::cause_hint(c, own))
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    format!("{what}{cause}{hint}; last output:\n{}", log.tail())
}

/// The exit code, as the SDK's last file_stream request carries it (so the
/// run page says "exit code 3"); a Liftoff server only, as the console.
async fn record_exit_code(shared: &Shared, target: &RunTarget, run_id: &str, exit: Option<i32>) {
    if let (true, Some(code)) = (shared.run_console, exit) {
        let body = json!({"complete": true, "exitcode": code});
        if let Err(e) = shared
            .client
            .file_stream(&target.entity, &target.project, run_id, &body)
            .await
        {
            tracing::debug!(run = run_id, error = %e, "cannot record the job's exit code");
        }
    }
}

async fn run_job(
    shared: &Shared,
    queue: &str,
    item_id: &str,
    spec: &LaunchSpec,
    run_id: &str,
    log: &JobLog,
) -> Result<Outcome, StageError> {
    let resource = spec.resource().unwrap_or("local-container").to_owned();
    let runner: &dyn Runner = match resource.as_str() {
        "local-process" => &shared.process,
        "local-container" | "local" => shared
            .container
            // Found once; a failure is not kept (the engine may be started).
            .get_or_try_init(|| {
                ContainerRunner::detect(shared.opts.config.runner_str("container_cli"))
            })
            .await
            .map_err(StageError::agent)?,
        "kubernetes" => &shared.kubernetes,
        other => {
            let hint = other
                .parse::<liftoff_model::ResourceType>()
                .ok()
                .filter(|r| !r.liftoff_agent_runs())
                .map(|_| ": run W&B's agent (wandb launch-agent) for this queue")
                .unwrap_or_default();
            return Err(StageError::agent(format!(
                "this agent cannot run {other:?} jobs (it runs local-process, local-container and kubernetes){hint}"
            )));
        }
    };
    let work_dir = shared.opts.work_dir.join("jobs").join(run_id);
    std::fs::create_dir_all(&work_dir)
        .map_err(|e| StageError::agent(format!("cannot create {}: {e}", work_dir.display())))?;
    let target = run_target(shared, spec);
    let overrides = spec.overrides();
    let push_to = image_destination(&shared.opts.config, spec);
    let (job, source_dir, requirements, mut image) = match &spec.job {
        Some(name) => {
            let job_ref = JobRef::parse(name).map_err(|e| StageError::agent(e.to_string()))?;
            log.note(&format!("fetching job {job_ref} ..."));
            let fetched = shared
                .client
                .fetch_job(&job_ref)
                .await
                .map_err(|e| StageError::agent(format!("cannot fetch job {job_ref}: {e}")))?;
            record_job_use(shared, &target, run_id, &fetched.info.id).await;
            let requirements = fetched.requirements().map(<[u8]>::to_vec);
            let image = fetched.spec.source.image.clone();
            // Kubernetes pods fetch their own code (an init container).
            let source = if image.is_none() && resource != "kubernetes" {
                let dir = work_dir.join("code");
                Some(materialize_context(&shared.client, &fetched, &dir, log).await?)
            } else {
                None
            };
            (Some(fetched.spec), source, requirements, image)
        }
        None => (None, None, None, None),
    };
    if image.is_none() {
        image = spec.docker_image().map(str::to_owned);
    }
    let entry_point: Vec<String> = overrides
        .entry_point
        .clone()
        .or_else(|| job.as_ref().and_then(|j| j.source.entrypoint.clone()))
        .unwrap_or_default();
    let api_key = shared.client.credentials().api_key.clone();
    let env = job_env(
        spec,
        &JobIdentity {
            base_url: shared.client.base_url(),
            api_key: &api_key,
            run_id,
            entity: &target.entity,
            project: &target.project,
            queue,
            queue_entity: &shared.opts.entity,
            item_id,
            job: spec.job.as_deref(),
            image: image.as_deref(),
        },
    );
    let macros = MacroContext {
        project_name: Some(target.project.clone()),
        entity_name: Some(target.entity.clone()),
        run_id: Some(run_id.to_owned()),
        run_name: spec.name.clone(),
        image_uri: image.clone(),
        author: spec.author.clone(),
        env: shared.opts.env.clone(),
    };
    let resource_args = expand(
        spec.resource_args_for(&resource).unwrap_or(&json!({})),
        &macros,
    );
    let ctx = JobContext {
        run_id: run_id.to_owned(),
        item_id: item_id.to_owned(),
        spec: spec.clone(),
        job,
        source_dir,
        requirements,
        image,
        push_to,
        entry_point,
        args: overrides.args.clone().unwrap_or_default(),
        env,
        resource_args,
        work_dir,
        cache_dir: shared.opts.work_dir.clone(),
        log: log.clone(),
        warnings: forward_warnings(shared, item_id, log),
    };
    // A stop asked for while the job is still being set up (a venv's pip
    // install, an image build or pull) ends the setup (its processes with
    // it, `run_step`), not the job once it has started.
    // (A Kubernetes start is API calls that make cluster objects: dropped
    // part-way it could leave a Job or Secret nobody deletes, so it ends
    // first and the stop below deletes what it made.)
    let stop_requested = watch_for_stop(shared, &target, run_id);
    tokio::pin!(stop_requested);
    let mut workload = if resource == "kubernetes" {
        runner.start(&ctx).await?
    } else {
        tokio::select! {
            started = runner.start(&ctx) => started?,
            reason = &mut stop_requested => {
                log.note(&format!("{reason}; the job had not started"));
                return Ok(Outcome::Stopped);
            }
        }
    };
    log.note(&format!("started {}", workload.describe()));
    mark_running(shared, &target, run_id).await;
    let outcome = tokio::select! {
        outcome = workload.wait() => outcome,
        reason = &mut stop_requested => {
            log.note(&reason);
            let grace = shared
                .opts
                .config
                .stop_grace_seconds()
                .map_or(shared.opts.stop_grace, Duration::from_secs);
            workload.stop(grace).await;
            workload.wait().await;
            Outcome::Stopped
        }
    };
    if let Outcome::Exited(code) = outcome
        && let Some(problem) = workload.exit_problem(code)
    {
        return Err(StageError::run(with_output(problem, log, None)));
    }
    Ok(outcome)
}

/// Where a job's built image goes, and which setting says so (see
/// `AgentConfig::image_destination`); checked only when an image is built
/// and pushed ([`PushTarget::checked`]), so a setting that names a bad
/// destination fails builds, not every job.
pub fn image_destination(config: &AgentConfig, spec: &LaunchSpec) -> Option<PushTarget> {
    config
        .image_destination(spec.builder.as_ref())
        .map(|(repository, setting)| PushTarget {
            repository: repository.to_owned(),
            setting,
        })
}

/// A repository built images are pushed to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushTarget {
    /// `REGISTRY/REPO`, no tag.
    pub repository: String,
    /// The setting that named it, for messages.
    pub setting: &'static str,
}

impl PushTarget {
    /// The repository, if the engine can push to it: no tag (each image is
    /// tagged with a hash of its source), a valid reference.
    pub fn checked(&self) -> Result<&str, StageError> {
        let (dest, setting) = (&self.repository, self.setting);
        liftoff_model::image::check_repository(dest)
            .map_err(|e| StageError::agent(format!("{setting} {dest:?}: {e}")))?;
        Ok(dest)
    }
}

/// A channel for the runner's warnings: each goes to the job's log and, for
/// a queued item, onto the item (`updateRunQueueItemWarning`).
fn forward_warnings(
    shared: &Shared,
    item_id: &str,
    log: &JobLog,
) -> tokio::sync::mpsc::UnboundedSender<Warning> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Warning>();
    let (client, item_id, log) = (shared.client.clone(), item_id.to_owned(), log.clone());
    tokio::spawn(async move {
        while let Some(Warning { stage, message }) = rx.recv().await {
            log.note(&format!("warning ({stage}): {message}"));
            if item_id.is_empty() {
                continue;
            }
            let call = UpdateRunQueueItemWarning {
                item_id: item_id.clone(),
                message,
                stage,
                file_paths: vec![],
            };
            if let Err(e) = client.call(call).await {
                tracing::warn!(item = item_id, error = %e, "cannot post a warning on the item");
            }
        }
    });
    tx
}

/// Resolves when the run is stopped from outside, or the agent must stop its jobs.
async fn watch_for_stop(shared: &Shared, target: &RunTarget, run_id: &str) -> String {
    let mut stop_jobs = shared.stop_jobs.clone();
    let mut tick = tokio::time::interval(shared.opts.stop_check_interval);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let q = RunStoppedStatus { entity: target.entity.clone(), project: target.project.clone(), run_id: run_id.to_owned() };
                if let Ok(true) = shared.client.call(q).await {
                    return "a stop was requested for this run".into();
                }
            }
            changed = stop_jobs.changed() => {
                if changed.is_err() || *stop_jobs.borrow() {
                    return shared.stop_jobs_reason.into();
                }
            }
        }
    }
}

/// Run one spec here and now, without a queue (`liftoff launch` without
/// `--queue`). Answers the run id and how it ended.
pub async fn run_direct(
    client: Client<NativeTransport>,
    opts: AgentOptions,
    spec: LaunchSpec,
) -> (String, Result<Outcome, StageError>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let run_console = client
        .call(ServerFeaturesQuery)
        .await
        .map(|f| f.has(features::RUN_CONSOLE))
        .unwrap_or(false);
    let shared = Shared {
        run_console,
        process: process_runner(&opts.config),
        container: tokio::sync::OnceCell::new(),
        kubernetes: KubernetesRunner::new(
            None,
            opts.config.runner_str("namespace").map(str::to_owned),
        ),
        client,
        opts,
        agent_id: String::new(),
        stop_jobs: stop_rx,
        stop_jobs_reason: "the launch was interrupted (Ctrl-C)",
    };
    let run_id = spec
        .run_id
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(new_run_id);
    let log = match JobLog::create(
        &shared
            .opts
            .work_dir
            .join("logs")
            .join(format!("{run_id}.log")),
        &format!("[{run_id}]"),
        shared.opts.echo_jobs,
    ) {
        Ok(l) => l,
        Err(e) => {
            return (
                run_id,
                Err(StageError::agent(format!(
                    "cannot create the job's log: {e}"
                ))),
            );
        }
    };
    if let Err(e) = preflight(&spec.to_value(), false) {
        return (run_id, Err(e));
    }
    let target = run_target(&shared, &spec);
    if let Err(e) = open_run(&shared, &target, &run_id, &spec).await {
        return (run_id, Err(e));
    }
    let streamer = stream_console(&shared, &target, &run_id, &log);
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(true);
        std::future::pending::<()>().await;
    };
    let result = tokio::select! {
        r = run_job(&shared, "", "", &spec, &run_id, &log) => r,
        () = ctrl_c => unreachable!("ctrl_c never resolves"),
    };
    let state = match &result {
        Ok(Outcome::Exited(0)) => State::Finished,
        Ok(Outcome::Exited(_)) | Err(_) => State::Failed,
        Ok(Outcome::Signaled(_)) => State::Crashed,
        Ok(Outcome::Stopped) => State::Killed,
    };
    set_run_state(&shared, &target, &run_id, &spec, state, None).await;
    log.stop_streaming();
    if let Some(s) = streamer {
        let _ = s.await;
    }
    let _ = tokio::fs::remove_dir_all(shared.opts.work_dir.join("jobs").join(&run_id)).await;
    (run_id, result)
}

#[cfg(test)]
mod tests {
    use super::{console_entry, preflight, safe_run_id};
    use serde_json::json;

    #[test]
    fn run_ids_that_name_no_directory_are_refused() {
        for ok in ["abc123", "my-run_2", "v1.2"] {
            assert!(safe_run_id(ok), "{ok}");
        }
        for bad in ["", ".", "..", "...", "a/b", "../x", "a b", &"x".repeat(129)] {
            assert!(!safe_run_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn local_resource_args_are_checked_as_local_container_ones() {
        let spec = |resource: &str| {
            json!({
                "resource": resource,
                "docker": {"docker_image": "python:3.11"},
                "resource_args": {resource: {"privileged": true}},
            })
        };
        for resource in ["local", "local-container"] {
            let e = preflight(&spec(resource), false).unwrap_err();
            assert!(
                e.message.contains("'privileged'"),
                "{resource}: {}",
                e.message
            );
        }
        assert!(preflight(&json!({"resource": "local", "docker": {"docker_image": "python:3.11"}, "resource_args": {"local": {"memory": "1g"}}}), false).is_ok());
    }

    #[test]
    fn secure_mode_refuses_what_wandbs_agent_refuses_in_a_pod() {
        let spec = |pod: serde_json::Value| {
            json!({
                "resource": "kubernetes",
                "docker": {"docker_image": "python:3.11"},
                "resource_args": {"kubernetes": {"spec": {"template": {"spec": pod}}}},
            })
        };
        let init = spec(json!({"initContainers": [{"name": "x", "image": "busybox"}]}));
        let command = spec(json!({"containers": [{"name": "main", "command": ["sh"]}]}));
        let plain = spec(json!({"containers": [{"name": "main", "resources": {}}]}));
        for (s, said) in [(&init, "\"initContainers\""), (&command, "\"command\"")] {
            assert!(preflight(s, false).is_ok());
            let e = preflight(s, true).unwrap_err();
            assert!(e.message.contains(said), "{}", e.message);
        }
        assert!(preflight(&plain, true).is_ok());
    }

    #[test]
    fn console_lines_are_stamped_as_the_sdk_stamps_them() {
        let time = "2026-11-30T10:00:00.000001";
        assert_eq!(
            console_entry(true, "wandb: synced", time),
            "ERROR 2026-11-30T10:00:00.000001 wandb: synced"
        );
        // A job's own stdout that says ERROR stays stdout.
        assert_eq!(
            console_entry(false, "ERROR bad batch", time),
            "2026-11-30T10:00:00.000001 ERROR bad batch"
        );
        // and the run page reads the stderr one back as such.
        assert_eq!(
            liftoff_client::view::console_line(&console_entry(true, "wandb: synced", time)),
            "10:00:00 stderr wandb: synced"
        );
    }
}
