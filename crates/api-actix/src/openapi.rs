//! The OpenAPI 3 document, generated from the handlers' `#[utoipa::path]` attributes.

use utoipa::OpenApi;

use crate::error::{ErrorResponse, FieldError, LocPart, ValidationErrorResponse};
use crate::handlers::{analytics, customers, health, locations, search, verification};
use crate::security::openapi::SecurityAddon;

/// Every route of the API with its parameters, bodies and answers.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Customer API",
        description = "Customer management: registration with generated ids and usernames, \
                       search, updates, verification, analytics and location queries. \
                       Errors are `{\"detail\": ...}` as FastAPI answers them."
    ),
    paths(
        customers::create_customer,
        customers::list_customers,
        customers::get_customer,
        customers::get_customer_by_username,
        customers::get_customer_by_email,
        customers::update_customer,
        customers::deactivate_customer,
        customers::delete_customer_permanently,
        search::search_customers,
        search::bulk_update_customers,
        verification::verify_email,
        verification::verify_phone,
        verification::record_login,
        analytics::statistics,
        locations::customers_by_tags,
        locations::customers_by_location,
        locations::available_countries,
        locations::available_cities,
        locations::available_states,
        health::health,
    ),
    components(schemas(ErrorResponse, ValidationErrorResponse, FieldError, LocPart)),
    modifiers(&SecurityAddon),
    tags(
        (name = "customers", description = "Create, read, update and delete customers"),
        (name = "search", description = "Search with filters, sorting and pages"),
        (name = "verification", description = "Verification flags and logins"),
        (name = "analytics", description = "Statistics"),
        (name = "locations", description = "Customers by tag and place"),
        (name = "health", description = "Liveness of the service and its database"),
    )
)]
pub struct ApiDoc;

/// The document served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
