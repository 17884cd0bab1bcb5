//! syndicate: licensing and metered delivery of news content.

pub mod config;
pub mod content;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod http;
pub mod identity;
pub mod licensing;
pub mod metering;
pub mod notices;
pub mod openapi;
pub mod seed;
pub mod startup;
pub mod storage;
pub mod telemetry;
