//! Error types of the domain: one for the repository port, one for the use cases.

use std::fmt;

use chrono::NaiveDate;

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
#[derive(Debug, Clone, thiserror::Error)]
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

/// Which rule a value broke, with the rule's parameters: a typed value, so each adapter words
/// it in its own clients' vocabulary (the HTTP adapter in pydantic's). A rule whose reason
/// matters to a client is a variant of its own, never a sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Cleared where the field may be changed but not cleared.
    NotNull,
    /// Fewer characters than this (after trimming).
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
    /// Not a valid email address, for this reason.
    Email(EmailProblem),
    /// Not a date or a date and time.
    DateTime,
    /// A date of birth after the current time.
    BirthInFuture,
    /// A date of birth before this, the earliest accepted.
    BirthBefore(NaiveDate),
    /// A phone number with characters other than digits, spaces and `+ - ( ) .`.
    PhoneCharacters,
    /// A phone number with a `+` elsewhere than first.
    PhonePlusNotFirst,
    /// A phone number with fewer or more digits than allowed.
    PhoneDigits {
        /// Fewest digits allowed.
        min: usize,
        /// Most digits allowed.
        max: usize,
    },
    /// A tag with control characters.
    TagControlCharacters,
    /// A tag longer than this many characters.
    TagTooLong(usize),
    /// No tag where at least one is needed.
    NoTag,
    /// Not a customer id (`CUST_` and 8 hexadecimal digits).
    CustomerIdShape,
    /// Not a username (1 to 50 lower-case letters and digits).
    UsernameShape,
    /// Not a well-formed BCP 47 language tag (RFC 5646): `en`, `pt-BR`, `zh-Hant-TW`.
    LanguageTag,
    /// A page position no page ended at.
    Cursor,
    /// A field a bulk update may not change.
    NotInBulkUpdate,
}

/// Why a text is not an email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailProblem {
    /// There is no `@`.
    NoAtSign,
    /// The part after the `@` has no period.
    NoPeriodInDomain,
    /// Any other problem with the local part or the domain.
    Invalid,
}

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field, named as in the domain's input type (`email`, `limit`, `customer_ids`).
    pub field: &'static str,
    /// The field of the enclosing input that holds `field`, when the input is nested: `updates`
    /// for the changes of a [`BulkUpdate`](crate::BulkUpdate).
    pub within: Option<&'static str>,
    /// The rule broken.
    pub rule: Rule,
}

/// Every field that failed validation in one input, in the order they were checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldViolation>);

impl ValidationErrors {
    /// One violation on one field.
    pub fn single(field: &'static str, rule: Rule) -> Self {
        let mut errors = Self::default();
        errors.push(field, rule);
        errors
    }

    /// Records a violation of `rule` by `field`.
    pub fn push(&mut self, field: &'static str, rule: Rule) {
        self.0.push(FieldViolation {
            field,
            within: None,
            rule,
        });
    }

    /// Appends every violation of `other`.
    pub fn extend(&mut self, other: Self) {
        self.0.extend(other.0);
    }

    /// True when no field failed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when no field failed, else the violations.
    ///
    /// # Errors
    /// When there is any violation.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// The same violations, located in the field `parent` of an enclosing input.
    #[must_use]
    pub fn within(self, parent: &'static str) -> Self {
        Self(
            self.0
                .into_iter()
                .map(|v| FieldViolation {
                    within: Some(parent),
                    ..v
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
            .map(|v| match v.within {
                Some(parent) => format!("{parent}.{}: {:?}", v.field, v.rule),
                None => format!("{}: {:?}", v.field, v.rule),
            })
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
    /// The customer is not at a version the write's precondition admits; nothing was
    /// written (412 in HTTP).
    #[error("the customer is at version {current}, which the precondition does not admit")]
    VersionMismatch {
        /// The version the customer is at.
        current: u64,
    },
    /// The feed position asked from is older than what retention kept: events after it
    /// were removed, so reading on would skip them (410 in HTTP).
    #[error("events after this position were removed by retention")]
    FeedPositionPurged,
    /// The customer was erased: only its tombstone is left (410 in HTTP).
    #[error("customer erased")]
    Erased,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_collect_in_order_and_read_as_field_and_rule() {
        let mut errors = ValidationErrors::default();
        assert!(errors.is_empty());
        assert_eq!(errors.clone().into_result(), Ok(()));
        errors.push("email", Rule::NotInBulkUpdate);
        errors.extend(ValidationErrors::single("phone", Rule::PhoneCharacters));
        assert!(!errors.is_empty());
        let nested = errors.clone().within("updates");
        assert_eq!(
            nested.0,
            [
                FieldViolation {
                    field: "email",
                    within: Some("updates"),
                    rule: Rule::NotInBulkUpdate,
                },
                FieldViolation {
                    field: "phone",
                    within: Some("updates"),
                    rule: Rule::PhoneCharacters,
                },
            ]
        );
        assert_eq!(
            errors.to_string(),
            "email: NotInBulkUpdate; phone: PhoneCharacters"
        );
        assert_eq!(
            nested.to_string(),
            "updates.email: NotInBulkUpdate; updates.phone: PhoneCharacters"
        );
        assert_eq!(errors.clone().into_result(), Err(errors));
    }

    #[test]
    fn each_repository_error_becomes_its_service_error() {
        let service = |e: RepositoryError| ServiceError::from(e);
        assert!(matches!(
            service(RepositoryError::Conflict(Conflict::Email)),
            ServiceError::EmailTaken
        ));
        for key in [Conflict::Username, Conflict::CustomerId] {
            assert!(matches!(
                service(RepositoryError::Conflict(key)),
                ServiceError::Internal(msg) if msg.contains(&format!("{key:?}"))
            ));
        }
        assert!(matches!(
            service(RepositoryError::Unavailable("pool".into())),
            ServiceError::Unavailable(msg) if msg == "pool"
        ));
        assert!(matches!(
            service(RepositoryError::Unexpected("boom".into())),
            ServiceError::Internal(msg) if msg == "boom"
        ));
    }
}
