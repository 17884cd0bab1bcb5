//! Integration tests: the real application over HTTP against a real
//! database, each test on SQLite and (when configured) on PostgreSQL.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should stop loudly at the first surprise"
)]

mod harness;
mod world;

mod auth;
mod binary;
mod browser;
mod cast;
mod content;
mod delivery;
mod facts;
mod faults;
mod freshness;
mod hostile;
mod journal;
mod matrix;
mod metering;
mod migrations;
mod openapi;
mod ops;
mod organisations;
mod problems;
mod published;
mod purposes;
mod reports;
mod roles;
mod webhooks;
