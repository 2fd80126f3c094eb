//! Drive `app()` without a socket, with a hand-set clock.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use liftoff_server::store::Store;
use liftoff_server::{AppState, ManualClock, ServerConfig};
use serde_json::{Value, json};
use tower::ServiceExt;

pub const T0: i64 = 1_795_000_000_000;

pub struct Api {
    pub app: Router,
    pub state: Arc<AppState>,
    pub clock: Arc<ManualClock>,
    pub key: String,
    pub _dir: tempfile::TempDir,
}

/// One of Liftoff's own documents (`client/src/documents/liftoff/NAME.graphql`).
pub fn liftoff_doc(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../client/src/documents/liftoff/{name}.graphql")),
    )
    .unwrap_or_else(|e| panic!("no Liftoff document {name}: {e}"))
}

/// The byte-exact document the SDK sends, by its `wire-texts.json` key.
pub fn doc(name: &str) -> String {
    static TEXTS: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../spec/operations/wire-texts.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    });
    texts[name]
        .as_str()
        .unwrap_or_else(|| panic!("no document {name}"))
        .to_owned()
}

pub fn fixture(rel: &str) -> Value {
    serde_json::from_str(&fixture_text(rel)).unwrap()
}

/// A fixture recorded by the user alice, as the user `as_user` would send
/// it (a push names the entity the run goes to, which must be the pusher's).
pub fn fixture_as(rel: &str, as_user: &str) -> Value {
    serde_json::from_str(&fixture_text(rel).replace("alice", as_user)).unwrap()
}

fn fixture_text(rel: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../spec/fixtures")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

impl Api {
    pub async fn new(store: Arc<dyn Store>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::default());
        clock.0.store(T0, Ordering::SeqCst);
        let mut config = ServerConfig::new(dir.path().join("objects"));
        config.public_url = Some("http://liftoff.test".into());
        let key = "0123456789abcdef0123456789abcdef01234567".to_owned();
        liftoff_server::bootstrap(&*store, dir.path(), Some(&key), T0)
            .await
            .unwrap();
        let state = Arc::new(AppState::new(
            store,
            clock.clone(),
            config,
            b"test-signing-key".to_vec(),
        ));
        let app = liftoff_server::app(state.clone());
        Self {
            app,
            state,
            clock,
            key,
            _dir: dir,
        }
    }

    pub fn advance(&self, ms: i64) {
        self.clock.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// A second user (with their own entity) and their key.
    pub async fn user(&self, name: &str) -> String {
        liftoff_server::user_create(&*self.state.store, name, false, T0)
            .await
            .unwrap()
    }

    /// A team entity of these users.
    pub async fn team(&self, name: &str, members: &[&str]) {
        let members: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
        liftoff_server::team_create(&*self.state.store, name, &members, 0)
            .await
            .unwrap();
    }

    pub async fn raw(
        &self,
        method: &str,
        uri: &str,
        key: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "liftoff.test");
        if let Some(k) = key {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("api:{k}"));
            req = req.header("authorization", format!("Basic {token}"));
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, bytes.to_vec())
    }

    /// One of Liftoff's item actions (`LiftoffCancelItem`...) on `item`
    /// as the admin; answers (status, JSON).
    pub async fn item_action(&self, op: &str, item: &Value) -> (StatusCode, Value) {
        let vars = serde_json::json!({"runQueueItemId": item});
        self.gql_as(&self.key, &liftoff_doc(op), vars, "").await
    }

    /// POST a GraphQL request as `key`; answers (status, JSON).
    pub async fn gql_as(
        &self,
        key: &str,
        query: &str,
        variables: Value,
        operation_name: &str,
    ) -> (StatusCode, Value) {
        let body = json!({"query": query, "variables": variables, "operationName": operation_name});
        let (status, bytes) = self
            .raw(
                "POST",
                "/graphql",
                Some(key),
                serde_json::to_vec(&body).unwrap(),
            )
            .await;
        (
            status,
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(&bytes)})),
        )
    }

    /// A request that must succeed: answers `data`.
    pub async fn ok(&self, name: &str, variables: Value) -> Value {
        let (status, v) = self.gql_as(&self.key, &doc(name), variables, "").await;
        assert_eq!(status, StatusCode::OK, "{name}: {v}");
        assert!(v.get("errors").is_none(), "{name}: {v}");
        v["data"].clone()
    }

    /// A request that must fail with a GraphQL error: answers the message.
    pub async fn err(&self, name: &str, variables: Value) -> String {
        let (status, v) = self.gql_as(&self.key, &doc(name), variables, "").await;
        assert_eq!(status, StatusCode::OK, "{name}: {v}");
        v["errors"][0]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} did not fail: {v}"))
            .to_owned()
    }
}

/// liftoff-client's transport, answered by `app()` (no socket).
#[derive(Clone)]
pub struct AppTransport(pub Router);

impl liftoff_client::Transport for AppTransport {
    async fn send(
        &self,
        request: liftoff_client::HttpRequest,
    ) -> Result<liftoff_client::HttpResponse, String> {
        let path = request
            .url
            .strip_prefix("http://liftoff.test")
            .ok_or_else(|| format!("not this server: {}", request.url))?;
        let mut req = Request::builder()
            .method(request.method)
            .uri(path)
            .header("host", "liftoff.test");
        for (k, v) in &request.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = self
            .0
            .clone()
            .oneshot(
                req.body(Body::from(request.body))
                    .map_err(|e| e.to_string())?,
            )
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .map_err(|e| e.to_string())?
            .to_vec();
        Ok(liftoff_client::HttpResponse {
            status,
            headers,
            body,
        })
    }
}

impl Api {
    pub fn client(&self, key: &str) -> liftoff_client::Client<AppTransport> {
        liftoff_client::Client::new(
            AppTransport(self.app.clone()),
            liftoff_client::Credentials::new("http://liftoff.test", key),
        )
    }
}
