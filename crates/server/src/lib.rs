//! `liftoff-server`: the W&B-compatible API server.
//!
//! [`app`] builds the whole HTTP service from an [`AppState`] without doing
//! IO (tests call it without a socket); [`serve`] binds, runs background
//! work and shuts down gracefully.

pub mod access;
pub mod auth;
pub mod blobs;
pub mod error;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod launch;
pub mod signing;
pub mod state;
pub mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;

pub use state::{AppState, Clock, ManualClock, ServerConfig, SystemClock};

/// The HTTP service. Pure: no sockets, no files touched until requests come.
pub fn app(state: Arc<AppState>) -> Router {
    http::router(state)
}

/// Options of `liftoff server`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub web_dir: Option<PathBuf>,
    pub cors_origins: Vec<String>,
    pub public_url: Option<String>,
    pub lease_secs: u64,
}

/// The admin created on first start, and how to reach it.
#[derive(Clone, Debug)]
pub struct Bootstrap {
    pub username: String,
    /// Present only when created now (printed once).
    pub new_key: Option<String>,
    pub key_file: PathBuf,
    /// `LIFTOFF_ADMIN_API_KEY` was set, but the store had users already and
    /// it is no one's key there (it only chooses the first admin's key).
    pub env_key_unknown: bool,
    /// The store has users but none named `admin` (they were made before
    /// the first start, so no admin was): said with `env_key_unknown`.
    pub admin_missing: bool,
}

/// The default data directory: `~/.local/share/liftoff` (or the platform's).
pub fn default_data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("liftoff")
}

/// Open the store named by `database_url`, or the SQLite file in `data_dir`.
pub async fn open_store(
    data_dir: &Path,
    database_url: Option<&str>,
) -> anyhow::Result<Arc<dyn store::Store>> {
    match database_url {
        Some(url) => store::open(url).await,
        None => {
            anyhow::ensure!(
                !data_dir.is_file(),
                "the data directory {} is a file, not a directory: give a directory (made if it is not there)",
                data_dir.display()
            );
            std::fs::create_dir_all(data_dir).with_context(|| {
                format!("cannot create the data directory {}", data_dir.display())
            })?;
            store::open(&format!(
                "sqlite://{}",
                data_dir.join("liftoff.db").display()
            ))
            .await
        }
    }
}

/// Create the admin user on a fresh store: key from `LIFTOFF_ADMIN_API_KEY`
/// or generated, written to `<data dir>/admin-api-key` (mode 0600).
pub async fn bootstrap(
    store: &dyn store::Store,
    data_dir: &Path,
    env_key: Option<&str>,
    now: i64,
) -> anyhow::Result<Bootstrap> {
    bootstrap_with_key_file(store, &data_dir.join("admin-api-key"), env_key, now).await
}

/// [`bootstrap`], the first admin's key saved in `key_file` (one per
/// database, when several share a data dir: `--database-url`).
pub async fn bootstrap_with_key_file(
    store: &dyn store::Store,
    key_file: &Path,
    env_key: Option<&str>,
    now: i64,
) -> anyhow::Result<Bootstrap> {
    let key_file = key_file.to_owned();
    if store.user_count().await? > 0 {
        let env_key_unknown = match env_key {
            Some(k) => store
                .user_by_key_hash(&auth::hash_key(k.trim()))
                .await?
                .is_none(),
            None => false,
        };
        let admin_missing = env_key_unknown && store.user_by_name("admin").await?.is_none();
        return Ok(Bootstrap {
            username: "admin".into(),
            new_key: None,
            key_file,
            env_key_unknown,
            admin_missing,
        });
    }
    let key = match env_key {
        Some(k) => {
            auth::validate_key(k).map_err(|e| anyhow::anyhow!("LIFTOFF_ADMIN_API_KEY: {e}"))?;
            k.trim().to_owned()
        }
        None => auth::generate_key(),
    };
    let user = match store.user_create("admin", None, true, now).await {
        Ok(u) => u,
        // Another replica bootstrapped at the same moment.
        Err(store::Error::Conflict(_)) => {
            return Ok(Bootstrap {
                username: "admin".into(),
                new_key: None,
                key_file,
                env_key_unknown: false,
                admin_missing: false,
            });
        }
        Err(e) => return Err(e.into()),
    };
    store
        .api_key_add(user.id, &auth::hash_key(&key), "admin", now)
        .await?;
    if let Some(dir) = key_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_private(&key_file, &format!("{key}\n"))?;
    Ok(Bootstrap {
        username: user.username,
        new_key: Some(key),
        key_file,
        env_key_unknown: false,
        admin_missing: false,
    })
}

/// Write a file only its owner can read.
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// The state for a store: loads (or creates) the shared URL signing key.
pub async fn state(
    store: Arc<dyn store::Store>,
    config: ServerConfig,
) -> anyhow::Result<Arc<AppState>> {
    let fresh = hex::encode(rand::random::<[u8; 32]>());
    let key = store.setting_init("signing_key", &fresh).await?;
    let key = hex::decode(key).context("the stored signing key is corrupt")?;
    Ok(Arc::new(AppState::new(
        store,
        Arc::new(SystemClock),
        config,
        key,
    )))
}

/// Run the server until `shutdown` resolves.
pub async fn serve(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let sweeper = tokio::spawn(sweep_leases(state.clone()));
    // Requests under way may finish, for a few seconds: an agent's long
    // poll holds one for up to 30, past `docker stop`'s and systemd's
    // patience, and the agent asks again once the server is back.
    let stopping = Arc::new(tokio::sync::Notify::new());
    let told = stopping.clone();
    let server = axum::serve(listener, app(state)).with_graceful_shutdown(async move {
        shutdown.await;
        told.notify_one();
    });
    let result = tokio::select! {
        r = std::future::IntoFuture::into_future(server) => r,
        () = async {
            stopping.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::info!("requests still open {} s after the stop (long polls): stopping anyway", SHUTDOWN_GRACE.as_secs());
            Ok(())
        }
    };
    sweeper.abort();
    result.context("the server stopped with an error")
}

/// How long a stopping server waits for requests under way.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Expired leases go back to PENDING (pop also does this per queue), and
/// silent runs become `crashed`.
async fn sweep_leases(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        n += 1;
        if let Err(e) = state.store.item_release_expired(state.now()).await {
            tracing::warn!(error = %e, "cannot release expired leases");
        }
        if let Err(e) = launch::reap_gone_agents(&state).await {
            tracing::warn!(error = ?e, "cannot check for gone agents");
        }
        if n.is_multiple_of(10) {
            match state
                .store
                .runs_mark_crashed(state.now() - state.config.run_crashed_after_ms)
                .await
            {
                Ok(0) => {}
                Ok(k) => tracing::info!(
                    "{k} run(s) sent nothing for {} s: marked crashed",
                    state.config.run_crashed_after_ms / 1000
                ),
                Err(e) => tracing::warn!(error = %e, "cannot check for crashed runs"),
            }
        }
    }
}

/// Admin: create a user and a key for them; answers the key.
pub async fn user_create(
    store: &dyn store::Store,
    username: &str,
    admin: bool,
    now: i64,
) -> anyhow::Result<String> {
    validate_entity_name(username)?;
    let user = store
        .user_create(username, None, admin, now)
        .await
        .map_err(|e| match e {
            store::Error::Conflict(_) => {
                anyhow::anyhow!("a user or team named {username:?} already exists")
            }
            other => other.into(),
        })?;
    new_key(store, user.id, "default", now).await
}

/// A new API key for a user, stored hashed; answers it.
async fn new_key(
    store: &dyn store::Store,
    user_id: i64,
    name: &str,
    now: i64,
) -> anyhow::Result<String> {
    let key = auth::generate_key();
    store
        .api_key_add(user_id, &auth::hash_key(&key), name, now)
        .await?;
    Ok(key)
}

/// The users named (each once), every one of which must exist.
async fn existing_users(
    store: &dyn store::Store,
    names: &[String],
) -> anyhow::Result<Vec<store::User>> {
    let mut users: Vec<store::User> = Vec::new();
    for m in names {
        let user = store.user_by_name(m).await?.ok_or_else(|| {
            anyhow::anyhow!("no user named {m:?}; create it first with `liftoff user create {m}`")
        })?;
        if !users.iter().any(|u| u.id == user.id) {
            users.push(user);
        }
    }
    Ok(users)
}

/// Admin: one more API key for an existing user (who lost theirs: the
/// keys made before still work); answers it.
pub async fn user_key(
    store: &dyn store::Store,
    username: &str,
    now: i64,
) -> anyhow::Result<String> {
    new_key(store, named_user(store, username).await?.id, "added", now).await
}

/// Admin: a new API key for a user, and every other key of theirs revoked
/// (a leaked key); answers the key and how many were revoked. The new key
/// is made first, so a failure leaves the user a key that works.
pub async fn user_key_replacing(
    store: &dyn store::Store,
    username: &str,
    now: i64,
) -> anyhow::Result<(String, u64)> {
    let user = named_user(store, username).await?;
    let key = new_key(store, user.id, "replaced the others", now).await?;
    let revoked = store
        .api_keys_revoke_others(user.id, &auth::hash_key(&key))
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "the new key was made ({key}), but the others could not be revoked: {e}; run the command again"
            )
        })?;
    Ok((key, revoked))
}

/// Admin: revoke every API key of a user (they can no longer sign in; a new
/// key from [`user_key`] lets them in again); answers how many were revoked.
pub async fn user_deactivate(store: &dyn store::Store, username: &str) -> anyhow::Result<u64> {
    let user = named_user(store, username).await?;
    // The last admin who can sign in stays: nobody could manage the
    // server's queues and teams from the web app or the API any more.
    if user.admin {
        let others = users_list(store)
            .await?
            .into_iter()
            .any(|u| u.admin && u.keys > 0 && u.name != username);
        anyhow::ensure!(
            others,
            "`{username}` is the only admin with an API key: make another admin first (`liftoff user create NAME --admin`), or, for a leaked key, replace it with `liftoff user key {username} --revoke-others`"
        );
    }
    // No key hashes to the empty string: every key goes.
    Ok(store.api_keys_revoke_others(user.id, "").await?)
}

/// A user as `liftoff user list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSummary {
    pub name: String,
    pub admin: bool,
    pub keys: i64,
    pub teams: Vec<String>,
    pub created_at: i64,
}

/// Admin: every user, with how many keys they have and their teams.
pub async fn users_list(store: &dyn store::Store) -> anyhow::Result<Vec<UserSummary>> {
    let mut users = store.users_all().await?;
    // By name as Rust orders it: the same on every database's collation.
    users.sort_by(|a, b| a.username.cmp(&b.username));
    let mut out = Vec::new();
    for user in users {
        let teams = store
            .entities_of_user(user.id)
            .await?
            .into_iter()
            .filter(|e| e.is_team)
            .map(|e| e.name)
            .collect();
        out.push(UserSummary {
            keys: store.api_key_count(user.id).await?,
            name: user.username,
            admin: user.admin,
            teams,
            created_at: user.created_at,
        });
    }
    Ok(out)
}

async fn named_user(store: &dyn store::Store, username: &str) -> anyhow::Result<store::User> {
    store.user_by_name(username).await?.ok_or_else(|| {
        anyhow::anyhow!(
            "no user named {username:?}; create it with `liftoff user create {username}`"
        )
    })
}

/// Admin: add users (that must exist) to a team; answers those that were
/// not members already. Nothing is added when one is not there.
pub async fn team_add(
    store: &dyn store::Store,
    team: &str,
    members: &[String],
) -> anyhow::Result<Vec<String>> {
    let entity = store
        .entity_by_name(team)
        .await?
        .filter(|e| e.is_team)
        .ok_or_else(|| {
            anyhow::anyhow!("no team named {team:?}; create it with `liftoff team create {team}`")
        })?;
    let mut added = Vec::new();
    for u in existing_users(store, members).await? {
        if !store.member_is(entity.id, u.id).await? {
            store.member_add(entity.id, u.id).await?;
            added.push(u.username);
        }
    }
    Ok(added)
}

/// Admin: create a team with members (users that must exist); answers
/// the members' names, each once.
pub async fn team_create(
    store: &dyn store::Store,
    name: &str,
    members: &[String],
    now: i64,
) -> anyhow::Result<Vec<String>> {
    validate_entity_name(name)?;
    let users = existing_users(store, members).await?;
    let team = store.team_create(name, now).await.map_err(|e| match e {
        store::Error::Conflict(_) => {
            anyhow::anyhow!("a user or team named {name:?} already exists")
        }
        other => other.into(),
    })?;
    // (A new team has no members yet, and the users are each named once.)
    for u in &users {
        store.member_add(team.id, u.id).await?;
    }
    Ok(users.into_iter().map(|u| u.username).collect())
}

/// Entity names (users and teams): lowercase letters, digits, `-`, `_`.
pub fn validate_entity_name(name: &str) -> anyhow::Result<()> {
    // It starts with a letter or digit: `-x` would read as a flag (`-e -x`).
    let ok = name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok {
        anyhow::bail!(
            "{name:?} is not a valid name: use 1 to 64 lowercase letters, digits, '-' or '_', starting with a letter or digit"
        );
    }
    if reserved_entity_name(name) {
        anyhow::bail!(
            "{name:?} is reserved: /{name}/... is the server's own path, so the entity's pages could not be reached there; choose another name"
        );
    }
    Ok(())
}

/// Names that begin the server's own paths (`/files/...`, `/artifacts/...`)
/// or the web app's (`/launch/...`), which an entity's pages
/// (`/ENTITY/PROJECT/jobs`) would collide with.
pub(crate) fn reserved_entity_name(name: &str) -> bool {
    const SERVER: [&str; 5] = ["api", "artifacts", "files", "graphql", "healthz"];
    let app = liftoff_model::route::ROUTES
        .iter()
        .filter_map(|(pattern, _)| {
            pattern
                .split('/')
                .find(|s| !s.is_empty())
                .filter(|s| !s.starts_with(':'))
        });
    SERVER.contains(&name) || app.into_iter().any(|first| first == name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn entity_names_that_begin_our_own_paths_are_reserved() {
        for name in ["launch", "connect", "artifacts", "files", "graphql"] {
            let err = super::validate_entity_name(name).unwrap_err().to_string();
            assert!(err.contains("is reserved"), "{name}: {err}");
        }
        for name in ["alice", "launcher", "ml-team", "jobs"] {
            assert!(super::validate_entity_name(name).is_ok(), "{name}");
        }
    }
}
