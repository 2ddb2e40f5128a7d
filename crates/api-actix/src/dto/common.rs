//! Small answers shared by several routes.

use serde::Serialize;
use utoipa::ToSchema;

/// A confirmation, as the seed's original answers state changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MessageResponse {
    #[schema(example = "Customer email verified successfully")]
    pub message: String,
}

impl MessageResponse {
    /// A confirmation with this text.
    pub fn new(message: &str) -> Self {
        Self {
            message: message.to_owned(),
        }
    }
}

/// Whether the service and its database answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HealthResponse {
    /// `healthy`, or `unhealthy` (with 503) when the database does not answer.
    #[schema(example = "healthy")]
    pub status: String,
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    pub database: String,
}

/// That the process answers (`/health/live`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LiveResponse {
    /// Always `alive`.
    #[schema(example = "alive")]
    pub status: String,
}
