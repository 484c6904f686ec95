-- The server's own work: webhook deliveries, the job queue, pull requests with their
-- instance locks and queues, promotion records, ephemeral copies, run history and drift.
-- Times are Unix milliseconds; booleans are 0/1 (sqlx `Any` carries no native booleans).

CREATE TABLE jobs (
    id             BIGSERIAL PRIMARY KEY,
    kind           TEXT NOT NULL,
    serial_key     TEXT NOT NULL,
    payload        TEXT NOT NULL,
    dedupe_key     TEXT UNIQUE,
    status         TEXT NOT NULL,
    attempts       BIGINT NOT NULL DEFAULT 0,
    worker         TEXT,
    lease_until_ms BIGINT,
    progress       TEXT,
    result         TEXT,
    log_bytes      BIGINT NOT NULL DEFAULT 0,
    log_chunks     BIGINT NOT NULL DEFAULT 0,
    created_ms     BIGINT NOT NULL,
    started_ms     BIGINT,
    finished_ms    BIGINT,
    updated_ms     BIGINT NOT NULL
);
-- The database, not the claim query, guarantees that one serial key never runs twice at once.
CREATE UNIQUE INDEX jobs_one_running_per_key ON jobs (serial_key) WHERE status = 'running';
CREATE INDEX jobs_unfinished ON jobs (serial_key, id) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_open ON jobs (id) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_by_key ON jobs (serial_key, id);

CREATE TABLE job_logs (
    job  BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq  BIGINT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (job, seq)
);

CREATE TABLE deliveries (
    forge       TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    repo        TEXT NOT NULL,
    event       TEXT NOT NULL,
    payload     TEXT NOT NULL,
    job         BIGINT REFERENCES jobs(id),
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (forge, delivery_id)
);

CREATE TABLE pulls (
    repo            TEXT NOT NULL,
    number          BIGINT NOT NULL,
    head            TEXT NOT NULL,
    base_ref        TEXT NOT NULL,
    state           TEXT NOT NULL,
    author          TEXT NOT NULL,
    summary_comment TEXT,
    created_ms      BIGINT NOT NULL,
    updated_ms      BIGINT NOT NULL,
    PRIMARY KEY (repo, number)
);
CREATE INDEX pulls_by_update ON pulls (updated_ms);

CREATE TABLE pull_instances (
    repo         TEXT NOT NULL,
    number       BIGINT NOT NULL,
    env          TEXT NOT NULL,
    stack        TEXT NOT NULL,
    plan_run_id  TEXT,
    plan_commit  TEXT,
    plan_add     BIGINT,
    plan_change  BIGINT,
    plan_destroy BIGINT,
    preview_only BIGINT,
    fingerprint  TEXT,
    applied      BIGINT NOT NULL DEFAULT 0,
    updated_ms   BIGINT NOT NULL,
    PRIMARY KEY (repo, number, env, stack),
    FOREIGN KEY (repo, number) REFERENCES pulls(repo, number) ON DELETE CASCADE
);

-- Instance locks held by pull requests (not Terraform's state lock), and their FIFO queues.
CREATE TABLE pull_locks (
    project     TEXT NOT NULL,
    env         TEXT NOT NULL,
    stack       TEXT NOT NULL,
    repo        TEXT NOT NULL,
    number      BIGINT NOT NULL,
    acquired_ms BIGINT NOT NULL,
    PRIMARY KEY (project, env, stack)
);
CREATE INDEX pull_locks_by_holder ON pull_locks (repo, number);

CREATE TABLE pull_lock_queue (
    project   TEXT NOT NULL,
    env       TEXT NOT NULL,
    stack     TEXT NOT NULL,
    repo      TEXT NOT NULL,
    number    BIGINT NOT NULL,
    ticket    BIGINT NOT NULL,
    queued_ms BIGINT NOT NULL,
    PRIMARY KEY (project, env, stack, repo, number)
);
CREATE INDEX pull_lock_queue_by_pull ON pull_lock_queue (repo, number);
CREATE INDEX pull_lock_queue_by_project ON pull_lock_queue (project, ticket);

-- One row per project, updated first by every lock transaction: the row lock serialises them
-- across replicas (SQLite serialises writers anyway).
CREATE TABLE pull_lock_guard (
    project TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

CREATE TABLE promotions (
    id          BIGSERIAL PRIMARY KEY,
    project     TEXT NOT NULL,
    env         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    commit_sha  TEXT NOT NULL,
    who         TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    applied_ms  BIGINT NOT NULL
);
CREATE INDEX promotions_by_subject ON promotions (project, env, kind, subject, applied_ms);
CREATE INDEX promotions_by_fingerprint ON promotions (project, env, kind, subject, fingerprint);

CREATE TABLE copies (
    project      TEXT NOT NULL,
    name         TEXT NOT NULL,
    template     TEXT NOT NULL,
    creator      TEXT NOT NULL,
    pull_request BIGINT,
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT,
    status       TEXT NOT NULL,
    instances    BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL,
    PRIMARY KEY (project, name)
);
CREATE INDEX copies_by_expiry ON copies (expires_ms);

CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    project     TEXT NOT NULL,
    action      TEXT NOT NULL,
    env         TEXT NOT NULL,
    status      TEXT NOT NULL,
    who         TEXT NOT NULL,
    commit_sha  TEXT,
    source      TEXT NOT NULL,
    skipped_promotion TEXT,
    from_plan   TEXT,
    approved_destructive BIGINT NOT NULL,
    started_ms  BIGINT NOT NULL,
    finished_ms BIGINT,
    recorded_by TEXT NOT NULL,
    received_ms BIGINT NOT NULL
);
CREATE INDEX runs_by_env ON runs (project, env, started_ms);
CREATE INDEX runs_by_project ON runs (project, started_ms);

CREATE TABLE run_instances (
    run_id       TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    stack        TEXT NOT NULL,
    status       TEXT NOT NULL,
    add_count    BIGINT NOT NULL,
    change_count BIGINT NOT NULL,
    destroy_count BIGINT NOT NULL,
    preview_only BIGINT NOT NULL,
    reason       TEXT,
    duration_ms  BIGINT NOT NULL,
    log          TEXT NOT NULL,
    log_cut      BIGINT NOT NULL,
    PRIMARY KEY (run_id, stack)
);

CREATE TABLE drift (
    project       TEXT NOT NULL,
    env           TEXT NOT NULL,
    stack         TEXT NOT NULL,
    status        TEXT NOT NULL,
    add_count     BIGINT NOT NULL,
    change_count  BIGINT NOT NULL,
    destroy_count BIGINT NOT NULL,
    checked_ms    BIGINT NOT NULL,
    run_id        TEXT,
    PRIMARY KEY (project, env, stack)
);
