-- Usage per UTC day, maintained by the usage writer in the transaction that
-- records the events, so reports over whole days read one row per
-- (licensee, licence, publisher, day, currency) instead of every event.
-- `currency` is '' where the events have none.
CREATE TABLE usage_daily (
    licensee_id TEXT NOT NULL,
    licence_id TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    day TEXT NOT NULL,
    currency TEXT NOT NULL,
    deliveries BIGINT NOT NULL,
    billable_units BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (licensee_id, licence_id, publisher_id, day, currency)
);

CREATE INDEX usage_daily_day ON usage_daily (day);
CREATE INDEX usage_daily_publisher ON usage_daily (publisher_id, day);

INSERT INTO usage_daily
SELECT licensee_id, licence_id, publisher_id, day, COALESCE(currency, ''),
       COUNT(*),
       SUM(CASE WHEN billable THEN 1 ELSE 0 END),
       SUM(CASE WHEN billable THEN COALESCE(unit_price, 0) ELSE 0 END)
FROM usage_events
GROUP BY licensee_id, licence_id, publisher_id, day, COALESCE(currency, '');
