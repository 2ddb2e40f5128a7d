//! Per-test databases: each test gets a database of its own on the server `DATABASE_URL`
//! names, for the repository tests, the generator's tests and the end-to-end tests. A
//! dev-dependency only, as crates.io's `crates_io_test_db`.
//!
//! [`TestDatabase::new`] clones a fresh database from a template that already has every
//! migration applied (`CREATE DATABASE .. TEMPLATE` takes tens of milliseconds, migrating
//! takes a second), so each test owns its data and tests run in parallel, also as separate
//! processes under nextest. The template's name carries a hash of the migrations, so
//! changing a migration builds a new one. Dropping the `TestDatabase` drops its database;
//! what a crashed run left behind is swept when the next one starts.
//!
//! The crate knows no adapter: a test builds its pool or client from [`TestDatabase::url`].
//! That keeps it usable by `infra-postgres`'s own unit tests without a dependency cycle.

mod admin;
mod citus;
pub use citus::CITUS_VAR;
mod horizon;
pub use horizon::{HORIZON_WAIT, horizon_holders};
mod migrations;
mod names;
mod sweep;

use std::sync::{Arc, Mutex, PoisonError};

use diesel::connection::InstrumentationEvent;
use diesel_async::{AsyncConnection, AsyncPgConnection};

/// The environment variable naming the server tests may create databases on.
pub const DATABASE_URL_VAR: &str = "DATABASE_URL";

/// A database that exists for one test and is dropped with this value.
pub struct TestDatabase {
    name: String,
    url: String,
    server_url: String,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl TestDatabase {
    /// A new database with every migration applied.
    ///
    /// # Panics
    /// When `DATABASE_URL` is unset or the server refuses; a test cannot go on without it.
    pub async fn new() -> Self {
        Self::create(admin::Source::MigratedTemplate).await
    }

    /// A new database without any migration (for testing the migrations themselves).
    ///
    /// # Panics
    /// As [`TestDatabase::new`].
    pub async fn empty() -> Self {
        Self::create(admin::Source::Empty).await
    }

    async fn create(source: admin::Source) -> Self {
        let server_url = server_url();
        let name = names::unique_test_name();
        let distributed = citus::enabled();
        // On a Citus cluster the service migrates the database itself (see `citus`).
        let source = if distributed {
            admin::Source::Empty
        } else {
            source
        };
        if let Err(err) = admin::create_database(&server_url, &name, source).await {
            panic!("cannot create test database {name} on {DATABASE_URL_VAR}: {err}");
        }
        if distributed && let Err(err) = citus::prepare(&server_url, &name).await {
            panic!("cannot make test database {name} a Citus database: {err}");
        }
        let url = names::with_database(&server_url, &name)
            .unwrap_or_else(|err| panic!("{DATABASE_URL_VAR}: {err}"));
        Self {
            name,
            url,
            server_url,
        }
    }

    /// The database's name (`cust_test_<pid>_<nanos>_<n>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A URL connecting to this database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    /// Drops the database from a fresh thread with its own runtime, so it works whether or
    /// not the test's runtime is still running, and waits for it so the process cannot
    /// exit first. `FORCE` ends the sessions still connected to it (a test's pool).
    fn drop(&mut self) {
        let (server_url, name) = (self.server_url.clone(), self.name.clone());
        let outcome =
            std::thread::spawn(move || admin::drop_database_blocking(&server_url, &name)).join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!(
                "warning: test database {} was not dropped: {err}",
                self.name
            ),
            Err(_) => eprintln!("warning: dropping test database {} panicked", self.name),
        }
    }
}

/// The server URL from `DATABASE_URL`.
///
/// # Panics
/// When it is unset or empty, naming the command that provides one.
pub fn server_url() -> String {
    let url = std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|url| !url.is_empty());
    url.unwrap_or_else(|| {
        panic!(
            "{DATABASE_URL_VAR} is not set: these tests need a PostgreSQL server where they may \
             create databases. Run them with `make test` (which starts a project-local server), \
             or set {DATABASE_URL_VAR}=postgres://user@host:port/postgres"
        )
    })
}

/// Statements a connection runs, as the SQL diesel sent.
#[derive(Debug, Clone, Default)]
pub struct Statements {
    /// Every statement started.
    pub started: Vec<String>,
    /// The statements prepared and kept in the connection's cache.
    pub cached: Vec<String>,
}

/// Records the statements `conn` runs and caches from now on.
pub fn record_statements(conn: &mut AsyncPgConnection) -> Arc<Mutex<Statements>> {
    let seen = Arc::new(Mutex::new(Statements::default()));
    let sink = Arc::clone(&seen);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        let mut seen = sink.lock().unwrap_or_else(PoisonError::into_inner);
        match event {
            InstrumentationEvent::StartQuery { query, .. } => seen.started.push(query.to_string()),
            InstrumentationEvent::CacheQuery { sql, .. } => seen.cached.push(sql.to_owned()),
            _ => {}
        }
    });
    seen
}
