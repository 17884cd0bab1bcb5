//! Organisations and roles: who a caller acts for.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{LicenseeId, PublisherId};

/// What an API client may do, by the kind of organisation it acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The operator of the service.
    Admin,
    /// A newsroom that uploads content.
    Publisher,
    /// An aggregator that fetches licensed content.
    Licensee,
}

impl Role {
    /// The stored and serialised name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Publisher => "publisher",
            Role::Licensee => "licensee",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "publisher" => Ok(Role::Publisher),
            "licensee" => Ok(Role::Licensee),
            other => Err(format!(
                "unknown role {other:?}: use admin, publisher or licensee"
            )),
        }
    }
}

/// The organisation an API client acts for (admins act for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Organisation {
    /// A publisher's client.
    Publisher(PublisherId),
    /// A licensee's client.
    Licensee(LicenseeId),
}

impl Organisation {
    /// The organisation's id, whichever kind it is.
    pub fn id(&self) -> uuid::Uuid {
        match self {
            Organisation::Publisher(id) => id.0,
            Organisation::Licensee(id) => id.0,
        }
    }
}

/// Whether a licensee may receive anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LicenseeStatus {
    /// Receives what its licences cover.
    Active,
    /// Receives nothing; its clients' tokens are refused with 403.
    Suspended,
}

impl LicenseeStatus {
    /// The stored and serialised name.
    pub fn as_str(&self) -> &'static str {
        match self {
            LicenseeStatus::Active => "active",
            LicenseeStatus::Suspended => "suspended",
        }
    }
}

impl FromStr for LicenseeStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(LicenseeStatus::Active),
            "suspended" => Ok(LicenseeStatus::Suspended),
            other => Err(format!("unknown status {other:?}")),
        }
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Territory([u8; 2]);

impl Territory {
    /// The two-letter code.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl FromStr for Territory {
    type Err = String;

    /// Accepts exactly two upper-case letters that ISO 3166-1 assigns.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        let assigned = bytes.len() == 2
            && bytes.iter().all(u8::is_ascii_uppercase)
            && isocountry::CountryCode::for_alpha2(s).is_ok();
        if assigned {
            Ok(Territory([bytes[0], bytes[1]]))
        } else {
            Err(format!(
                "{s:?} is not an ISO 3166-1 alpha-2 country code (e.g. GB, IE, US)"
            ))
        }
    }
}

impl fmt::Display for Territory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-empty set of territories, sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Territories(Vec<Territory>);

impl Serialize for Territories {
    /// As the list of codes, the form every reader of the API knows.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(Territory::as_str))
    }
}

/// Most territories one licensee may list.
pub const MAX_TERRITORIES: usize = 250;

impl Territories {
    /// Parses codes, reporting every bad one by position.
    pub fn parse<S: AsRef<str>>(codes: &[S]) -> Result<Self, Vec<(usize, String)>> {
        if codes.is_empty() {
            return Err(vec![(0, "at least one territory is required".to_owned())]);
        }
        if codes.len() > MAX_TERRITORIES {
            return Err(vec![(0, format!("at most {MAX_TERRITORIES} territories"))]);
        }
        let mut errors = Vec::new();
        let mut parsed = Vec::with_capacity(codes.len());
        for (index, code) in codes.iter().enumerate() {
            match code.as_ref().parse::<Territory>() {
                Ok(territory) => parsed.push(territory),
                Err(message) => errors.push((index, message)),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        parsed.sort();
        parsed.dedup();
        Ok(Self(parsed))
    }

    /// The territories, sorted.
    pub fn as_slice(&self) -> &[Territory] {
        &self.0
    }

    /// Comma-separated, as stored.
    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(Territory::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The codes as strings.
    pub fn codes(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}

/// Longest display name of an organisation or an API client, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A URL-safe short name: lower-case letters, digits and single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

/// Longest slug.
pub const MAX_SLUG_LEN: usize = 64;

impl Slug {
    /// Derives a slug from a display name in any script: the name is first
    /// transliterated into Latin letters (`The Daily Courier` →
    /// `the-daily-courier`, `Le Monde — Édition` → `le-monde-edition`,
    /// `新华社` → `xin-hua-she`, `Известия` → `izvestiia`). `None` when
    /// the name has no letter or digit to give (`!!!`): see [`Slug::from_id`].
    pub fn from_name(name: &str) -> Option<Self> {
        let mut slug = String::new();
        for c in deunicode::deunicode(name)
            .chars()
            .flat_map(char::to_lowercase)
        {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug: String = slug
            .trim_end_matches('-')
            .chars()
            .take(MAX_SLUG_LEN)
            .collect();
        slug.trim_end_matches('-').parse().ok()
    }

    /// The slug of something whose name gives none: its id, hyphenated,
    /// which is already lower-case hex digits and single hyphens, unique,
    /// and the same however often it is asked for.
    pub fn from_id(id: uuid::Uuid) -> Self {
        Self(id.hyphenated().to_string())
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Slug {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = !s.is_empty()
            && s.len() <= MAX_SLUG_LEN
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "must be 1 to {MAX_SLUG_LEN} lower-case letters, digits and single hyphens, e.g. daily-courier"
            ))
        }
    }
}

/// The OpenAPI schema of one territory: an enum of every ISO 3166-1
/// alpha-2 code [`Territory`] accepts, so the spec says exactly what the
/// service takes.
pub struct CountryCode;

impl utoipa::PartialSchema for CountryCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "An ISO 3166-1 alpha-2 country code, upper case (e.g. GB, IE, US).",
            ))
            .enum_values(Some(
                isocountry::CountryCode::iter_alpha2().map(isocountry::CountryCode::alpha2),
            ))
            .into()
    }
}

impl utoipa::ToSchema for CountryCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn territories_must_be_assigned_iso_codes_in_upper_case() {
        assert!(Territories::parse(&["GB", "IE", "US"]).is_ok());
        let errors = Territories::parse(&["GB", "UK", "gb", "XX", "GBR", "", "G"]).unwrap_err();
        let bad: Vec<usize> = errors.iter().map(|(i, _)| *i).collect();
        assert_eq!(bad, vec![1, 2, 3, 4, 5, 6]);
        assert!(Territories::parse::<&str>(&[]).is_err());
    }

    #[test]
    fn territories_are_sorted_and_deduplicated() {
        let territories = Territories::parse(&["IE", "GB", "IE"]).unwrap();
        assert_eq!(territories.to_stored(), "GB,IE");
    }

    #[test]
    fn slugs_are_derived_from_names_and_validated() {
        assert_eq!(
            Slug::from_name("The Daily Courier").unwrap().as_str(),
            "the-daily-courier"
        );
        assert_eq!(
            Slug::from_name("  Le Monde — Édition ").unwrap().as_str(),
            "le-monde-edition"
        );
        for bad in [
            "",
            "Upper",
            "trailing-",
            "-leading",
            "double--hyphen",
            "sp ace",
        ] {
            assert!(bad.parse::<Slug>().is_err(), "{bad}");
        }
    }

    #[test]
    fn names_in_any_script_give_a_slug_in_latin_letters() {
        let cases = [
            ("新华社", "xin-hua-she"),
            ("朝日新聞", "zhao-ri-xin-wen"),
            ("よみうり", "yomiuri"),
            ("الجزيرة", "ljzyr"),
            ("Известия", "izvestiia"),
            ("Καθημερινή", "kathemerine"),
            ("दैनिक जागरण", "dainik-jaagrnn"),
            ("한겨레", "hangyeore"),
            ("📰 Daily 🦀", "newspaper-daily-crab"),
        ];

        for (name, expected) in cases {
            let slug = Slug::from_name(name);

            assert_eq!(slug.as_ref().map(Slug::as_str), Some(expected), "{name}");
            assert!(expected.parse::<Slug>().is_ok(), "{name}");
        }
    }

    #[test]
    fn a_long_name_in_any_script_gives_a_slug_of_at_most_the_limit() {
        for name in ["新".repeat(200), "Щ".repeat(200), "a ".repeat(100)] {
            let slug = Slug::from_name(&name).unwrap();

            assert!(slug.as_str().len() <= MAX_SLUG_LEN, "{name}");
            assert!(slug.as_str().parse::<Slug>().is_ok(), "{name}");
        }
    }

    #[test]
    fn a_name_without_letters_or_digits_gives_no_slug_and_the_id_gives_one() {
        for name in ["!!!", "—", "★ ★", "\u{200b}", "   "] {
            assert_eq!(Slug::from_name(name), None, "{name:?}");
        }
        let id = uuid::Uuid::now_v7();

        let slug = Slug::from_id(id);

        assert_eq!(slug.as_str(), id.hyphenated().to_string());
        assert_eq!(slug.as_str().parse::<Slug>(), Ok(slug.clone()));
        assert_eq!(Slug::from_id(id), slug);
    }
}
