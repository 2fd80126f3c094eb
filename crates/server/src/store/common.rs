//! The SQL both backends share, written once: `impl_store!` expands it for a
//! backend given its database type and the few statements that differ.

/// The pop statement differs per backend (row locking); both lease the first
/// PENDING item of a queue in priority-then-FIFO order and return it.
pub struct Pop;

impl Pop {
    pub const SQLITE: &'static str = "UPDATE items SET state = 'LEASED', lease_seq = lease_seq + 1, \
         agent_id = $2, lease_expires_at = $3 \
         WHERE id = (SELECT id FROM items WHERE queue_id = $1 AND state = 'PENDING' \
                     ORDER BY priority, id LIMIT 1) \
         RETURNING *";
    pub const POSTGRES: &'static str = "UPDATE items SET state = 'LEASED', lease_seq = lease_seq + 1, \
         agent_id = $2, lease_expires_at = $3 \
         WHERE id = (SELECT id FROM items WHERE queue_id = $1 AND state = 'PENDING' \
                     ORDER BY priority, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
           AND state = 'PENDING' \
         RETURNING *";
}

/// `($1, $2, ...)` starting at `first`, for `IN` lists.
pub fn placeholders(first: usize, n: usize) -> String {
    let list: Vec<String> = (first..first + n).map(|i| format!("${i}")).collect();
    format!("({})", list.join(", "))
}

/// The state a user sees, in SQL: an expired lease (`$2` is now) is waiting
/// again. One expression for the counts and the census.
macro_rules! shown_state {
    () => {
        "CASE WHEN state = 'LEASED' AND lease_expires_at < $2 THEN 'PENDING' ELSE state END"
    };
}
pub(crate) use shown_state;

macro_rules! impl_store {
    ($store:ty, $db:ty, $backend:literal, pop = $pop:expr, begin = |$pool:ident| $begin:expr) => {
        use async_trait::async_trait;
        use sqlx::AssertSqlSafe;

        use $crate::store::common::placeholders;
        use $crate::store::*;

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn setting_get(&self, key: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar::<$db, String>("SELECT value FROM settings WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn setting_init(&self, key: &str, value: &str) -> Result<String> {
                sqlx::query::<$db>("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                    .bind(key)
                    .bind(value)
                    .execute(&self.pool)
                    .await?;
                self.setting_get(key).await?.ok_or_else(|| Error::Corrupt(format!("setting {key} vanished")))
            }

            async fn user_count(&self) -> Result<i64> {
                Ok(sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
            }

            async fn user_create(&self, username: &str, email: Option<&str>, admin: bool, now: i64) -> Result<User> {
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                let user = sqlx::query_as::<$db, User>(
                    "INSERT INTO users (username, email, admin, created_at) VALUES ($1, $2, $3, $4) RETURNING *",
                )
                .bind(username)
                .bind(email)
                .bind(admin)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| Error::from_insert(e, format!("user {username:?}")))?;
                let entity = sqlx::query_as::<$db, Entity>(
                    "INSERT INTO entities (name, is_team, created_at) VALUES ($1, FALSE, $2) RETURNING *",
                )
                .bind(username)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| Error::from_insert(e, format!("entity {username:?}")))?;
                sqlx::query::<$db>("INSERT INTO members (entity_id, user_id) VALUES ($1, $2)")
                    .bind(entity.id)
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(user)
            }

            async fn user_by_name(&self, username: &str) -> Result<Option<User>> {
                Ok(sqlx::query_as::<$db, User>("SELECT * FROM users WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
                Ok(sqlx::query_as::<$db, User>("SELECT * FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn user_by_key_hash(&self, key_hash: &str) -> Result<Option<User>> {
                Ok(sqlx::query_as::<$db, User>(
                    "SELECT users.* FROM users JOIN api_keys ON api_keys.user_id = users.id WHERE api_keys.key_hash = $1",
                )
                .bind(key_hash)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn api_key_add(&self, user_id: i64, key_hash: &str, name: &str, now: i64) -> Result<()> {
                sqlx::query::<$db>("INSERT INTO api_keys (user_id, key_hash, name, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(user_id)
                    .bind(key_hash)
                    .bind(name)
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| Error::from_insert(e, "that API key"))?;
                Ok(())
            }

            async fn api_keys_revoke_others(&self, user_id: i64, keep_hash: &str) -> Result<u64> {
                let done = sqlx::query::<$db>("DELETE FROM api_keys WHERE user_id = $1 AND key_hash <> $2")
                    .bind(user_id)
                    .bind(keep_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn api_key_count(&self, user_id: i64) -> Result<i64> {
                Ok(sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM api_keys WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn users_all(&self) -> Result<Vec<User>> {
                Ok(sqlx::query_as::<$db, User>("SELECT * FROM users ORDER BY username")
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn team_create(&self, name: &str, now: i64) -> Result<Entity> {
                sqlx::query_as::<$db, Entity>(
                    "INSERT INTO entities (name, is_team, created_at) VALUES ($1, TRUE, $2) RETURNING *",
                )
                .bind(name)
                .bind(now)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| Error::from_insert(e, format!("entity {name:?}")))
            }

            async fn member_add(&self, entity_id: i64, user_id: i64) -> Result<()> {
                sqlx::query::<$db>("INSERT INTO members (entity_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(entity_id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn entity_by_name(&self, name: &str) -> Result<Option<Entity>> {
                Ok(sqlx::query_as::<$db, Entity>("SELECT * FROM entities WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn entity_by_id(&self, id: i64) -> Result<Option<Entity>> {
                Ok(sqlx::query_as::<$db, Entity>("SELECT * FROM entities WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn entities_of_user(&self, user_id: i64) -> Result<Vec<Entity>> {
                Ok(sqlx::query_as::<$db, Entity>(
                    "SELECT entities.* FROM entities JOIN members ON members.entity_id = entities.id \
                     WHERE members.user_id = $1 ORDER BY entities.is_team, entities.name",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn member_is(&self, entity_id: i64, user_id: i64) -> Result<bool> {
                let n = sqlx::query_scalar::<$db, i64>(
                    "SELECT COUNT(*) FROM members WHERE entity_id = $1 AND user_id = $2",
                )
                .bind(entity_id)
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?;
                Ok(n > 0)
            }

            async fn project_upsert(&self, entity_id: i64, name: &str, now: i64) -> Result<(Project, bool)> {
                let inserted = sqlx::query_as::<$db, Project>(
                    "INSERT INTO projects (entity_id, name, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (entity_id, name) DO NOTHING RETURNING *",
                )
                .bind(entity_id)
                .bind(name)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                match inserted {
                    Some(p) => Ok((p, true)),
                    None => self
                        .project_get(entity_id, name)
                        .await?
                        .map(|p| (p, false))
                        .ok_or_else(|| Error::Corrupt(format!("project {name} vanished"))),
                }
            }

            async fn project_get(&self, entity_id: i64, name: &str) -> Result<Option<Project>> {
                Ok(sqlx::query_as::<$db, Project>("SELECT * FROM projects WHERE entity_id = $1 AND name = $2")
                    .bind(entity_id)
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn project_by_id(&self, id: i64) -> Result<Option<Project>> {
                Ok(sqlx::query_as::<$db, Project>("SELECT * FROM projects WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn projects_of_entity(&self, entity_id: i64, limit: i64, before_id: Option<i64>) -> Result<Vec<Project>> {
                Ok(sqlx::query_as::<$db, Project>(
                    "SELECT * FROM projects WHERE entity_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                )
                .bind(entity_id)
                .bind(before_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn resource_config_create(&self, entity_id: i64, resource: &str, config: &str, template_variables: &str, now: i64) -> Result<ResourceConfig> {
                Ok(sqlx::query_as::<$db, ResourceConfig>(
                    "INSERT INTO resource_configs (entity_id, resource, config, template_variables, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING *",
                )
                .bind(entity_id)
                .bind(resource)
                .bind(config)
                .bind(template_variables)
                .bind(now)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn resource_config_get(&self, id: i64) -> Result<Option<ResourceConfig>> {
                Ok(sqlx::query_as::<$db, ResourceConfig>("SELECT * FROM resource_configs WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn queue_create(&self, project_id: i64, name: &str, f: &QueueFields, created_by: &str, now: i64) -> Result<Queue> {
                sqlx::query_as::<$db, Queue>(
                    "INSERT INTO queues (project_id, name, access, prioritization_mode, resource_config_id, \
                     external_links, created_by, created_at, max_retries) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
                )
                .bind(project_id)
                .bind(name)
                .bind(&f.access)
                .bind(&f.prioritization_mode)
                .bind(f.resource_config_id)
                .bind(&f.external_links)
                .bind(created_by)
                .bind(now)
                .bind(f.max_retries)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| Error::from_insert(e, format!("queue {name:?}")))
            }

            async fn queue_update(&self, id: i64, f: &QueueFields) -> Result<()> {
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                sqlx::query::<$db>(
                    "UPDATE queues SET access = $2, prioritization_mode = $3, resource_config_id = $4, \
                     external_links = $5, max_retries = $6 WHERE id = $1",
                )
                .bind(id)
                .bind(&f.access)
                .bind(&f.prioritization_mode)
                .bind(f.resource_config_id)
                .bind(&f.external_links)
                .bind(f.max_retries)
                .execute(&mut *tx)
                .await?;
                if f.prioritization_mode == "DISABLED" {
                    // Without prioritization every waiting item is served FIFO.
                    sqlx::query::<$db>("UPDATE items SET priority = 2 WHERE queue_id = $1 AND state = 'PENDING'")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn queue_get(&self, project_id: i64, name: &str) -> Result<Option<Queue>> {
                Ok(sqlx::query_as::<$db, Queue>("SELECT * FROM queues WHERE project_id = $1 AND name = $2")
                    .bind(project_id)
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn queue_by_id(&self, id: i64) -> Result<Option<Queue>> {
                Ok(sqlx::query_as::<$db, Queue>("SELECT * FROM queues WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn queues_of_project(&self, project_id: i64) -> Result<Vec<Queue>> {
                Ok(sqlx::query_as::<$db, Queue>("SELECT * FROM queues WHERE project_id = $1 ORDER BY name")
                    .bind(project_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn queue_delete(&self, id: i64) -> Result<bool> {
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                sqlx::query::<$db>("DELETE FROM item_warnings WHERE item_id IN (SELECT id FROM items WHERE queue_id = $1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<$db>("DELETE FROM items WHERE queue_id = $1").bind(id).execute(&mut *tx).await?;
                let n = sqlx::query::<$db>("DELETE FROM queues WHERE id = $1").bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(n.rows_affected() > 0)
            }

            async fn item_push(&self, queue_id: i64, run_spec: &str, template_values: Option<&str>, priority: i64, created_by: &str, now: i64) -> Result<Item> {
                Ok(sqlx::query_as::<$db, Item>(
                    "INSERT INTO items (queue_id, state, priority, run_spec, created_by, created_at, template_values) \
                     VALUES ($1, 'PENDING', $2, $3, $4, $5, $6) RETURNING *",
                )
                .bind(queue_id)
                .bind(priority)
                .bind(run_spec)
                .bind(created_by)
                .bind(now)
                .bind(template_values)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn item_pop(&self, queue_id: i64, agent_id: Option<i64>, _prioritized: bool, now: i64, lease_ms: i64) -> Result<Option<Item>> {
                let pop = || {
                    sqlx::query_as::<$db, Item>($pop)
                        .bind(queue_id)
                        .bind(agent_id)
                        .bind(now + lease_ms)
                        .fetch_optional(&self.pool)
                };
                if let Some(item) = pop().await? {
                    return Ok(Some(item));
                }
                // Nothing waiting: expired leases of this queue become waiting again.
                let released = sqlx::query::<$db>(
                    "UPDATE items SET state = 'PENDING', agent_id = NULL, lease_expires_at = NULL \
                     WHERE queue_id = $1 AND state = 'LEASED' AND lease_expires_at < $2",
                )
                .bind(queue_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                if released.rows_affected() > 0 { Ok(pop().await?) } else { Ok(None) }
            }

            async fn item_ack_if_leased(&self, id: i64, lease_seq: Option<i64>, run_name: &str, now: i64) -> Result<bool> {
                let n = sqlx::query::<$db>(
                    "UPDATE items SET state = 'CLAIMED', claimed_at = $3, associated_run_id = $4, lease_expires_at = NULL \
                     WHERE id = $1 AND state = 'LEASED' AND lease_expires_at >= $3 \
                       AND ($2 IS NULL OR lease_seq = $2)",
                )
                .bind(id)
                .bind(lease_seq)
                .bind(now)
                .bind(run_name)
                .execute(&self.pool)
                .await?;
                Ok(n.rows_affected() == 1)
            }

            async fn item_fail_if_owned(&self, id: i64, lease_seq: Option<i64>, error: &str, now: i64) -> Result<bool> {
                let n = sqlx::query::<$db>(
                    "UPDATE items SET state = 'FAILED', error = $3, lease_expires_at = NULL \
                     WHERE id = $1 AND ((state = 'LEASED' AND lease_expires_at >= $4) OR state = 'CLAIMED') \
                       AND ($2 IS NULL OR lease_seq = $2)",
                )
                .bind(id)
                .bind(lease_seq)
                .bind(error)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(n.rows_affected() == 1)
            }

            async fn item_warning_add(&self, id: i64, message: &str, stage: &str, file_paths: &str, now: i64) -> Result<bool> {
                if self.item_get(id).await?.is_none() {
                    return Ok(false);
                }
                sqlx::query::<$db>(
                    "INSERT INTO item_warnings (item_id, message, stage, file_paths, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(message)
                .bind(stage)
                .bind(file_paths)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(true)
            }

            async fn item_warnings(&self, ids: &[i64]) -> Result<Vec<ItemWarning>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(500) {
                    let sql = format!("SELECT * FROM item_warnings WHERE item_id IN {} ORDER BY id", placeholders(1, chunk.len()));
                    let mut q = sqlx::query_as::<$db, ItemWarning>(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    out.extend(q.fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn item_get(&self, id: i64) -> Result<Option<Item>> {
                Ok(sqlx::query_as::<$db, Item>("SELECT * FROM items WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn items_of_run(&self, run_name: &str, limit: i64, before_id: Option<i64>) -> Result<Vec<Item>> {
                Ok(sqlx::query_as::<$db, Item>(
                    "SELECT * FROM items WHERE associated_run_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                )
                .bind(run_name)
                .bind(before_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn items_of_queue(&self, queue_id: i64, limit: i64, before_id: Option<i64>) -> Result<Vec<Item>> {
                Ok(sqlx::query_as::<$db, Item>(
                    "SELECT * FROM items WHERE queue_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                )
                .bind(queue_id)
                .bind(before_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn items_waiting(&self, queue_id: i64, _prioritized: bool, now: i64, limit: i64) -> Result<Vec<Item>> {
                Ok(sqlx::query_as::<$db, Item>(
                    "SELECT * FROM items WHERE queue_id = $1 AND (state = 'PENDING' OR (state = 'LEASED' AND lease_expires_at < $2)) \
                     ORDER BY priority, id LIMIT $3",
                )
                .bind(queue_id)
                .bind(now)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn item_counts(&self, queue_id: i64, now: i64) -> Result<Vec<(String, i64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as::<$db, (String, i64)>(
                    concat!(
                        "SELECT ", $crate::store::common::shown_state!(), " AS s, COUNT(*) \
                         FROM items WHERE queue_id = $1 GROUP BY s ORDER BY s"
                    ),
                )
                .bind(queue_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows)
            }

            async fn item_census(&self, queue_id: i64, now: i64) -> Result<ItemCensus> {
                // One statement: one snapshot on both databases.
                type Row = (String, i64, Option<i64>, Option<String>, Option<String>, i64);
                let rows: Vec<Row> = sqlx::query_as::<$db, Row>(
                    concat!(
                        "SELECT ", $crate::store::common::shown_state!(), " AS s, \
                                COUNT(*) AS n, NULL AS agent_id, NULL AS run, NULL AS spec, 0 AS id \
                         FROM items WHERE queue_id = $1 AND state <> 'CLAIMED' GROUP BY s \
                         UNION ALL \
                         SELECT 'CLAIMED', 1, agent_id, associated_run_id, run_spec, id \
                         FROM items WHERE queue_id = $1 AND state = 'CLAIMED' \
                         ORDER BY 1, 6"
                    ),
                )
                .bind(queue_id)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                let mut census = ItemCensus::default();
                for (state, n, agent, run, spec, _) in rows {
                    if state == "CLAIMED" {
                        census.claimed.push((agent, run, spec.unwrap_or_default()));
                    } else {
                        census.counts.push((state, n));
                    }
                }
                Ok(census)
            }

            async fn item_delete_if_waiting(&self, id: i64, now: i64) -> Result<bool> {
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                let n = sqlx::query::<$db>(
                    "DELETE FROM items WHERE id = $1 AND (state = 'PENDING' OR (state = 'LEASED' AND lease_expires_at < $2))",
                )
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if n.rows_affected() > 0 {
                    sqlx::query::<$db>("DELETE FROM item_warnings WHERE item_id = $1").bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(n.rows_affected() > 0)
            }

            async fn item_delete(&self, id: i64) -> Result<bool> {
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                sqlx::query::<$db>("DELETE FROM item_warnings WHERE item_id = $1").bind(id).execute(&mut *tx).await?;
                let n = sqlx::query::<$db>("DELETE FROM items WHERE id = $1").bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(n.rows_affected() > 0)
            }

            async fn item_set_priority(&self, id: i64, priority: i64) -> Result<bool> {
                let n = sqlx::query::<$db>("UPDATE items SET priority = $2 WHERE id = $1")
                    .bind(id)
                    .bind(priority)
                    .execute(&self.pool)
                    .await?;
                Ok(n.rows_affected() > 0)
            }

            async fn item_push_retry(&self, of: &Item, run_spec: &str, now: i64) -> Result<Item> {
                Ok(sqlx::query_as::<$db, Item>(
                    "INSERT INTO items (queue_id, state, priority, run_spec, created_by, created_at, retries, template_values) \
                     VALUES ($1, 'PENDING', $2, $3, $4, $5, $6, $7) RETURNING *",
                )
                .bind(of.queue_id)
                .bind(of.priority)
                .bind(run_spec)
                .bind(&of.created_by)
                .bind(now)
                .bind(of.retries + 1)
                .bind(&of.template_values)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn item_release_expired(&self, now: i64) -> Result<u64> {
                let n = sqlx::query::<$db>(
                    "UPDATE items SET state = 'PENDING', agent_id = NULL, lease_expires_at = NULL \
                     WHERE state = 'LEASED' AND lease_expires_at < $1",
                )
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(n.rows_affected())
            }

            async fn items_claimed_by(&self, agent_ids: &[i64]) -> Result<Vec<Item>> {
                let mut out = Vec::new();
                for chunk in agent_ids.chunks(500) {
                    let sql = format!("SELECT * FROM items WHERE state = 'CLAIMED' AND agent_id IN {} ORDER BY id", placeholders(1, chunk.len()));
                    let mut q = sqlx::query_as::<$db, Item>(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    out.extend(q.fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn agent_create(&self, entity_id: i64, project_id: i64, name: &str, hostname: &str, queue_ids: &str, config: &str, version: Option<&str>, now: i64) -> Result<Agent> {
                sqlx::query_as::<$db, Agent>(
                    "INSERT INTO agents (entity_id, project_id, name, hostname, status, queue_ids, config, version, created_at, heartbeat_at) \
                     VALUES ($1, $2, $3, $4, 'POLLING', $5, $6, $7, $8, $8) RETURNING *",
                )
                .bind(entity_id)
                .bind(project_id)
                .bind(name)
                .bind(hostname)
                .bind(queue_ids)
                .bind(config)
                .bind(version)
                .bind(now)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| Error::from_insert(e, format!("agent {name:?}")))
            }

            async fn agent_get(&self, id: i64) -> Result<Option<Agent>> {
                Ok(sqlx::query_as::<$db, Agent>("SELECT * FROM agents WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn agent_heartbeat(&self, id: i64, status: Option<&str>, now: i64) -> Result<bool> {
                let n = sqlx::query::<$db>(
                    "UPDATE agents SET status = COALESCE($2, status), heartbeat_at = $3 WHERE id = $1",
                )
                .bind(id)
                .bind(status)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(n.rows_affected() > 0)
            }

            async fn agent_stop_polling(&self, id: i64) -> Result<bool> {
                let n = sqlx::query::<$db>("UPDATE agents SET stop_polling = TRUE WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(n.rows_affected() > 0)
            }

            async fn agents_of_entity(&self, entity_id: i64) -> Result<Vec<Agent>> {
                Ok(sqlx::query_as::<$db, Agent>("SELECT * FROM agents WHERE entity_id = $1 ORDER BY id DESC")
                    .bind(entity_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn agents_stale(&self, before: i64) -> Result<Vec<Agent>> {
                Ok(sqlx::query_as::<$db, Agent>(
                    "SELECT * FROM agents WHERE status IN ('POLLING', 'RUNNING') AND heartbeat_at < $1",
                )
                .bind(before)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn agent_set_status(&self, id: i64, status: &str) -> Result<()> {
                sqlx::query::<$db>("UPDATE agents SET status = $2 WHERE id = $1")
                    .bind(id)
                    .bind(status)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn run_upsert(&self, project_id: i64, name: &str, f: &RunFields, created_by: &str, now: i64) -> Result<(Run, bool)> {
                let inserted = sqlx::query_scalar::<$db, i64>(
                    "INSERT INTO runs (project_id, name, state, config, summary, created_by, created_at, updated_at, heartbeat_at) \
                     VALUES ($1, $2, 'running', '{}', '{}', $3, $4, $4, $4) ON CONFLICT (project_id, name) DO NOTHING RETURNING id",
                )
                .bind(project_id)
                .bind(name)
                .bind(created_by)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                let run = sqlx::query_as::<$db, Run>(
                    "UPDATE runs SET display_name = COALESCE($3, display_name), state = COALESCE($4, state), \
                     config = COALESCE($5, config), summary = COALESCE($6, summary), job_type = COALESCE($7, job_type), \
                     host = COALESCE($8, host), program = COALESCE($9, program), tags = COALESCE($10, tags), \
                     sweep_name = COALESCE($11, sweep_name), group_name = COALESCE($12, group_name), \
                     notes = COALESCE($13, notes), description = COALESCE($14, description), \
                     commit_hash = COALESCE($15, commit_hash), updated_at = $16, heartbeat_at = $16 \
                     WHERE project_id = $1 AND name = $2 RETURNING *",
                )
                .bind(project_id)
                .bind(name)
                .bind(&f.display_name)
                .bind(&f.state)
                .bind(&f.config)
                .bind(&f.summary)
                .bind(&f.job_type)
                .bind(&f.host)
                .bind(&f.program)
                .bind(&f.tags)
                .bind(&f.sweep_name)
                .bind(&f.group_name)
                .bind(&f.notes)
                .bind(&f.description)
                .bind(&f.commit_hash)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok((run, inserted.is_some()))
            }

            async fn run_get(&self, project_id: i64, name: &str) -> Result<Option<Run>> {
                Ok(sqlx::query_as::<$db, Run>("SELECT * FROM runs WHERE project_id = $1 AND name = $2")
                    .bind(project_id)
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn run_by_id(&self, id: i64) -> Result<Option<Run>> {
                Ok(sqlx::query_as::<$db, Run>("SELECT * FROM runs WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn run_stop(&self, id: i64) -> Result<bool> {
                let n = sqlx::query::<$db>("UPDATE runs SET stopped = TRUE WHERE id = $1")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(n.rows_affected() > 0)
            }

            async fn run_delete(&self, id: i64) -> Result<bool> {
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                sqlx::query::<$db>("DELETE FROM artifact_usage WHERE run_id = $1").bind(id).execute(&mut *tx).await?;
                sqlx::query::<$db>("DELETE FROM run_files WHERE run_id = $1").bind(id).execute(&mut *tx).await?;
                for table in ["run_history", "run_events", "run_logs"] {
                    sqlx::query::<$db>(AssertSqlSafe(format!("DELETE FROM {table} WHERE run_id = $1"))).bind(id).execute(&mut *tx).await?;
                }
                let n = sqlx::query::<$db>("DELETE FROM runs WHERE id = $1").bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(n.rows_affected() > 0)
            }

            async fn run_states_by_names(&self, project_id: i64, names: &[String]) -> Result<Vec<(String, String, i64)>> {
                let mut out = Vec::new();
                for chunk in names.chunks(500) {
                    let sql = format!("SELECT name, state, heartbeat_at FROM runs WHERE project_id = $1 AND name IN {}", placeholders(2, chunk.len()));
                    let mut q = sqlx::query_as::<$db, (String, String, i64)>(AssertSqlSafe(sql)).bind(project_id);
                    for n in chunk {
                        q = q.bind(n);
                    }
                    out.extend(q.fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn runs_by_names(&self, project_id: i64, names: &[String]) -> Result<Vec<Run>> {
                let mut out = Vec::new();
                for chunk in names.chunks(500) {
                    let sql = format!("SELECT * FROM runs WHERE project_id = $1 AND name IN {}", placeholders(2, chunk.len()));
                    let mut q = sqlx::query_as::<$db, Run>(AssertSqlSafe(sql)).bind(project_id);
                    for n in chunk {
                        q = q.bind(n);
                    }
                    out.extend(q.fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn runs_of_project(&self, project_id: i64, limit: i64, before_id: Option<i64>) -> Result<Vec<Run>> {
                Ok(sqlx::query_as::<$db, Run>(
                    "SELECT * FROM runs WHERE project_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
                )
                .bind(project_id)
                .bind(before_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn run_count(&self, project_id: i64) -> Result<i64> {
                Ok(sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM runs WHERE project_id = $1")
                    .bind(project_id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn run_lines_put(&self, run_id: i64, which: Lines, offset: i64, lines: &[String]) -> Result<()> {
                if lines.is_empty() {
                    return Ok(());
                }
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                for (chunk_no, chunk) in lines.chunks(200).enumerate() {
                    let first = offset + (chunk_no * 200) as i64;
                    let (sql, per) = match which {
                        Lines::History => ("INSERT INTO run_history (run_id, line_no, step, data) VALUES ", 4),
                        Lines::Events => ("INSERT INTO run_events (run_id, line_no, data) VALUES ", 3),
                        Lines::Console | Lines::AgentConsole => ("INSERT INTO run_logs (run_id, stream, line_no, text) VALUES ", 4),
                    };
                    let mut text = String::from(sql);
                    for i in 0..chunk.len() {
                        if i > 0 {
                            text.push_str(", ");
                        }
                        text.push_str(&placeholders(i * per + 1, per));
                    }
                    text.push_str(match which {
                        Lines::History => " ON CONFLICT (run_id, line_no) DO UPDATE SET step = excluded.step, data = excluded.data",
                        Lines::Events => " ON CONFLICT (run_id, line_no) DO UPDATE SET data = excluded.data",
                        _ => " ON CONFLICT (run_id, stream, line_no) DO UPDATE SET text = excluded.text",
                    });
                    let mut q = sqlx::query::<$db>(AssertSqlSafe(text));
                    for (i, line) in chunk.iter().enumerate() {
                        let line_no = first + i as i64;
                        q = match which {
                            Lines::History => {
                                let step = liftoff_model::json::parse_lenient(line).ok().and_then(|v| v.get("_step").and_then(serde_json::Value::as_i64));
                                q.bind(run_id).bind(line_no).bind(step).bind(line)
                            }
                            Lines::Events => q.bind(run_id).bind(line_no).bind(line),
                            Lines::Console => q.bind(run_id).bind(0_i64).bind(line_no).bind(line),
                            Lines::AgentConsole => q.bind(run_id).bind(1_i64).bind(line_no).bind(line),
                        };
                    }
                    q.execute(&mut *tx).await?;
                }
                let column = match which {
                    Lines::History => "history_line_count",
                    Lines::Events => "events_line_count",
                    Lines::Console => "log_line_count",
                    Lines::AgentConsole => "agent_log_line_count",
                };
                let end = offset + lines.len() as i64;
                sqlx::query::<$db>(AssertSqlSafe(format!("UPDATE runs SET {column} = CASE WHEN {column} < $2 THEN $2 ELSE {column} END WHERE id = $1")))
                    .bind(run_id)
                    .bind(end)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn run_lines(&self, run_id: i64, which: Lines, from: i64, limit: i64) -> Result<Vec<(i64, String)>> {
                let sql = match which {
                    Lines::History => "SELECT line_no, data FROM run_history WHERE run_id = $1 AND line_no >= $2 ORDER BY line_no LIMIT $3",
                    Lines::Events => "SELECT line_no, data FROM run_events WHERE run_id = $1 AND line_no >= $2 ORDER BY line_no LIMIT $3",
                    Lines::Console => "SELECT line_no, text FROM run_logs WHERE run_id = $1 AND stream = 0 AND line_no >= $2 ORDER BY line_no LIMIT $3",
                    Lines::AgentConsole => "SELECT line_no, text FROM run_logs WHERE run_id = $1 AND stream = 1 AND line_no >= $2 ORDER BY line_no LIMIT $3",
                };
                Ok(sqlx::query_as::<$db, (i64, String)>(sql).bind(run_id).bind(from).bind(limit).fetch_all(&self.pool).await?)
            }

            async fn run_lines_tail(&self, run_id: i64, which: Lines, n: i64) -> Result<Vec<(i64, String)>> {
                let sql = match which {
                    Lines::History => "SELECT line_no, data FROM run_history WHERE run_id = $1 ORDER BY line_no DESC LIMIT $2",
                    Lines::Events => "SELECT line_no, data FROM run_events WHERE run_id = $1 ORDER BY line_no DESC LIMIT $2",
                    Lines::Console => "SELECT line_no, text FROM run_logs WHERE run_id = $1 AND stream = 0 ORDER BY line_no DESC LIMIT $2",
                    Lines::AgentConsole => "SELECT line_no, text FROM run_logs WHERE run_id = $1 AND stream = 1 ORDER BY line_no DESC LIMIT $2",
                };
                let mut rows = sqlx::query_as::<$db, (i64, String)>(sql).bind(run_id).bind(n).fetch_all(&self.pool).await?;
                rows.reverse();
                Ok(rows)
            }

            async fn run_history_steps(&self, run_id: i64, min_step: i64, max_step: i64, limit: i64) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar::<$db, String>(
                    "SELECT data FROM run_history WHERE run_id = $1 AND step >= $2 AND step < $3 ORDER BY step, line_no LIMIT $4",
                )
                .bind(run_id)
                .bind(min_step)
                .bind(max_step)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn run_history_sample(&self, run_id: i64, stride: i64) -> Result<Vec<String>> {
                Ok(sqlx::query_scalar::<$db, String>(
                    "SELECT data FROM run_history WHERE run_id = $1 \
                     AND (line_no % $2 = 0 OR line_no = (SELECT MAX(line_no) FROM run_history WHERE run_id = $1)) ORDER BY line_no",
                )
                .bind(run_id)
                .bind(stride.max(1))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn run_live(&self, run_id: i64, u: &LiveUpdate, now: i64) -> Result<Run> {
                let (state, exit) = match &u.finish {
                    Some((s, code)) => (Some(s.clone()), Some(*code)),
                    None => (None, None),
                };
                Ok(sqlx::query_as::<$db, Run>(
                    "UPDATE runs SET summary = COALESCE($2, summary), heartbeat_at = $3, updated_at = $3, \
                     state = CASE WHEN $4 IS NOT NULL THEN $4 WHEN $5 THEN 'preempting' \
                                  WHEN state IN ('crashed', 'pending') AND NOT $7 THEN 'running' ELSE state END, \
                     exit_code = COALESCE($6, exit_code) WHERE id = $1 RETURNING *",
                )
                .bind(run_id)
                .bind(&u.summary)
                .bind(now)
                .bind(state)
                .bind(u.preempting)
                .bind(exit)
                .bind(u.agent_only)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn runs_mark_crashed(&self, before: i64) -> Result<u64> {
                let n = sqlx::query::<$db>("UPDATE runs SET state = 'crashed' WHERE state = 'running' AND heartbeat_at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(n.rows_affected())
            }

            async fn collection_get_or_create(&self, project_id: i64, name: &str, type_name: &str, now: i64) -> Result<Collection> {
                sqlx::query::<$db>(
                    "INSERT INTO artifact_collections (project_id, name, type_name, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (project_id, name) DO NOTHING",
                )
                .bind(project_id)
                .bind(name)
                .bind(type_name)
                .bind(now)
                .execute(&self.pool)
                .await?;
                self.collection_get(project_id, name)
                    .await?
                    .ok_or_else(|| Error::Corrupt(format!("collection {name} vanished")))
            }

            async fn collection_get(&self, project_id: i64, name: &str) -> Result<Option<Collection>> {
                Ok(sqlx::query_as::<$db, Collection>(
                    "SELECT * FROM artifact_collections WHERE project_id = $1 AND name = $2",
                )
                .bind(project_id)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn collection_by_id(&self, id: i64) -> Result<Option<Collection>> {
                Ok(sqlx::query_as::<$db, Collection>("SELECT * FROM artifact_collections WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn collections_of_type(&self, project_id: i64, type_name: &str) -> Result<Vec<Collection>> {
                Ok(sqlx::query_as::<$db, Collection>(
                    "SELECT * FROM artifact_collections WHERE project_id = $1 AND type_name = $2 ORDER BY id",
                )
                .bind(project_id)
                .bind(type_name)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn collections_of_project(&self, project_id: i64) -> Result<Vec<Collection>> {
                Ok(sqlx::query_as::<$db, Collection>(
                    "SELECT * FROM artifact_collections WHERE project_id = $1 ORDER BY id",
                )
                .bind(project_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn artifact_create(&self, a: &NewArtifact, now: i64) -> Result<Artifact> {
                Ok(sqlx::query_as::<$db, Artifact>(
                    "INSERT INTO artifacts (collection_id, state, digest, client_id, sequence_client_id, description, \
                     metadata, run_name, pending_aliases, created_at, updated_at) \
                     VALUES ($1, 'PENDING', $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING *",
                )
                .bind(a.collection_id)
                .bind(&a.digest)
                .bind(&a.client_id)
                .bind(&a.sequence_client_id)
                .bind(&a.description)
                .bind(&a.metadata)
                .bind(&a.run_name)
                .bind(&a.pending_aliases)
                .bind(now)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn artifact_by_id(&self, id: i64) -> Result<Option<Artifact>> {
                Ok(sqlx::query_as::<$db, Artifact>("SELECT * FROM artifacts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn artifact_by_client_id(&self, client_id: &str) -> Result<Option<Artifact>> {
                Ok(sqlx::query_as::<$db, Artifact>("SELECT * FROM artifacts WHERE client_id = $1 ORDER BY id DESC LIMIT 1")
                    .bind(client_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn artifact_committed_by_digest(&self, collection_id: i64, digest: &str) -> Result<Option<Artifact>> {
                Ok(sqlx::query_as::<$db, Artifact>(
                    "SELECT * FROM artifacts WHERE collection_id = $1 AND digest = $2 AND state = 'COMMITTED' \
                     ORDER BY version_index DESC LIMIT 1",
                )
                .bind(collection_id)
                .bind(digest)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn artifact_by_version(&self, collection_id: i64, version: i64) -> Result<Option<Artifact>> {
                Ok(sqlx::query_as::<$db, Artifact>(
                    "SELECT * FROM artifacts WHERE collection_id = $1 AND version_index = $2",
                )
                .bind(collection_id)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn artifact_by_alias(&self, collection_id: i64, alias: &str) -> Result<Option<Artifact>> {
                Ok(sqlx::query_as::<$db, Artifact>(
                    "SELECT artifacts.* FROM artifacts JOIN artifact_aliases ON artifact_aliases.artifact_id = artifacts.id \
                     WHERE artifact_aliases.collection_id = $1 AND artifact_aliases.alias = $2",
                )
                .bind(collection_id)
                .bind(alias)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn artifacts_of_collection(&self, collection_id: i64) -> Result<Vec<Artifact>> {
                Ok(sqlx::query_as::<$db, Artifact>(
                    "SELECT * FROM artifacts WHERE collection_id = $1 AND state = 'COMMITTED' ORDER BY version_index",
                )
                .bind(collection_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn artifact_set_metadata(&self, id: i64, metadata: &str, now: i64) -> Result<()> {
                sqlx::query::<$db>("UPDATE artifacts SET metadata = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(metadata)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn artifact_set_manifest(&self, id: i64, manifest_key: &str, now: i64) -> Result<()> {
                sqlx::query::<$db>("UPDATE artifacts SET manifest_key = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(manifest_key)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn artifact_commit(&self, id: i64, now: i64) -> Result<Artifact> {
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                // Commits to one collection take turns (PostgreSQL's row
                // lock; SQLite's write transaction already does), or two
                // would read the same next version and one would fail; read
                // under the lock, a retried commit of this same artifact
                // finds it committed and keeps its version.
                sqlx::query::<$db>(
                    "UPDATE artifact_collections SET id = id \
                     WHERE id = (SELECT collection_id FROM artifacts WHERE id = $1)",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let a = sqlx::query_as::<$db, Artifact>("SELECT * FROM artifacts WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| Error::Corrupt(format!("artifact {id} vanished")))?;
                if a.state == "COMMITTED" {
                    tx.commit().await?;
                    return Ok(a);
                }
                let next = sqlx::query_scalar::<$db, i64>(
                    "SELECT COALESCE(MAX(version_index), -1) + 1 FROM artifacts WHERE collection_id = $1",
                )
                .bind(a.collection_id)
                .fetch_one(&mut *tx)
                .await?;
                let (size, count) = sqlx::query_as::<$db, (i64, i64)>(
                    "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT), COUNT(*) FROM artifact_files WHERE artifact_id = $1",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                let a = sqlx::query_as::<$db, Artifact>(
                    "UPDATE artifacts SET state = 'COMMITTED', version_index = $2, size = $3, file_count = $4, updated_at = $5 \
                     WHERE id = $1 RETURNING *",
                )
                .bind(id)
                .bind(next)
                .bind(size)
                .bind(count)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let mut aliases: Vec<String> = serde_json::from_str(&a.pending_aliases).unwrap_or_default();
                if !aliases.iter().any(|x| x == "latest") {
                    aliases.push("latest".into());
                }
                for alias in &aliases {
                    sqlx::query::<$db>(
                        "INSERT INTO artifact_aliases (collection_id, alias, artifact_id) VALUES ($1, $2, $3) \
                         ON CONFLICT (collection_id, alias) DO UPDATE SET artifact_id = excluded.artifact_id",
                    )
                    .bind(a.collection_id)
                    .bind(alias)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(a)
            }

            async fn artifact_alias_set(&self, collection_id: i64, artifact_id: i64, aliases: &[String]) -> Result<()> {
                for alias in aliases {
                    sqlx::query::<$db>(
                        "INSERT INTO artifact_aliases (collection_id, alias, artifact_id) VALUES ($1, $2, $3) \
                         ON CONFLICT (collection_id, alias) DO UPDATE SET artifact_id = excluded.artifact_id",
                    )
                    .bind(collection_id)
                    .bind(alias)
                    .bind(artifact_id)
                    .execute(&self.pool)
                    .await?;
                }
                Ok(())
            }

            async fn artifact_aliases(&self, artifact_ids: &[i64]) -> Result<Vec<(i64, String)>> {
                let mut out = Vec::new();
                for chunk in artifact_ids.chunks(500) {
                    let sql = format!(
                        "SELECT artifact_id, alias FROM artifact_aliases WHERE artifact_id IN {} ORDER BY alias",
                        placeholders(1, chunk.len())
                    );
                    let mut q = sqlx::query_as::<$db, (i64, String)>(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    out.extend(q.fetch_all(&self.pool).await?);
                }
                Ok(out)
            }

            async fn artifact_file_add(&self, artifact_id: i64, name: &str, md5: &str, size: Option<i64>) -> Result<()> {
                sqlx::query::<$db>(
                    "INSERT INTO artifact_files (artifact_id, name, md5, size) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (artifact_id, name) DO UPDATE SET md5 = excluded.md5, size = COALESCE(excluded.size, artifact_files.size)",
                )
                .bind(artifact_id)
                .bind(name)
                .bind(md5)
                .bind(size)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn artifact_files(&self, artifact_id: i64) -> Result<Vec<ArtifactFile>> {
                Ok(sqlx::query_as::<$db, ArtifactFile>("SELECT * FROM artifact_files WHERE artifact_id = $1 ORDER BY name")
                    .bind(artifact_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn artifact_file_in_entity(&self, entity_id: i64, md5: &str) -> Result<bool> {
                Ok(sqlx::query_scalar::<$db, i64>(
                    "SELECT f.artifact_id FROM artifact_files f \
                     JOIN artifacts a ON a.id = f.artifact_id \
                     JOIN artifact_collections c ON c.id = a.collection_id \
                     JOIN projects p ON p.id = c.project_id \
                     WHERE p.entity_id = $1 AND f.md5 = $2 AND f.size IS NOT NULL LIMIT 1",
                )
                .bind(entity_id)
                .bind(md5)
                .fetch_optional(&self.pool)
                .await?
                .is_some())
            }

            async fn artifact_use(&self, run_id: i64, artifact_id: i64, used_as: Option<&str>) -> Result<()> {
                sqlx::query::<$db>(
                    "INSERT INTO artifact_usage (run_id, artifact_id, used_as) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(run_id)
                .bind(artifact_id)
                .bind(used_as)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn runs_using_artifacts(&self, artifact_ids: &[i64]) -> Result<Vec<(i64, Run)>> {
                let mut out = Vec::new();
                for chunk in artifact_ids.chunks(500) {
                    let sql = format!(
                        "SELECT artifact_usage.artifact_id, runs.id FROM artifact_usage JOIN runs ON runs.id = artifact_usage.run_id \
                         WHERE artifact_usage.artifact_id IN {} ORDER BY runs.id DESC",
                        placeholders(1, chunk.len())
                    );
                    let mut q = sqlx::query_as::<$db, (i64, i64)>(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    for (artifact_id, run_id) in q.fetch_all(&self.pool).await? {
                        if let Some(run) = self.run_by_id(run_id).await? {
                            out.push((artifact_id, run));
                        }
                    }
                }
                Ok(out)
            }

            async fn artifacts_logged_by_run(&self, project_id: i64, run_name: &str) -> Result<Vec<Artifact>> {
                Ok(sqlx::query_as::<$db, Artifact>(
                    "SELECT artifacts.* FROM artifacts \
                     JOIN artifact_collections ON artifact_collections.id = artifacts.collection_id \
                     WHERE artifact_collections.project_id = $1 AND artifacts.run_name = $2 \
                       AND artifacts.state = 'COMMITTED' ORDER BY artifacts.id",
                )
                .bind(project_id)
                .bind(run_name)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn artifacts_used_by_run(&self, run_id: i64) -> Result<Vec<Artifact>> {
                Ok(sqlx::query_as::<$db, Artifact>(
                    "SELECT artifacts.* FROM artifacts JOIN artifact_usage ON artifact_usage.artifact_id = artifacts.id \
                     WHERE artifact_usage.run_id = $1 ORDER BY artifacts.id",
                )
                .bind(run_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn run_file_add(&self, run_id: i64, name: &str, now: i64) -> Result<()> {
                sqlx::query::<$db>(
                    "INSERT INTO run_files (run_id, name, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (run_id, name) DO UPDATE SET updated_at = excluded.updated_at",
                )
                .bind(run_id)
                .bind(name)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn run_file_uploaded(&self, run_id: i64, name: &str, size: i64, now: i64) -> Result<()> {
                sqlx::query::<$db>(
                    "INSERT INTO run_files (run_id, name, size, uploaded, updated_at) VALUES ($1, $2, $3, TRUE, $4) \
                     ON CONFLICT (run_id, name) DO UPDATE SET size = excluded.size, uploaded = TRUE, updated_at = excluded.updated_at",
                )
                .bind(run_id)
                .bind(name)
                .bind(size)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn run_files(&self, run_id: i64) -> Result<Vec<RunFile>> {
                Ok(sqlx::query_as::<$db, RunFile>("SELECT * FROM run_files WHERE run_id = $1 ORDER BY name")
                    .bind(run_id)
                    .fetch_all(&self.pool)
                    .await?)
            }
        }
    };
}
pub(crate) use impl_store;
