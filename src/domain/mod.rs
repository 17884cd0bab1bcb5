//! Value types and rules of the business, free of HTTP and SQL.

pub mod access;
pub mod content;
pub mod field;
pub mod html;
pub mod ids;
pub mod licence;
pub mod organisation;
pub mod patterns;
pub mod purpose;
pub mod text;

pub use field::FieldError;
pub use ids::{ArticleId, ClientId, LicenceId, LicenseeId, MediaId, PublisherId};
pub use organisation::{LicenseeStatus, Organisation, Role, Slug, Territories, Territory};
