//! Why a licensee fetches an article, and what a photo's data-mining rights
//! allow. A licence permits purposes; a request declares one; a photo's
//! IPTC/PLUS data-mining value can forbid some of them. The purposes are
//! `display` (shown to a person in an app) and the RSL 1.0 usage vocabulary
//! for the rest; the aggregate RSL terms (`all`, `ai-all`) are written out
//! as the purposes they stand for.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The use a fetch is for. The default is `display`, what every licence
/// permitted before purposes existed.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Shown to a person in a reader app.
    #[default]
    Display,
    /// Indexed for a search engine that links to the article (RSL `search`).
    Search,
    /// Indexed for an AI search or answer system (RSL `ai-index`).
    AiIndex,
    /// Given to an AI model as input at answer time: retrieval, grounding,
    /// summarising (RSL `ai-input`).
    AiInput,
    /// Used to train or fine-tune an AI model (RSL `ai-train`).
    AiTrain,
}

impl Purpose {
    /// Every purpose, in order.
    pub const ALL: [Purpose; 5] = [
        Purpose::Display,
        Purpose::Search,
        Purpose::AiIndex,
        Purpose::AiInput,
        Purpose::AiTrain,
    ];

    /// The data-mining purposes, in order: every one but `display`, each
    /// named by its RSL usage term.
    pub const MINING: [Purpose; 4] = [
        Purpose::Search,
        Purpose::AiIndex,
        Purpose::AiInput,
        Purpose::AiTrain,
    ];

    /// The stored and serialised name (also the RSL usage term, except
    /// `display`, which RSL has no term for).
    pub fn as_str(&self) -> &'static str {
        match self {
            Purpose::Display => "display",
            Purpose::Search => "search",
            Purpose::AiIndex => "ai-index",
            Purpose::AiInput => "ai-input",
            Purpose::AiTrain => "ai-train",
        }
    }

    /// The OAuth scope that lets a token fetch for this purpose.
    pub fn scope(&self) -> String {
        format!("{SCOPE_PREFIX}{}", self.as_str())
    }

    /// The purpose a scope names, if it is a purpose scope.
    pub fn from_scope(scope: &str) -> Option<Purpose> {
        scope.strip_prefix(SCOPE_PREFIX)?.parse().ok()
    }

    /// Whether it is text and data mining in the sense of the IPTC/PLUS
    /// data-mining property: every purpose but showing the article to a
    /// person.
    pub fn is_data_mining(&self) -> bool {
        *self != Purpose::Display
    }
}

/// What precedes a purpose in an OAuth scope (`use:ai-input`).
pub const SCOPE_PREFIX: &str = "use:";

impl FromStr for Purpose {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Purpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown purpose {s:?}; the purposes are {}",
                    names(&Purpose::ALL)
                )
            })
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Purposes as a readable list: "display, ai-input".
pub fn names(purposes: &[Purpose]) -> String {
    purposes
        .iter()
        .map(Purpose::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A photo's data-mining rights: the IPTC Photo Metadata property
/// `plus:DataMining`, with the PLUS Data Mining (DMI) vocabulary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataMining {
    /// `DMI-UNSPECIFIED`: nothing said; the licence decides.
    #[default]
    Unspecified,
    /// `DMI-ALLOWED`: data mining is allowed.
    Allowed,
    /// `DMI-PROHIBITED-AIMLTRAINING`: not for training AI/ML models.
    ProhibitedAiMlTraining,
    /// `DMI-PROHIBITED-GENAIMLTRAINING`: not for training generative AI/ML
    /// models. A training use does not say whether the model is generative,
    /// so it is kept from every training use.
    ProhibitedGenAiMlTraining,
    /// `DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING`: no data mining except
    /// indexing for a search engine.
    ProhibitedExceptSearchEngineIndexing,
    /// `DMI-PROHIBITED`: no data mining.
    Prohibited,
    /// `DMI-PROHIBITED-SEECONSTRAINT`: prohibited, see the other
    /// constraints (the photo's usage terms).
    ProhibitedSeeConstraint,
    /// `DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR`: prohibited, see the rights
    /// expression embedded in the file.
    ProhibitedSeeEmbeddedRightsExpression,
    /// `DMI-PROHIBITED-SEELINKEDRIGHTSEXPR`: prohibited, see the linked
    /// rights expression.
    ProhibitedSeeLinkedRightsExpression,
}

impl DataMining {
    /// Every value, in order.
    pub const ALL: [DataMining; 9] = [
        DataMining::Unspecified,
        DataMining::Allowed,
        DataMining::ProhibitedAiMlTraining,
        DataMining::ProhibitedGenAiMlTraining,
        DataMining::ProhibitedExceptSearchEngineIndexing,
        DataMining::Prohibited,
        DataMining::ProhibitedSeeConstraint,
        DataMining::ProhibitedSeeEmbeddedRightsExpression,
        DataMining::ProhibitedSeeLinkedRightsExpression,
    ];

    /// The stored and serialised name.
    pub fn as_str(&self) -> &'static str {
        match self {
            DataMining::Unspecified => "unspecified",
            DataMining::Allowed => "allowed",
            DataMining::ProhibitedAiMlTraining => "prohibited_ai_ml_training",
            DataMining::ProhibitedGenAiMlTraining => "prohibited_gen_ai_ml_training",
            DataMining::ProhibitedExceptSearchEngineIndexing => {
                "prohibited_except_search_engine_indexing"
            }
            DataMining::Prohibited => "prohibited",
            DataMining::ProhibitedSeeConstraint => "prohibited_see_constraint",
            DataMining::ProhibitedSeeEmbeddedRightsExpression => {
                "prohibited_see_embedded_rights_expression"
            }
            DataMining::ProhibitedSeeLinkedRightsExpression => {
                "prohibited_see_linked_rights_expression"
            }
        }
    }

    /// The PLUS vocabulary code (`DMI-PROHIBITED-AIMLTRAINING`).
    pub fn plus_code(&self) -> &'static str {
        match self {
            DataMining::Unspecified => "DMI-UNSPECIFIED",
            DataMining::Allowed => "DMI-ALLOWED",
            DataMining::ProhibitedAiMlTraining => "DMI-PROHIBITED-AIMLTRAINING",
            DataMining::ProhibitedGenAiMlTraining => "DMI-PROHIBITED-GENAIMLTRAINING",
            DataMining::ProhibitedExceptSearchEngineIndexing => {
                "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING"
            }
            DataMining::Prohibited => "DMI-PROHIBITED",
            DataMining::ProhibitedSeeConstraint => "DMI-PROHIBITED-SEECONSTRAINT",
            DataMining::ProhibitedSeeEmbeddedRightsExpression => {
                "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR"
            }
            DataMining::ProhibitedSeeLinkedRightsExpression => "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR",
        }
    }

    /// The value's URI in the PLUS vocabulary.
    pub fn plus_uri(&self) -> String {
        format!("http://ns.useplus.org/ldf/vocab/{}", self.plus_code())
    }

    /// Whether a photo with this value may go out for `purpose`. Showing
    /// an article to a person is not data mining, so `display` is never
    /// forbidden here.
    pub fn allows(&self, purpose: Purpose) -> bool {
        match self {
            DataMining::Unspecified | DataMining::Allowed => true,
            DataMining::ProhibitedAiMlTraining | DataMining::ProhibitedGenAiMlTraining => {
                purpose != Purpose::AiTrain
            }
            DataMining::ProhibitedExceptSearchEngineIndexing => {
                matches!(purpose, Purpose::Display | Purpose::Search)
            }
            DataMining::Prohibited
            | DataMining::ProhibitedSeeConstraint
            | DataMining::ProhibitedSeeEmbeddedRightsExpression
            | DataMining::ProhibitedSeeLinkedRightsExpression => !purpose.is_data_mining(),
        }
    }
}

impl FromStr for DataMining {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataMining::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown data-mining value {s:?}"))
    }
}

impl std::fmt::Display for DataMining {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_read_back_from_their_names_and_scopes() {
        for purpose in Purpose::ALL {
            assert_eq!(purpose.as_str().parse::<Purpose>(), Ok(purpose));
            assert_eq!(Purpose::from_scope(&purpose.scope()), Some(purpose));
            let json = serde_json::to_string(&purpose).unwrap();
            assert_eq!(json, format!("\"{purpose}\""));
        }
        assert_eq!(Purpose::from_scope("ai-input"), None);
        assert_eq!(Purpose::from_scope("use:ai-all"), None);
        assert!(
            "all"
                .parse::<Purpose>()
                .unwrap_err()
                .contains("display, search")
        );
    }

    #[test]
    fn data_mining_values_read_back_and_name_their_plus_codes() {
        for value in DataMining::ALL {
            assert_eq!(value.as_str().parse::<DataMining>(), Ok(value));
            assert!(value.plus_code().starts_with("DMI-"));
            assert_eq!(
                serde_json::to_string(&value).unwrap(),
                format!("\"{value}\"")
            );
        }
    }

    #[test]
    fn display_is_never_data_mining_and_prohibited_allows_nothing_else() {
        use Purpose::*;
        let allowed = |value: DataMining| -> Vec<Purpose> {
            Purpose::ALL
                .into_iter()
                .filter(|p| value.allows(*p))
                .collect()
        };
        assert_eq!(allowed(DataMining::Unspecified), Purpose::ALL);
        assert_eq!(allowed(DataMining::Allowed), Purpose::ALL);
        assert_eq!(
            allowed(DataMining::ProhibitedAiMlTraining),
            [Display, Search, AiIndex, AiInput]
        );
        assert_eq!(
            allowed(DataMining::ProhibitedGenAiMlTraining),
            [Display, Search, AiIndex, AiInput]
        );
        assert_eq!(
            allowed(DataMining::ProhibitedExceptSearchEngineIndexing),
            [Display, Search]
        );
        for value in [
            DataMining::Prohibited,
            DataMining::ProhibitedSeeConstraint,
            DataMining::ProhibitedSeeEmbeddedRightsExpression,
            DataMining::ProhibitedSeeLinkedRightsExpression,
        ] {
            assert_eq!(allowed(value), [Display]);
        }
    }
}
