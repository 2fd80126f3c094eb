-- Liftoff schema, SQLite. Times are milliseconds since the Unix epoch (UTC).
-- JSON values are stored as TEXT and handled in Rust.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE users (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    username   TEXT NOT NULL UNIQUE,
    email      TEXT,
    admin      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE TABLE entities (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    is_team    BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE members (
    entity_id BIGINT NOT NULL REFERENCES entities(id),
    user_id   BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (entity_id, user_id)
);
CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    key_hash   TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE projects (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id   BIGINT NOT NULL REFERENCES entities(id),
    name        TEXT NOT NULL,
    description TEXT,
    created_at  BIGINT NOT NULL,
    UNIQUE (entity_id, name)
);
CREATE TABLE resource_configs (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id          BIGINT NOT NULL REFERENCES entities(id),
    resource           TEXT NOT NULL,
    config             TEXT NOT NULL,
    template_variables TEXT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE TABLE queues (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id          BIGINT NOT NULL REFERENCES projects(id),
    name                TEXT NOT NULL,
    access              TEXT NOT NULL,
    prioritization_mode TEXT NOT NULL,
    resource_config_id  BIGINT REFERENCES resource_configs(id),
    external_links      TEXT NOT NULL,
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    max_retries         BIGINT NOT NULL DEFAULT 0,
    UNIQUE (project_id, name)
);
CREATE TABLE items (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id          BIGINT NOT NULL REFERENCES queues(id),
    state             TEXT NOT NULL,
    priority          BIGINT NOT NULL,
    run_spec          TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    lease_seq         BIGINT NOT NULL DEFAULT 0,
    lease_expires_at  BIGINT,
    agent_id          BIGINT,
    claimed_at        BIGINT,
    associated_run_id TEXT,
    error             TEXT,
    retries           BIGINT NOT NULL DEFAULT 0
);
-- The pop index: waiting items of a queue in service order.
CREATE INDEX items_waiting ON items (queue_id, state, priority, id);
CREATE TABLE item_warnings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id    BIGINT NOT NULL REFERENCES items(id),
    message    TEXT NOT NULL,
    stage      TEXT NOT NULL,
    file_paths TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX item_warnings_item ON item_warnings (item_id);
CREATE TABLE agents (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id    BIGINT NOT NULL REFERENCES entities(id),
    project_id   BIGINT NOT NULL REFERENCES projects(id),
    name         TEXT NOT NULL UNIQUE,
    hostname     TEXT NOT NULL,
    status       TEXT NOT NULL,
    stop_polling BOOLEAN NOT NULL DEFAULT FALSE,
    queue_ids    TEXT NOT NULL,
    config       TEXT NOT NULL,
    version      TEXT,
    created_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
CREATE INDEX agents_entity ON agents (entity_id);
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   BIGINT NOT NULL REFERENCES projects(id),
    name         TEXT NOT NULL,
    display_name TEXT,
    state        TEXT NOT NULL,
    stopped      BOOLEAN NOT NULL DEFAULT FALSE,
    config       TEXT NOT NULL,
    summary      TEXT NOT NULL,
    job_type     TEXT,
    host         TEXT,
    program      TEXT,
    tags         TEXT NOT NULL DEFAULT '[]',
    sweep_name   TEXT,
    group_name   TEXT,
    notes        TEXT,
    description  TEXT,
    commit_hash  TEXT,
    created_by   TEXT NOT NULL,
    exit_code    BIGINT,
    history_line_count BIGINT NOT NULL DEFAULT 0,
    events_line_count  BIGINT NOT NULL DEFAULT 0,
    log_line_count     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE artifact_collections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    name        TEXT NOT NULL,
    type_name   TEXT NOT NULL,
    description TEXT,
    created_at  BIGINT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE TABLE artifacts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id      BIGINT NOT NULL REFERENCES artifact_collections(id),
    version_index      BIGINT,
    state              TEXT NOT NULL,
    digest             TEXT NOT NULL,
    client_id          TEXT,
    sequence_client_id TEXT,
    description        TEXT,
    metadata           TEXT NOT NULL,
    size               BIGINT NOT NULL DEFAULT 0,
    file_count         BIGINT NOT NULL DEFAULT 0,
    run_name           TEXT,
    pending_aliases    TEXT NOT NULL DEFAULT '[]',
    manifest_key       TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (collection_id, version_index)
);
CREATE INDEX artifacts_client ON artifacts (client_id);
CREATE TABLE artifact_aliases (
    collection_id BIGINT NOT NULL REFERENCES artifact_collections(id),
    alias         TEXT NOT NULL,
    artifact_id   BIGINT NOT NULL REFERENCES artifacts(id),
    PRIMARY KEY (collection_id, alias)
);
CREATE TABLE artifact_files (
    artifact_id BIGINT NOT NULL REFERENCES artifacts(id),
    name        TEXT NOT NULL,
    md5         TEXT NOT NULL,
    size        BIGINT,
    PRIMARY KEY (artifact_id, name)
);
CREATE TABLE artifact_usage (
    run_id      BIGINT NOT NULL REFERENCES runs(id),
    artifact_id BIGINT NOT NULL REFERENCES artifacts(id),
    used_as     TEXT,
    PRIMARY KEY (run_id, artifact_id)
);
CREATE TABLE run_files (
    run_id     BIGINT NOT NULL REFERENCES runs(id),
    name       TEXT NOT NULL,
    size       BIGINT,
    uploaded   BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (run_id, name)
);
