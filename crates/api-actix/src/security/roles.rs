//! Who may call what: the roles a token carries and the one table that says, for every route,
//! which access it needs. The middleware enforces this table and the OpenAPI document is
//! derived from it, so the two cannot disagree.

use std::fmt;
use std::str::FromStr;

use actix_web::http::Method;
use serde::{Deserialize, Serialize};

/// The role claim of a token (`"role": "writer"`); each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every GET, search and statistics.
    Reader,
    /// Reader, plus create, update, bulk update, verification, last login and soft delete.
    Writer,
    /// Everything, including hard delete.
    Admin,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Self; 3] = [Self::Reader, Self::Writer, Self::Admin];

    /// The claim value: `reader`, `writer` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reader => "reader",
            Self::Writer => "writer",
            Self::Admin => "admin",
        }
    }

    /// Whether a token with this role may do what `needed` allows.
    pub fn grants(self, needed: Self) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is none of `reader`, `writer`, `admin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected reader, writer or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// What a request needs before it reaches its handler. Ordered from least to most demanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Probes of orchestrators and scrapers (`/health`, `/metrics`): no token and no rate
    /// limit, so a busy client can never make a healthy replica look dead.
    Probe,
    /// No token, but rate limited: the docs, and answers for paths no route serves.
    Public,
    /// A valid token whose role grants at least this one.
    Requires(Role),
}

use Access::{Probe, Public, Requires};
use Role::{Admin, Reader, Writer};

/// Every route, as (method, path pattern as actix and OpenAPI spell it, access).
pub const ROUTE_ACCESS: &[(&str, &str, Access)] = &[
    ("GET", "/health", Probe),
    ("GET", "/health/live", Probe),
    ("GET", "/health/ready", Probe),
    ("GET", "/metrics", Probe),
    ("GET", "/openapi.json", Public),
    ("GET", "/docs", Public),
    ("GET", "/docs/{file:.*}", Public),
    ("GET", "/api/v1/customers/", Requires(Reader)),
    ("POST", "/api/v1/customers/", Requires(Writer)),
    ("POST", "/api/v1/customers/search", Requires(Reader)),
    ("POST", "/api/v1/customers/bulk-update", Requires(Writer)),
    (
        "GET",
        "/api/v1/customers/statistics/overview",
        Requires(Reader),
    ),
    (
        "GET",
        "/api/v1/customers/available/countries",
        Requires(Reader),
    ),
    (
        "GET",
        "/api/v1/customers/available/cities",
        Requires(Reader),
    ),
    (
        "GET",
        "/api/v1/customers/available/states",
        Requires(Reader),
    ),
    ("GET", "/api/v1/customers/location/search", Requires(Reader)),
    ("GET", "/api/v1/customers/tags/{tags}", Requires(Reader)),
    (
        "GET",
        "/api/v1/customers/username/{username}",
        Requires(Reader),
    ),
    ("GET", "/api/v1/customers/email/{email}", Requires(Reader)),
    ("GET", "/api/v1/customers/{customer_id}", Requires(Reader)),
    ("PUT", "/api/v1/customers/{customer_id}", Requires(Writer)),
    (
        "DELETE",
        "/api/v1/customers/{customer_id}",
        Requires(Writer),
    ),
    (
        "DELETE",
        "/api/v1/customers/{customer_id}/hard",
        Requires(Admin),
    ),
    (
        "PATCH",
        "/api/v1/customers/{customer_id}/verify-email",
        Requires(Writer),
    ),
    (
        "PATCH",
        "/api/v1/customers/{customer_id}/verify-phone",
        Requires(Writer),
    ),
    (
        "PATCH",
        "/api/v1/customers/{customer_id}/last-login",
        Requires(Writer),
    ),
    (
        "GET",
        "/api/v1/customers/{customer_id}/events",
        Requires(Reader),
    ),
    ("GET", "/api/v1/events", Requires(Reader)),
    (
        "GET",
        "/api/v1/customers/{customer_id}/export",
        Requires(Admin),
    ),
    (
        "POST",
        "/api/v1/customers/{customer_id}/erase",
        Requires(Admin),
    ),
];

/// actix reports the list resource as `/api/v1/customers` (its first pattern), OpenAPI as
/// `/api/v1/customers/`: compare without the trailing slash.
fn same_pattern(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// The access a request needs, from its method and the route pattern it matches.
///
/// - No pattern: no route serves the path, the answer is a 404 that reveals nothing.
/// - A listed pattern with a method it lacks (a 405): the least its listed methods need, so
///   a 405 tells no more than that route's own answers would.
/// - A pattern missing from the table entirely: admin, failing closed until someone lists it
///   (a test checks every route is listed).
pub fn access_for(method: &Method, pattern: Option<&str>) -> Access {
    let Some(pattern) = pattern else {
        return Public;
    };
    let mut same_route = ROUTE_ACCESS
        .iter()
        .filter(|(_, p, _)| same_pattern(p, pattern))
        .peekable();
    if same_route.peek().is_none() {
        return Requires(Admin);
    }
    let mut weakest = Requires(Admin);
    for (m, _, access) in same_route {
        if *m == method.as_str() {
            return *access;
        }
        weakest = weakest.min(*access);
    }
    weakest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_weaker_ones() {
        assert!(Admin.grants(Writer) && Admin.grants(Reader) && Writer.grants(Reader));
        assert!(!Reader.grants(Writer) && !Writer.grants(Admin));
    }

    #[test]
    fn role_names_parse_and_unknown_ones_are_refused() {
        assert_eq!("writer".parse::<Role>(), Ok(Writer));
        assert!("root".parse::<Role>().is_err());
        assert!("Admin".parse::<Role>().is_err());
    }

    #[test]
    fn the_list_route_matches_with_or_without_its_trailing_slash() {
        assert_eq!(
            access_for(&Method::POST, Some("/api/v1/customers")),
            Requires(Writer)
        );
        assert_eq!(
            access_for(&Method::GET, Some("/api/v1/customers/")),
            Requires(Reader)
        );
    }

    #[test]
    fn a_method_a_route_lacks_needs_what_its_least_demanding_method_needs() {
        let hard = "/api/v1/customers/{customer_id}/hard";
        assert_eq!(access_for(&Method::GET, Some(hard)), Requires(Admin));
        let single = "/api/v1/customers/{customer_id}";
        assert_eq!(access_for(&Method::PATCH, Some(single)), Requires(Reader));
        assert_eq!(access_for(&Method::POST, Some("/health")), Probe);
    }

    #[test]
    fn an_unlisted_route_fails_closed_and_an_unmatched_path_is_public() {
        assert_eq!(
            access_for(&Method::GET, Some("/api/v1/new-thing")),
            Requires(Admin)
        );
        assert_eq!(access_for(&Method::GET, None), Public);
    }
}
