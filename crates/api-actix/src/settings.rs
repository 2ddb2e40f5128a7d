//! What the binary may tune in the HTTP adapter.

use serde::Deserialize;

/// Settings of the HTTP adapter; deserialisable so the binary can read them from its config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ApiSettings {
    /// Largest request body accepted, in bytes; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Whether bearer tokens are required: the served OpenAPI document declares security
    /// requirements (and 401/403 answers) only then, so it describes the running service.
    pub authentication: bool,
    /// Whether single-customer writes must carry `If-Match` (428 without it).
    pub require_if_match: bool,
    /// How long the answer to a request with an `Idempotency-Key` is replayed, in hours.
    pub idempotency_ttl_hours: u32,
    /// Whether a request whose key is still being processed waits for it (and then gets
    /// its answer) instead of an immediate 409.
    pub idempotency_wait_for_running: bool,
    /// The longest a feed request waits for an event, in seconds (0 to 30): a larger `wait`
    /// is held only this long (an empty answer earlier than asked is allowed by the long
    /// poll's contract), e.g. below the idle timeout of a proxy in front.
    pub feed_max_wait_secs: u64,
    /// The status a create answers with: 200, as the original service, or 201.
    pub create_status: CreateStatus,
}

/// The status of a create's answer. The original service answered 200 (FastAPI's default)
/// and its clients check for 200; 201 Created is HTTP's word for it, for deployments whose
/// clients expect that. `Location` and `ETag` come with either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(try_from = "u16")]
pub enum CreateStatus {
    /// 200 OK, as the original service.
    #[default]
    Ok,
    /// 201 Created.
    Created,
}

impl CreateStatus {
    /// The status code.
    pub fn code(self) -> actix_web::http::StatusCode {
        match self {
            Self::Ok => actix_web::http::StatusCode::OK,
            Self::Created => actix_web::http::StatusCode::CREATED,
        }
    }
}

impl TryFrom<u16> for CreateStatus {
    type Error = String;

    fn try_from(code: u16) -> Result<Self, Self::Error> {
        match code {
            200 => Ok(Self::Ok),
            201 => Ok(Self::Created),
            other => Err(format!(
                "create_status must be 200 (as the original service) or 201, not {other}"
            )),
        }
    }
}

impl ApiSettings {
    /// 64 KiB: a customer with 10,000 characters of notes fits many times over.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            authentication: false,
            require_if_match: false,
            idempotency_ttl_hours: 24,
            idempotency_wait_for_running: false,
            feed_max_wait_secs: domain::FeedQuery::MAX_WAIT_SECS,
            create_status: CreateStatus::Ok,
        }
    }
}
