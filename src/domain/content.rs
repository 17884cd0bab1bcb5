//! The content model: articles with their bylines, agency credits and
//! photos, photo rights, and the kinds of change an article goes through.
//! Names follow IPTC ninjs where it has one.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The stored and serialised name.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!("unknown {} {other:?}", stringify!($name))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// Where an article is in its life.
    ArticleStatus {
        /// Being written; no licensee sees it.
        Draft = "draft",
        /// Live for licensees whose licences cover it (after any embargo).
        Published = "published",
        /// Taken down for now; may be published again.
        Withheld = "withheld",
        /// Taken down for good (legal or editorial kill); terminal.
        Killed = "killed",
    }
);

string_enum!(
    /// What an agency did for a story.
    CreditRole {
        /// "Reuters contributed to this report".
        Contributed = "contributed",
        /// The story is the agency's copy.
        Source = "source",
        /// "Additional reporting by AP".
        AdditionalReporting = "additional_reporting",
    }
);

string_enum!(
    /// What the agency's terms let the publisher pass on.
    Redistribution {
        /// The whole article may be syndicated.
        Allowed = "allowed",
        /// Only a preview (no body) may be syndicated.
        PreviewOnly = "preview_only",
        /// The article may not be syndicated at all.
        Prohibited = "prohibited",
    }
);

impl Redistribution {
    /// The strictest of several credits' terms (`allowed` when there are none).
    pub fn most_restrictive(terms: impl IntoIterator<Item = Redistribution>) -> Redistribution {
        terms
            .into_iter()
            .fold(Redistribution::Allowed, |strictest, term| {
                match (strictest, term) {
                    (Redistribution::Prohibited, _) | (_, Redistribution::Prohibited) => {
                        Redistribution::Prohibited
                    }
                    (Redistribution::PreviewOnly, _) | (_, Redistribution::PreviewOnly) => {
                        Redistribution::PreviewOnly
                    }
                    _ => Redistribution::Allowed,
                }
            })
    }
}

string_enum!(
    /// How a photo is used in an article.
    MediaRole {
        /// The lead photo.
        Main = "main",
        /// A photo within the body.
        Inline = "inline",
    }
);

string_enum!(
    /// Whether a photo may be syndicated at all.
    Syndication {
        /// Subject to the other rights.
        Allowed = "allowed",
        /// Never delivered to licensees.
        Prohibited = "prohibited",
    }
);

string_enum!(
    /// Why a version of an article exists.
    ChangeKind {
        /// The first version.
        Create = "create",
        /// An edit.
        Update = "update",
        /// A correction of a published error (shown to readers).
        Correction = "correction",
        /// Published (or republished after being withheld).
        Publish = "publish",
        /// Withheld.
        Withhold = "withhold",
        /// Killed.
        Kill = "kill",
    }
);

string_enum!(
    /// What a content event records.
    EventKind {
        /// A draft was created.
        Created = "created",
        /// The article became published (visible from `visible_at`).
        Published = "published",
        /// An edit.
        Updated = "updated",
        /// A correction.
        Corrected = "corrected",
        /// Withheld.
        Withheld = "withheld",
        /// Killed.
        Killed = "killed",
    }
);

/// Who wrote a story, and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Amara Okafor", "role": "Environment correspondent", "location": "in Lagos"}))]
pub struct Byline {
    /// The person's name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Their role, up to 100 characters.
    #[schema(max_length = 100)]
    pub role: Option<String>,
    /// Where they reported from ("in Lagos"), up to 200 characters.
    #[schema(max_length = 200)]
    pub location: Option<String>,
}

/// An agency's credit on a story and the redistribution its terms allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "agency": "Northwire",
    "role": "contributed",
    "credit_line": "Northwire contributed to this report",
    "redistribution": "allowed"
}))]
pub struct AgencyCredit {
    /// The agency's name, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub agency: String,
    /// What the agency did.
    pub role: CreditRole,
    /// The line shown to readers, 1 to 300 characters.
    #[schema(min_length = 1, max_length = 300)]
    pub credit_line: String,
    /// What the agency's terms let the publisher pass on.
    pub redistribution: Redistribution,
}

/// A photo in an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaRef {
    /// The photo (from `POST /v1/media`, same publisher).
    pub media_id: uuid::Uuid,
    /// How it is used.
    pub role: MediaRole,
}

/// One file of a photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"href": "https://images.example.org/harbour-1200.jpg", "width": 1200, "height": 800, "mime_type": "image/jpeg"}))]
pub struct Rendition {
    /// Absolute http(s) URL of the file.
    #[schema(max_length = 2000)]
    pub href: String,
    /// Width in pixels.
    #[schema(minimum = 1, maximum = 100000)]
    pub width: u32,
    /// Height in pixels.
    #[schema(minimum = 1, maximum = 100000)]
    pub height: u32,
    /// Media type, e.g. `image/jpeg`.
    #[schema(max_length = 100, example = "image/jpeg")]
    pub mime_type: String,
}

/// Checks a BCP 47 language tag (`en`, `en-GB`, `zh-Hant-TW`).
pub fn valid_language(tag: &str) -> bool {
    super::patterns::is_language(tag)
}

/// Checks an absolute http(s) URL.
pub fn valid_web_url(value: &str) -> bool {
    value.chars().count() <= 2000
        && super::patterns::is_web_url(value)
        && url::Url::parse(value)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Checks a media type of the form `type/subtype`.
pub fn valid_mime_type(value: &str) -> bool {
    value.len() <= 100 && super::patterns::is_mime_type(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_bcp_47_tags() {
        for good in ["en", "en-GB", "zh-Hant-TW", "pt-BR", "ar"] {
            assert!(valid_language(good), "{good}");
        }
        for bad in ["", "english", "en_GB", "e", "en-", "123"] {
            assert!(!valid_language(bad), "{bad}");
        }
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(valid_web_url("https://news.example.org/a/1"));
        for bad in [
            "/relative",
            "javascript:alert(1)",
            "ftp://x.org/a",
            "https://",
            "mailto:a@b.org",
        ] {
            assert!(!valid_web_url(bad), "{bad}");
        }
    }
}
