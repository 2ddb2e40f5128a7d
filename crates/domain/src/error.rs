//! Error types of the domain: one for the repository port, one for the use cases.

use std::fmt;

/// Which unique key a write collided with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Another customer already has this `customer_id`.
    CustomerId,
    /// Another customer already has this username.
    Username,
    /// Another customer already has this email (compared case-insensitively).
    Email,
}

/// What a repository operation can fail with. No database error text crosses this port.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// A unique constraint rejected the write.
    #[error("unique key violated: {0:?}")]
    Conflict(Conflict),
    /// The database cannot be reached right now (pool timeout, connection refused, shutdown).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the message is for logs only.
    #[error("unexpected database error: {0}")]
    Unexpected(String),
}

/// Which rule a value broke, with the rule's limit: a typed value, so each adapter words it
/// in its own clients' vocabulary (the HTTP adapter in pydantic's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// A value that must be present is absent, or `null` where it may not be cleared.
    Required,
    /// Fewer characters than this.
    MinLength(usize),
    /// More characters than this.
    MaxLength(usize),
    /// A number below this.
    Min(u64),
    /// A number above this.
    Max(u64),
    /// Fewer or more items than allowed.
    Count {
        /// Fewest items allowed.
        min: usize,
        /// Most items allowed.
        max: usize,
    },
    /// Not one of a closed set of values, listed here.
    OneOf(&'static [&'static str]),
    /// Contains control characters.
    ControlCharacters,
    /// Not a valid email address; the message says why.
    Email,
    /// Not a date or a date and time.
    DateTime,
    /// Not in the expected format (phone, tags, cursor, id); the message says why.
    Format,
    /// A value this operation does not accept at all (email in a bulk update).
    NotAllowed,
}

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field's path as clients send it (`email`, `updates.phone`, ...).
    pub field: String,
    /// The rule broken.
    pub rule: Rule,
    /// What is wrong, in a sentence (for logs and for rules whose reason varies).
    pub message: String,
}

/// Every field that failed validation in one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldViolation>);

impl ValidationErrors {
    /// One violation on one field.
    pub fn single(field: &str, rule: Rule, message: impl Into<String>) -> Self {
        Self(vec![FieldViolation {
            field: field.to_owned(),
            rule,
            message: message.into(),
        }])
    }

    /// Builds the list from a garde report, reading the rule from our message prefixes.
    pub(crate) fn from_report(report: &garde::Report, prefix: &str) -> Self {
        Self(
            report
                .iter()
                .map(|(path, error)| {
                    let field = path.to_string();
                    let field = if prefix.is_empty() {
                        field
                    } else {
                        format!("{prefix}.{field}")
                    };
                    FieldViolation {
                        field,
                        rule: crate::models::rules::rule_of(error.message()),
                        message: crate::models::rules::message_of(error.message()).to_owned(),
                    }
                })
                .collect(),
        )
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|v| format!("{}: {}", v.field, v.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// What a use case can fail with; the HTTP adapter maps each variant to one status code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input broke a rule (422).
    #[error("validation failed: {0}")]
    Validation(#[from] ValidationErrors),
    /// No customer matches (404).
    #[error("Customer not found")]
    NotFound,
    /// Another customer holds this email (400, the seed's wording).
    #[error("Customer with this email already exists")]
    EmailTaken,
    /// A unique value could not be generated within the bounded number of attempts.
    #[error("could not generate a unique {0} after retrying")]
    GenerationExhausted(&'static str),
    /// The database is unreachable (503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected database failure (500, cause logged, never sent).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<RepositoryError> for ServiceError {
    fn from(err: RepositoryError) -> Self {
        match err {
            RepositoryError::Conflict(Conflict::Email) => Self::EmailTaken,
            RepositoryError::Conflict(other) => {
                Self::Internal(format!("unhandled unique conflict on {other:?}"))
            }
            RepositoryError::Unavailable(msg) => Self::Unavailable(msg),
            RepositoryError::Unexpected(msg) => Self::Internal(msg),
        }
    }
}
