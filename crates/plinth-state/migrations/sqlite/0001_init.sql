-- One row per instance (project/env/stack). `head` only ever grows so version numbers are never
-- reused, even after DELETE set `current_version` back to 0 ("no state").
CREATE TABLE instances (
    id              TEXT PRIMARY KEY,
    project         TEXT NOT NULL,
    env             TEXT NOT NULL,
    stack           TEXT NOT NULL,
    head            BIGINT NOT NULL DEFAULT 0,
    current_version BIGINT NOT NULL DEFAULT 0,
    created_ms      BIGINT NOT NULL,
    updated_ms      BIGINT NOT NULL
);

CREATE TABLE versions (
    instance   TEXT NOT NULL REFERENCES instances(id),
    version    BIGINT NOT NULL,
    serial     BIGINT,
    lineage    TEXT,
    opaque     BIGINT NOT NULL,
    size       BIGINT NOT NULL,
    md5        TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    sealed     BIGINT NOT NULL,
    body       BLOB NOT NULL,
    created_ms BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    note       TEXT,
    PRIMARY KEY (instance, version)
);

CREATE TABLE locks (
    instance   TEXT PRIMARY KEY REFERENCES instances(id),
    lock_id    TEXT NOT NULL,
    info       TEXT NOT NULL,
    holder     TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE tokens (
    name       TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    scope      TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms    BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    instance TEXT,
    detail   TEXT NOT NULL
);
CREATE INDEX audit_by_instance ON audit (instance, id);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
