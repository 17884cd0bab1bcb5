-- A photo's rights ending in each live story that showed it, with the
-- story's media.rights_ended event: written whenever an end is taken, even
-- when no licensee had received the story yet, so that a delivery made
-- before the end and still in a node's usage journal then gets its notice
-- (pointing at this event) when it reaches the ledger.
CREATE TABLE rights_ended_stories (
    media_id TEXT NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    article_id TEXT NOT NULL,
    -- The story's media.rights_ended webhook event.
    event_id TEXT NOT NULL,
    -- Deliveries decided before this instant carried the photo: the end,
    -- or the change that made it if that came later (an expiry set in the
    -- past, a prohibition).
    withheld_from TIMESTAMP NOT NULL,
    PRIMARY KEY (media_id, ends_at, article_id)
);
CREATE INDEX rights_ended_stories_article ON rights_ended_stories (article_id, withheld_from);
-- Ends taken before this migration, from their notices: every delivery in
-- the ledger when the end was taken was counted then.
INSERT INTO rights_ended_stories (media_id, ends_at, article_id, event_id, withheld_from)
    SELECT media_id, killed_at, article_id, event_id, MIN(created_at) FROM takedown_notices
    WHERE kind = 'media.rights_ended' AND media_id IS NOT NULL
    GROUP BY media_id, killed_at, article_id, event_id;

-- One notice per takedown and licensee: a kill of an article, or one end
-- of a photo's rights in a story (an end is keyed by its instant, so rights
-- that come back and end again give a new notice). Late notices made while
-- shipping rely on it when two nodes ship at once.
CREATE UNIQUE INDEX takedown_notices_once
    ON takedown_notices (kind, article_id, COALESCE(media_id, ''), killed_at, licensee_id);
