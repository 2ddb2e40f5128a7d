//! The OpenAPI 3 document, generated from the handlers' `#[utoipa::path]` attributes.
//!
//! Linted by Redocly CLI's recommended rules in `make lint` (`scripts/lint-openapi.sh`);
//! the findings kept on purpose are justified in `crates/api-actix/redocly.yaml`.

use utoipa::openapi::{ContactBuilder, ServerBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::{
    ErrorResponse, FieldError, LocPart, ValidationErrorResponse, VersionMismatchResponse,
};
use crate::handlers::{
    analytics, customers, health, history, locations, privacy, search, verification,
};
use crate::security::openapi::SecurityAddon;
use crate::settings::{ApiSettings, CreateStatus};

/// Every route of the API with its parameters, bodies and answers.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Customer API",
        description = "Customer management: registration with generated ids and usernames, \
                       search, updates, verification, analytics and location queries. \
                       Errors are `{\"detail\": ...}` as FastAPI answers them.\n\n\
                       Options: `POST /` answers 200 with the new customer, as the original \
                       service, or 201 Created where the service is configured so (`[api] \
                       create_status`); this document names the status this service sends, \
                       and `Location` comes with either.\n\n\
                       Differences from the original service, on purpose: `tags` are \
                       accepted as a comma-separated string or a list of strings; emails are one identity \
                       whatever their letter case (lookups and uniqueness); every error body \
                       carries a machine-readable `code` beside `detail`; `GET /` also pages \
                       by keyset (`cursor`, `next_cursor`); search matches whole tags; \
                       booleans are JSON `true`/`false` only (the original's pydantic also \
                       took texts such as `\"yes\"`, which this document's schema, and so \
                       the service, refuses); list and search envelopes add \
                       `total_is_estimate`; the statistics count whole UTC days exactly after \
                       every write; customers have an optional `preferred_language` (a BCP \
                       47 tag, kept in canonical case), which search filters by exact \
                       match.\n\n\
                       Safe writes, beyond the original: every write accepts an \
                       `Idempotency-Key` (a repeat gets the first answer, marked \
                       `Idempotent-Replayed: true`); every customer has a `version`, sent as \
                       its `ETag`; single-customer writes honour `If-Match` (412 when the \
                       customer changed) and reads `If-None-Match` (304); a bulk update \
                       takes `expected_versions`.\n\n\
                       Change history, beyond the original: every change is recorded in the \
                       transaction that makes it (who, which request, which fields from what \
                       to what); `GET /api/v1/customers/{customer_id}/events` shows one \
                       customer's, `GET /api/v1/events` every change in a gap-free order for \
                       consumers that follow it.\n\n\
                       Privacy, beyond the original (role `admin`): `GET \
                       /api/v1/customers/{customer_id}/export` downloads everything held about \
                       a customer; `POST /api/v1/customers/{customer_id}/erase` erases its \
                       personal data for good, from its history and stored idempotent \
                       answers too, leaving a tombstone that keeps the statistics' totals. An \
                       erased customer answers 410 `Customer erased` wherever it is named by \
                       id (its timeline stays, values erased), and is never found by email, \
                       username, list or search.\n\n\
                       Scale-out, beyond the original: when the service reads from database \
                       replicas, every answer to a write carries `X-Consistency-Token`; a GET \
                       that sends it back sees that write, whichever instance and replica \
                       serves it. A GET without it may lag by at most the configured bound \
                       (one second by default). When the database cannot serve a request now \
                       (unreachable, no connection in time, a query past its time limit) the \
                       answer is 503 with `Retry-After`.",
        contact(name = "customer-api maintainers", url = "https://github.com/customer-api/customer-api")
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
        history::customer_events,
        history::events_feed,
        privacy::export_customer,
        privacy::erase_customer,
        health::health,
        health::live,
        health::ready,
    ),
    components(schemas(
        ErrorResponse,
        ValidationErrorResponse,
        VersionMismatchResponse,
        crate::handlers::responses::Unprocessable,
        FieldError,
        LocPart
    )),
    modifiers(&Servers),
    tags(
        (name = "customers", description = "Create, read, update and delete customers"),
        (name = "search", description = "Search with filters, sorting and pages"),
        (name = "verification", description = "Verification flags and logins"),
        (name = "analytics", description = "Statistics"),
        (name = "locations", description = "Customers by tag and place"),
        (name = "history", description = "Every customer's change history, and the feed of all changes"),
        (name = "privacy", description = "A customer's data exported on request, and erased for good"),
        (name = "health", description = "Liveness and readiness of the service and its database"),
    )
)]
pub struct ApiDoc;

/// The service's own origin: clients resolve paths against the URL they fetched the
/// document from, whatever host and port it is served on.
#[derive(Debug, Clone, Copy)]
struct Servers;

impl Modify for Servers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.servers = Some(vec![
            ServerBuilder::new()
                .url("/")
                .description(Some("This service"))
                .build(),
        ]);
        let contact = openapi
            .info
            .contact
            .take()
            .unwrap_or_else(|| ContactBuilder::new().build());
        openapi.info.contact = Some(contact);
    }
}

/// The document of a service with authentication on (bearer tokens and roles declared)
/// and the other settings at their defaults.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi_for(&ApiSettings {
        authentication: true,
        ..ApiSettings::default()
    })
}

/// The document served at `/openapi.json`, describing the service running with `settings`:
/// security requirements, the bearer scheme and the 401/403 answers only when
/// authentication is on; the status a create answers with.
pub fn openapi_for(settings: &ApiSettings) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    SecurityAddon {
        authentication: settings.authentication,
    }
    .modify(&mut doc);
    CreateStatusAddon(settings.create_status).modify(&mut doc);
    doc
}

/// The create's success answer under the status the service sends (the handler declares
/// it as 201).
struct CreateStatusAddon(CreateStatus);

impl Modify for CreateStatusAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let code = self.0.code();
        let create = openapi
            .paths
            .paths
            .get_mut(CREATE_PATH)
            .and_then(|item| item.post.as_mut());
        if let Some(create) = create
            && let Some(answer) = create.responses.responses.remove("201")
        {
            create
                .responses
                .responses
                .insert(code.as_str().to_owned(), answer);
        }
    }
}

/// The path of `POST` create in the document.
const CREATE_PATH: &str = "/api/v1/customers/";
