//! The `[auth]`, `[rate_limit]` and `[cors]` sections as loaded from `config/` and variables.

use std::path::PathBuf;

use crate::settings::{AppEnv, Settings};

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const RS256_PUBLIC: &str = include_str!("../../../../api-actix/tests/fixtures/rs256_public.pem");

fn repo_config() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

fn load(env: AppEnv, pairs: &[(&str, &str)]) -> anyhow::Result<Settings> {
    let vars: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::load_from(&repo_config(), env, &vars)
}

#[test]
fn development_and_test_run_without_authentication_and_with_generous_limits() {
    for env in [AppEnv::Development, AppEnv::Test] {
        let s = load(env, &[]).unwrap();
        assert!(!s.auth.enabled);
        assert!(s.security().unwrap().authenticator().is_none());
        assert!(s.rate_limit.enabled && s.rate_limit.per_second >= 1000.0);
        assert!(s.cors.allowed_origins.is_empty());
    }
}

#[test]
fn production_refuses_to_start_without_a_key_and_names_the_setting() {
    let err = load(AppEnv::Production, &[]).unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("auth.hs256_secret"), "{message}");
    assert!(message.contains("APP__AUTH__HS256_SECRET"), "{message}");
}

#[test]
fn production_starts_with_a_secret_from_the_environment() {
    let s = load(AppEnv::Production, &[("APP__AUTH__HS256_SECRET", SECRET)]).unwrap();
    assert!(s.auth.enabled);
    assert!(s.security().unwrap().authenticator().is_some());
}

#[test]
fn a_secret_shorter_than_32_bytes_is_refused_even_when_authentication_is_off() {
    let err = load(
        AppEnv::Development,
        &[("APP__AUTH__HS256_SECRET", "short-secret")],
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("at least 32 bytes"), "{err:#}");
}

#[test]
fn two_keys_at_once_are_refused() {
    let err = load(
        AppEnv::Development,
        &[
            ("APP__AUTH__HS256_SECRET", SECRET),
            ("APP__AUTH__RS256_PUBLIC_KEY_PEM", RS256_PUBLIC),
        ],
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("only one of"), "{err:#}");
}

#[test]
fn an_rs256_public_key_works_inline_or_from_a_file_and_garbage_is_refused() {
    let inline = load(
        AppEnv::Production,
        &[("APP__AUTH__RS256_PUBLIC_KEY_PEM", RS256_PUBLIC)],
    )
    .unwrap();
    assert!(inline.security().unwrap().authenticator().is_some());
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../api-actix/tests/fixtures/rs256_public.pem");
    let from_file = load(
        AppEnv::Production,
        &[("APP__AUTH__RS256_PUBLIC_KEY_PATH", path.to_str().unwrap())],
    )
    .unwrap();
    assert!(from_file.security().unwrap().authenticator().is_some());
    let err = load(
        AppEnv::Production,
        &[(
            "APP__AUTH__RS256_PUBLIC_KEY_PEM",
            "-----BEGIN PUBLIC KEY-----\nxx",
        )],
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("RS256"), "{err:#}");
    let err = load(
        AppEnv::Production,
        &[("APP__AUTH__RS256_PUBLIC_KEY_PATH", "/nonexistent/key.pem")],
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("auth.rs256_public_key_path"),
        "{err:#}"
    );
}

#[test]
fn the_secret_never_shows_in_debug_output() {
    let s = load(AppEnv::Production, &[("APP__AUTH__HS256_SECRET", SECRET)]).unwrap();
    let printed = format!("{s:?}");
    assert!(!printed.contains(SECRET));
    assert!(printed.contains("[redacted]"));
}

#[test]
fn rate_limits_and_cors_origins_come_from_variables_and_are_checked() {
    let s = load(
        AppEnv::Development,
        &[
            ("APP__RATE_LIMIT__PER_SECOND", "5"),
            ("APP__RATE_LIMIT__BURST", "10"),
            (
                "APP__CORS__ALLOWED_ORIGINS",
                "https://app.example.com,http://localhost:3000",
            ),
        ],
    )
    .unwrap();
    assert_eq!((s.rate_limit.per_second, s.rate_limit.burst), (5.0, 10));
    assert_eq!(
        s.cors.allowed_origins,
        ["https://app.example.com", "http://localhost:3000"]
    );
    for (key, value) in [
        ("APP__RATE_LIMIT__PER_SECOND", "0"),
        ("APP__RATE_LIMIT__BURST", "0"),
        ("APP__CORS__ALLOWED_ORIGINS", "app.example.com"),
        ("APP__CORS__ALLOWED_ORIGINS", "https://app.example.com/"),
    ] {
        let err = load(AppEnv::Development, &[(key, value)]).unwrap_err();
        let section = key.split("__").nth(1).unwrap().to_lowercase();
        assert!(
            format!("{err:#}").contains(&section),
            "{key}={value}: {err:#}"
        );
    }
}

#[test]
fn tokens_can_be_minted_only_with_an_hs256_secret() {
    let s = load(AppEnv::Development, &[("APP__AUTH__HS256_SECRET", SECRET)]).unwrap();
    assert!(s.auth.token_issuer().is_ok());
    let s = load(
        AppEnv::Development,
        &[("APP__AUTH__RS256_PUBLIC_KEY_PEM", RS256_PUBLIC)],
    )
    .unwrap();
    let err = s.auth.token_issuer().unwrap_err();
    assert!(format!("{err:#}").contains("auth.hs256_secret"), "{err:#}");
}

#[test]
fn the_shared_limit_is_off_by_default_and_a_bad_redis_url_fails_naming_the_key() {
    let s = load(AppEnv::Development, &[]).unwrap();
    assert!(!s.rate_limit.redis_url.is_set());
    assert_eq!(
        (s.rate_limit.redis_timeout_ms, s.rate_limit.redis_retry_ms),
        (20, 1000)
    );
    for url in ["http://127.0.0.1:6379", "127.0.0.1:6379", "redis://[::1"] {
        let err = load(AppEnv::Development, &[("APP__RATE_LIMIT__REDIS_URL", url)]).unwrap_err();
        assert!(
            format!("{err:#}").contains("rate_limit.redis_url (APP__RATE_LIMIT__REDIS_URL)"),
            "{url}: {err:#}"
        );
    }
    for (key, value, named) in [
        (
            "APP__RATE_LIMIT__REDIS_TIMEOUT_MS",
            "0",
            "rate_limit.redis_timeout_ms",
        ),
        (
            "APP__RATE_LIMIT__REDIS_TIMEOUT_MS",
            "1001",
            "rate_limit.redis_timeout_ms",
        ),
        (
            "APP__RATE_LIMIT__REDIS_RETRY_MS",
            "9",
            "rate_limit.redis_retry_ms",
        ),
    ] {
        let err = load(AppEnv::Development, &[(key, value)]).unwrap_err();
        assert!(format!("{err:#}").contains(named), "{key}={value}: {err:#}");
    }
}

#[tokio::test]
async fn a_redis_url_shares_the_limit_and_never_shows_in_debug_output() {
    let url = "redis://:hunter2hunter2@127.0.0.1:1/0";
    let s = load(AppEnv::Development, &[("APP__RATE_LIMIT__REDIS_URL", url)]).unwrap();
    assert!(!format!("{s:?}").contains("hunter2"));
    let security = s.security().unwrap();
    // Nothing listens on port 1: the instance decides alone, and says so.
    assert!(security.check_rate("ip:1").await.is_ok());
    let counts = security.shared_limit_counts().unwrap();
    assert_eq!((counts.fallbacks, counts.up), (1, false));
    assert!(!format!("{security:?}").contains("hunter2"));
    let local = load(AppEnv::Development, &[]).unwrap().security().unwrap();
    assert!(local.shared_limit_counts().is_none());
}
