-- Run tracking (PostgreSQL): history rows, system events and console lines, append-only
-- and read back in pages. `stream` of run_logs: 0 the SDK's output.log,
-- 1 the console an agent captured.
CREATE TABLE run_history (
    run_id  BIGINT NOT NULL,
    line_no BIGINT NOT NULL,
    step    BIGINT,
    data    TEXT NOT NULL,
    PRIMARY KEY (run_id, line_no)
);
CREATE INDEX run_history_step ON run_history (run_id, step);
CREATE TABLE run_events (
    run_id  BIGINT NOT NULL,
    line_no BIGINT NOT NULL,
    data    TEXT NOT NULL,
    PRIMARY KEY (run_id, line_no)
);
CREATE TABLE run_logs (
    run_id  BIGINT NOT NULL,
    stream  BIGINT NOT NULL,
    line_no BIGINT NOT NULL,
    text    TEXT NOT NULL,
    PRIMARY KEY (run_id, stream, line_no)
);
ALTER TABLE runs ADD COLUMN agent_log_line_count BIGINT NOT NULL DEFAULT 0;
CREATE INDEX runs_project ON runs (project_id, id);
CREATE INDEX runs_live ON runs (state, heartbeat_at);
