//! The wording of the domain's rules: each [`Rule`] a field breaks becomes pydantic's
//! `type`, `msg` and `ctx`, as the original service answered (a rule the original lacked is
//! worded as a pydantic custom validator's `value_error`).

use domain::{EmailProblem, Rule};
use serde_json::json;

use super::{Wording, plural};

impl Wording {
    /// The wording of a domain rule broken by `field` (its name, without location).
    ///
    /// One arm per rule, with no catch-all: a new rule does not compile until it is worded.
    pub fn of_rule(rule: Rule, field: &str) -> Self {
        match rule {
            Rule::MinLength(min) => Self::new(
                "string_too_short",
                format!("String should have at least {min} character{}", plural(min)),
            )
            .with_ctx(json!({"min_length": min})),
            Rule::MaxLength(max) => Self::new(
                "string_too_long",
                format!("String should have at most {max} character{}", plural(max)),
            )
            .with_ctx(json!({"max_length": max})),
            Rule::Min(min) => Self::greater_than_equal(min),
            Rule::Max(max) => Self::less_than_equal(max),
            Rule::OneOf(values) => Self::one_of(values),
            Rule::Email(problem) => {
                let reason = email_reason(problem);
                Self::new(
                    "value_error",
                    format!("value is not a valid email address: {reason}"),
                )
                .with_ctx(json!({"reason": reason}))
            }
            Rule::DateTime => Self::datetime_parsing("invalid datetime format"),
            Rule::Count { min, max } => Self::value_error(&format!(
                "List should have at least {min} and at most {max} items"
            )),
            Rule::NotNull => Self::value_error("this field may not be null"),
            Rule::ControlCharacters => Self::value_error("must not contain control characters"),
            Rule::BirthInFuture => Self::value_error("date of birth must not be in the future"),
            Rule::BirthBefore(date) => {
                Self::value_error(&format!("date of birth must not be before {date}"))
            }
            Rule::PhoneCharacters => Self::value_error(
                "phone may contain only digits, spaces and the characters + - ( ) .",
            ),
            Rule::PhonePlusNotFirst => Self::value_error("phone may have a + only at the start"),
            Rule::PhoneDigits { min, max } => {
                Self::value_error(&format!("phone must have {min} to {max} digits"))
            }
            Rule::TagControlCharacters => {
                Self::value_error("tags must not contain control characters")
            }
            Rule::TagTooLong(max) => {
                Self::value_error(&format!("each tag must be at most {max} characters"))
            }
            Rule::NoTag => Self::value_error("at least one tag is required"),
            Rule::CustomerIdShape => {
                Self::value_error("customer_id must be CUST_ followed by 8 hexadecimal characters")
            }
            Rule::UsernameShape => {
                Self::value_error("username must be 1 to 50 lower-case letters and digits")
            }
            Rule::LanguageTag => Self::value_error(
                "must be a well-formed BCP 47 language tag, such as en, pt-BR or zh-Hant-TW",
            ),
            Rule::Cursor => Self::value_error("invalid cursor"),
            Rule::NotInBulkUpdate => {
                Self::value_error(&format!("{field} cannot be changed by a bulk update"))
            }
        }
    }
}

/// The reason email-validator, the original's validator, gives for each problem.
fn email_reason(problem: EmailProblem) -> &'static str {
    match problem {
        EmailProblem::NoAtSign => "An email address must have an @-sign.",
        EmailProblem::NoPeriodInDomain => {
            "The part after the @-sign is not valid. It should have a period."
        }
        EmailProblem::Invalid => "The email address is not valid.",
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde_json::Value;

    use super::*;

    /// Every rule with the exact `type`, `msg` and `ctx` a client receives for it, on the
    /// field `email` (only [`Rule::NotInBulkUpdate`] names its field).
    fn table() -> Vec<(Rule, &'static str, &'static str, Option<Value>)> {
        let value_error = |reason: &str| Some(json!({"error": reason}));
        vec![
            (
                Rule::NotNull,
                "value_error",
                "Value error, this field may not be null",
                value_error("this field may not be null"),
            ),
            (
                Rule::MinLength(1),
                "string_too_short",
                "String should have at least 1 character",
                Some(json!({"min_length": 1})),
            ),
            (
                Rule::MaxLength(255),
                "string_too_long",
                "String should have at most 255 characters",
                Some(json!({"max_length": 255})),
            ),
            (
                Rule::Min(1),
                "greater_than_equal",
                "Input should be greater than or equal to 1",
                Some(json!({"ge": 1})),
            ),
            (
                Rule::Max(1000),
                "less_than_equal",
                "Input should be less than or equal to 1000",
                Some(json!({"le": 1000})),
            ),
            (
                Rule::Count { min: 1, max: 1000 },
                "value_error",
                "Value error, List should have at least 1 and at most 1000 items",
                value_error("List should have at least 1 and at most 1000 items"),
            ),
            (
                Rule::OneOf(&["asc", "desc"]),
                "enum",
                "Input should be 'asc' or 'desc'",
                Some(json!({"expected": "'asc' or 'desc'"})),
            ),
            (
                Rule::ControlCharacters,
                "value_error",
                "Value error, must not contain control characters",
                value_error("must not contain control characters"),
            ),
            (
                Rule::Email(EmailProblem::NoAtSign),
                "value_error",
                "value is not a valid email address: An email address must have an @-sign.",
                Some(json!({"reason": "An email address must have an @-sign."})),
            ),
            (
                Rule::Email(EmailProblem::NoPeriodInDomain),
                "value_error",
                "value is not a valid email address: \
                 The part after the @-sign is not valid. It should have a period.",
                Some(json!({
                    "reason": "The part after the @-sign is not valid. It should have a period."
                })),
            ),
            (
                Rule::Email(EmailProblem::Invalid),
                "value_error",
                "value is not a valid email address: The email address is not valid.",
                Some(json!({"reason": "The email address is not valid."})),
            ),
            (
                Rule::DateTime,
                "datetime_parsing",
                "Input should be a valid datetime, invalid datetime format",
                Some(json!({"error": "invalid datetime format"})),
            ),
            (
                Rule::BirthInFuture,
                "value_error",
                "Value error, date of birth must not be in the future",
                value_error("date of birth must not be in the future"),
            ),
            (
                Rule::BirthBefore(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap()),
                "value_error",
                "Value error, date of birth must not be before 1900-01-01",
                value_error("date of birth must not be before 1900-01-01"),
            ),
            (
                Rule::PhoneCharacters,
                "value_error",
                "Value error, phone may contain only digits, spaces and the characters + - ( ) .",
                value_error("phone may contain only digits, spaces and the characters + - ( ) ."),
            ),
            (
                Rule::PhonePlusNotFirst,
                "value_error",
                "Value error, phone may have a + only at the start",
                value_error("phone may have a + only at the start"),
            ),
            (
                Rule::PhoneDigits { min: 7, max: 15 },
                "value_error",
                "Value error, phone must have 7 to 15 digits",
                value_error("phone must have 7 to 15 digits"),
            ),
            (
                Rule::TagControlCharacters,
                "value_error",
                "Value error, tags must not contain control characters",
                value_error("tags must not contain control characters"),
            ),
            (
                Rule::TagTooLong(50),
                "value_error",
                "Value error, each tag must be at most 50 characters",
                value_error("each tag must be at most 50 characters"),
            ),
            (
                Rule::NoTag,
                "value_error",
                "Value error, at least one tag is required",
                value_error("at least one tag is required"),
            ),
            (
                Rule::CustomerIdShape,
                "value_error",
                "Value error, customer_id must be CUST_ followed by 8 hexadecimal characters",
                value_error("customer_id must be CUST_ followed by 8 hexadecimal characters"),
            ),
            (
                Rule::UsernameShape,
                "value_error",
                "Value error, username must be 1 to 50 lower-case letters and digits",
                value_error("username must be 1 to 50 lower-case letters and digits"),
            ),
            (
                Rule::LanguageTag,
                "value_error",
                "Value error, must be a well-formed BCP 47 language tag, such as en, pt-BR or \
                 zh-Hant-TW",
                value_error(
                    "must be a well-formed BCP 47 language tag, such as en, pt-BR or zh-Hant-TW",
                ),
            ),
            (
                Rule::Cursor,
                "value_error",
                "Value error, invalid cursor",
                value_error("invalid cursor"),
            ),
            (
                Rule::NotInBulkUpdate,
                "value_error",
                "Value error, email cannot be changed by a bulk update",
                value_error("email cannot be changed by a bulk update"),
            ),
        ]
    }

    #[test]
    fn each_rule_gets_its_exact_type_msg_and_ctx() {
        for (rule, kind, msg, ctx) in table() {
            let w = Wording::of_rule(rule, "email");
            assert_eq!((w.kind, w.msg.as_str()), (kind, msg), "{rule:?}");
            assert_eq!(w.ctx, ctx, "{rule:?}");
        }
    }

    #[test]
    fn a_length_of_one_is_singular_and_any_other_plural() {
        assert_eq!(
            Wording::of_rule(Rule::MaxLength(1), "x").msg,
            "String should have at most 1 character"
        );
        assert_eq!(
            Wording::of_rule(Rule::MinLength(2), "x").msg,
            "String should have at least 2 characters"
        );
    }
}
