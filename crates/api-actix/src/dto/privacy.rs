//! Privacy operations' bodies: the erasure request, the tombstone, and the export document.

use domain::{CustomerExport, ExportedRequest, Tombstone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::customer::utc_timestamp;
use super::{CustomerResponse, EventResponse};

/// The optional body of an erasure.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct EraseRequest {
    /// Why, for the records (at most 500 characters): kept with the tombstone and in the
    /// `erased` event, so it must not itself hold personal data.
    #[schema(example = "Data subject request #1234")]
    pub reason: Option<String>,
}

/// What remains of an erased customer. Kept: the id, when it was created and erased, and the
/// coarse fields the statistics count (country, gender, the active and verification flags),
/// so totals and distributions do not move. Gone for good: names, username, email, phone,
/// address lines, city, state, postal code, date of birth, company, tax id, notes, tags,
/// preferred language, last login and the marketing consents, from the customer and from its
/// history and stored idempotent answers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TombstoneResponse {
    #[schema(example = "CUST_A1B2C3D4")]
    pub customer_id: String,
    #[schema(example = "2024-01-15T10:30:00Z")]
    pub created_at: String,
    #[schema(example = "2024-06-01T09:00:00Z")]
    pub erased_at: String,
    #[schema(example = "Data subject request #1234")]
    pub reason: Option<String>,
    #[schema(example = "USA")]
    pub country: Option<String>,
    #[schema(example = "female")]
    pub gender: Option<String>,
    pub is_active: bool,
    pub is_verified: bool,
    pub email_verified: bool,
    pub phone_verified: bool,
}

impl From<Tombstone> for TombstoneResponse {
    fn from(t: Tombstone) -> Self {
        Self {
            customer_id: t.customer_id.into(),
            created_at: utc_timestamp(t.created_at),
            erased_at: utc_timestamp(t.erased_at),
            reason: t.reason,
            country: t.country,
            gender: t.gender.map(|g| g.as_str().to_owned()),
            is_active: t.is_active,
            is_verified: t.is_verified,
            email_verified: t.email_verified,
            phone_verified: t.phone_verified,
        }
    }
}

/// One request that changed the customer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ExportedRequestResponse {
    /// Its `X-Request-ID`.
    #[schema(example = "5f0c6d1e-2b1a-4d55-9a43-4c1f0b9e7a10")]
    pub request_id: String,
    /// The token's subject when authentication is on.
    pub actor: Option<String>,
    /// The `Idempotency-Key` it carried.
    pub idempotency_key: Option<String>,
    /// When it first and last changed the customer.
    #[schema(example = "2024-01-15T10:30:00Z")]
    pub first_at: String,
    #[schema(example = "2024-01-15T10:30:00Z")]
    pub last_at: String,
    /// The `id`s of its events.
    #[schema(example = json!([42]))]
    pub event_ids: Vec<i64>,
}

impl From<ExportedRequest> for ExportedRequestResponse {
    fn from(r: ExportedRequest) -> Self {
        Self {
            request_id: r.request_id,
            actor: r.actor,
            idempotency_key: r.idempotency_key,
            first_at: utc_timestamp(r.first_at),
            last_at: utc_timestamp(r.last_at),
            event_ids: r.events,
        }
    }
}

/// Everything held about one customer (GDPR articles 15 and 20): the customer as stored,
/// every event of its history oldest first (as `GET /customers/{id}/events` shows them),
/// and the requests that changed it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ExportResponse {
    #[schema(example = "2024-06-01T09:00:00Z")]
    pub exported_at: String,
    pub customer: CustomerResponse,
    pub events: Vec<EventResponse>,
    pub requests: Vec<ExportedRequestResponse>,
}

impl From<CustomerExport> for ExportResponse {
    fn from(export: CustomerExport) -> Self {
        Self {
            exported_at: utc_timestamp(export.exported_at),
            customer: export.customer.into(),
            events: export.events.into_iter().map(Into::into).collect(),
            requests: export.requests.into_iter().map(Into::into).collect(),
        }
    }
}
