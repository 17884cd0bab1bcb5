DROP TABLE ledger_nodes;
DROP TABLE quota_leases;
