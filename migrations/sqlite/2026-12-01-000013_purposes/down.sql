CREATE TABLE usage_daily_old (
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
INSERT INTO usage_daily_old
    SELECT licensee_id, licence_id, publisher_id, day, currency,
           SUM(deliveries), SUM(billable_units), SUM(amount_minor)
    FROM usage_daily GROUP BY licensee_id, licence_id, publisher_id, day, currency;
DROP TABLE usage_daily;
ALTER TABLE usage_daily_old RENAME TO usage_daily;
CREATE INDEX usage_daily_day ON usage_daily (day);
CREATE INDEX usage_daily_publisher ON usage_daily (publisher_id, day);

CREATE TABLE billed_deliveries_old (
    licence_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    period_start TIMESTAMP NOT NULL,
    PRIMARY KEY (licence_id, article_id, period_start)
);
INSERT OR IGNORE INTO billed_deliveries_old
    SELECT licence_id, article_id, period_start FROM billed_deliveries;
DROP TABLE billed_deliveries;
ALTER TABLE billed_deliveries_old RENAME TO billed_deliveries;

ALTER TABLE usage_events DROP COLUMN attribution;
ALTER TABLE usage_events DROP COLUMN purpose;
ALTER TABLE api_clients DROP COLUMN purposes;
ALTER TABLE media DROP COLUMN data_mining;
ALTER TABLE licences DROP COLUMN attribution_required;
ALTER TABLE licences DROP COLUMN purposes;
