//! What access control adds to the OpenAPI document, derived from the same table the
//! middleware enforces: the bearer scheme, each operation's security requirement and role,
//! and its 401, 403 and 429 answers. With authentication off the document declares no
//! security at all (it describes the running service); the 429 stays, since rate limits are
//! configured apart.

use actix_web::http::Method;
use serde_json::json;
use utoipa::Modify;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Header, ObjectBuilder, OpenApi, Ref, Type};

use super::roles::{Access, Role, access_for};

/// The name of the security scheme in the document.
pub const BEARER: &str = "bearer";

/// Adds the access-control parts to the document (see the module docs); with
/// `authentication` off only the rate limits' 429.
#[derive(Debug, Clone, Copy)]
pub struct SecurityAddon {
    /// Whether bearer tokens are required.
    pub authentication: bool,
}

impl Modify for SecurityAddon {
    fn modify(&self, openapi: &mut OpenApi) {
        if !self.authentication {
            for (path, item) in &mut openapi.paths.paths {
                for (method, op) in operations(item) {
                    // Said explicitly: no operation needs a token.
                    op.security = Some(Vec::new());
                    if access_for(&method, Some(path)) != Access::Probe {
                        op.responses
                            .responses
                            .insert("429".to_owned(), too_many_requests().into());
                    }
                }
            }
            return;
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT with `sub`, `role` (`reader`, `writer` or `admin`), `aud` and \
                         `exp`; `customer-api token --role reader` mints one.",
                    ))
                    .build(),
            ),
        );
        for (path, item) in &mut openapi.paths.paths {
            for (method, op) in operations(item) {
                document(op, access_for(&method, Some(path)));
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (Method, &mut Operation)> {
    [
        (Method::GET, item.get.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
        (Method::HEAD, item.head.as_mut()),
        (Method::OPTIONS, item.options.as_mut()),
        (Method::TRACE, item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
}

fn document(op: &mut Operation, access: Access) {
    if access == Access::Probe {
        // Said explicitly: no token needed, whatever a global requirement would say.
        op.security = Some(Vec::new());
        return;
    }
    let responses = &mut op.responses.responses;
    responses.insert("429".to_owned(), too_many_requests().into());
    let Access::Requires(role) = access else {
        return;
    };
    op.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
    responses.insert("401".to_owned(), unauthorized().into());
    responses.insert("403".to_owned(), forbidden().into());
    let note = format!(
        "Requires a bearer token with role `{role}`{}.",
        higher(role)
    );
    op.description = Some(match op.description.take() {
        Some(text) if !text.is_empty() => format!("{text}\n\n{note}"),
        _ => note,
    });
}

fn higher(role: Role) -> &'static str {
    match role {
        Role::Reader => " (or `writer`, `admin`)",
        Role::Writer => " (or `admin`)",
        Role::Admin => "",
    }
}

fn error_body(description: &str, example: serde_json::Value) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorResponse")))
            .example(Some(example))
            .build(),
    )
}

fn header(kind: Type, description: &str) -> Header {
    let mut header = Header::new(ObjectBuilder::new().schema_type(kind));
    header.description = Some(description.to_owned());
    header
}

fn unauthorized() -> Response {
    error_body(
        "No bearer token, or one that is malformed, expired, wrongly signed or for another audience",
        json!({"detail": "Not authenticated", "code": "not_authenticated"}),
    )
    .header(
        "WWW-Authenticate",
        header(Type::String, "`Bearer` and, for a rejected token, why"),
    )
    .build()
}

fn forbidden() -> Response {
    error_body(
        "The token's role does not allow this operation",
        json!({"detail": "Not enough permissions", "code": "forbidden"}),
    )
    .build()
}

fn too_many_requests() -> Response {
    error_body(
        "This client (token subject, else address) exceeded its rate limit",
        json!({"detail": "Too many requests", "code": "rate_limited"}),
    )
    .header(
        "Retry-After",
        header(Type::Integer, "Seconds until a request is allowed again"),
    )
    .build()
}

#[cfg(test)]
mod tests {
    use utoipa::openapi::path::OperationBuilder;

    use super::*;

    fn described(text: Option<&str>, role: Role) -> Option<String> {
        let mut op = OperationBuilder::new().description(text).build();
        document(&mut op, Access::Requires(role));
        op.description
    }

    #[test]
    fn the_role_note_follows_the_operations_own_text_and_names_the_roles_above() {
        assert_eq!(
            described(None, Role::Reader).as_deref(),
            Some("Requires a bearer token with role `reader` (or `writer`, `admin`).")
        );
        assert_eq!(
            described(Some(""), Role::Writer).as_deref(),
            Some("Requires a bearer token with role `writer` (or `admin`).")
        );
        assert_eq!(
            described(Some("Deletes for good."), Role::Admin).as_deref(),
            Some("Deletes for good.\n\nRequires a bearer token with role `admin`.")
        );
    }
}
