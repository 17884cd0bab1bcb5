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

CREATE VIRTUAL TABLE articles_fts USING fts5 (
    headline, standfirst, body_text,
    content = 'articles', content_rowid = 'rowid'
);

INSERT INTO articles_fts (rowid, headline, standfirst, body_text)
    SELECT rowid, headline, COALESCE(standfirst, ''), body_text FROM articles;

CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, headline, standfirst, body_text)
        VALUES (new.rowid, new.headline, COALESCE(new.standfirst, ''), new.body_text);
END;

CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, headline, standfirst, body_text)
        VALUES ('delete', old.rowid, old.headline, COALESCE(old.standfirst, ''), old.body_text);
END;

CREATE TRIGGER articles_fts_update AFTER UPDATE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, headline, standfirst, body_text)
        VALUES ('delete', old.rowid, old.headline, COALESCE(old.standfirst, ''), old.body_text);
    INSERT INTO articles_fts (rowid, headline, standfirst, body_text)
        VALUES (new.rowid, new.headline, COALESCE(new.standfirst, ''), new.body_text);
END;
