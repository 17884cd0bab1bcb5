-- Quota leases: a node takes a block of a licence's units for a period
-- from its counter (`quota_usage`), spends them from memory, and gives back
-- what it did not spend. A counter's free units are its quota less `used`
-- (shipped and billed) less every node's leased units, so units leased to
-- one node are never granted to another.
CREATE TABLE quota_leases (
    node_id TEXT NOT NULL,
    licence_id TEXT NOT NULL,
    period_start TIMESTAMP NOT NULL,
    units BIGINT NOT NULL CHECK (units >= 0),
    PRIMARY KEY (node_id, licence_id, period_start)
);

CREATE INDEX quota_leases_counter ON quota_leases (licence_id, period_start);

-- Each node with a usage journal: every event it recorded before
-- `shipped_through` is in the ledger. Reports are as fresh as the oldest.
CREATE TABLE ledger_nodes (
    node_id TEXT PRIMARY KEY NOT NULL,
    shipped_through TIMESTAMP NOT NULL,
    seen_at TIMESTAMP NOT NULL
);
