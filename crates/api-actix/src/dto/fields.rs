//! Field types and conversions shared by several request bodies.

use chrono::NaiveDateTime;
use domain::ValidationErrors;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Tags, as the seed sends them (`"premium,tech"`) or as a list (`["premium", "tech"]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
// The `expecting` text carries its tag before a unit separator; see `extract::describe`.
#[serde(
    untagged,
    expecting = "string_or_list\u{1f}tags must be a comma-separated string or an array of strings"
)]
pub enum TagsInput {
    /// Comma-separated tags.
    #[schema(example = "premium,tech")]
    Csv(String),
    /// One tag per element.
    List(Vec<String>),
}

impl TagsInput {
    /// The comma-separated form the domain parses.
    pub fn into_csv(self) -> String {
        match self {
            Self::Csv(csv) => csv,
            Self::List(tags) => tags.join(","),
        }
    }
}

/// The genders the service accepts (the original's `Gender` enum); documentation only, the
/// domain parses the text (`domain::Gender`), and a test keeps the two lists equal.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
    Other,
    PreferNotToSay,
}

/// The fields a search may sort by; documentation only (`domain::SortField` parses).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    CreatedAt,
    UpdatedAt,
    FirstName,
    LastName,
    Email,
    Username,
    CustomerId,
    City,
    Country,
    LastLoginAt,
    Id,
}

/// Ascending or descending; documentation only (`domain::SortOrder` parses, case ignored).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    Asc,
    Desc,
}

/// Parses a date of birth, recording a violation of `date_of_birth` when it is malformed.
pub(crate) fn date_of_birth(raw: &str, errors: &mut ValidationErrors) -> Option<NaiveDateTime> {
    domain::parse_date_of_birth(raw)
        .map_err(|e| errors.push("date_of_birth", e.rule))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<T: Serialize>(values: &[T]) -> Vec<String> {
        values
            .iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn the_documented_enums_list_exactly_what_the_domain_accepts() {
        use Gender as G;
        assert_eq!(
            names(&[G::Male, G::Female, G::Other, G::PreferNotToSay]),
            domain::Gender::NAMES
        );
        use SortBy as S;
        let sort_by = [
            S::CreatedAt,
            S::UpdatedAt,
            S::FirstName,
            S::LastName,
            S::Email,
            S::Username,
            S::CustomerId,
            S::City,
            S::Country,
            S::LastLoginAt,
            S::Id,
        ];
        assert_eq!(names(&sort_by), domain::SortField::NAMES);
        assert_eq!(
            names(&[SortOrder::Asc, SortOrder::Desc]),
            domain::SortOrder::NAMES
        );
    }

    #[test]
    fn tags_are_accepted_as_a_string_or_a_list() {
        let csv: TagsInput = serde_json::from_str(r#""premium,tech""#).unwrap();
        let list: TagsInput = serde_json::from_str(r#"["premium", "tech"]"#).unwrap();
        assert_eq!(csv.into_csv(), "premium,tech");
        assert_eq!(list.into_csv(), "premium,tech");
        let err = serde_json::from_str::<TagsInput>("5").unwrap_err();
        assert!(err.to_string().starts_with("string_or_list\u{1f}"));
    }
}
