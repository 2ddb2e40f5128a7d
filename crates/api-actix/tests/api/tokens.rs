//! Token verification on its own: HS256 and RS256 keys, the issuer check, algorithm
//! confusion, and how the `Authorization` header is read.

#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions: a failure here is a broken test"
)]

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use api_actix::security::{
    AuthError, Authenticator, Principal, Role, Security, TokenError, TokenIssuer, VerificationKey,
};

use crate::security_support::{
    AUDIENCE, RS256_OTHER_PRIVATE, RS256_PRIVATE, RS256_PUBLIC, SECRET, issuer, send_one,
};

const HOUR: Duration = Duration::from_secs(3600);

fn rs256() -> Authenticator {
    Authenticator::new(
        VerificationKey::Rs256PublicPem(RS256_PUBLIC.as_bytes()),
        AUDIENCE,
        None,
    )
    .unwrap()
}

fn check(auth: &Authenticator, token: &str) -> Result<Principal, AuthError> {
    auth.authenticate(Some(format!("Bearer {token}").as_bytes()))
}

#[test]
fn an_rs256_token_from_the_matching_private_key_is_accepted() {
    let signer = TokenIssuer::rs256_pem(RS256_PRIVATE.as_bytes(), AUDIENCE, None).unwrap();
    let token = signer.mint("svc-batch", Role::Writer, HOUR).unwrap();
    assert_eq!(
        check(&rs256(), &token),
        Ok(Principal {
            subject: "svc-batch".into(),
            role: Role::Writer
        })
    );
}

#[test]
fn an_rs256_token_from_another_private_key_has_a_bad_signature() {
    let signer = TokenIssuer::rs256_pem(RS256_OTHER_PRIVATE.as_bytes(), AUDIENCE, None).unwrap();
    let token = signer.mint("svc-batch", Role::Admin, HOUR).unwrap();
    assert_eq!(check(&rs256(), &token), Err(AuthError::BadSignature));
}

#[test]
fn an_hs256_token_is_refused_where_rs256_is_configured() {
    // Algorithm confusion: HMAC keyed with the public key text must not pass.
    let forged = TokenIssuer::hs256(RS256_PUBLIC.as_bytes(), AUDIENCE, None)
        .mint("mallory", Role::Admin, HOUR)
        .unwrap();
    assert_eq!(check(&rs256(), &forged), Err(AuthError::Invalid));
}

#[actix_web::test]
async fn rs256_authentication_works_through_the_router() {
    let signer = TokenIssuer::rs256_pem(RS256_PRIVATE.as_bytes(), AUDIENCE, None).unwrap();
    let token = signer.mint("svc-batch", Role::Reader, HOUR).unwrap();
    let reply = send_one(
        Security::default().with_authenticator(rs256()),
        TestRequest::get()
            .uri("/api/v1/customers/statistics/overview")
            .insert_header(("authorization", format!("Bearer {token}"))),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text
    );
}

#[test]
fn a_public_key_that_is_not_pem_is_refused_at_start() {
    let err = Authenticator::new(
        VerificationKey::Rs256PublicPem(b"not a key"),
        AUDIENCE,
        None,
    )
    .unwrap_err();
    assert!(matches!(err, TokenError::InvalidKey(_)), "{err}");
}

#[test]
fn with_an_issuer_configured_tokens_must_carry_it() {
    let auth = Authenticator::new(
        VerificationKey::Hs256Secret(SECRET.as_bytes()),
        AUDIENCE,
        Some("https://auth.example"),
    )
    .unwrap();
    let right = TokenIssuer::hs256(SECRET.as_bytes(), AUDIENCE, Some("https://auth.example"));
    let wrong = TokenIssuer::hs256(SECRET.as_bytes(), AUDIENCE, Some("https://evil.example"));
    assert!(check(&auth, &right.mint("a", Role::Reader, HOUR).unwrap()).is_ok());
    assert_eq!(
        check(&auth, &wrong.mint("a", Role::Reader, HOUR).unwrap()),
        Err(AuthError::WrongIssuer)
    );
    let none = issuer().mint("a", Role::Reader, HOUR).unwrap();
    assert_eq!(check(&auth, &none), Err(AuthError::Invalid));
}

#[test]
fn the_scheme_is_case_insensitive_and_anything_else_is_malformed() {
    let auth = hs256();
    let token = issuer().mint("a", Role::Reader, HOUR).unwrap();
    assert!(
        auth.authenticate(Some(format!("bearer {token}").as_bytes()))
            .is_ok()
    );
    assert_eq!(auth.authenticate(None), Err(AuthError::Missing));
    assert_eq!(
        auth.authenticate(Some(b"\xff\xfe")),
        Err(AuthError::Malformed)
    );
    let huge = format!("Bearer {}", "a".repeat(10_000));
    assert_eq!(
        auth.authenticate(Some(huge.as_bytes())),
        Err(AuthError::Malformed)
    );
}

#[test]
fn a_token_with_an_unknown_role_is_invalid() {
    // Hand-made claims: the issuer only signs known roles.
    let claims =
        serde_json::json!({"sub": "a", "role": "root", "aud": AUDIENCE, "exp": u64::MAX / 2});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let auth = hs256();
    assert_eq!(check(&auth, &token), Err(AuthError::Invalid));
}

#[test]
fn a_token_needs_a_subject() {
    assert_eq!(
        issuer().mint(" ", Role::Reader, HOUR),
        Err(TokenError::EmptySubject)
    );
}

fn hs256() -> Authenticator {
    Authenticator::new(
        VerificationKey::Hs256Secret(SECRET.as_bytes()),
        AUDIENCE,
        None,
    )
    .unwrap()
}

/// A reader's token with these extra claims, signed with the tests' secret.
fn signed(extra: &serde_json::Value) -> String {
    let mut claims = serde_json::json!({"sub": "a", "role": "reader", "aud": AUDIENCE});
    for (name, value) in extra.as_object().unwrap() {
        claims[name] = value.clone();
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

#[test]
fn thirty_seconds_of_clock_skew_are_tolerated_on_exp_and_nbf_and_no_more() {
    let auth = hs256();
    let now = crate::security_support::now_secs();
    let hour_later = now + 3600;
    assert!(check(&auth, &signed(&serde_json::json!({"exp": now - 20}))).is_ok());
    assert_eq!(
        check(&auth, &signed(&serde_json::json!({"exp": now - 40}))),
        Err(AuthError::Expired)
    );
    assert!(
        check(
            &auth,
            &signed(&serde_json::json!({"exp": hour_later, "nbf": now + 20}))
        )
        .is_ok()
    );
    assert_eq!(
        check(
            &auth,
            &signed(&serde_json::json!({"exp": hour_later, "nbf": now + 40}))
        ),
        Err(AuthError::NotYetValid)
    );
    // No `exp` at all: refused, however fresh the rest.
    assert_eq!(
        check(&auth, &signed(&serde_json::json!({"nbf": now}))),
        Err(AuthError::Invalid)
    );
}

#[test]
fn a_header_of_exactly_eight_kib_is_read_and_one_byte_more_is_refused_unread() {
    let auth = hs256();
    let token = issuer().mint("a", Role::Reader, HOUR).unwrap();
    // Spaces after the token are trimmed: the same token at any header length.
    let padded = |len: usize| {
        let header = format!("Bearer {token}");
        format!("{header}{}", " ".repeat(len - header.len()))
    };
    assert!(auth.authenticate(Some(padded(8 * 1024).as_bytes())).is_ok());
    assert_eq!(
        auth.authenticate(Some(padded(8 * 1024 + 1).as_bytes())),
        Err(AuthError::Malformed)
    );
    // A bearer scheme with nothing after it, and another scheme with a valid token.
    assert_eq!(
        auth.authenticate(Some(b"Bearer    ")),
        Err(AuthError::Malformed)
    );
    assert_eq!(
        auth.authenticate(Some(format!("Basic {token}").as_bytes())),
        Err(AuthError::Malformed)
    );
}

#[test]
fn keys_and_authenticators_never_print_the_secret() {
    let secret = VerificationKey::Hs256Secret(SECRET.as_bytes());
    assert_eq!(format!("{secret:?}"), "Hs256Secret(..)");
    let public = VerificationKey::Rs256PublicPem(RS256_PUBLIC.as_bytes());
    assert_eq!(format!("{public:?}"), "Rs256PublicPem(..)");
    let printed = format!("{:?}", hs256());
    assert!(printed.starts_with("Authenticator {"), "{printed}");
    assert!(
        printed.contains("HS256") && printed.contains(AUDIENCE),
        "{printed}"
    );
    assert!(!printed.contains(SECRET), "{printed}");
}
