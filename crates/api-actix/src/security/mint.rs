//! Minting bearer tokens: HS256 with the service's own secret (`customer-api token`, tests) or
//! RS256 with a private key (what an identity provider does; tests use it too).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::jwt::TokenError;
use super::roles::Role;

/// The claims a minted token carries.
#[derive(Debug, Serialize)]
struct MintedClaims<'a> {
    sub: &'a str,
    role: Role,
    aud: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    iat: u64,
    exp: u64,
}

/// Signs tokens the matching [`super::Authenticator`] accepts.
pub struct TokenIssuer {
    key: EncodingKey,
    algorithm: Algorithm,
    audience: String,
    issuer: Option<String>,
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("algorithm", &self.algorithm)
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// An HS256 issuer with the shared secret the service verifies with.
    pub fn hs256(secret: &[u8], audience: &str, issuer: Option<&str>) -> Self {
        Self {
            key: EncodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
            audience: audience.to_owned(),
            issuer: issuer.map(str::to_owned),
        }
    }

    /// An RS256 issuer from a private key in PEM format (identity providers and tests).
    ///
    /// # Errors
    /// When the PEM holds no usable RSA private key.
    pub fn rs256_pem(pem: &[u8], audience: &str, issuer: Option<&str>) -> Result<Self, TokenError> {
        Ok(Self {
            key: EncodingKey::from_rsa_pem(pem)
                .map_err(|e| TokenError::InvalidKey(e.to_string()))?,
            algorithm: Algorithm::RS256,
            audience: audience.to_owned(),
            issuer: issuer.map(str::to_owned),
        })
    }

    /// A token for `subject` with `role`, valid from now for `ttl`.
    ///
    /// # Errors
    /// When the subject is empty or signing fails.
    pub fn mint(&self, subject: &str, role: Role, ttl: Duration) -> Result<String, TokenError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.mint_at(subject, role, now, ttl)
    }

    /// A token issued at `issued_at` (seconds since the epoch): tests make expired ones.
    ///
    /// # Errors
    /// As [`TokenIssuer::mint`].
    pub fn mint_at(
        &self,
        subject: &str,
        role: Role,
        issued_at: u64,
        ttl: Duration,
    ) -> Result<String, TokenError> {
        if subject.trim().is_empty() {
            return Err(TokenError::EmptySubject);
        }
        let claims = MintedClaims {
            sub: subject,
            role,
            aud: &self.audience,
            iss: self.issuer.as_deref(),
            iat: issued_at,
            exp: issued_at.saturating_add(ttl.as_secs()),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key)
            .map_err(|e| TokenError::Signing(e.to_string()))
    }
}
