//! What every request handler shares.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::blobs::Blobs;
use crate::store::{Store, User};

/// The server's settings (from the command line).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// How long a popped item stays leased without an ack.
    pub lease_ms: i64,
    /// A `running` run silent for this long is marked `crashed` (the SDK
    /// heartbeats every 30 s).
    pub run_crashed_after_ms: i64,
    /// An agent silent for this long is gone (three of its 20 s heartbeats):
    /// its claimed items fail and their runs are marked crashed.
    pub agent_gone_after_ms: i64,
    /// Longest hold of a long-poll pop.
    pub long_poll_max_secs: u64,
    /// Largest GraphQL request body.
    pub max_body_bytes: usize,
    /// Largest uploaded file.
    pub max_upload_bytes: usize,
    /// Origins allowed by CORS besides the server's own and extensions.
    pub cors_origins: Vec<String>,
    /// The built web app, served at `/`.
    pub web_dir: Option<PathBuf>,
    /// Where uploaded files live (`<data dir>/objects`).
    pub objects_dir: PathBuf,
    /// The URL clients reach this server at, for upload/download links;
    /// by default taken from each request's `Host`.
    pub public_url: Option<String>,
    /// Forward every API call to this W&B-compatible server (with the
    /// caller's own key) instead of answering from the local store.
    pub upstream: Option<String>,
}

impl ServerConfig {
    pub fn new(objects_dir: PathBuf) -> Self {
        Self {
            lease_ms: 60_000,
            run_crashed_after_ms: 5 * 60_000,
            agent_gone_after_ms: liftoff_model::agent::AGENT_GONE_AFTER_SECS * 1000,
            long_poll_max_secs: 30,
            max_body_bytes: 16 << 20,
            max_upload_bytes: 1 << 30,
            cors_origins: Vec::new(),
            web_dir: None,
            objects_dir,
            public_url: None,
            upstream: None,
        }
    }
}

/// Milliseconds since the epoch. Injected so tests can move time.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let now = time::OffsetDateTime::now_utc();
        (now.unix_timestamp_nanos() / 1_000_000) as i64
    }
}

/// A clock tests set by hand.
#[derive(Default)]
pub struct ManualClock(pub std::sync::atomic::AtomicI64);

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub config: ServerConfig,
    pub blobs: Blobs,
    /// Signs upload and download URLs (shared by replicas through the store).
    pub signing_key: Vec<u8>,
    waiters: Mutex<HashMap<i64, Arc<Notify>>>,
    /// key hash -> its user.
    keys: Ttl<String, User>,
    /// (user id, entity name) -> the entity, when the user is a member.
    members: Ttl<(i64, String), crate::store::Entity>,
    /// queue id -> (project id, entity name): queues never move.
    queue_homes: Ttl<i64, (i64, String)>,
    /// (entity id, name) -> project: projects are never renamed.
    projects: Ttl<(i64, String), crate::store::Project>,
    /// (project id, name) -> queue, briefly (cleared when this server changes a queue).
    queues: Ttl<(i64, String), crate::store::Queue>,
    /// id -> resource config, briefly (cleared with `queues`).
    configs: Ttl<i64, crate::store::ResourceConfig>,
}

/// A small map whose entries expire. Other replicas' changes show after
/// the TTL; this server's own changes clear what they touch.
pub struct Ttl<K, V> {
    map: Mutex<HashMap<K, (V, Instant)>>,
    ttl: Duration,
}

impl<K: std::hash::Hash + Eq, V: Clone> Ttl<K, V> {
    const MAX: usize = 10_000;

    pub fn new(ttl: Duration) -> Self {
        Self {
            map: Mutex::default(),
            ttl,
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone())
    }

    pub fn put(&self, key: K, value: V) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::MAX {
            map.clear();
        }
        map.insert(key, (value, Instant::now()));
    }

    pub fn clear(&self) {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

const KEY_CACHE_TTL: Duration = Duration::from_secs(30);

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        config: ServerConfig,
        signing_key: Vec<u8>,
    ) -> Self {
        let blobs = Blobs::new(config.objects_dir.clone());
        Self {
            store,
            clock,
            config,
            blobs,
            signing_key,
            waiters: Mutex::default(),
            keys: Ttl::new(KEY_CACHE_TTL),
            members: Ttl::new(KEY_CACHE_TTL),
            queue_homes: Ttl::new(Duration::from_secs(3600)),
            projects: Ttl::new(KEY_CACHE_TTL),
            queues: Ttl::new(Duration::from_secs(1)),
            configs: Ttl::new(Duration::from_secs(1)),
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The notifier of a queue: every push wakes one waiting pop.
    pub fn queue_waiter(&self, queue_id: i64) -> Arc<Notify> {
        let mut map = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(queue_id).or_default().clone()
    }

    pub fn notify_queue(&self, queue_id: i64) {
        let map = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get(&queue_id) {
            // One item, one waiter: waking every long-polling agent for
            // each push would send them all racing for the same row. A
            // woken pop that is dropped passes the wake-up on (tokio's
            // `Notified` forwards it), and with no waiter the permit is kept
            // for the next pop.
            n.notify_one();
        }
    }

    /// The entity `name` if `user_id` is a member (cached for a short while).
    pub async fn member_entity(
        &self,
        user_id: i64,
        name: &str,
    ) -> Result<Option<crate::store::Entity>, crate::store::Error> {
        let key = (user_id, name.to_owned());
        if let Some(e) = self.members.get(&key) {
            return Ok(Some(e));
        }
        let Some(entity) = self.store.entity_by_name(name).await? else {
            return Ok(None);
        };
        if !self.store.member_is(entity.id, user_id).await? {
            return Ok(None);
        }
        self.members.put(key, entity.clone());
        Ok(Some(entity))
    }

    /// A project by entity and name (cached: projects are never renamed).
    pub async fn project(
        &self,
        entity_id: i64,
        name: &str,
    ) -> Result<Option<crate::store::Project>, crate::store::Error> {
        let key = (entity_id, name.to_owned());
        if let Some(p) = self.projects.get(&key) {
            return Ok(Some(p));
        }
        let p = self.store.project_get(entity_id, name).await?;
        if let Some(p) = &p {
            self.projects.put(key, p.clone());
        }
        Ok(p)
    }

    /// A queue by project and name (cached for a second).
    pub async fn queue(
        &self,
        project_id: i64,
        name: &str,
    ) -> Result<Option<crate::store::Queue>, crate::store::Error> {
        let key = (project_id, name.to_owned());
        if let Some(q) = self.queues.get(&key) {
            return Ok(Some(q));
        }
        let q = self.store.queue_get(project_id, name).await?;
        if let Some(q) = &q {
            self.queues.put(key, q.clone());
        }
        Ok(q)
    }

    /// A resource config by id (cached for a second).
    pub async fn resource_config(
        &self,
        id: i64,
    ) -> Result<Option<crate::store::ResourceConfig>, crate::store::Error> {
        if let Some(c) = self.configs.get(&id) {
            return Ok(Some(c));
        }
        let c = self.store.resource_config_get(id).await?;
        if let Some(c) = &c {
            self.configs.put(id, c.clone());
        }
        Ok(c)
    }

    /// This server changed a queue or a config: forget what was cached.
    pub fn queues_changed(&self) {
        self.queues.clear();
        self.configs.clear();
    }

    /// `(project id, entity name)` of a queue.
    pub async fn queue_home(
        &self,
        queue_id: i64,
    ) -> Result<Option<(i64, String)>, crate::store::Error> {
        if let Some(h) = self.queue_homes.get(&queue_id) {
            return Ok(Some(h));
        }
        let Some(q) = self.store.queue_by_id(queue_id).await? else {
            return Ok(None);
        };
        let Some(p) = self.store.project_by_id(q.project_id).await? else {
            return Ok(None);
        };
        let Some(e) = self.store.entity_by_id(p.entity_id).await? else {
            return Ok(None);
        };
        let home = (p.id, e.name);
        self.queue_homes.put(queue_id, home.clone());
        Ok(Some(home))
    }

    /// Forget a deleted queue.
    pub fn forget_queue(&self, queue_id: i64) {
        self.queue_homes.clear();
        let _ = queue_id;
        self.queues_changed();
    }

    /// The user an API key belongs to (cached for a short while).
    pub async fn user_for_key(&self, key: &str) -> Result<Option<User>, crate::store::Error> {
        let hash = crate::auth::hash_key(key);
        if let Some(u) = self.keys.get(&hash) {
            return Ok(Some(u));
        }
        let user = self.store.user_by_key_hash(&hash).await?;
        if let Some(u) = &user {
            self.keys.put(hash, u.clone());
        }
        Ok(user)
    }
}
