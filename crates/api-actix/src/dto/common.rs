//! Small answers shared by several routes.

use serde::Serialize;
use utoipa::ToSchema;

/// A confirmation, as the seed's original answers state changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MessageResponse {
    #[schema(example = "Email verified successfully")]
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
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    pub status: String,
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    pub database: String,
}
