//! The body of `POST /api/v1/customers/search`, and the page envelope that it and
//! `GET /api/v1/customers/` answer with.

use actix_web::body::BoxBody;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, Responder, ResponseError};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use domain::{
    CustomerPage, LanguageTag, Rule, SearchCriteria, SortField, SortOrder, Tags, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::fields::{SortBy, SortOrder as SortOrderName, TagsInput};
use super::{CustomerResponse, cursor};
use crate::ApiError;

/// Search filters; every field is optional. Text filters match case-insensitively.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SearchRequest {
    /// Substring of first name, last name, email, username, phone or company name.
    #[schema(example = "john")]
    pub query: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Substring of the city, case ignored.
    pub city: Option<String>,
    /// Substring of the state, case ignored.
    pub state: Option<String>,
    /// Substring of the country, case ignored.
    pub country: Option<String>,
    pub is_active: Option<bool>,
    pub is_verified: Option<bool>,
    pub company_name: Option<String>,
    /// Customers having every one of these tags.
    pub tags: Option<TagsInput>,
    /// Customers whose preferred language is exactly this BCP 47 tag, case ignored (`pt-br`
    /// finds `pt-BR`, not `pt`). Not in the original service.
    #[schema(example = "pt-BR", max_length = 35)]
    pub preferred_language: Option<String>,
    /// RFC 3339 (a time without zone is UTC); inclusive.
    #[schema(example = "2024-01-01T00:00:00Z")]
    pub created_after: Option<String>,
    /// RFC 3339 (a time without zone is UTC); inclusive.
    #[schema(example = "2024-12-31T23:59:59Z")]
    pub created_before: Option<String>,
    /// `created_at` (default), `updated_at`, `first_name`, `last_name`, `email`, `username`,
    /// `customer_id`, `city`, `country`, `last_login_at` or `id`.
    #[schema(value_type = Option<SortBy>, example = "created_at")]
    pub sort_by: Option<String>,
    /// `asc` or `desc` (default).
    #[schema(value_type = Option<SortOrderName>, example = "desc")]
    pub sort_order: Option<String>,
    /// 1-based page number, default 1.
    #[schema(minimum = 1, example = 1)]
    pub page: Option<u64>,
    /// Page size, 1 to 100, default 10.
    #[schema(minimum = 1, maximum = 100, example = 10)]
    pub limit: Option<u64>,
}

/// Parses a search bound: RFC 3339, or a date-time or date without zone taken as UTC.
fn instant(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    DateTime::parse_from_rfc3339(raw)
        .map(|dt| dt.to_utc())
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|dt| dt.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|dt| dt.and_utc())
        })
}

fn bound(
    field: &'static str,
    raw: Option<String>,
    errors: &mut ValidationErrors,
) -> Option<DateTime<Utc>> {
    let raw = raw?;
    let parsed = instant(&raw);
    if parsed.is_none() {
        errors.push(field, Rule::DateTime);
    }
    parsed
}

impl SearchRequest {
    /// The domain's criteria with the seed's defaults filled in, and every malformed field
    /// (sort, page, limit, tags or dates), which keeps its default.
    pub fn into_criteria(self) -> (SearchCriteria, ValidationErrors) {
        let mut errors = ValidationErrors::default();
        let mut record = |result: Result<(), ValidationErrors>| {
            if let Err(e) = result {
                errors.extend(e);
            }
        };
        let mut criteria = SearchCriteria::default();
        record(
            self.sort_by
                .as_deref()
                .map_or(Ok(SortField::default()), SortField::parse)
                .map(|v| criteria.sort_by = v),
        );
        record(
            self.sort_order
                .as_deref()
                .map_or(Ok(SortOrder::default()), SortOrder::parse)
                .map(|v| criteria.sort_order = v),
        );
        record(
            SearchCriteria::page_of(
                self.page.unwrap_or(1),
                self.limit
                    .unwrap_or(u64::from(SearchCriteria::DEFAULT_LIMIT)),
            )
            .map(|v| criteria.page = v),
        );
        record(match self.tags.map(|t| Tags::parse(&t.into_csv())) {
            Some(Ok(tags)) => {
                criteria.tags = Some(tags);
                Ok(())
            }
            Some(Err(e)) => Err(ValidationErrors::single("tags", e.rule)),
            None => Ok(()),
        });
        record(match self.preferred_language.as_deref().map(str::trim) {
            // A blank filter is no filter, as for the text filters.
            None | Some("") => Ok(()),
            Some(raw) => LanguageTag::parse(raw)
                .map(|tag| criteria.preferred_language = Some(tag))
                .map_err(|e| ValidationErrors::single("preferred_language", e.rule)),
        });
        criteria.created_after = bound("created_after", self.created_after, &mut errors);
        criteria.created_before = bound("created_before", self.created_before, &mut errors);
        let criteria = SearchCriteria {
            query: self.query,
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            phone: self.phone,
            city: self.city,
            state: self.state,
            country: self.country,
            is_active: self.is_active,
            is_verified: self.is_verified,
            company_name: self.company_name,
            ..criteria
        };
        (criteria, errors)
    }
}

/// One page of customers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CustomerListResponse {
    pub customers: Vec<CustomerResponse>,
    /// Customers matching the same filter on every page. Exact for the list (with or
    /// without `is_active`), at any size: it comes from counts the database keeps with
    /// every write. For a search, exact whenever at most 10,000 customers match (the
    /// service's `[search] exact_total_up_to`); above that, an estimate from a random
    /// sample of the customers, within a factor of 2 and above the bound, and
    /// `total_is_estimate` is `true`.
    #[schema(example = 150)]
    pub total: u64,
    /// `true` when `total` (and so `total_pages`) is an estimate rather than a count: only
    /// for searches matching more than the bound (10,000 unless configured). An addition to
    /// the original service's envelope.
    #[schema(example = false)]
    pub total_is_estimate: bool,
    /// 1-based page number.
    #[schema(example = 1)]
    pub page: u64,
    /// Page size.
    #[schema(example = 10)]
    pub limit: u32,
    /// `ceil(total / limit)`.
    #[schema(example = 15)]
    pub total_pages: u64,
    /// Opaque cursor for the next page (`cursor` query parameter of the list), `null` at the
    /// end or for searches.
    pub next_cursor: Option<String>,
}

/// Serialised into a buffer sized for the page up front (a customer takes about 750
/// bytes of JSON): a page of 50 grows an empty buffer a dozen times, copying it each time.
impl Responder for CustomerListResponse {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        let mut body = Vec::with_capacity(256 + 1024 * self.customers.len());
        match serde_json::to_writer(&mut body, &self) {
            Ok(()) => HttpResponse::Ok()
                .content_type(ContentType::json())
                .body(body),
            Err(err) => ApiError::Internal(format!("serialising a page: {err}")).error_response(),
        }
    }
}

impl CustomerListResponse {
    /// The envelope of `page` fetched with this `offset` and `limit`.
    pub fn new(page: CustomerPage, offset: u64, limit: u32) -> Self {
        let limit_wide = u64::from(limit.max(1));
        Self {
            customers: page.customers.into_iter().map(Into::into).collect(),
            total: page.total,
            total_is_estimate: page.total_is_estimate,
            page: offset / limit_wide + 1,
            limit,
            total_pages: page.total.div_ceil(limit_wide),
            next_cursor: page.next_cursor.map(cursor::encode),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn criteria(json: &str) -> Result<SearchCriteria, ValidationErrors> {
        let (criteria, errors) = serde_json::from_str::<SearchRequest>(json)
            .unwrap()
            .into_criteria();
        if errors.0.is_empty() {
            Ok(criteria)
        } else {
            Err(errors)
        }
    }

    #[test]
    fn an_empty_search_takes_the_seeds_defaults() {
        let c = criteria("{}").unwrap();
        assert_eq!(c.sort_by, SortField::CreatedAt);
        assert_eq!(c.sort_order, SortOrder::Desc);
        assert_eq!((c.page.offset, c.page.limit), (0, 10));
    }

    #[test]
    fn every_filter_reaches_the_criteria_as_sent() {
        let c = criteria(
            r#"{"query": "q", "first_name": "F", "last_name": "L", "email": "e@x.io",
                "phone": "+1 555", "city": "C", "state": "S", "country": "N",
                "is_active": false, "is_verified": true, "company_name": "Co"}"#,
        )
        .unwrap();
        let texts = [
            (&c.query, "q"),
            (&c.first_name, "F"),
            (&c.last_name, "L"),
            (&c.email, "e@x.io"),
            (&c.phone, "+1 555"),
            (&c.city, "C"),
            (&c.state, "S"),
            (&c.country, "N"),
            (&c.company_name, "Co"),
        ];
        for (got, sent) in texts {
            assert_eq!(got.as_deref(), Some(sent));
        }
        assert_eq!((c.is_active, c.is_verified), (Some(false), Some(true)));
    }

    #[test]
    fn the_seeds_example_search_is_understood() {
        let c = criteria(
            r#"{"query": "john", "tags": "premium,tech", "created_after": "2024-01-01T00:00:00Z",
                "created_before": "2024-12-31T23:59:59", "sort_by": "created_at",
                "sort_order": "desc", "page": 2, "limit": 10}"#,
        )
        .unwrap();
        assert_eq!(c.tags.unwrap().as_slice(), ["premium", "tech"]);
        assert_eq!(c.page.offset, 10);
        assert_eq!(
            c.created_before.unwrap().to_rfc3339(),
            "2024-12-31T23:59:59+00:00"
        );
    }

    #[test]
    fn a_language_filter_is_a_tag_in_canonical_case_and_a_blank_one_no_filter() {
        let c = criteria(r#"{"preferred_language": " zh-hant-tw "}"#).unwrap();
        assert_eq!(
            c.preferred_language.map(String::from).as_deref(),
            Some("zh-Hant-TW")
        );
        let c = criteria(r#"{"preferred_language": "  "}"#).unwrap();
        assert_eq!(c.preferred_language, None);
        let err = criteria(r#"{"preferred_language": "en_US"}"#).unwrap_err();
        assert_eq!(
            (err.0[0].field, err.0[0].rule),
            ("preferred_language", Rule::LanguageTag)
        );
    }

    #[test]
    fn every_bad_field_of_a_search_is_reported() {
        let err = criteria(
            r#"{"sort_by": "password", "sort_order": "up", "limit": 101, "created_after": "x"}"#,
        )
        .unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|v| v.field).collect();
        assert_eq!(fields, ["sort_by", "sort_order", "limit", "created_after"]);
    }

    #[test]
    fn the_envelope_counts_pages_from_offset_and_total() {
        let envelope = CustomerListResponse::new(
            CustomerPage {
                customers: vec![],
                total: 21,
                total_is_estimate: false,
                next_cursor: None,
            },
            20,
            10,
        );
        assert_eq!((envelope.page, envelope.total_pages), (3, 3));
    }
}
