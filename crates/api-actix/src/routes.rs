//! Route registration: every path of the contract under `/api/v1/customers`, plus `/health`,
//! `/openapi.json` and `/docs`, with JSON answers for unknown paths and methods.

use std::sync::Arc;

use actix_web::middleware::from_fn;
use actix_web::{Resource, web};
use domain::CustomerUseCases;

use crate::ApiSettings;
use crate::extract::{json_config, path_config, query_config};
use crate::handlers::docs::{OpenApiJson, SwaggerConfig};
use crate::handlers::{
    analytics, customers, docs, fallback, health, history, locations, privacy, search, verification,
};
use crate::openapi::openapi_for;

/// The use cases as the shared application data the handlers read.
pub fn service_data(service: Arc<dyn CustomerUseCases>) -> web::Data<dyn CustomerUseCases> {
    web::Data::from(service)
}

/// A resource whose other methods get a JSON 405 naming the allowed ones.
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(fallback::method_not_allowed(allow))
}

/// A resource with writes: requests with an `Idempotency-Key` go through
/// [`crate::idempotency::idempotency`] (reads pass it untouched).
fn write_resource(
    path: &str,
    allow: &'static str,
) -> Resource<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    resource(path, allow).wrap(from_fn(crate::idempotency::idempotency))
}

/// Registers every route, the extractor configs and the JSON 404 fallback.
///
/// Use with `App::configure`; the app must also hold [`service_data`], and, for requests
/// with an `Idempotency-Key`, a `web::Data<dyn ReplayStore>` (see [`crate::idempotency`]).
pub fn configure(settings: ApiSettings) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let limit = settings.max_body_bytes;
        cfg.app_data(web::Data::new(settings))
            .app_data(web::PayloadConfig::new(limit))
            .app_data(json_config(limit))
            .app_data(path_config())
            .app_data(query_config())
            .service(resource("/health", "GET").route(web::get().to(health::health)))
            .service(resource("/health/live", "GET").route(web::get().to(health::live)))
            .service(resource("/health/ready", "GET").route(web::get().to(health::ready)))
            // Before the documentation: `/docs/{file:.*}` is a regular expression that every
            // request registered after it would try first.
            .service(customer_routes())
            .service(resource("/api/v1/events", "GET").route(web::get().to(history::events_feed)))
            .configure(|cfg| docs_routes(cfg, &settings))
            .default_service(web::to(fallback::not_found));
    }
}

fn docs_routes(cfg: &mut web::ServiceConfig, settings: &ApiSettings) {
    // Serialising a derived document cannot fail; if it ever did, clients get an empty one
    // rather than a server that refuses to start.
    let json = openapi_for(settings).to_json().unwrap_or_else(|err| {
        tracing::error!(error = %err, "could not serialise the OpenAPI document");
        "{}".to_owned()
    });
    let swagger = SwaggerConfig(Arc::new(utoipa_swagger_ui::Config::from("/openapi.json")));
    cfg.service(
        resource("/openapi.json", "GET")
            .app_data(web::Data::new(OpenApiJson(Arc::new(json))))
            .route(web::get().to(docs::openapi_json)),
    )
    .service(resource("/docs", "GET").route(web::get().to(docs::docs_redirect)))
    .service(
        resource("/docs/{file:.*}", "GET")
            .app_data(web::Data::new(swagger))
            .route(web::get().to(docs::swagger_ui)),
    );
}

/// Fixed paths come before `/{customer_id}`: actix takes the first resource whose path
/// matches, whatever the method, so `/search` registered later would be a 405.
///
/// Each path with a parameter is a regular expression tried in order, so the most used,
/// `/{customer_id}` (one segment), comes first among them; it cannot take the two-segment
/// paths after it. The two-segment lookups follow, by how often clients use them, and stay
/// before `/{customer_id}/hard` and friends, which `/email/hard` would also match.
fn customer_routes() -> actix_web::Scope {
    web::scope("/api/v1/customers")
        .service(
            web::resource(["", "/"])
                .default_service(fallback::method_not_allowed("GET, POST"))
                .route(web::get().to(customers::list_customers))
                .route(web::post().to(customers::create_customer))
                .wrap(from_fn(crate::idempotency::idempotency)),
        )
        .service(resource("/search", "POST").route(web::post().to(search::search_customers)))
        .service(
            write_resource("/bulk-update", "POST")
                .route(web::post().to(search::bulk_update_customers)),
        )
        .service(
            resource("/statistics/overview", "GET").route(web::get().to(analytics::statistics)),
        )
        .service(
            resource("/available/countries", "GET")
                .route(web::get().to(locations::available_countries)),
        )
        .service(
            resource("/available/cities", "GET").route(web::get().to(locations::available_cities)),
        )
        .service(
            resource("/available/states", "GET").route(web::get().to(locations::available_states)),
        )
        .service(
            resource("/location/search", "GET")
                .route(web::get().to(locations::customers_by_location)),
        )
        .service(
            write_resource("/{customer_id}", "GET, PUT, DELETE")
                .route(web::get().to(customers::get_customer))
                .route(web::put().to(customers::update_customer))
                .route(web::delete().to(customers::deactivate_customer)),
        )
        .service(
            resource("/email/{email}", "GET")
                .route(web::get().to(customers::get_customer_by_email)),
        )
        .service(
            resource("/username/{username}", "GET")
                .route(web::get().to(customers::get_customer_by_username)),
        )
        .service(resource("/tags/{tags}", "GET").route(web::get().to(locations::customers_by_tags)))
        .service(
            write_resource("/{customer_id}/hard", "DELETE")
                .route(web::delete().to(customers::delete_customer_permanently)),
        )
        .service(
            write_resource("/{customer_id}/verify-email", "PATCH")
                .route(web::patch().to(verification::verify_email)),
        )
        .service(
            write_resource("/{customer_id}/verify-phone", "PATCH")
                .route(web::patch().to(verification::verify_phone)),
        )
        .service(
            write_resource("/{customer_id}/last-login", "PATCH")
                .route(web::patch().to(verification::record_login)),
        )
        .service(
            resource("/{customer_id}/events", "GET").route(web::get().to(history::customer_events)),
        )
        .service(
            resource("/{customer_id}/export", "GET").route(web::get().to(privacy::export_customer)),
        )
        .service(
            write_resource("/{customer_id}/erase", "POST")
                .route(web::post().to(privacy::erase_customer)),
        )
}
