//! Fixtures the database tests of every crate share (the `test-support` feature): a test
//! database with this adapter's pool over it, and customers inserted through the
//! repository with ids no other fixture of the process uses.

#![expect(
    clippy::unwrap_used,
    reason = "fixtures for tests: a failure here is a broken test"
)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use domain::{Customer, CustomerDraft, CustomerId, CustomerStore, Username};

use crate::{PgCustomerRepository, Pool, PoolSettings, build_pool};

/// A database of its own (dropped with this value), with a small pool over it.
pub struct TestDatabase {
    pool: Pool,
    db: test_db::TestDatabase,
}

impl TestDatabase {
    /// A new database with every migration applied.
    pub async fn new() -> Self {
        Self::over(test_db::TestDatabase::new().await)
    }

    /// A new database without any migration.
    pub async fn empty() -> Self {
        Self::over(test_db::TestDatabase::empty().await)
    }

    fn over(db: test_db::TestDatabase) -> Self {
        let pool = build_pool(&test_pool_settings(db.url())).unwrap();
        Self { pool, db }
    }

    /// The database's name (`cust_test_<pid>_<nanos>_<n>`).
    pub fn name(&self) -> &str {
        self.db.name()
    }

    pub fn url(&self) -> &str {
        self.db.url()
    }

    /// A pool of up to 4 connections to this database.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The repository over [`TestDatabase::pool`].
    pub fn repository(&self) -> PgCustomerRepository {
        PgCustomerRepository::new(self.pool.clone())
    }
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

impl Drop for TestDatabase {
    /// Closes the pool before the database is dropped.
    fn drop(&mut self) {
        self.pool.close();
    }
}

/// Small pool, generous timeouts: tests run in parallel on a busy machine.
fn test_pool_settings(url: &str) -> PoolSettings {
    PoolSettings {
        max_size: 4,
        wait_timeout: Duration::from_secs(30),
        create_timeout: Duration::from_secs(30),
        statement_timeout: Duration::from_secs(60),
        ..PoolSettings::for_url(url)
    }
}

/// A customer id no other fixture in this process uses.
pub fn next_customer_id() -> CustomerId {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    CustomerId::parse(&format!(
        "CUST_{:08X}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
    .unwrap()
}

/// A username derived from the customer id, unique the same way.
pub fn username_for(id: &CustomerId) -> Username {
    Username::parse(&format!("user{}", id.as_str()[5..].to_ascii_lowercase())).unwrap()
}

/// Inserts the draft with fresh ids.
pub async fn insert(store: &impl CustomerStore, draft: &CustomerDraft) -> Customer {
    let id = next_customer_id();
    store.insert(&id, &username_for(&id), draft).await.unwrap()
}

/// Inserts `first last` with an email made from them.
pub async fn person(store: &impl CustomerStore, first: &str, last: &str) -> Customer {
    let email = format!(
        "{}.{}@example.com",
        first.to_lowercase(),
        last.to_lowercase()
    );
    insert(store, &domain::fixtures::draft(first, last, &email)).await
}
