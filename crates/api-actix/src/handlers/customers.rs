//! Create, read, list, update and delete single customers.

use actix_web::{HttpResponse, web};
use domain::ValidationContext;

use super::Service;
use super::responses::{
    BodyErrors, CreatedThenErased, CustomerErased, CustomerNotFound, EmailTaken, Invalid,
    KeyReused, KeyedWrite, NotModified, ServerErrors, Stale,
};
use crate::ApiSettings;
use crate::conditional::{IfMatch, IfNoneMatch, etag, fresh_or_not_modified, versioned_message};
use crate::dto::{
    CreateCustomerRequest, CustomerListResponse, CustomerResponse, ListParams, MessageResponse,
    UpdateCustomerRequest,
};
use crate::error::{ApiError, Source};
use crate::extract::{JsonBody, QueryParams};

/// Creates a customer with a generated `customer_id` and `username`; answers 200, as the
/// original service, or 201 (`ApiSettings::create_status`).
#[utoipa::path(
    post,
    path = "/api/v1/customers/",
    tag = "customers",
    params(crate::headers::IdempotencyKeyHeader),
    request_body = CreateCustomerRequest,
    responses(
        // The served document names the status the running service sends
        // (`crate::openapi::openapi_for`).
        (status = 201, description = "The new customer", body = CustomerResponse, headers(
            ("ETag" = String, description = "The customer's version, `\"1\"`"),
            ("Location" = String, description = "Where the customer is: `/api/v1/customers/{customer_id}`"),
        )),
        EmailTaken,
        KeyedWrite,
        CreatedThenErased,
        BodyErrors,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = tracing::field::Empty))]
pub async fn create_customer(
    service: Service,
    settings: web::Data<ApiSettings>,
    body: JsonBody<CreateCustomerRequest>,
) -> Result<HttpResponse, ApiError> {
    let (input, raw) = body.into_input(CreateCustomerRequest::into_new_customer, |input| {
        input
            .validate_into(&ValidationContext::now())
            .err()
            .unwrap_or_default()
    })?;
    let customer = service.create(input).await.map_err(|e| {
        ApiError::from_service_at(e, Source::Body, &raw.into_value())
            .ordered_as::<CreateCustomerRequest>()
    })?;
    tracing::Span::current().record("customer_id", customer.customer_id.as_str());
    Ok(HttpResponse::build(settings.create_status.code())
        .insert_header(etag(customer.version))
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/customers/{}", customer.customer_id),
        ))
        .json(CustomerResponse::from(customer)))
}

/// A page of customers ordered by `id`, by offset (`skip`) or by keyset (`cursor`).
#[utoipa::path(
    get,
    path = "/api/v1/customers/",
    tag = "customers",
    params(ListParams),
    responses(
        (status = 200, description = "A page of customers", body = CustomerListResponse),
        Invalid,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_customers(
    service: Service,
    params: QueryParams<ListParams>,
) -> Result<CustomerListResponse, ApiError> {
    let query = params.into_input(ListParams::into_query)?;
    let requested = query.page;
    let page = service.list(query).await.map_err(ApiError::in_query)?;
    Ok(CustomerListResponse::new(
        page,
        requested.offset,
        requested.limit,
    ))
}

/// The customer with this `customer_id`.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{customer_id}",
    tag = "customers",
    params(
        ("customer_id" = String, Path, description = "`CUST_` and 8 hex digits", example = "CUST_A1B2C3D4"),
        crate::headers::IfNoneMatchHeader,
    ),
    responses(
        (status = 200, description = "The customer", body = CustomerResponse, headers(
            ("ETag" = String, description = "The customer's version, e.g. `\"3\"`"),
        )),
        NotModified,
        CustomerNotFound,
        CustomerErased,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn get_customer(
    service: Service,
    customer_id: web::Path<String>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let customer = service.get(&customer_id).await.map_err(ApiError::in_path)?;
    Ok(one_customer(&if_none_match, customer))
}

/// The customer with its `ETag`, or 304 when the client's `If-None-Match` holds it.
fn one_customer(if_none_match: &IfNoneMatch, customer: domain::Customer) -> HttpResponse {
    fresh_or_not_modified(if_none_match, customer.version, |mut ok| {
        ok.json(CustomerResponse::from(customer))
    })
}

/// The customer with this username.
#[utoipa::path(
    get,
    path = "/api/v1/customers/username/{username}",
    tag = "customers",
    params(
        ("username" = String, Path, example = "johndoe1234"),
        crate::headers::IfNoneMatchHeader,
    ),
    responses(
        (status = 200, description = "The customer", body = CustomerResponse, headers(
            ("ETag" = String, description = "The customer's version, e.g. `\"3\"`"),
        )),
        NotModified,
        CustomerNotFound,
        ServerErrors,
    )
)]
// The username is derived from the customer's name: personal data, kept out of the logs.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_customer_by_username(
    service: Service,
    username: web::Path<String>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let customer = service
        .get_by_username(&username)
        .await
        .map_err(ApiError::in_path)?;
    Ok(one_customer(&if_none_match, customer))
}

/// The customer with this email, compared ignoring case. Encode reserved characters in the
/// path (`%40` for `@` is optional; `+` is taken literally).
#[utoipa::path(
    get,
    path = "/api/v1/customers/email/{email}",
    tag = "customers",
    params(
        ("email" = String, Path, example = "john.doe@example.com"),
        crate::headers::IfNoneMatchHeader,
    ),
    responses(
        (status = 200, description = "The customer", body = CustomerResponse, headers(
            ("ETag" = String, description = "The customer's version, e.g. `\"3\"`"),
        )),
        NotModified,
        CustomerNotFound,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_customer_by_email(
    service: Service,
    email: web::Path<String>,
    if_none_match: IfNoneMatch,
) -> Result<HttpResponse, ApiError> {
    let customer = service
        .get_by_email(&email)
        .await
        .map_err(ApiError::in_path)?;
    Ok(one_customer(&if_none_match, customer))
}

/// Changes the fields sent; an absent field is kept, `null` clears it.
#[utoipa::path(
    put,
    path = "/api/v1/customers/{customer_id}",
    tag = "customers",
    params(
        ("customer_id" = String, Path, example = "CUST_A1B2C3D4"),
        crate::headers::IfMatchHeader,
        crate::headers::IdempotencyKeyHeader,
    ),
    request_body = UpdateCustomerRequest,
    responses(
        (status = 200, description = "The updated customer", body = CustomerResponse, headers(
            ("ETag" = String, description = "The customer's version after the change"),
        )),
        EmailTaken,
        CustomerNotFound,
        CustomerErased,
        Stale,
        KeyedWrite,
        BodyErrors,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn update_customer(
    service: Service,
    customer_id: web::Path<String>,
    IfMatch(expected): IfMatch,
    body: JsonBody<UpdateCustomerRequest>,
) -> Result<HttpResponse, ApiError> {
    let (patch, raw) = body.into_input(UpdateCustomerRequest::into_patch, |patch| {
        patch
            .validate_into(&ValidationContext::now())
            .err()
            .unwrap_or_default()
    })?;
    let customer = service
        .update(&customer_id, patch, expected)
        .await
        .map_err(|e| {
            ApiError::from_service_at(e, Source::Body, &raw.into_value())
                .ordered_as::<UpdateCustomerRequest>()
        })?;
    Ok(HttpResponse::Ok()
        .insert_header(etag(customer.version))
        .json(CustomerResponse::from(customer)))
}

/// Soft delete: `is_active` becomes false; the customer stays retrievable.
#[utoipa::path(
    delete,
    path = "/api/v1/customers/{customer_id}",
    tag = "customers",
    params(
        ("customer_id" = String, Path, example = "CUST_A1B2C3D4"),
        crate::headers::IfMatchHeader,
        crate::headers::IdempotencyKeyHeader,
    ),
    responses(
        (status = 200, description = "Deactivated", body = MessageResponse,
            headers(
                ("ETag" = String, description = "The customer's version after it"),
            ), example = json!({"message": "Customer deleted successfully"})),
        CustomerNotFound,
        CustomerErased,
        Stale,
        KeyedWrite,
        KeyReused,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn deactivate_customer(
    service: Service,
    customer_id: web::Path<String>,
    IfMatch(expected): IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = service
        .deactivate(&customer_id, expected)
        .await
        .map_err(ApiError::in_path)?;
    Ok(versioned_message(version, "Customer deleted successfully"))
}

/// Hard (permanent) delete: the customer is removed for good. Not to be confused with
/// `deactivate_customer`, the soft delete at `DELETE /{customer_id}`.
#[utoipa::path(
    delete,
    path = "/api/v1/customers/{customer_id}/hard",
    tag = "customers",
    params(
        ("customer_id" = String, Path, example = "CUST_A1B2C3D4"),
        crate::headers::IfMatchHeader,
        crate::headers::IdempotencyKeyHeader,
    ),
    responses(
        (status = 200, description = "Deleted", body = MessageResponse,
            example = json!({"message": "Customer permanently deleted"})),
        CustomerNotFound,
        CustomerErased,
        Stale,
        KeyedWrite,
        KeyReused,
        ServerErrors,
    )
)]
#[tracing::instrument(level = "debug", skip_all, fields(customer_id = %customer_id))]
pub async fn delete_customer_permanently(
    service: Service,
    customer_id: web::Path<String>,
    IfMatch(expected): IfMatch,
) -> Result<web::Json<MessageResponse>, ApiError> {
    service
        .delete(&customer_id, expected)
        .await
        .map_err(ApiError::in_path)?;
    Ok(web::Json(MessageResponse::new(
        "Customer permanently deleted",
    )))
}
