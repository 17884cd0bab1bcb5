CREATE INDEX usage_events_article ON usage_events (article_id, licensee_id);
DROP TABLE article_receipts;
