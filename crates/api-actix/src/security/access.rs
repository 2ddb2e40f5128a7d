//! The access-control middleware: reads the bearer token, applies the rate limit, then the
//! route's requirement from [`super::roles::ROUTE_ACCESS`]. Refusals are answers in the API's
//! JSON shape (not errors) so the outer middleware still logs and counts them.

use std::net::IpAddr;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};

use super::Security;
use super::jwt::{AuthError, Principal};
use super::rate_limit::retry_after_secs;
use super::roles::{Access, access_for};
use crate::error::ApiError;

/// The route pattern the router will pick. It matches the decoded path, as the router does:
/// the raw one would let `/%68ard` slip past the table while the router serves `/hard`.
fn route_pattern(req: &ServiceRequest) -> Option<String> {
    req.request()
        .resource_map()
        .match_pattern(req.match_info().as_str())
}

/// The client's address: the peer, or with `trust_forwarded_for` the address the proxy in
/// front of us appended last to `X-Forwarded-For` (earlier entries are the client's to forge).
pub fn client_ip(req: &ServiceRequest, trust_forwarded_for: bool) -> Option<IpAddr> {
    let forwarded = trust_forwarded_for
        .then(|| req.headers().get("x-forwarded-for")?.to_str().ok())
        .flatten()
        .and_then(|list| list.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok());
    forwarded.or_else(|| req.peer_addr().map(|addr| addr.ip()))
}

fn refuse<B>(req: ServiceRequest, err: &ApiError) -> ServiceResponse<EitherBody<B>> {
    req.into_response(err.error_response())
        .map_into_right_body()
}

/// Authenticates, rate limits and authorises every request before routing.
///
/// # Errors
/// Passes on errors of the inner services; refusals are answers, not errors.
pub async fn access_control(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(security) = req.app_data::<web::Data<Security>>().cloned() else {
        // Fail closed: an app wired without its security settings must not serve data.
        let err = ApiError::Internal("access control runs without its Security app data".into());
        return Ok(refuse(req, &err));
    };
    let access = access_for(req.method(), route_pattern(&req).as_deref());
    if access == Access::Probe {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let authenticated: Option<Result<Principal, AuthError>> = security.authenticator().map(|a| {
        a.authenticate(
            req.headers()
                .get(header::AUTHORIZATION)
                .map(|v| v.as_bytes()),
        )
    });
    if security.rate_limited() {
        // Subjects and addresses live in different key spaces so one cannot starve the other.
        let key = match &authenticated {
            Some(Ok(principal)) => format!("sub:{}", principal.subject),
            _ => match client_ip(&req, security.trust_forwarded_for()) {
                Some(ip) => format!("ip:{ip}"),
                None => "ip:unknown".to_owned(),
            },
        };
        if let Err(wait) = security.check_rate(&key).await {
            let err = ApiError::TooManyRequests {
                retry_after_secs: retry_after_secs(wait),
            };
            return Ok(refuse(req, &err));
        }
    }
    if let (Access::Requires(needed), Some(result)) = (access, authenticated) {
        match result {
            Err(reason) => {
                tracing::debug!(reason = %reason, "request not authenticated");
                return Ok(refuse(req, &ApiError::Unauthorized(reason)));
            }
            Ok(principal) if !principal.role.grants(needed) => {
                tracing::debug!(role = %principal.role, needed = %needed, "role insufficient");
                return Ok(refuse(req, &ApiError::Forbidden("Not enough permissions")));
            }
            Ok(principal) => {
                req.extensions_mut().insert(principal);
            }
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}
