-- What the dashboard's overview shows of each instance, kept current by the writes that change
-- it (instance creation, record_run, record_drift) so that the overview reads one indexed table
-- instead of aggregating the run history (bench/dashboard). Numbered 0101, with the dashboard's
-- 0100s: the overview is its only reader.
-- One row per instance the store knows: every `instances` row, and every instance with an
-- apply, destroy or drift check.
-- The apply columns are the newest apply or destroy of the instance that got past `pending`
-- and was not `skipped`, newest by (started_ms, run id); the drift columns mirror `drift`.
-- Keyed by stack before environment: the overview pages by stack.
CREATE TABLE instance_summary (
    project          TEXT NOT NULL,
    stack            TEXT NOT NULL,
    env              TEXT NOT NULL,
    apply_run_id     TEXT,
    apply_action     TEXT,
    apply_status     TEXT,
    apply_commit     TEXT,
    apply_who        TEXT,
    apply_started_ms BIGINT,
    apply_at_ms      BIGINT,
    drift_status     TEXT,
    drift_add        BIGINT,
    drift_change     BIGINT,
    drift_destroy    BIGINT,
    drift_checked_ms BIGINT,
    drift_run_id     TEXT,
    PRIMARY KEY (project, stack, env)
);

-- One row per project, updated first by every run recording: its row lock serialises them
-- across replicas, so recomputing an instance's last apply after a re-post cannot miss a run
-- committed meanwhile (SQLite serialises writers anyway).
CREATE TABLE runs_guard (
    project TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

-- Backfill of a database that already has instances, runs and drift results.
INSERT INTO instance_summary (project, stack, env)
SELECT project, stack, env FROM instances;

INSERT INTO instance_summary (project, stack, env, apply_run_id, apply_action, apply_status,
    apply_commit, apply_who, apply_started_ms, apply_at_ms)
SELECT project, stack, env, run_id, action, status, commit_sha, who, started_ms, at_ms FROM (
    SELECT r.project, ri.stack, r.env, r.id AS run_id, r.action, ri.status, r.commit_sha, r.who,
           r.started_ms, COALESCE(r.finished_ms, r.started_ms) AS at_ms,
           ROW_NUMBER() OVER (PARTITION BY r.project, r.env, ri.stack
                              ORDER BY r.started_ms DESC, r.id DESC) AS rn
    FROM runs r JOIN run_instances ri ON ri.run_id = r.id
    WHERE r.action IN ('apply', 'destroy') AND ri.status NOT IN ('skipped', 'pending')
) latest WHERE rn = 1
ON CONFLICT (project, stack, env) DO UPDATE SET apply_run_id = excluded.apply_run_id,
    apply_action = excluded.apply_action, apply_status = excluded.apply_status,
    apply_commit = excluded.apply_commit, apply_who = excluded.apply_who,
    apply_started_ms = excluded.apply_started_ms, apply_at_ms = excluded.apply_at_ms;

-- `WHERE true`: SQLite needs it to tell an INSERT … SELECT's upsert clause from a join.
INSERT INTO instance_summary (project, stack, env, drift_status, drift_add, drift_change,
    drift_destroy, drift_checked_ms, drift_run_id)
SELECT project, stack, env, status, add_count, change_count, destroy_count, checked_ms, run_id
FROM drift WHERE true
ON CONFLICT (project, stack, env) DO UPDATE SET drift_status = excluded.drift_status,
    drift_add = excluded.drift_add, drift_change = excluded.drift_change,
    drift_destroy = excluded.drift_destroy, drift_checked_ms = excluded.drift_checked_ms,
    drift_run_id = excluded.drift_run_id;
