-- The server's scheduled drift checks (plinth-pulls), one row per repository and environment:
-- when the last check ended, at which commit and in which run, and the forge issue it keeps
-- open while the environment drifts. Numbered 0200, apart from the store's own 0003-0099 and
-- the dashboard's 0100s. Times are Unix milliseconds; booleans are 0/1.
CREATE TABLE drift_watch (
    repo        TEXT NOT NULL,
    env         TEXT NOT NULL,
    project     TEXT NOT NULL,
    checked_ms  BIGINT NOT NULL,
    commit_sha  TEXT,
    run_id      TEXT,
    issue       BIGINT,
    issue_open  BIGINT NOT NULL,
    digest      TEXT,
    PRIMARY KEY (repo, env)
);
