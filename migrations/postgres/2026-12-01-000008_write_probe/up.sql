-- Readiness writes a row here and deletes it in the same transaction while
-- writes fail for lack of space, to learn when they succeed again
-- (storage/health.rs). It never holds a committed row.
CREATE TABLE write_probe (
    id TEXT PRIMARY KEY NOT NULL,
    filler BYTEA NOT NULL
);
