//! Typed ids: UUIDv7 under the hood, never mixed up with one another.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Lower-case hyphenated: the form stored and compared in SQL.
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A publisher (a newsroom).
    PublisherId
);
id_type!(
    /// A licensee (an aggregator app).
    LicenseeId
);
id_type!(
    /// An API client; also its OAuth `client_id`.
    ClientId
);
id_type!(
    /// An article.
    ArticleId
);
id_type!(
    /// A photo (media asset).
    MediaId
);
id_type!(
    /// A licence.
    LicenceId
);
