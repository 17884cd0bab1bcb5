//! One invalid field of an input, as every capability reports it and every
//! problem document lists it.

use serde::Serialize;
use utoipa::ToSchema;

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
pub struct FieldError {
    /// The field, as a JSON pointer-like dotted path (`bylines.0.name`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every field and its message on one line (`name: must not be empty;
/// slug: …`), for an error's text where no problem document carries the
/// list (the `admin` command, logs).
pub fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|error| format!("{}: {}", error.field, error.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A request refused for its fields: some are invalid, or else some name
/// nothing the caller may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Fields that are wrong in form (422).
    Invalid(Vec<FieldError>),
    /// Fields that name nothing (404).
    Unknown(Vec<FieldError>),
}

/// Invalid fields first (a request wrong in form is told so before it
/// learns what exists), then fields naming nothing; fine when both are
/// empty.
pub fn check(invalid: Vec<FieldError>, unknown: Vec<FieldError>) -> Result<(), Refused> {
    if !invalid.is_empty() {
        Err(Refused::Invalid(invalid))
    } else if !unknown.is_empty() {
        Err(Refused::Unknown(unknown))
    } else {
        Ok(())
    }
}
