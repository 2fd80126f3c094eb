//! Fresh stores for tests: a temp SQLite file, or a new database on the
//! PostgreSQL server named by `LIFTOFF_TEST_POSTGRES_URL`
//! (e.g. `postgres://postgres@127.0.0.1:55432/postgres`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use liftoff_server::store::{self, Store};
use sqlx::Connection;

pub struct Backend {
    pub store: Arc<dyn Store>,
    #[allow(dead_code)]
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("liftoff.db").display());
    let store = store::open(&url).await.unwrap();
    Backend {
        store,
        url,
        _dir: Some(dir),
    }
}

static DB_SEQ: AtomicU32 = AtomicU32::new(0);

/// A new, empty database on the test PostgreSQL server, if one is configured.
pub async fn postgres() -> Option<Backend> {
    let admin = std::env::var("LIFTOFF_TEST_POSTGRES_URL").ok()?;
    let name = format!(
        "liftoff_test_{}_{}",
        std::process::id(),
        DB_SEQ.fetch_add(1, Ordering::SeqCst)
    );
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("LIFTOFF_TEST_POSTGRES_URL is not reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let url = format!("{base}/{name}");
    let store = store::open(&url).await.unwrap();
    Some(Backend {
        store,
        url,
        _dir: None,
    })
}

/// Every configured backend, for a conformance test to run against.
pub async fn all() -> Vec<Backend> {
    let mut out = vec![sqlite().await];
    if let Some(pg) = postgres().await {
        out.push(pg);
    } else if std::env::var("CI").is_ok() || std::env::var("LIFTOFF_REQUIRE_POSTGRES").is_ok() {
        panic!("LIFTOFF_REQUIRE_POSTGRES is set but LIFTOFF_TEST_POSTGRES_URL is not");
    }
    out
}

/// Run a conformance check against every backend (the backend is printed
/// first, so a failure's output says which).
pub async fn each<F, Fut>(check: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in all().await {
        eprintln!("-- on {}", backend.store.backend());
        check(backend.store.clone()).await;
    }
}
