//! Query parameters of the GET routes, with conversions to the domain's page types.

use domain::{ListQuery, LocationFilter, PageRequest, ValidationErrors};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{cursor, de};

fn default_limit() -> u64 {
    u64::from(PageRequest::DEFAULT_LIMIT)
}

/// `GET /api/v1/customers/`: an offset or keyset page, optionally by status.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Customers to skip (ignored with `cursor`).
    #[serde(default, deserialize_with = "de::u64_param")]
    #[param(minimum = 0, default = 0)]
    pub skip: u64,
    /// Page size, 1 to 1000.
    #[serde(default = "default_limit", deserialize_with = "de::u64_param")]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: u64,
    /// Only active (`true`) or inactive (`false`) customers; all when absent.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub is_active: Option<bool>,
    /// The `next_cursor` of the previous page, for keyset pagination.
    #[param(pattern = r"^c1\.[+-]?[0-9a-fA-F]+$", example = "c1.2a")]
    pub cursor: Option<String>,
}

impl ListParams {
    /// The domain's list query.
    ///
    /// # Errors
    /// When `limit` is outside 1..=1000, `skip` too large or `cursor` not one we issued.
    pub fn into_query(self) -> Result<ListQuery, ValidationErrors> {
        let page = PageRequest::new(self.skip, self.limit);
        let cursor = self.cursor.as_deref().map(cursor::decode).transpose();
        match (page, cursor) {
            (Ok(page), Ok(cursor)) => Ok(ListQuery {
                page,
                is_active: self.is_active,
                cursor,
            }),
            (page, cursor) => {
                let mut errors = ValidationErrors::default();
                errors.extend(page.err().unwrap_or_default());
                errors.extend(cursor.err().unwrap_or_default());
                Err(errors)
            }
        }
    }
}

/// An offset page: `skip` and `limit` (1 to 1000).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Customers to skip.
    #[serde(default, deserialize_with = "de::u64_param")]
    #[param(minimum = 0, default = 0)]
    pub skip: u64,
    /// Page size, 1 to 1000.
    #[serde(default = "default_limit", deserialize_with = "de::u64_param")]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: u64,
}

impl PageParams {
    /// The domain's page.
    ///
    /// # Errors
    /// When `limit` is outside 1..=1000 or `skip` too large.
    pub fn into_page(self) -> Result<PageRequest, ValidationErrors> {
        PageRequest::new(self.skip, self.limit)
    }
}

/// `GET /api/v1/customers/location/search`: a place and a page.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LocationParams {
    /// Substring of the city, case ignored.
    pub city: Option<String>,
    /// Substring of the state, case ignored.
    pub state: Option<String>,
    /// Substring of the country, case ignored.
    pub country: Option<String>,
    /// Customers to skip.
    #[serde(default, deserialize_with = "de::u64_param")]
    #[param(minimum = 0, default = 0)]
    pub skip: u64,
    /// Page size, 1 to 1000.
    #[serde(default = "default_limit", deserialize_with = "de::u64_param")]
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: u64,
}

impl LocationParams {
    /// The domain's filter and page.
    ///
    /// # Errors
    /// When `limit` is outside 1..=1000 or `skip` too large.
    pub fn into_filter(self) -> Result<(LocationFilter, PageRequest), ValidationErrors> {
        let page = PageRequest::new(self.skip, self.limit)?;
        Ok((
            LocationFilter {
                city: self.city,
                state: self.state,
                country: self.country,
            },
            page,
        ))
    }
}

/// `GET /api/v1/customers/available/{cities,states}`: optionally within one country.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountryParams {
    /// Only places in this country (case ignored).
    pub country: Option<String>,
}

#[cfg(test)]
mod tests {
    use domain::Cursor;

    use super::*;

    fn list(query: &str) -> ListParams {
        serde_urlencoded::from_str(query).unwrap()
    }

    #[test]
    fn list_parameters_default_to_the_first_hundred_customers() {
        let q = list("").into_query().unwrap();
        assert_eq!((q.page.offset, q.page.limit, q.is_active), (0, 100, None));
    }

    #[test]
    fn a_cursor_from_a_previous_page_is_accepted_and_garbage_is_not() {
        let cursor = cursor::encode(Cursor { after_id: 42 });
        let q = list(&format!("cursor={cursor}&is_active=True"))
            .into_query()
            .unwrap();
        assert_eq!(q.cursor, Some(Cursor { after_id: 42 }));
        assert_eq!(q.is_active, Some(true));
        let err = list("cursor=nope&limit=0").into_query().unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|v| v.field).collect();
        assert_eq!(fields, ["limit", "cursor"]);
    }
}
