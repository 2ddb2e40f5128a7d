//! Email addresses.

use std::fmt;

use super::ValueError;
use crate::error::{EmailProblem, Rule};

/// A syntactically valid email address, trimmed; equality ignores letter case.
#[derive(Debug, Clone, Eq)]
pub struct Email(String);

impl Email {
    /// Longest address the model stores.
    pub const MAX_LEN: usize = 255;

    /// # Errors
    /// When the address is longer than 255 characters or not of the form `local@domain.tld`.
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let email = raw.trim();
        let invalid = |problem| ValueError::new(Rule::Email(problem));
        if email.chars().count() > Self::MAX_LEN {
            return Err(ValueError::new(Rule::MaxLength(Self::MAX_LEN)));
        }
        let (local, domain) = email
            .split_once('@')
            .ok_or_else(|| invalid(EmailProblem::NoAtSign))?;
        if !domain.contains('.') {
            return Err(invalid(EmailProblem::NoPeriodInDomain));
        }
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| {
                tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
            });
        if local_ok && domain_ok {
            Ok(Self(email.to_owned()))
        } else {
            Err(invalid(EmailProblem::Invalid))
        }
    }

    /// The address as entered (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_lowercase() == other.0.to_lowercase()
    }
}

impl TryFrom<String> for Email {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn email_is_trimmed_and_compared_ignoring_case() {
        let a = Email::parse("  John.Doe@Example.com ").unwrap();
        assert_eq!(a.as_str(), "John.Doe@Example.com");
        assert_eq!(a, Email::parse("john.doe@example.com").unwrap());
    }

    #[test]
    fn email_accepts_plus_and_subdomains() {
        for ok in [
            "a+b@x.co",
            "first.last@mail.example.org",
            "o'brien@x.ie",
            "üser@bücher.de",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn email_rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@x.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
            "a@b.c",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "a@b.c0m",
            "a\0@b.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_malformed_address_names_its_problem() {
        let problem = |raw: &str| Email::parse(raw).unwrap_err().rule;
        assert_eq!(problem("plain"), Rule::Email(EmailProblem::NoAtSign));
        assert_eq!(problem("a@b"), Rule::Email(EmailProblem::NoPeriodInDomain));
        assert_eq!(problem("a@b.c"), Rule::Email(EmailProblem::Invalid));
        let at_most = format!("{}@{}.com", "a".repeat(64), "b".repeat(186));
        assert_eq!(at_most.chars().count(), 255);
        assert!(Email::parse(&at_most).is_err_and(|e| e.rule != Rule::MaxLength(255)));
        assert_eq!(problem(&format!("x{at_most}")), Rule::MaxLength(255));
    }

    #[test]
    fn email_longer_than_255_characters_is_rejected() {
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(200));
        assert!(long.len() > 255);
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn addresses_differing_in_more_than_case_are_different() {
        let a = Email::parse("john@example.com").unwrap();
        assert_ne!(a, Email::parse("jane@example.com").unwrap());
        assert_ne!(a, Email::parse("john@example.org").unwrap());
        assert_eq!(a, Email::parse("JOHN@EXAMPLE.COM").unwrap());
    }

    #[test]
    fn an_email_converts_to_its_trimmed_text() {
        let email = Email::try_from(" John@Example.com ".to_owned()).unwrap();
        assert_eq!(email.to_string(), "John@Example.com");
        assert_eq!(String::from(email), "John@Example.com");
        assert_eq!(
            Email::try_from("nope".to_owned()).unwrap_err().rule,
            Rule::Email(EmailProblem::NoAtSign)
        );
    }

    #[test]
    fn the_local_part_has_at_most_64_characters_a_label_63_and_the_tld_2_or_more() {
        let invalid = |raw: &str| Email::parse(raw).unwrap_err().rule;
        let local = |n: usize| format!("{}@example.com", "a".repeat(n));
        assert!(Email::parse(&local(64)).is_ok());
        assert_eq!(invalid(&local(65)), Rule::Email(EmailProblem::Invalid));
        let label = |n: usize| format!("a@{}.com", "b".repeat(n));
        assert!(Email::parse(&label(63)).is_ok());
        assert_eq!(invalid(&label(64)), Rule::Email(EmailProblem::Invalid));
        assert!(Email::parse("a@b.co").is_ok());
        assert_eq!(invalid("a@b.c"), Rule::Email(EmailProblem::Invalid));
    }

    #[test]
    fn a_domain_label_may_hold_but_not_start_or_end_with_a_hyphen() {
        assert!(Email::parse("a@my-host.com").is_ok());
        for bad in [
            "a@-host.com",
            "a@host-.com",
            "a@ho_st.com",
            "a@.com",
            "a@b.com.",
        ] {
            assert_eq!(
                Email::parse(bad).unwrap_err().rule,
                Rule::Email(EmailProblem::Invalid),
                "{bad}"
            );
        }
    }
}
