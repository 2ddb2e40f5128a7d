//! The OpenAPI document and Swagger UI, served from files compiled into the binary.

use std::sync::Arc;

use actix_web::{HttpResponse, http::header, web};
use utoipa_swagger_ui::Config;

use crate::error::ApiError;

/// The OpenAPI document, serialised once when the routes are configured.
#[derive(Debug, Clone)]
pub struct OpenApiJson(pub Arc<String>);

/// Swagger UI's settings: where it finds the document.
#[derive(Clone)]
pub struct SwaggerConfig(pub Arc<Config<'static>>);

impl std::fmt::Debug for SwaggerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SwaggerConfig")
    }
}

/// `GET /openapi.json`.
pub async fn openapi_json(doc: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(header::ContentType::json())
        .body(doc.0.as_str().to_owned())
}

/// `GET /docs`: Swagger UI's files are relative to `/docs/`.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// `GET /docs/{file}`: Swagger UI.
pub async fn swagger_ui(
    file: web::Path<String>,
    config: web::Data<SwaggerConfig>,
) -> Result<HttpResponse, ApiError> {
    match utoipa_swagger_ui::serve(&file, Arc::clone(&config.0)) {
        Ok(Some(found)) => Ok(HttpResponse::Ok()
            .content_type(found.content_type)
            .body(found.bytes.into_owned())),
        Ok(None) => Err(ApiError::NotFound("Not Found")),
        Err(err) => Err(ApiError::Internal(format!("swagger ui: {err}"))),
    }
}
