-- Licences, the most restrictive agency redistribution of each article, and
-- full-text search over headline, standfirst and body.
CREATE TABLE licences (
    id TEXT PRIMARY KEY NOT NULL,
    licensee_id TEXT NOT NULL REFERENCES licensees (id),
    publisher_id TEXT NOT NULL REFERENCES publishers (id),
    -- JSON array of sections; NULL means every section.
    sections TEXT,
    tier TEXT NOT NULL CHECK (tier IN ('full', 'preview')),
    include_media BOOLEAN NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    valid_until TIMESTAMP,
    quota_units BIGINT,
    quota_period TEXT CHECK (quota_period IN ('day', 'month')),
    rate_limit_per_minute INTEGER,
    price_amount_minor BIGINT,
    price_currency TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX licences_licensee_id ON licences (licensee_id, id);
CREATE INDEX licences_publisher_id ON licences (publisher_id, id);

ALTER TABLE articles ADD COLUMN redistribution TEXT NOT NULL DEFAULT 'allowed';

-- The 'simple' configuration (no stemming, no stop words) matches SQLite's
-- FTS5 default tokenizer, so both backends find the same articles.
ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', headline || ' ' || COALESCE(standfirst, '') || ' ' || body_text)
) STORED;

CREATE INDEX articles_search ON articles USING GIN (search);
