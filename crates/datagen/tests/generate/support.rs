//! A test database with the adapter's pool and repository over it, and one fixture.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use domain::{Customer, CustomerDraft, CustomerId, CustomerStore, Email, Tags, Username};
use infra_postgres::{PgCustomerRepository, Pool, PoolSettings, build_pool};

/// A database of its own (dropped with this value), with a small pool over it.
pub struct TestDatabase {
    pool: Pool,
    db: test_db::TestDatabase,
}

impl TestDatabase {
    /// A new database with every migration applied.
    pub async fn new() -> Self {
        let db = test_db::TestDatabase::new().await;
        let pool = build_pool(&test_pool_settings(db.url())).unwrap();
        Self { pool, db }
    }

    pub fn url(&self) -> &str {
        self.db.url()
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn repository(&self) -> PgCustomerRepository {
        PgCustomerRepository::new(self.pool.clone())
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

/// Inserts `first last` with an email made from them and ids no other call in this process
/// uses.
pub async fn person(repo: &PgCustomerRepository, first: &str, last: &str) -> Customer {
    let email = format!(
        "{}.{}@example.com",
        first.to_lowercase(),
        last.to_lowercase()
    );
    let draft = CustomerDraft {
        first_name: first.into(),
        last_name: last.into(),
        email: Email::parse(&email).unwrap(),
        phone: None,
        address_line1: None,
        address_line2: None,
        city: None,
        state: None,
        postal_code: None,
        country: None,
        date_of_birth: None,
        gender: None,
        company_name: None,
        tax_id: None,
        preferred_language: None,
        marketing_emails: true,
        marketing_sms: false,
        notes: None,
        tags: Tags::default(),
    };
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let id = CustomerId::parse(&format!(
        "CUST_{:08X}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
    .unwrap();
    let username =
        Username::parse(&format!("user{}", id.as_str()[5..].to_ascii_lowercase())).unwrap();
    repo.insert(&id, &username, &draft).await.unwrap()
}
