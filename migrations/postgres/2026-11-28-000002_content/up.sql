-- Photos, articles, their versions, and the content-event log.
CREATE TABLE media (
    id TEXT PRIMARY KEY NOT NULL,
    publisher_id TEXT NOT NULL REFERENCES publishers (id),
    caption TEXT NOT NULL,
    credit_line TEXT NOT NULL,
    creator TEXT,
    copyright_holder TEXT NOT NULL,
    copyright_notice TEXT,
    licensor TEXT,
    -- JSON array of {href, width, height, mime_type}.
    renditions TEXT NOT NULL,
    syndication TEXT NOT NULL CHECK (syndication IN ('allowed', 'prohibited')),
    -- Comma-separated licensee ids; NULL means any licensee.
    rights_licensees TEXT,
    -- Comma-separated ISO 3166-1 alpha-2 codes; NULL means no list.
    territories_allowed TEXT,
    territories_denied TEXT,
    rights_expires_at TIMESTAMP,
    usage_terms TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE INDEX media_publisher_id ON media (publisher_id, id);

CREATE TABLE articles (
    id TEXT PRIMARY KEY NOT NULL,
    publisher_id TEXT NOT NULL REFERENCES publishers (id),
    external_ref TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'withheld', 'killed')),
    headline TEXT NOT NULL,
    standfirst TEXT,
    body_html TEXT NOT NULL,
    body_text TEXT NOT NULL,
    word_count INTEGER NOT NULL,
    section TEXT NOT NULL,
    -- JSON arrays.
    tags TEXT NOT NULL,
    language TEXT NOT NULL,
    bylines TEXT NOT NULL,
    located TEXT,
    canonical_url TEXT,
    embargo_until TIMESTAMP,
    agency_credits TEXT NOT NULL,
    media TEXT NOT NULL,
    related TEXT NOT NULL,
    -- SHA-256 of the editable content, to recognise an identical re-upload.
    content_hash TEXT NOT NULL,
    status_reason TEXT,
    first_published_at TIMESTAMP,
    killed_at TIMESTAMP,
    version_created_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (publisher_id, external_ref)
);

CREATE INDEX articles_publisher_id ON articles (publisher_id, id);

CREATE TABLE article_versions (
    article_id TEXT NOT NULL REFERENCES articles (id),
    version INTEGER NOT NULL,
    change_kind TEXT NOT NULL,
    change_note TEXT,
    status TEXT NOT NULL,
    -- JSON of the article as it was at this version.
    snapshot TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (article_id, version)
);

CREATE TABLE content_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles (id),
    publisher_id TEXT NOT NULL REFERENCES publishers (id),
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    section TEXT NOT NULL,
    -- From when licensees may see the event (an embargoed publish: the embargo).
    visible_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX content_events_visible ON content_events (visible_at, seq);
CREATE INDEX content_events_article ON content_events (article_id, seq);
