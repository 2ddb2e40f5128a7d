//! Answers for requests no route takes: unknown paths and unsupported methods, in the same
//! JSON shape as every other error (actix's defaults have empty bodies).

use actix_web::{HttpResponse, Route, web};

use crate::error::ApiError;

/// 404 for a path no route matches.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("Not Found"))
}

/// 405 for a route that exists without this method; `allow` is the `Allow` header.
pub fn method_not_allowed(allow: &'static str) -> Route {
    web::route()
        .to(move || async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow }) })
}
