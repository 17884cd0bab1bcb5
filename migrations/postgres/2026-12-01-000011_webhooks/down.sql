DROP INDEX usage_events_article;
ALTER TABLE licences DROP COLUMN takedown_hours;
DROP TABLE killed_fetches;
DROP TABLE takedown_notices;
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_endpoints;
