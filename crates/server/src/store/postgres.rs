//! The team backend: PostgreSQL, shared by several `liftoff server` replicas.

use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnection, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use crate::store::common::{Pop, impl_store};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_run_tracking.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_items_run.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_item_template_values.sql"),
    ),
    (
        5,
        include_str!("../../migrations/postgres/0005_items_leases.sql"),
    ),
];
/// Serialises migrations of replicas starting together.
const MIGRATION_LOCK: i64 = 0x6c69_6674_6f66;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        // One connection first, for its own error: the pool would wait out
        // its acquire timeout and say only "pool timed out".
        match tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(url)).await {
            Err(_) => anyhow::bail!(
                "cannot connect to PostgreSQL: no answer in 10 s (check the host and port of --database-url, and that the server listens there)"
            ),
            Ok(Err(e)) => anyhow::bail!("cannot connect to PostgreSQL: {e}"),
            Ok(Ok(c)) => {
                let _ = c.close().await;
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
        migrate(&pool).await?;
        Ok(Self { pool })
    }
}

async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .execute(&mut *tx)
        .await?;
    let done: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    for (version, sql) in MIGRATIONS {
        if done.contains(version) {
            continue;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, (extract(epoch from now()) * 1000)::bigint)")
            .bind(version)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

impl_store!(
    PgStore,
    Postgres,
    "postgres",
    pop = Pop::POSTGRES,
    begin = |pool| pool.begin()
);
