//! Names of test and template databases, and URLs pointing at them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TEST_PREFIX: &str = "cust_test_";
pub(crate) const TEMPLATE_PREFIX: &str = "cust_tpl_";

/// The migrated template for the migrations this crate was built with.
pub(crate) fn template_name() -> String {
    format!("{TEMPLATE_PREFIX}{}", env!("CUSTOMER_MIGRATIONS_HASH"))
}

/// Where a template is migrated before it gets its final name, so that a half-built
/// template is never cloned.
pub(crate) fn building_name(template: &str) -> String {
    format!("{template}_building")
}

fn nanos_since_epoch() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// `cust_test_<pid>_<nanos>_<n>`: unique across processes and within one, and it records
/// who created it and when, which the sweep needs.
pub(crate) fn unique_test_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{TEST_PREFIX}{}_{}_{n}",
        std::process::id(),
        nanos_since_epoch()
    )
}

/// The creator and age of a test database, from its name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TestDatabaseName {
    pub(crate) pid: u32,
    pub(crate) age: Duration,
}

/// Reads a name made by [`unique_test_name`]; `None` for any other name.
pub(crate) fn parse_test_name(name: &str) -> Option<TestDatabaseName> {
    let mut parts = name.strip_prefix(TEST_PREFIX)?.split('_');
    let pid = parts.next()?.parse().ok()?;
    let created: u128 = parts.next()?.parse().ok()?;
    parts.next()?.parse::<u32>().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let age_nanos = nanos_since_epoch().saturating_sub(created);
    let age = Duration::from_nanos(u64::try_from(age_nanos).unwrap_or(u64::MAX));
    Some(TestDatabaseName { pid, age })
}

/// The name as a quoted SQL identifier, for the statements that take no parameters
/// (`CREATE DATABASE`, `DROP DATABASE`). Only names of our own shape are accepted.
pub(crate) fn quoted(name: &str) -> Result<String, String> {
    let ours = name.starts_with(TEST_PREFIX) || name.starts_with(TEMPLATE_PREFIX);
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ours && plain && name.len() < 64 {
        Ok(format!("\"{name}\""))
    } else {
        Err(format!("refusing to use {name:?} as a test database name"))
    }
}

/// `url` with its database replaced by `database`
/// (`postgres://u@h:5432/postgres?x=y` → `postgres://u@h:5432/<database>?x=y`).
pub(crate) fn with_database(url: &str, database: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("expected a postgres:// URL, got {url:?}"))?;
    let (before_query, query) = match rest.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or_default();
    let mut out = format!("{scheme}://{authority}/{database}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_names_are_unique_and_parse_back_with_our_pid() {
        let (a, b) = (unique_test_name(), unique_test_name());
        assert_ne!(a, b);
        let parsed = parse_test_name(&a).unwrap();
        assert_eq!(parsed.pid, std::process::id());
        assert!(parsed.age < Duration::from_secs(60));
        assert!(quoted(&a).is_ok());
    }

    #[test]
    fn other_names_are_not_test_databases() {
        for name in [
            "postgres",
            "cust_test_",
            "cust_test_12_x_1",
            "cust_test_12_34",
            "cust_test_12_34_5_6",
            "cust_tpl_abc",
        ] {
            assert_eq!(parse_test_name(name), None, "{name}");
        }
    }

    #[test]
    fn only_our_plain_names_are_quoted() {
        assert_eq!(quoted("cust_tpl_00ff").unwrap(), "\"cust_tpl_00ff\"");
        for bad in [
            "postgres",
            "cust_test_\"; DROP",
            "cust_test_A",
            &"cust_test_1".repeat(7),
        ] {
            assert!(quoted(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_database_of_a_url_is_replaced_and_the_rest_kept() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/postgres",
                "postgres://postgres@127.0.0.1:5432/t",
            ),
            (
                "postgres://u:p@h/db?sslmode=disable",
                "postgres://u:p@h/t?sslmode=disable",
            ),
            ("postgresql://h:1", "postgresql://h:1/t"),
            (
                "postgres://h?application_name=x",
                "postgres://h/t?application_name=x",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "t").unwrap(), expected, "{url}");
        }
        assert!(with_database("host=localhost dbname=x", "t").is_err());
    }
}
