//! State storage: versions, locks, tokens, audit and encryption at rest on SQLite or PostgreSQL.
