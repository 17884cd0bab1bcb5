-- Who received each story, and how often, day by day: what a takedown
-- notice is made from (its receivers, their deliveries, the last one's
-- licence) and what a notice is reconciled with. Written with the ledger's
-- events, in the same transaction. It replaces an index of every event by
-- story, which grew with the ledger and cost a page written at random for
-- each delivery; this grows with the stories received each day. Kept in
-- its key's order (WITHOUT ROWID): one tree, not a table and an index.
CREATE TABLE article_receipts (
    article_id TEXT NOT NULL,
    licensee_id TEXT NOT NULL,
    -- UTC calendar day of the deliveries (as usage_events.day).
    day TEXT NOT NULL,
    deliveries BIGINT NOT NULL,
    first_at TIMESTAMP NOT NULL,
    last_at TIMESTAMP NOT NULL,
    -- The licence of the day's last delivery.
    last_licence_id TEXT NOT NULL,
    PRIMARY KEY (article_id, licensee_id, day)
) WITHOUT ROWID;
INSERT INTO article_receipts
    SELECT g.article_id, g.licensee_id, g.day, g.deliveries, g.first_at, g.last_at,
        (SELECT w.licence_id FROM usage_events w
            WHERE w.article_id = g.article_id AND w.licensee_id = g.licensee_id AND w.day = g.day
            ORDER BY w.at DESC, w.id DESC LIMIT 1)
    FROM (SELECT article_id, licensee_id, day, COUNT(*) AS deliveries,
                 MIN(at) AS first_at, MAX(at) AS last_at
          FROM usage_events GROUP BY article_id, licensee_id, day) g;
DROP INDEX usage_events_article;
