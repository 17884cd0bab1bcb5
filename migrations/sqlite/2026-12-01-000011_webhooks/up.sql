-- Takedowns and webhooks (issue 18): licensees' webhook endpoints, the
-- outbox of webhook events and their deliveries (written in the transaction
-- of the content change that caused them), every delivery attempt, the
-- takedown notices a kill gives each licensee that received the article,
-- and the fetches of killed articles (410s) that the compliance report
-- counts.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY NOT NULL,
    licensee_id TEXT NOT NULL REFERENCES licensees (id),
    url TEXT NOT NULL,
    -- JSON array of event types, e.g. ["article.killed"].
    event_types TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    -- Failed attempts since the last success; `failing` from a threshold on.
    consecutive_failures INTEGER NOT NULL,
    failing BOOLEAN NOT NULL,
    -- `whsec_…`; kept readable because signing needs it.
    secret TEXT NOT NULL,
    -- The secret before the last rotation, still signed with until then.
    previous_secret TEXT,
    previous_secret_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_licensee ON webhook_endpoints (licensee_id, id);

CREATE TABLE webhook_events (
    -- The `webhook-id` of every delivery of this event.
    id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    -- The article (for licence.ending, the licence): with the version, the
    -- order in which one endpoint hears of it.
    article_id TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    -- The article's version after the change: the order of an article's
    -- events.
    version INTEGER NOT NULL,
    -- The JSON body sent.
    payload TEXT NOT NULL,
    -- Not sent before this instant (an embargo).
    visible_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_events_article ON webhook_events (article_id, version);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    event_id TEXT NOT NULL REFERENCES webhook_events (id),
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    licensee_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    -- pending | delivered | failed (gave up)
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A sender node holds the delivery until then (claimed by a
    -- conditional UPDATE, so two nodes never send it at once).
    lease_until TIMESTAMP,
    lease_owner TEXT,
    delivered_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, article_id, version);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    latency_ms BIGINT NOT NULL,
    -- delivered | failed | refused (the address is not allowed)
    outcome TEXT NOT NULL,
    response_status INTEGER,
    -- The first bytes of the response body.
    response_excerpt TEXT,
    error TEXT
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);

CREATE TABLE takedown_notices (
    id TEXT PRIMARY KEY NOT NULL,
    -- article.killed | media.rights_ended
    kind TEXT NOT NULL,
    article_id TEXT NOT NULL,
    -- For media.rights_ended: the photo whose rights ended.
    media_id TEXT,
    publisher_id TEXT NOT NULL,
    licensee_id TEXT NOT NULL,
    -- The webhook event of the kill.
    event_id TEXT NOT NULL,
    reason TEXT,
    killed_at TIMESTAMP NOT NULL,
    -- From the usage ledger, when the notice was made.
    deliveries BIGINT NOT NULL,
    last_delivered_at TIMESTAMP NOT NULL,
    deadline_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    removed_at TIMESTAMP,
    note TEXT,
    UNIQUE (event_id, licensee_id)
);
CREATE INDEX takedown_notices_licensee ON takedown_notices (licensee_id, id);
CREATE INDEX takedown_notices_publisher ON takedown_notices (publisher_id, killed_at);

-- Each end of a photo's rights that has been acted on (its events,
-- deliveries and notices written in the same transaction): the key makes a
-- second node's, or a restarted node's, attempt at the same end fail.
CREATE TABLE rights_endings (
    media_id TEXT NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    fired_at TIMESTAMP NOT NULL,
    PRIMARY KEY (media_id, ends_at)
);
-- Rights that ended before this migration are not announced now.
INSERT INTO rights_endings (media_id, ends_at, fired_at)
    SELECT id, rights_expires_at, rights_expires_at FROM media
    WHERE rights_expires_at IS NOT NULL AND rights_expires_at <= CURRENT_TIMESTAMP;
CREATE INDEX media_rights_expiry ON media (rights_expires_at);

-- Each licence end announced (licence.ending), keyed like rights_endings.
CREATE TABLE licence_endings (
    licence_id TEXT NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    fired_at TIMESTAMP NOT NULL,
    PRIMARY KEY (licence_id, ends_at)
);
-- Licences that had ended before this migration are not announced now.
INSERT INTO licence_endings (licence_id, ends_at, fired_at)
    SELECT id, valid_until, valid_until FROM licences
    WHERE valid_until IS NOT NULL AND valid_until <= CURRENT_TIMESTAMP;

-- Fetches of an article refused with 410 because it was killed.
CREATE TABLE killed_fetches (
    id TEXT PRIMARY KEY NOT NULL,
    article_id TEXT NOT NULL,
    licensee_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX killed_fetches_article ON killed_fetches (article_id, licensee_id);

-- Hours a licensee has to confirm a takedown under this licence.
ALTER TABLE licences ADD COLUMN takedown_hours INTEGER NOT NULL DEFAULT 24;

-- Who received an article: read when it is killed.
CREATE INDEX usage_events_article ON usage_events (article_id, licensee_id);
