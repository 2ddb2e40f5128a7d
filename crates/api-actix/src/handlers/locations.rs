//! Customers by tag and by place, and the places customers are in.

use actix_web::web;
use domain::{LocationCount, LocationLevel};

use super::Service;
use super::responses::{Invalid, ServerErrors};
use crate::dto::{
    CitiesResponse, CityCount, CountriesResponse, CountryCount, CountryParams, LocationFilters,
    LocationParams, LocationSearchResponse, PageParams, StateCount, StatesResponse,
    TagsSearchResponse,
};
use crate::error::ApiError;
use crate::extract::QueryParams;

/// Customers having every one of the comma-separated tags, ordered by `id`.
#[utoipa::path(
    get,
    path = "/api/v1/customers/tags/{tags}",
    tag = "locations",
    params(
        ("tags" = String, Path, description = "Comma-separated tags", example = "premium,tech"),
        PageParams,
    ),
    responses(
        (status = 200, description = "The matching customers", body = TagsSearchResponse),
        Invalid,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn customers_by_tags(
    service: Service,
    tags: web::Path<String>,
    params: QueryParams<PageParams>,
) -> Result<web::Json<TagsSearchResponse>, ApiError> {
    let page = params.into_input(PageParams::into_page)?;
    let (tags, customers) = service
        .by_tags(&tags, page)
        .await
        .map_err(ApiError::in_path)?;
    Ok(web::Json(TagsSearchResponse {
        customers: customers.into_iter().map(Into::into).collect(),
        tags: tags.as_slice().to_vec(),
    }))
}

/// Customers in a place: every given part must match, case ignored; ordered by `id`.
#[utoipa::path(
    get,
    path = "/api/v1/customers/location/search",
    tag = "locations",
    params(LocationParams),
    responses(
        (status = 200, description = "The matching customers", body = LocationSearchResponse),
        Invalid,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn customers_by_location(
    service: Service,
    params: QueryParams<LocationParams>,
) -> Result<web::Json<LocationSearchResponse>, ApiError> {
    let (filter, page) = params.into_input(LocationParams::into_filter)?;
    let filters = LocationFilters {
        city: filter.city.clone(),
        state: filter.state.clone(),
        country: filter.country.clone(),
    };
    let customers = service
        .by_location(filter, page)
        .await
        .map_err(ApiError::in_query)?;
    Ok(web::Json(LocationSearchResponse {
        customers: customers.into_iter().map(Into::into).collect(),
        filters,
    }))
}

/// Every country with customers, largest first.
#[utoipa::path(
    get,
    path = "/api/v1/customers/available/countries",
    tag = "locations",
    responses(
        (status = 200, description = "Countries and their customer counts", body = CountriesResponse),
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn available_countries(
    service: Service,
) -> Result<web::Json<CountriesResponse>, ApiError> {
    let counts = service
        .locations(LocationLevel::Country, None)
        .await
        .map_err(ApiError::in_query)?;
    Ok(web::Json(CountriesResponse {
        countries: counts
            .into_iter()
            .map(|LocationCount { name, count }| CountryCount {
                country: name,
                count,
            })
            .collect(),
    }))
}

/// The country filter as given, `None` when blank.
fn given(country: Option<&String>) -> Option<String> {
    country.filter(|c| !c.trim().is_empty()).cloned()
}

/// Every city with customers, largest first, optionally within one country.
#[utoipa::path(
    get,
    path = "/api/v1/customers/available/cities",
    tag = "locations",
    params(CountryParams),
    responses(
        (status = 200, description = "Cities and their customer counts", body = CitiesResponse),
        Invalid,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn available_cities(
    service: Service,
    params: QueryParams<CountryParams>,
) -> Result<web::Json<CitiesResponse>, ApiError> {
    let country = params.into_input(|p| Ok(p.country))?;
    let counts = service
        .locations(LocationLevel::City, country.clone())
        .await
        .map_err(ApiError::in_query)?;
    Ok(web::Json(CitiesResponse {
        cities: counts
            .into_iter()
            .map(|LocationCount { name, count }| CityCount { city: name, count })
            .collect(),
        country: given(country.as_ref()),
    }))
}

/// Every state with customers, largest first, optionally within one country.
#[utoipa::path(
    get,
    path = "/api/v1/customers/available/states",
    tag = "locations",
    params(CountryParams),
    responses(
        (status = 200, description = "States and their customer counts", body = StatesResponse),
        Invalid,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn available_states(
    service: Service,
    params: QueryParams<CountryParams>,
) -> Result<web::Json<StatesResponse>, ApiError> {
    let country = params.into_input(|p| Ok(p.country))?;
    let counts = service
        .locations(LocationLevel::State, country.clone())
        .await
        .map_err(ApiError::in_query)?;
    Ok(web::Json(StatesResponse {
        states: counts
            .into_iter()
            .map(|LocationCount { name, count }| StateCount { state: name, count })
            .collect(),
        country: given(country.as_ref()),
    }))
}
