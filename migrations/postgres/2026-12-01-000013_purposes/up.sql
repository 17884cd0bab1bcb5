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

ALTER TABLE billed_deliveries ADD COLUMN purpose TEXT NOT NULL DEFAULT 'display';
ALTER TABLE billed_deliveries DROP CONSTRAINT billed_deliveries_pkey;
ALTER TABLE billed_deliveries ADD PRIMARY KEY (licence_id, article_id, period_start, purpose);

ALTER TABLE usage_daily ADD COLUMN purpose TEXT NOT NULL DEFAULT 'display';
ALTER TABLE usage_daily DROP CONSTRAINT usage_daily_pkey;
ALTER TABLE usage_daily ADD PRIMARY KEY (licensee_id, licence_id, publisher_id, day, currency, purpose);
