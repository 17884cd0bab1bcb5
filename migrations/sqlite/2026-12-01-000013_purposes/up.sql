-- Purposes: a licence permits a set of them, each at its own price or the
-- licence's; a client may be limited to some; a photo carries its IPTC/PLUS
-- data-mining value; a licence may require attribution. The ledger records
-- the purpose of every delivery and the attribution it was delivered with,
-- and a first delivery is billed once per purpose: the billing key and the
-- daily totals gain the purpose. Everything before this was `display`.
ALTER TABLE licences ADD COLUMN purposes TEXT NOT NULL DEFAULT '[{"purpose":"display"}]';
ALTER TABLE licences ADD COLUMN attribution_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE media ADD COLUMN data_mining TEXT NOT NULL DEFAULT 'unspecified';
ALTER TABLE api_clients ADD COLUMN purposes TEXT;
ALTER TABLE usage_events ADD COLUMN purpose TEXT NOT NULL DEFAULT 'display';
ALTER TABLE usage_events ADD COLUMN attribution TEXT;

CREATE TABLE billed_deliveries_new (
    licence_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    period_start TIMESTAMP NOT NULL,
    purpose TEXT NOT NULL,
    PRIMARY KEY (licence_id, article_id, period_start, purpose)
);
INSERT INTO billed_deliveries_new
    SELECT licence_id, article_id, period_start, 'display' FROM billed_deliveries;
DROP TABLE billed_deliveries;
ALTER TABLE billed_deliveries_new RENAME TO billed_deliveries;

CREATE TABLE usage_daily_new (
    licensee_id TEXT NOT NULL,
    licence_id TEXT NOT NULL,
    publisher_id TEXT NOT NULL,
    day TEXT NOT NULL,
    currency TEXT NOT NULL,
    purpose TEXT NOT NULL,
    deliveries BIGINT NOT NULL,
    billable_units BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    PRIMARY KEY (licensee_id, licence_id, publisher_id, day, currency, purpose)
);
INSERT INTO usage_daily_new
    SELECT licensee_id, licence_id, publisher_id, day, currency, 'display',
           deliveries, billable_units, amount_minor
    FROM usage_daily;
DROP TABLE usage_daily;
ALTER TABLE usage_daily_new RENAME TO usage_daily;
CREATE INDEX usage_daily_day ON usage_daily (day);
CREATE INDEX usage_daily_publisher ON usage_daily (publisher_id, day);
