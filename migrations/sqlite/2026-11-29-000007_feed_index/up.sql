-- The feed joins each event to its article for three small columns; this
-- index holds them, so the feed never reads an article's (large) row.
CREATE INDEX articles_feed ON articles (id, redistribution, first_published_at, killed_at);
