//! `customer-api token --role writer [--subject alice] [--ttl-secs 3600]`: mints an HS256
//! bearer token with the configured secret and prints it on stdout, for local use and scripts:
//!
//! ```bash
//! export APP__AUTH__HS256_SECRET=$(openssl rand -hex 32) APP__AUTH__ENABLED=true
//! TOKEN=$(customer-api token --role reader)
//! curl -H "Authorization: Bearer $TOKEN" localhost:8000/api/v1/customers/
//! ```

use std::time::Duration;

use api_actix::security::Role;
use clap::Args;

use crate::settings::{AuthSettings, Settings};

/// Arguments of `customer-api token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The role claim: reader, writer or admin.
    #[arg(long)]
    pub role: Role,
    /// The subject claim (who the token speaks for; also its rate-limit key).
    #[arg(long, default_value = "local-dev")]
    pub subject: String,
    /// Lifetime in seconds (default: auth.token_ttl_secs).
    #[arg(long)]
    pub ttl_secs: Option<u64>,
}

/// A signed token for `subject` with `role`, valid for `ttl` (default: the configured one).
///
/// # Errors
/// When no HS256 secret is configured (the message says which setting to set), the subject is
/// empty, or signing fails.
pub fn mint(
    auth: &AuthSettings,
    role: Role,
    subject: &str,
    ttl: Option<Duration>,
) -> anyhow::Result<String> {
    let ttl = ttl.unwrap_or_else(|| auth.token_ttl());
    anyhow::ensure!(!ttl.is_zero(), "--ttl-secs must be positive");
    Ok(auth.token_issuer()?.mint(subject, role, ttl)?)
}

/// Runs `customer-api token`: the token alone on stdout, so `$(customer-api token ...)` works.
///
/// # Errors
/// As [`mint`].
pub fn run(settings: &Settings, args: &TokenArgs) -> anyhow::Result<()> {
    let token = mint(
        &settings.auth,
        args.role,
        &args.subject,
        args.ttl_secs.map(Duration::from_secs),
    )?;
    println!("{token}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::settings::AppEnv;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config");
        let vars: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::load_from(&dir, AppEnv::Development, &vars).unwrap()
    }

    #[test]
    fn a_minted_token_passes_the_services_own_check() {
        let s = settings(&[
            ("APP__AUTH__ENABLED", "true"),
            (
                "APP__AUTH__HS256_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
            ("APP__AUTH__ISSUER", "customer-api-cli"),
        ]);
        let token = mint(&s.auth, Role::Writer, "alice", None).unwrap();
        let security = s.security().unwrap();
        let principal = security
            .authenticator()
            .unwrap()
            .authenticate(Some(format!("Bearer {token}").as_bytes()))
            .unwrap();
        assert_eq!(
            (principal.subject.as_str(), principal.role),
            ("alice", Role::Writer)
        );
    }

    #[test]
    fn without_a_secret_minting_fails_naming_the_setting() {
        let err = mint(&settings(&[]).auth, Role::Reader, "alice", None).unwrap_err();
        assert!(
            format!("{err:#}").contains("APP__AUTH__HS256_SECRET"),
            "{err:#}"
        );
    }

    #[test]
    fn a_zero_lifetime_is_refused() {
        let s = settings(&[(
            "APP__AUTH__HS256_SECRET",
            "0123456789abcdef0123456789abcdef",
        )]);
        assert!(mint(&s.auth, Role::Reader, "a", Some(Duration::ZERO)).is_err());
    }
}
