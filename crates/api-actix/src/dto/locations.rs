//! Answers of the tag and location routes.

use serde::Serialize;
use utoipa::ToSchema;

use super::CustomerResponse;

/// `GET /api/v1/customers/tags/{tags}`: customers having every tag.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TagsSearchResponse {
    pub customers: Vec<CustomerResponse>,
    /// The tags searched for, normalised (trimmed, lower case, without duplicates).
    #[schema(example = json!(["premium", "tech"]))]
    pub tags: Vec<String>,
}

/// The place a location search was for, as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LocationFilters {
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
}

/// `GET /api/v1/customers/location/search`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LocationSearchResponse {
    pub customers: Vec<CustomerResponse>,
    pub filters: LocationFilters,
}

/// A country and its number of customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CountryCount {
    #[schema(example = "USA")]
    pub country: String,
    #[schema(example = 850)]
    pub count: u64,
}

/// A city and its number of customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CityCount {
    #[schema(example = "New York")]
    pub city: String,
    #[schema(example = 125)]
    pub count: u64,
}

/// A state and its number of customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StateCount {
    #[schema(example = "NY")]
    pub state: String,
    #[schema(example = 130)]
    pub count: u64,
}

/// `GET /api/v1/customers/available/countries`, largest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CountriesResponse {
    pub countries: Vec<CountryCount>,
}

/// `GET /api/v1/customers/available/cities`, largest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CitiesResponse {
    pub cities: Vec<CityCount>,
    /// The country filter, when one was given.
    pub country: Option<String>,
}

/// `GET /api/v1/customers/available/states`, largest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatesResponse {
    pub states: Vec<StateCount>,
    /// The country filter, when one was given.
    pub country: Option<String>,
}
