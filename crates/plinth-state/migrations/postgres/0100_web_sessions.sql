-- Dashboard sign-in sessions (plinth-web). Numbered 0100 so the store's own migrations keep
-- 0003-0099; sqlx applies a lower-numbered migration added later as well.
-- The session id and the token are never stored: `id_hash` is the SHA-256 of the session id,
-- `token_hash` the tokens row's hash, so revoking the token ends its sessions.
CREATE TABLE web_sessions (
    id_hash    TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_ms);
