//! Storage: one [`Store`] trait, two backends (SQLite, the embedded default,
//! and PostgreSQL for teams and replicas), each with its own migrations.
//!
//! The SQL text is shared where both engines agree (`$N` placeholders work in
//! both; `RETURNING` and `ON CONFLICT` too) and written per backend where
//! they do not (DDL, the pop's row locking). Times are milliseconds since the
//! epoch, passed in by the caller: the store never reads a clock. JSON is
//! TEXT, parsed in Rust.

mod common;
pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use common::Pop;

/// `store::Error`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A unique key already exists (e.g. a queue name in a project).
    #[error("{0} already exists")]
    Conflict(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl Error {
    pub(crate) fn from_insert(e: sqlx::Error, what: impl Into<String>) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Self::Conflict(what.into()),
            _ => Self::Db(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub admin: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Entity {
    pub id: i64,
    pub name: String,
    pub is_team: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Project {
    pub id: i64,
    pub entity_id: i64,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ResourceConfig {
    pub id: i64,
    pub entity_id: i64,
    pub resource: String,
    /// JSON `{"resource_args": {<resource>: {...}}}`.
    pub config: String,
    /// JSON list of `{name, schema}` (schema as a JSON object).
    pub template_variables: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Queue {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub access: String,
    pub prioritization_mode: String,
    pub resource_config_id: Option<i64>,
    /// JSON `{"links": [...]}`.
    pub external_links: String,
    pub created_by: String,
    pub created_at: i64,
    pub max_retries: i64,
}

/// The fields a queue is created or replaced with.
#[derive(Clone, Debug)]
pub struct QueueFields {
    pub access: String,
    pub prioritization_mode: String,
    pub resource_config_id: Option<i64>,
    pub external_links: String,
    pub max_retries: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Item {
    pub id: i64,
    pub queue_id: i64,
    pub state: String,
    pub priority: i64,
    pub run_spec: String,
    pub created_by: String,
    pub created_at: i64,
    /// Bumped by every pop: the fencing token of the current lease.
    pub lease_seq: i64,
    pub lease_expires_at: Option<i64>,
    pub agent_id: Option<i64>,
    pub claimed_at: Option<i64>,
    pub associated_run_id: Option<String>,
    /// JSON `{message, stage, filePaths}`.
    pub error: Option<String>,
    pub retries: i64,
    /// The template-variable values it was pushed with (a JSON object).
    pub template_values: Option<String>,
}

/// A queue's items at one moment ([`Store::item_census`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemCensus {
    /// `(state, count)` of the items not CLAIMED, by state; expired leases
    /// count as PENDING.
    pub counts: Vec<(String, i64)>,
    /// `(agent_id, associated_run_id, run_spec)` of each CLAIMED item, oldest first.
    pub claimed: Vec<(Option<i64>, Option<String>, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ItemWarning {
    pub id: i64,
    pub item_id: i64,
    pub message: String,
    pub stage: String,
    /// JSON list.
    pub file_paths: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Agent {
    pub id: i64,
    pub entity_id: i64,
    pub project_id: i64,
    pub name: String,
    pub hostname: String,
    pub status: String,
    pub stop_polling: bool,
    /// JSON list of queue ids (numbers).
    pub queue_ids: String,
    /// JSON object.
    pub config: String,
    pub version: Option<String>,
    pub created_at: i64,
    pub heartbeat_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Run {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub display_name: Option<String>,
    pub state: String,
    pub stopped: bool,
    pub config: String,
    pub summary: String,
    pub job_type: Option<String>,
    pub host: Option<String>,
    pub program: Option<String>,
    pub tags: String,
    pub sweep_name: Option<String>,
    pub group_name: Option<String>,
    pub notes: Option<String>,
    pub description: Option<String>,
    pub commit_hash: Option<String>,
    pub created_by: String,
    pub exit_code: Option<i64>,
    pub history_line_count: i64,
    pub events_line_count: i64,
    pub log_line_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub heartbeat_at: i64,
    pub agent_log_line_count: i64,
}

/// Line streams of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// `wandb-history.jsonl`: one JSON row per step.
    History,
    /// `wandb-events.jsonl`: system metrics.
    Events,
    /// `output.log` as the SDK sends it.
    Console,
    /// The console an agent captured (`liftoff-console.log`).
    AgentConsole,
}

/// What a file_stream request changes besides lines.
#[derive(Clone, Debug, Default)]
pub struct LiveUpdate {
    pub summary: Option<String>,
    /// Final state (`finished`/`failed`) and exit code.
    pub finish: Option<(String, i64)>,
    pub preempting: bool,
    /// Only the agent's console stream: it keeps the run's heartbeat but
    /// never brings a crashed run back to running (the job may be over).
    pub agent_only: bool,
}

/// What an upsert may set on a run; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct RunFields {
    pub display_name: Option<String>,
    pub state: Option<String>,
    pub config: Option<String>,
    pub summary: Option<String>,
    pub job_type: Option<String>,
    pub host: Option<String>,
    pub program: Option<String>,
    pub tags: Option<String>,
    pub sweep_name: Option<String>,
    pub group_name: Option<String>,
    pub notes: Option<String>,
    pub description: Option<String>,
    pub commit_hash: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Collection {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub type_name: String,
    pub description: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Artifact {
    pub id: i64,
    pub collection_id: i64,
    /// Assigned when committed.
    pub version_index: Option<i64>,
    /// PENDING, COMMITTED or DELETED.
    pub state: String,
    pub digest: String,
    pub client_id: Option<String>,
    pub sequence_client_id: Option<String>,
    pub description: Option<String>,
    pub metadata: String,
    pub size: i64,
    pub file_count: i64,
    pub run_name: Option<String>,
    /// JSON list of aliases to set when committed.
    pub pending_aliases: String,
    /// Object-store key of the uploaded manifest.
    pub manifest_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ArtifactFile {
    pub artifact_id: i64,
    pub name: String,
    pub md5: String,
    pub size: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RunFile {
    pub run_id: i64,
    pub name: String,
    pub size: Option<i64>,
    pub uploaded: bool,
    pub updated_at: i64,
}

/// The new artifact version a `createArtifact` describes.
#[derive(Clone, Debug)]
pub struct NewArtifact {
    pub collection_id: i64,
    pub digest: String,
    pub client_id: Option<String>,
    pub sequence_client_id: Option<String>,
    pub description: Option<String>,
    pub metadata: String,
    pub run_name: Option<String>,
    pub pending_aliases: String,
}

/// Everything Liftoff keeps. Methods are entity-first, verb-second, and say
/// so when they are fenced (`item_ack_if_leased`).
#[async_trait]
pub trait Store: Send + Sync {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    // settings
    async fn setting_get(&self, key: &str) -> Result<Option<String>>;
    /// Insert if absent; answers the stored value (first writer wins).
    async fn setting_init(&self, key: &str, value: &str) -> Result<String>;

    // users, entities, keys
    async fn user_count(&self) -> Result<i64>;
    /// A user and their personal entity of the same name.
    async fn user_create(
        &self,
        username: &str,
        email: Option<&str>,
        admin: bool,
        now: i64,
    ) -> Result<User>;
    async fn user_by_name(&self, username: &str) -> Result<Option<User>>;
    async fn user_by_id(&self, id: i64) -> Result<Option<User>>;
    async fn user_by_key_hash(&self, key_hash: &str) -> Result<Option<User>>;
    async fn api_key_add(&self, user_id: i64, key_hash: &str, name: &str, now: i64) -> Result<()>;
    /// Remove every key of the user but `keep_hash`; answers how many.
    async fn api_keys_revoke_others(&self, user_id: i64, keep_hash: &str) -> Result<u64>;
    async fn api_key_count(&self, user_id: i64) -> Result<i64>;
    /// Every user, by name.
    async fn users_all(&self) -> Result<Vec<User>>;
    async fn team_create(&self, name: &str, now: i64) -> Result<Entity>;
    async fn member_add(&self, entity_id: i64, user_id: i64) -> Result<()>;
    async fn entity_by_name(&self, name: &str) -> Result<Option<Entity>>;
    async fn entity_by_id(&self, id: i64) -> Result<Option<Entity>>;
    async fn entities_of_user(&self, user_id: i64) -> Result<Vec<Entity>>;
    async fn member_is(&self, entity_id: i64, user_id: i64) -> Result<bool>;

    // projects
    /// Create if absent; `(project, inserted)`.
    async fn project_upsert(&self, entity_id: i64, name: &str, now: i64)
    -> Result<(Project, bool)>;
    async fn project_get(&self, entity_id: i64, name: &str) -> Result<Option<Project>>;
    async fn project_by_id(&self, id: i64) -> Result<Option<Project>>;
    /// A page of an entity's projects, newest first, before `before_id`.
    async fn projects_of_entity(
        &self,
        entity_id: i64,
        limit: i64,
        before_id: Option<i64>,
    ) -> Result<Vec<Project>>;

    // default resource configs
    async fn resource_config_create(
        &self,
        entity_id: i64,
        resource: &str,
        config: &str,
        template_variables: &str,
        now: i64,
    ) -> Result<ResourceConfig>;
    async fn resource_config_get(&self, id: i64) -> Result<Option<ResourceConfig>>;

    // queues
    async fn queue_create(
        &self,
        project_id: i64,
        name: &str,
        fields: &QueueFields,
        created_by: &str,
        now: i64,
    ) -> Result<Queue>;
    async fn queue_update(&self, id: i64, fields: &QueueFields) -> Result<()>;
    async fn queue_get(&self, project_id: i64, name: &str) -> Result<Option<Queue>>;
    async fn queue_by_id(&self, id: i64) -> Result<Option<Queue>>;
    async fn queues_of_project(&self, project_id: i64) -> Result<Vec<Queue>>;
    /// Delete a queue and its items.
    async fn queue_delete(&self, id: i64) -> Result<bool>;

    // items
    /// `template_values`: the JSON object of the values pushed, if any.
    async fn item_push(
        &self,
        queue_id: i64,
        run_spec: &str,
        template_values: Option<&str>,
        priority: i64,
        created_by: &str,
        now: i64,
    ) -> Result<Item>;
    /// Lease the next waiting item (priority first when `prioritized`, then
    /// FIFO). Expired leases count as waiting.
    async fn item_pop(
        &self,
        queue_id: i64,
        agent_id: Option<i64>,
        prioritized: bool,
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<Item>>;
    /// Claim a leased item whose lease is current (and, with `lease_seq`,
    /// is that lease). Answers whether it was claimed.
    async fn item_ack_if_leased(
        &self,
        id: i64,
        lease_seq: Option<i64>,
        run_name: &str,
        now: i64,
    ) -> Result<bool>;
    /// Fail a leased (current lease) or claimed item.
    async fn item_fail_if_owned(
        &self,
        id: i64,
        lease_seq: Option<i64>,
        error: &str,
        now: i64,
    ) -> Result<bool>;
    async fn item_warning_add(
        &self,
        id: i64,
        message: &str,
        stage: &str,
        file_paths: &str,
        now: i64,
    ) -> Result<bool>;
    async fn item_warnings(&self, ids: &[i64]) -> Result<Vec<ItemWarning>>;
    async fn item_get(&self, id: i64) -> Result<Option<Item>>;
    /// The items that started a run of this name (in any project: the
    /// caller matches the spec's), newest first: a page of at most `limit`
    /// after `before_id`.
    async fn items_of_run(
        &self,
        run_name: &str,
        limit: i64,
        before_id: Option<i64>,
    ) -> Result<Vec<Item>>;
    /// A page of a queue's items, newest first, after `before_id`.
    async fn items_of_queue(
        &self,
        queue_id: i64,
        limit: i64,
        before_id: Option<i64>,
    ) -> Result<Vec<Item>>;
    /// Waiting items in service order (for positions).
    async fn items_waiting(
        &self,
        queue_id: i64,
        prioritized: bool,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Item>>;
    /// `(state, count)` of a queue's items; expired leases count as PENDING.
    async fn item_counts(&self, queue_id: i64, now: i64) -> Result<Vec<(String, i64)>>;
    /// A queue's items at one moment, read in one statement (so an item
    /// claimed meanwhile is not counted twice): the others counted by state
    /// as [`Store::item_counts`], the CLAIMED ones one by one (their runs
    /// decide what a user sees).
    async fn item_census(&self, queue_id: i64, now: i64) -> Result<ItemCensus>;
    /// Remove an item that is still waiting (PENDING or an expired lease).
    async fn item_delete_if_waiting(&self, id: i64, now: i64) -> Result<bool>;
    async fn item_delete(&self, id: i64) -> Result<bool>;
    async fn item_set_priority(&self, id: i64, priority: i64) -> Result<bool>;
    /// Push `run_spec` as a retry of the failed item `of`: to its queue,
    /// with its priority, author and template values, one more retry.
    async fn item_push_retry(&self, of: &Item, run_spec: &str, now: i64) -> Result<Item>;
    /// Put expired leases back to PENDING; answers how many.
    async fn item_release_expired(&self, now: i64) -> Result<u64>;
    /// Claimed items whose agent is one of `agent_ids`.
    async fn items_claimed_by(&self, agent_ids: &[i64]) -> Result<Vec<Item>>;

    // agents
    #[allow(clippy::too_many_arguments)]
    async fn agent_create(
        &self,
        entity_id: i64,
        project_id: i64,
        name: &str,
        hostname: &str,
        queue_ids: &str,
        config: &str,
        version: Option<&str>,
        now: i64,
    ) -> Result<Agent>;
    async fn agent_get(&self, id: i64) -> Result<Option<Agent>>;
    async fn agent_heartbeat(&self, id: i64, status: Option<&str>, now: i64) -> Result<bool>;
    async fn agent_stop_polling(&self, id: i64) -> Result<bool>;
    async fn agents_of_entity(&self, entity_id: i64) -> Result<Vec<Agent>>;
    /// Agents that say they are polling or running but sent no heartbeat since `before`.
    async fn agents_stale(&self, before: i64) -> Result<Vec<Agent>>;
    /// Set an agent's status without touching its heartbeat.
    async fn agent_set_status(&self, id: i64, status: &str) -> Result<()>;

    // runs
    /// Create or update a run by name; `(run, inserted)`.
    async fn run_upsert(
        &self,
        project_id: i64,
        name: &str,
        fields: &RunFields,
        created_by: &str,
        now: i64,
    ) -> Result<(Run, bool)>;
    async fn run_get(&self, project_id: i64, name: &str) -> Result<Option<Run>>;
    async fn run_by_id(&self, id: i64) -> Result<Option<Run>>;
    async fn run_stop(&self, id: i64) -> Result<bool>;
    async fn run_delete(&self, id: i64) -> Result<bool>;
    async fn runs_by_names(&self, project_id: i64, names: &[String]) -> Result<Vec<Run>>;
    /// `(name, state, heartbeat_at)` of the named runs of a project.
    async fn run_states_by_names(
        &self,
        project_id: i64,
        names: &[String],
    ) -> Result<Vec<(String, String, i64)>>;
    /// A page of a project's runs, newest first, before `before_id`.
    async fn runs_of_project(
        &self,
        project_id: i64,
        limit: i64,
        before_id: Option<i64>,
    ) -> Result<Vec<Run>>;
    async fn run_count(&self, project_id: i64) -> Result<i64>;
    /// Store lines at `offset` (replacing any there) and grow the count.
    async fn run_lines_put(
        &self,
        run_id: i64,
        which: Lines,
        offset: i64,
        lines: &[String],
    ) -> Result<()>;
    /// Lines `from..from+limit` of a stream, as `(line number, text)`.
    async fn run_lines(
        &self,
        run_id: i64,
        which: Lines,
        from: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>>;
    /// The last `n` lines of a stream, in order.
    async fn run_lines_tail(&self, run_id: i64, which: Lines, n: i64)
    -> Result<Vec<(i64, String)>>;
    /// History rows with `min_step <= _step < max_step`, at most `limit`.
    async fn run_history_steps(
        &self,
        run_id: i64,
        min_step: i64,
        max_step: i64,
        limit: i64,
    ) -> Result<Vec<String>>;
    /// Every `stride`-th history row plus the last one (downsampling).
    async fn run_history_sample(&self, run_id: i64, stride: i64) -> Result<Vec<String>>;
    /// A file_stream request: heartbeat, summary, completion.
    async fn run_live(&self, run_id: i64, update: &LiveUpdate, now: i64) -> Result<Run>;
    /// Runs that are `running` without a sign of life since `before` become `crashed`.
    async fn runs_mark_crashed(&self, before: i64) -> Result<u64>;

    // artifacts
    async fn collection_get_or_create(
        &self,
        project_id: i64,
        name: &str,
        type_name: &str,
        now: i64,
    ) -> Result<Collection>;
    async fn collection_get(&self, project_id: i64, name: &str) -> Result<Option<Collection>>;
    async fn collection_by_id(&self, id: i64) -> Result<Option<Collection>>;
    async fn collections_of_type(
        &self,
        project_id: i64,
        type_name: &str,
    ) -> Result<Vec<Collection>>;
    /// Every collection of a project, of any type, oldest first.
    async fn collections_of_project(&self, project_id: i64) -> Result<Vec<Collection>>;
    async fn artifact_create(&self, a: &NewArtifact, now: i64) -> Result<Artifact>;
    async fn artifact_by_id(&self, id: i64) -> Result<Option<Artifact>>;
    async fn artifact_by_client_id(&self, client_id: &str) -> Result<Option<Artifact>>;
    async fn artifact_committed_by_digest(
        &self,
        collection_id: i64,
        digest: &str,
    ) -> Result<Option<Artifact>>;
    async fn artifact_by_version(
        &self,
        collection_id: i64,
        version: i64,
    ) -> Result<Option<Artifact>>;
    async fn artifact_by_alias(&self, collection_id: i64, alias: &str) -> Result<Option<Artifact>>;
    async fn artifacts_of_collection(&self, collection_id: i64) -> Result<Vec<Artifact>>;
    async fn artifact_set_metadata(&self, id: i64, metadata: &str, now: i64) -> Result<()>;
    async fn artifact_set_manifest(&self, id: i64, manifest_key: &str, now: i64) -> Result<()>;
    /// Commit a pending version: give it the next version index, move its
    /// aliases (and `latest`) to it. Idempotent.
    async fn artifact_commit(&self, id: i64, now: i64) -> Result<Artifact>;
    /// Point aliases at a version (moving them from others).
    async fn artifact_alias_set(
        &self,
        collection_id: i64,
        artifact_id: i64,
        aliases: &[String],
    ) -> Result<()>;
    async fn artifact_aliases(&self, artifact_ids: &[i64]) -> Result<Vec<(i64, String)>>;
    async fn artifact_file_add(
        &self,
        artifact_id: i64,
        name: &str,
        md5: &str,
        size: Option<i64>,
    ) -> Result<()>;
    async fn artifact_files(&self, artifact_id: i64) -> Result<Vec<ArtifactFile>>;
    /// Whether some artifact of one of the entity's projects has a stored
    /// file (uploaded, or taken as already there, so `size` is set) with
    /// this content (base64 MD5): what the SDK's `/artifacts/...` download
    /// fallback may read, and what need not be uploaded again.
    async fn artifact_file_in_entity(&self, entity_id: i64, md5: &str) -> Result<bool>;
    async fn artifact_use(
        &self,
        run_id: i64,
        artifact_id: i64,
        used_as: Option<&str>,
    ) -> Result<()>;
    async fn runs_using_artifacts(&self, artifact_ids: &[i64]) -> Result<Vec<(i64, Run)>>;
    /// Committed versions a run created (`createArtifact` with its
    /// `runName`, in the run's project), oldest first.
    async fn artifacts_logged_by_run(
        &self,
        project_id: i64,
        run_name: &str,
    ) -> Result<Vec<Artifact>>;
    /// Versions a run declared it used (`useArtifact`), oldest first.
    async fn artifacts_used_by_run(&self, run_id: i64) -> Result<Vec<Artifact>>;

    // run files
    async fn run_file_add(&self, run_id: i64, name: &str, now: i64) -> Result<()>;
    async fn run_file_uploaded(&self, run_id: i64, name: &str, size: i64, now: i64) -> Result<()>;
    async fn run_files(&self, run_id: i64) -> Result<Vec<RunFile>>;
}

/// Open a store from a database URL (`sqlite://path` or `postgres://...`)
/// and apply its migrations.
pub async fn open(url: &str) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(postgres::PgStore::open(url).await?))
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(std::sync::Arc::new(
            sqlite::SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    } else {
        anyhow::bail!(
            "unsupported database URL {url:?}: use sqlite:///path/to/liftoff.db or postgres://user@host:port/db"
        )
    }
}
