//! Verifying bearer tokens: HS256 with a shared secret or RS256 with a public key.
//!
//! Claims: `sub` (who), `role` (`reader`, `writer` or `admin`), `aud` (must be the configured
//! audience), `exp` (required), `iat`, and `iss` when an issuer is configured.

use std::fmt;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::roles::Role;

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

/// Longer headers are refused unread: no token of ours comes close.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Principal {
    /// The `sub` claim; it keys the rate limit and is never logged (it may name a person).
    #[serde(rename = "sub")]
    pub subject: String,
    /// The `role` claim.
    pub role: Role,
}

/// Why a request is not authenticated; each answers 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("Not authenticated")]
    Missing,
    /// Not `Bearer <jwt>`, or not a JWT.
    #[error("Malformed bearer token")]
    Malformed,
    /// `exp` is past.
    #[error("Token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("Token is not valid yet")]
    NotYetValid,
    /// Signed with another key.
    #[error("Invalid token signature")]
    BadSignature,
    /// `aud` is not this service.
    #[error("Invalid token audience")]
    WrongAudience,
    /// `iss` is not the configured issuer.
    #[error("Invalid token issuer")]
    WrongIssuer,
    /// Another algorithm, a missing claim or an unknown role.
    #[error("Invalid token")]
    Invalid,
}

/// A key that cannot be used, or a token that cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The PEM text holds no usable RSA key.
    #[error("not a usable RSA key in PEM format: {0}")]
    InvalidKey(String),
    /// Signing failed.
    #[error("could not sign the token: {0}")]
    Signing(String),
    /// A token must name its subject.
    #[error("the subject must not be empty")]
    EmptySubject,
}

/// How tokens are verified.
#[derive(Clone, Copy)]
pub enum VerificationKey<'a> {
    /// HS256 with this shared secret.
    Hs256Secret(&'a [u8]),
    /// RS256 with this public key (PEM, `PUBLIC KEY` or `RSA PUBLIC KEY`).
    Rs256PublicPem(&'a [u8]),
}

impl fmt::Debug for VerificationKey<'_> {
    // The secret never reaches a log line or a panic message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Hs256Secret(_) => "Hs256Secret(..)",
            Self::Rs256PublicPem(_) => "Rs256PublicPem(..)",
        })
    }
}

/// Checks bearer tokens: signature, algorithm, `exp`, `aud` and, when configured, `iss`.
/// [`super::TokenIssuer`] signs tokens it accepts.
pub struct Authenticator {
    key: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("algorithms", &self.validation.algorithms)
            .field("audience", &self.validation.aud)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// An authenticator for tokens with this audience (and issuer, when given).
    ///
    /// # Errors
    /// When the RS256 key is not a usable PEM public key.
    pub fn new(
        key: VerificationKey<'_>,
        audience: &str,
        issuer: Option<&str>,
    ) -> Result<Self, TokenError> {
        // One algorithm per key: a token cannot choose how it is checked (no alg confusion).
        let (key, algorithm) = match key {
            VerificationKey::Hs256Secret(secret) => {
                (DecodingKey::from_secret(secret), Algorithm::HS256)
            }
            VerificationKey::Rs256PublicPem(pem) => (
                DecodingKey::from_rsa_pem(pem)
                    .map_err(|e| TokenError::InvalidKey(e.to_string()))?,
                Algorithm::RS256,
            ),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_audience(&[audience]);
        let mut required = vec!["exp", "aud", "sub"];
        if let Some(issuer) = issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Ok(Self { key, validation })
    }

    /// The principal of an `Authorization` header value (`None`: no header).
    ///
    /// # Errors
    /// Why the request is not authenticated.
    pub fn authenticate(&self, header: Option<&[u8]>) -> Result<Principal, AuthError> {
        let header = header.ok_or(AuthError::Missing)?;
        if header.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed);
        }
        let header = std::str::from_utf8(header).map_err(|_| AuthError::Malformed)?;
        let (scheme, token) = header.split_once(' ').ok_or(AuthError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(AuthError::Malformed);
        }
        jsonwebtoken::decode::<Principal>(token.trim(), &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidSignature => AuthError::BadSignature,
                ErrorKind::InvalidAudience => AuthError::WrongAudience,
                ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
                ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
                    AuthError::Malformed
                }
                _ => AuthError::Invalid,
            })
    }
}
