//! Value types and rules of the business, free of HTTP and SQL.

pub mod ids;
pub mod organisation;
pub mod text;

pub use ids::{ClientId, LicenseeId, PublisherId};
pub use organisation::{LicenseeStatus, Role, Slug, Territories, Territory};
