//! Every header the API reads or writes beyond what HTTP itself governs, in one table.
//! CORS allows exactly the request headers and exposes exactly the response headers listed
//! here (`crate::security::cors`), so a header added to the API and to this table is usable
//! from a browser on another origin at once.

/// `Authorization: Bearer <token>`.
pub const AUTHORIZATION: &str = "authorization";
/// A write's body type.
pub const CONTENT_TYPE: &str = "content-type";
/// A write's precondition: the version the client last saw.
pub const IF_MATCH: &str = "if-match";
/// A read's precondition: 304 while the version is the one the client has.
pub const IF_NONE_MATCH: &str = "if-none-match";
/// A write's key: sent again, the first answer is replayed (`crate::idempotency`).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Read-your-writes across replicas: on a write's answer, sent back on reads.
pub const CONSISTENCY_TOKEN: &str = "x-consistency-token";
/// The request's id, kept from the client or made up, on every answer and log line.
pub const REQUEST_ID: &str = "x-request-id";
/// A customer's version.
pub const ETAG: &str = "etag";
/// Where a created customer is.
pub const LOCATION: &str = "location";
/// `true` on an answer replayed for an `Idempotency-Key`.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
/// Seconds to wait, on 429, 503 and 409 (a key in use).
pub const RETRY_AFTER: &str = "retry-after";
/// Which credentials a 401 asks for.
pub const WWW_AUTHENTICATE: &str = "www-authenticate";

/// Which way a header travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Sent by clients.
    Request,
    /// Sent by the API.
    Response,
    /// Both: sent by clients and answered with.
    Both,
}

/// The table (see the module documentation).
pub const API_HEADERS: [(&str, Direction); 12] = [
    (AUTHORIZATION, Direction::Request),
    (CONTENT_TYPE, Direction::Request),
    (IF_MATCH, Direction::Request),
    (IF_NONE_MATCH, Direction::Request),
    (IDEMPOTENCY_KEY, Direction::Request),
    (CONSISTENCY_TOKEN, Direction::Both),
    (REQUEST_ID, Direction::Both),
    (ETAG, Direction::Response),
    (LOCATION, Direction::Response),
    (IDEMPOTENT_REPLAYED, Direction::Response),
    (RETRY_AFTER, Direction::Response),
    (WWW_AUTHENTICATE, Direction::Response),
];

/// The headers a client may send, comma-separated (CORS's allowed request headers).
pub fn sent_by_clients() -> String {
    listed(|d| d != Direction::Response)
}

/// The headers the API answers with, comma-separated (CORS's exposed headers).
pub fn sent_by_the_api() -> String {
    listed(|d| d != Direction::Request)
}

fn listed(keep: impl Fn(Direction) -> bool) -> String {
    API_HEADERS
        .iter()
        .filter(|(_, d)| keep(*d))
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

// The request headers as OpenAPI parameters, named in the handlers' `#[utoipa::path]`.

/// The `Idempotency-Key` request header of every write.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(names("Idempotency-Key"), parameter_in = Header)]
pub struct IdempotencyKeyHeader(
    /// Makes the write safe to retry: a repeat with the same key (and the same request) gets
    /// the first answer again, with `Idempotent-Replayed: true`, and changes nothing. 1 to 255
    /// printable ASCII characters, bare or in double quotes; kept 24 hours by default.
    #[param(
        min_length = 1,
        max_length = 257,
        pattern = r#"^(?!""$)(?:"[ -~]{1,255}"|[ -~]{1,255})$"#,
        example = "5f1c9a2e-order-42"
    )]
    pub Option<String>,
);

/// The `If-Match` request header of single-customer writes.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(names("If-Match"), parameter_in = Header)]
pub struct IfMatchHeader(
    /// Write only if the customer is still at one of these versions (its `ETag`, e.g.
    /// `"3"`; `*`: whatever its version); otherwise 412 with the `current_version`.
    #[param(example = "\"3\"")]
    pub Option<String>,
);

/// The `If-None-Match` request header of single-customer reads.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(names("If-None-Match"), parameter_in = Header)]
pub struct IfNoneMatchHeader(
    /// Answer 304 with no body when the customer is still at one of these versions.
    #[param(example = "\"3\"")]
    pub Option<String>,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_send_the_request_headers_and_the_api_answers_with_the_response_headers() {
        assert_eq!(
            sent_by_clients(),
            "authorization, content-type, if-match, if-none-match, idempotency-key, \
             x-consistency-token, x-request-id"
        );
        assert_eq!(
            sent_by_the_api(),
            "x-consistency-token, x-request-id, etag, location, idempotent-replayed, \
             retry-after, www-authenticate"
        );
    }

    #[test]
    fn every_name_is_a_valid_lowercase_header_name_listed_once() {
        let mut names: Vec<&str> = API_HEADERS.iter().map(|(n, _)| *n).collect();
        for name in &names {
            assert!(actix_web::http::header::HeaderName::from_static(name).as_str() == *name);
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), API_HEADERS.len());
    }
}
