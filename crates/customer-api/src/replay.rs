//! The HTTP adapter's [`ReplayStore`] over PostgreSQL: a keyed write runs in one
//! [`PgTransaction`], with the use cases over that transaction's repository, and its answer
//! is stored in the same transaction (see `api_actix::idempotency`).

use std::sync::Arc;
use std::time::Duration;

use api_actix::idempotency::{ERASE_ROUTE_SUFFIX, KeyedTransaction, Recorded, ReplayStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{CustomerService, CustomerUseCases, ServiceError, Storage};
use infra_postgres::{PgTransaction, Pool, ReplayRecord};
use layers::SearchCache;

use crate::outage::Outage;

/// Replay records in the database of `pool`.
#[derive(Clone)]
pub struct PgReplayStore {
    pool: Pool,
    search_cache: Option<Arc<SearchCache>>,
}

impl std::fmt::Debug for PgReplayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgReplayStore").finish_non_exhaustive()
    }
}

impl PgReplayStore {
    pub fn new(pool: Pool) -> Self {
        Self {
            pool,
            search_cache: None,
        }
    }

    /// The search cache to empty after a keyed erasure commits (the transaction's writes
    /// bypass it; see `layers::CachedSearch` for the others).
    #[must_use]
    pub fn forgetting_in(mut self, search_cache: Option<Arc<SearchCache>>) -> Self {
        self.search_cache = search_cache;
        self
    }
}

#[async_trait]
impl ReplayStore for PgReplayStore {
    async fn begin(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<Option<Box<dyn KeyedTransaction>>, ServiceError> {
        let (transaction, repository) = PgTransaction::begin(&self.pool).await?;
        if !transaction.lock_key(scope, key).await? {
            return Ok(None);
        }
        Ok(Some(Box::new(Keyed {
            transaction,
            use_cases: Arc::new(CustomerService::new(Storage::all(repository))),
            scope: scope.to_owned(),
            key: key.to_owned(),
            search_cache: self.search_cache.clone(),
        })))
    }
}

struct Keyed {
    transaction: PgTransaction,
    use_cases: Arc<dyn CustomerUseCases>,
    scope: String,
    key: String,
    search_cache: Option<Arc<SearchCache>>,
}

#[async_trait]
impl KeyedTransaction for Keyed {
    async fn recorded(&self, since: DateTime<Utc>) -> Result<Option<Recorded>, ServiceError> {
        let found = self
            .transaction
            .find_replay(&self.scope, &self.key, since)
            .await?;
        Ok(found.map(|r| Recorded {
            fingerprint: r.fingerprint,
            status: r.status,
            headers: r.headers,
            body: r.body,
            customer_id: r.customer_id,
        }))
    }

    async fn rollback(self: Box<Self>) {
        if let Err(error) = self.transaction.rollback().await {
            tracing::warn!(%error, "could not roll back a keyed request's transaction");
        }
    }

    fn use_cases(&self) -> Arc<dyn CustomerUseCases> {
        Arc::clone(&self.use_cases)
    }

    async fn commit_with(
        self: Box<Self>,
        answer: Recorded,
        at: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let record = ReplayRecord {
            fingerprint: answer.fingerprint,
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
            customer_id: answer.customer_id,
        };
        self.transaction
            .save_replay(&self.scope, &self.key, &record, at)
            .await?;
        self.transaction.commit().await?;
        // The scope ends with the route's pattern.
        if self.scope.ends_with(ERASE_ROUTE_SUFFIX)
            && let Some(cache) = &self.search_cache
        {
            cache.forget(None);
        }
        Ok(())
    }
}

/// How many expired records one statement removes.
const PURGE_BATCH: i64 = 1000;

/// Removes records older than `ttl_hours` every `every`, in batches, until none is left.
pub async fn purge_replays_every(pool: Pool, ttl_hours: u32, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut outage = Outage::of("removing expired idempotency records");
    loop {
        ticks.tick().await;
        let cut = Utc::now() - chrono::Duration::hours(i64::from(ttl_hours));
        let mut removed = 0;
        loop {
            match infra_postgres::purge_replays(&pool, cut, PURGE_BATCH).await {
                Ok(n) => {
                    removed += n;
                    if n < PURGE_BATCH as u64 {
                        outage.succeeded();
                        break;
                    }
                }
                Err(error) => {
                    outage.failed(&error);
                    break;
                }
            }
        }
        tracing::debug!(removed, "expired idempotency records removed");
    }
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{App, test, web};
    use infra_postgres::{PgCustomerRepository, PoolSettings};

    use super::*;
    use crate::observe::observe;
    use crate::test_logs::Captured;

    const KEY: &str = "secret-key-of-jane-doe-4711";

    /// Every kind of answer a key can get, logged at the most verbose level: the key is in
    /// none of the lines (it may carry client data).
    #[actix_web::test]
    async fn no_log_line_carries_an_idempotency_key() {
        let db = test_db::TestDatabase::new().await;
        let pool = infra_postgres::build_pool(&PoolSettings::for_url(db.url())).unwrap();
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(captured.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let service: Arc<dyn CustomerUseCases> = Arc::new(CustomerService::new(Storage::all(
            PgCustomerRepository::new(pool.clone()),
        )));
        let store: Arc<dyn ReplayStore> = Arc::new(PgReplayStore::new(pool));
        let app = test::init_service(
            App::new()
                .wrap(from_fn(observe))
                .app_data(api_actix::service_data(service))
                .app_data(web::Data::from(store))
                .configure(api_actix::configure(api_actix::ApiSettings::default())),
        )
        .await;
        let create = |body: serde_json::Value, key: &str| {
            test::TestRequest::post()
                .uri("/api/v1/customers/")
                .insert_header(("Idempotency-Key", key.to_owned()))
                .set_json(body)
                .to_request()
        };
        let jane = serde_json::json!({
            "first_name": "Jane", "last_name": "Doe", "email": "jane@example.com"
        });
        let other = serde_json::json!({
            "first_name": "Jim", "last_name": "Doe", "email": "jim@example.com"
        });
        let statuses = [
            test::call_service(&app, create(jane.clone(), KEY))
                .await
                .status(),
            test::call_service(&app, create(jane, KEY)).await.status(),
            test::call_service(&app, create(other, KEY)).await.status(),
            test::call_service(&app, create(serde_json::json!({}), &format!("{KEY}\tx")))
                .await
                .status(),
        ];
        assert_eq!(statuses.map(|s| s.as_u16()), [200, 200, 422, 400]);
        let logs = captured.text();
        assert!(logs.lines().count() >= 4, "{logs}");
        assert!(!logs.contains("secret-key"), "{logs}");
    }
}
