//! Criteria for listing and searching customers, and the page they return.

use chrono::{DateTime, Utc};

use super::{Customer, LanguageTag, Tags, ValueError};
use crate::error::{Rule, ValidationErrors};

/// Fields a search may sort by: a closed set, so no client text ever reaches SQL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortField {
    #[default]
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

impl SortField {
    /// The names of [`SortField::ALL`], as clients send them.
    pub const NAMES: &'static [&'static str] = &[
        "created_at",
        "updated_at",
        "first_name",
        "last_name",
        "email",
        "username",
        "customer_id",
        "city",
        "country",
        "last_login_at",
        "id",
    ];

    /// Every sortable field with its name in the API.
    pub const ALL: [(Self, &'static str); 11] = [
        (Self::CreatedAt, "created_at"),
        (Self::UpdatedAt, "updated_at"),
        (Self::FirstName, "first_name"),
        (Self::LastName, "last_name"),
        (Self::Email, "email"),
        (Self::Username, "username"),
        (Self::CustomerId, "customer_id"),
        (Self::City, "city"),
        (Self::Country, "country"),
        (Self::LastLoginAt, "last_login_at"),
        (Self::Id, "id"),
    ];

    /// # Errors
    /// When the name is not one of [`SortField::ALL`].
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        Self::ALL
            .iter()
            .find(|(_, name)| *name == raw)
            .map(|(f, _)| *f)
            .ok_or_else(|| ValidationErrors::single("sort_by", Rule::OneOf(Self::NAMES)))
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

impl SortOrder {
    /// The orders as clients send them.
    pub const NAMES: &'static [&'static str] = &["asc", "desc"];

    /// # Errors
    /// When the text is neither `asc` nor `desc` (case ignored, as the original did).
    pub fn parse(raw: &str) -> Result<Self, ValidationErrors> {
        match raw.to_ascii_lowercase().as_str() {
            "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            _ => Err(ValidationErrors::single(
                "sort_order",
                Rule::OneOf(Self::NAMES),
            )),
        }
    }
}

/// A position in the list ordered by `id`, for keyset pagination: the next page starts
/// after this id, so its cost does not grow with depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The last `id` of the previous page.
    pub after_id: i64,
}

impl Cursor {
    /// The position after the customer with this `id`.
    ///
    /// # Errors
    /// [`Rule::Cursor`] for a negative id, which no customer has.
    pub fn after(id: i64) -> Result<Self, ValueError> {
        if id < 0 {
            return Err(ValueError::new(Rule::Cursor));
        }
        Ok(Self { after_id: id })
    }
}

pub(crate) fn check_limit(limit: u64, max: u32) -> Result<u32, ValidationErrors> {
    u32::try_from(limit)
        .ok()
        .filter(|l| (1..=max).contains(l))
        .ok_or_else(|| {
            let rule = if limit < 1 {
                Rule::Min(1)
            } else {
                Rule::Max(u64::from(max))
            };
            ValidationErrors::single("limit", rule)
        })
}

fn check_offset(offset: u64, field: &'static str) -> Result<u64, ValidationErrors> {
    // PostgreSQL's OFFSET is a signed 64-bit integer.
    if i64::try_from(offset).is_err() {
        return Err(ValidationErrors::single(
            field,
            Rule::Max(i64::MAX.unsigned_abs()),
        ));
    }
    Ok(offset)
}

/// An offset page of a bounded size (1 to 1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRequest {
    pub offset: u64,
    pub limit: u32,
}

impl PageRequest {
    /// Largest page any list endpoint returns.
    pub const MAX_LIMIT: u32 = 1000;
    /// Page size when the client names none.
    pub const DEFAULT_LIMIT: u32 = 100;

    /// # Errors
    /// When `limit` is outside 1..=1000 or `skip` beyond a signed 64-bit integer.
    pub fn new(skip: u64, limit: u64) -> Result<Self, ValidationErrors> {
        Ok(Self {
            offset: check_offset(skip, "skip")?,
            limit: check_limit(limit, Self::MAX_LIMIT)?,
        })
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: Self::DEFAULT_LIMIT,
        }
    }
}

/// `GET /customers`: an offset or keyset page, optionally only active or inactive customers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub page: PageRequest,
    pub is_active: Option<bool>,
    /// When set, the page starts after this position and `page.offset` is ignored.
    pub cursor: Option<Cursor>,
}

/// The filters of a search; text filters match case-insensitively, `query` as a substring of
/// first name, last name, email, username, phone or company name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SearchCriteria {
    /// Free text, matched as a substring; `%`, `_` and `\` are literal.
    pub query: Option<String>,
    /// Substring of the first name.
    pub first_name: Option<String>,
    /// Substring of the last name.
    pub last_name: Option<String>,
    /// Substring of the email.
    pub email: Option<String>,
    /// Substring of the phone number.
    pub phone: Option<String>,
    /// Substring of the city, case ignored.
    pub city: Option<String>,
    /// Substring of the state, case ignored.
    pub state: Option<String>,
    /// Substring of the country, case ignored.
    pub country: Option<String>,
    pub is_active: Option<bool>,
    pub is_verified: Option<bool>,
    /// Substring of the company name.
    pub company_name: Option<String>,
    /// Customers having every one of these tags.
    pub tags: Option<Tags>,
    /// Customers whose preferred language is exactly this tag (case ignored: both sides
    /// are in canonical case).
    pub preferred_language: Option<LanguageTag>,
    /// Created at or after (inclusive).
    pub created_after: Option<DateTime<Utc>>,
    /// Created at or before (inclusive).
    pub created_before: Option<DateTime<Utc>>,
    pub sort_by: SortField,
    pub sort_order: SortOrder,
    pub page: PageRequest,
}

impl SearchCriteria {
    /// Largest page a search returns.
    pub const MAX_LIMIT: u32 = 100;
    /// Page size when the client names none.
    pub const DEFAULT_LIMIT: u32 = 10;

    /// Turns the seed's 1-based `page` and `limit` (1..=100) into an offset page.
    ///
    /// # Errors
    /// When `page` is 0, `limit` is outside 1..=100, or the offset would overflow.
    pub fn page_of(page: u64, limit: u64) -> Result<PageRequest, ValidationErrors> {
        let checked_page = if page == 0 {
            Err(ValidationErrors::single("page", Rule::Min(1)))
        } else {
            Ok(page)
        };
        let (page, limit) = match (checked_page, check_limit(limit, Self::MAX_LIMIT)) {
            (Ok(page), Ok(limit)) => (page, limit),
            (page, limit) => {
                let mut errors = ValidationErrors::default();
                errors.extend(page.err().unwrap_or_default());
                errors.extend(limit.err().unwrap_or_default());
                return Err(errors);
            }
        };
        let offset = (page - 1)
            .checked_mul(u64::from(limit))
            .ok_or_else(|| ValidationErrors::single("page", Rule::Max(i64::MAX.unsigned_abs())))?;
        Ok(PageRequest {
            offset: check_offset(offset, "page")?,
            limit,
        })
    }
}

/// Customers in a place; every given part must be a substring of its column (case ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocationFilter {
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

/// One page of customers and the number matching the same filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerPage {
    pub customers: Vec<Customer>,
    /// Customers matching the filter, on every page.
    pub total: u64,
    /// `total` is an estimate, not a count (a search matching very many customers).
    pub total_is_estimate: bool,
    /// Where the next keyset page starts, when there may be one.
    pub next_cursor: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_below_one_breaks_the_minimum_and_above_the_maximum_the_maximum() {
        let rule = |limit| PageRequest::new(0, limit).unwrap_err().0[0].rule;
        assert_eq!(rule(0), Rule::Min(1));
        assert_eq!(rule(1001), Rule::Max(1000));
        assert_eq!(rule(u64::MAX), Rule::Max(1000));
        assert_eq!(PageRequest::new(0, 1).unwrap().limit, 1);
    }

    #[test]
    fn list_limit_must_be_between_1_and_1000() {
        assert!(PageRequest::new(0, 0).is_err());
        assert!(PageRequest::new(0, 1001).is_err());
        assert_eq!(
            PageRequest::new(5, 1000).unwrap(),
            PageRequest {
                offset: 5,
                limit: 1000
            }
        );
    }

    #[test]
    fn skip_beyond_a_signed_64_bit_integer_is_rejected() {
        assert!(PageRequest::new(u64::MAX, 10).is_err());
        assert!(PageRequest::new(i64::MAX as u64, 10).is_ok());
    }

    #[test]
    fn search_page_is_one_based_and_limited_to_100() {
        assert_eq!(
            SearchCriteria::page_of(3, 10).unwrap(),
            PageRequest {
                offset: 20,
                limit: 10
            }
        );
        assert!(SearchCriteria::page_of(0, 10).is_err());
        assert!(SearchCriteria::page_of(1, 101).is_err());
        assert!(SearchCriteria::page_of(u64::MAX, 100).is_err());
    }

    #[test]
    fn sort_field_and_order_come_from_closed_sets() {
        assert_eq!(
            SortField::parse("created_at").unwrap(),
            SortField::CreatedAt
        );
        assert_eq!(SortField::parse("last_name").unwrap(), SortField::LastName);
        assert!(SortField::parse("password; DROP TABLE customers").is_err());
        assert_eq!(SortOrder::parse("ASC").unwrap(), SortOrder::Asc);
        assert!(SortOrder::parse("sideways").is_err());
    }

    #[test]
    fn a_cursor_starts_after_any_id_from_zero_up() {
        assert_eq!(Cursor::after(0), Ok(Cursor { after_id: 0 }));
        assert_eq!(Cursor::after(i64::MAX).unwrap().after_id, i64::MAX);
        assert_eq!(Cursor::after(-1).unwrap_err().rule, Rule::Cursor);
    }

    #[test]
    fn a_search_page_breaks_the_rule_of_each_bad_parameter() {
        let rules = |page, limit| -> Vec<(&str, Rule)> {
            let errors = SearchCriteria::page_of(page, limit).unwrap_err();
            errors.0.iter().map(|v| (v.field, v.rule)).collect()
        };
        assert_eq!(
            rules(0, 101),
            [("page", Rule::Min(1)), ("limit", Rule::Max(100))]
        );
        assert_eq!(
            rules(u64::MAX, 100),
            [("page", Rule::Max(i64::MAX.unsigned_abs()))]
        );
        assert_eq!(rules(1, 0), [("limit", Rule::Min(1))]);
        assert_eq!(SearchCriteria::page_of(1, 100).unwrap().limit, 100);
    }

    #[test]
    fn sort_field_and_order_name_their_closed_sets() {
        let rule = |e: ValidationErrors| (e.0[0].field, e.0[0].rule);
        assert_eq!(
            rule(SortField::parse("nope").unwrap_err()),
            ("sort_by", Rule::OneOf(SortField::NAMES))
        );
        assert_eq!(
            rule(SortOrder::parse("up").unwrap_err()),
            ("sort_order", Rule::OneOf(SortOrder::NAMES))
        );
    }

    #[test]
    fn every_sort_field_parses_from_its_name_and_both_orders_in_any_case() {
        for (field, name) in SortField::ALL {
            assert_eq!(SortField::parse(name).unwrap(), field);
        }
        assert_eq!(
            SortField::ALL.map(|(_, name)| name).as_slice(),
            SortField::NAMES
        );
        assert_eq!(SortOrder::parse("asc").unwrap(), SortOrder::Asc);
        assert_eq!(SortOrder::parse("desc").unwrap(), SortOrder::Desc);
        assert_eq!(SortOrder::parse("Desc").unwrap(), SortOrder::Desc);
    }

    #[test]
    fn a_default_page_is_the_first_100() {
        assert_eq!(
            PageRequest::default(),
            PageRequest {
                offset: 0,
                limit: 100
            }
        );
    }

    #[test]
    fn the_first_search_page_starts_at_zero() {
        assert_eq!(
            SearchCriteria::page_of(1, 1).unwrap(),
            PageRequest {
                offset: 0,
                limit: 1
            }
        );
        assert_eq!(SearchCriteria::page_of(2, 7).unwrap().offset, 7);
    }
}
