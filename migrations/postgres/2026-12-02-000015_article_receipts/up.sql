-- Who received each story, and how often, day by day: what a takedown
-- notice is made from (its receivers, their deliveries, the last one's
-- licence) and what a notice is reconciled with. Written with the ledger's
-- events, in the same transaction. It replaces an index of every event by
-- story, which grew with the ledger and cost a page written at random for
-- each delivery; this grows with the stories received each day.
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
);
INSERT INTO article_receipts
    SELECT article_id, licensee_id, day, COUNT(*), MIN(at), MAX(at),
        (ARRAY_AGG(licence_id ORDER BY at DESC, id DESC))[1]
    FROM usage_events GROUP BY article_id, licensee_id, day;
DROP INDEX usage_events_article;
