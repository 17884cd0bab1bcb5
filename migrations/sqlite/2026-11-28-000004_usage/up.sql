-- The usage ledger (one row per successful delivery), the key that makes
-- the first delivery of an article to a licence in a period the only
-- billable one, and the per-period quota counters.
CREATE TABLE usage_events (
    id TEXT PRIMARY KEY NOT NULL,
    licensee_id TEXT NOT NULL,
    licence_id TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    article_version INTEGER NOT NULL,
    tier TEXT NOT NULL,
    format TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    -- UTC calendar day of `at` (YYYY-MM-DD), for daily reports on both backends.
    day TEXT NOT NULL,
    period_start TIMESTAMP NOT NULL,
    request_id TEXT NOT NULL,
    billable BOOLEAN NOT NULL,
    unit_price BIGINT,
    currency TEXT
);

CREATE INDEX usage_events_licensee ON usage_events (licensee_id, at);
CREATE INDEX usage_events_publisher ON usage_events (publisher_id, at);
CREATE INDEX usage_events_at ON usage_events (at);

CREATE TABLE billed_deliveries (
    licence_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    period_start TIMESTAMP NOT NULL,
    PRIMARY KEY (licence_id, article_id, period_start)
);

CREATE TABLE quota_usage (
    licence_id TEXT NOT NULL,
    period_start TIMESTAMP NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (licence_id, period_start)
);
