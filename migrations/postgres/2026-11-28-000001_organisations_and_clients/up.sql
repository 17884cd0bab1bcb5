-- Organisations and the API clients that act for them.
CREATE TABLE publishers (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE licensees (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    -- ISO 3166-1 alpha-2 codes, comma-separated, sorted.
    territories TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE api_clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'publisher', 'licensee')),
    publisher_id TEXT REFERENCES publishers (id),
    licensee_id TEXT REFERENCES licensees (id),
    secret_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    secret_rotated_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    CHECK (
        (role = 'admin' AND publisher_id IS NULL AND licensee_id IS NULL)
        OR (role = 'publisher' AND publisher_id IS NOT NULL AND licensee_id IS NULL)
        OR (role = 'licensee' AND licensee_id IS NOT NULL AND publisher_id IS NULL)
    )
);

CREATE INDEX api_clients_publisher_id ON api_clients (publisher_id);
CREATE INDEX api_clients_licensee_id ON api_clients (licensee_id);
