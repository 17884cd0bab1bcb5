-- The scheduled events a licensee reads in GET /v1/feed beside the content
-- events: the end of a photo's rights in a story it received
-- (media.rights_ended) and the coming end of one of its licences
-- (licence.ending). One row per licensee that hears of the end, written in
-- the transaction that takes it (rights_endings, licence_endings), so the
-- feed and the webhooks tell the same ends once each.
CREATE TABLE scheduled_feed_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    licensee_id TEXT NOT NULL,
    -- rights_ended | licence_ending
    kind TEXT NOT NULL,
    -- rights_ended: the story that showed the photo, and its version.
    article_id TEXT,
    version INTEGER,
    -- rights_ended: the photo.
    media_id TEXT,
    -- licence_ending: the licence.
    licence_id TEXT,
    -- When the rights ended, or when the licence ends.
    ends_at TIMESTAMP NOT NULL,
    -- The webhook event of the same end (its `webhook-id`).
    event_id TEXT NOT NULL,
    -- Taken under the content events' lock, as theirs is, so a feed
    -- reader never finds one appear before a position it has passed.
    visible_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX scheduled_feed_events_licensee ON scheduled_feed_events (licensee_id, visible_at, seq);
