CREATE TABLE usage_daily_old AS
    SELECT licensee_id, licence_id, publisher_id, day, currency,
           SUM(deliveries)::BIGINT AS deliveries, SUM(billable_units)::BIGINT AS billable_units,
           SUM(amount_minor)::BIGINT AS amount_minor
    FROM usage_daily GROUP BY licensee_id, licence_id, publisher_id, day, currency;
DELETE FROM usage_daily;
ALTER TABLE usage_daily DROP CONSTRAINT usage_daily_pkey;
ALTER TABLE usage_daily DROP COLUMN purpose;
INSERT INTO usage_daily SELECT * FROM usage_daily_old;
DROP TABLE usage_daily_old;
ALTER TABLE usage_daily ADD PRIMARY KEY (licensee_id, licence_id, publisher_id, day, currency);

DELETE FROM billed_deliveries a USING billed_deliveries b
    WHERE a.licence_id = b.licence_id AND a.article_id = b.article_id
      AND a.period_start = b.period_start AND a.purpose > b.purpose;
ALTER TABLE billed_deliveries DROP CONSTRAINT billed_deliveries_pkey;
ALTER TABLE billed_deliveries DROP COLUMN purpose;
ALTER TABLE billed_deliveries ADD PRIMARY KEY (licence_id, article_id, period_start);

ALTER TABLE usage_events DROP COLUMN attribution;
ALTER TABLE usage_events DROP COLUMN purpose;
ALTER TABLE api_clients DROP COLUMN purposes;
ALTER TABLE media DROP COLUMN data_mining;
ALTER TABLE licences DROP COLUMN attribution_required;
ALTER TABLE licences DROP COLUMN purposes;
