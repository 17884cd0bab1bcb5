DROP TABLE quota_usage;
DROP TABLE billed_deliveries;
DROP INDEX usage_events_at;
DROP INDEX usage_events_publisher;
DROP INDEX usage_events_licensee;
DROP TABLE usage_events;
