//! The HTTP adapter's [`ReplayStore`] over PostgreSQL: a keyed write runs in one
//! [`PgTransaction`], with the use cases over that transaction's repository, and its answer
//! is stored in the same transaction (see `api_actix::idempotency`).

use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, Ordering};

use api_actix::idempotency::{KeyedTransaction, Locked, Recorded, ReplayStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    CustomerPage, CustomerSearch, CustomerService, CustomerUseCases, RepositoryError,
    RequestContext, SearchCriteria, ServiceError, Storage,
};
use infra_postgres::{
    InTransaction, KeyLock, PgCustomerRepository, PgTransaction, Pool, ReplayRecord,
};
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

    /// The search cache to empty after a keyed erasure commits (the transaction's search
    /// bypasses it; see `layers::CachedSearch` for the others).
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
        since: DateTime<Utc>,
    ) -> Result<Option<Locked>, ServiceError> {
        let (transaction, repository) = PgTransaction::begin(&self.pool).await?;
        let recorded = match transaction.lock_key(scope, key, since).await {
            Ok(KeyLock::Held(recorded)) => recorded,
            // Ended at once, not when dropped: the connection goes back now, and nothing
            // of the transaction outlives the answer.
            Ok(KeyLock::InUse) => {
                end(transaction).await;
                return Ok(None);
            }
            Err(error) => {
                end(transaction).await;
                return Err(error.into());
            }
        };
        let forget = Arc::new(AtomicBool::new(false));
        let search = ForgetOnCommit {
            inner: repository.clone(),
            asked: Arc::clone(&forget),
        };
        let storage = Storage {
            store: repository.clone(),
            reads: repository.clone(),
            search,
            statistics: repository.clone(),
            history: repository,
        };
        Ok(Some(Locked {
            transaction: Box::new(Keyed {
                transaction,
                use_cases: Arc::new(CustomerService::new(storage)),
                scope: scope.to_owned(),
                key: key.to_owned(),
                search_cache: self.search_cache.clone(),
                forget,
            }),
            recorded: recorded.map(|r| Recorded {
                fingerprint: r.fingerprint,
                status: r.status,
                headers: r.headers,
                body: r.body,
                customer_id: r.customer_id,
            }),
        }))
    }
}

/// Rolls `transaction` back now; a failure is logged (the pool then drops the connection).
async fn end(transaction: PgTransaction) {
    if let Err(error) = transaction.rollback().await {
        tracing::warn!(%error, "could not roll back a keyed request's transaction");
    }
}

/// The search of a keyed request's use cases: the transaction's own, which remembers that
/// an erasure asked for the results kept elsewhere to be forgotten; the commit does it,
/// once the erasure is visible (before, a search could keep them again).
#[derive(Clone)]
struct ForgetOnCommit {
    inner: PgCustomerRepository<InTransaction>,
    asked: Arc<AtomicBool>,
}

#[async_trait]
impl CustomerSearch for ForgetOnCommit {
    fn for_request(&self, _context: &RequestContext) -> Self {
        self.clone()
    }

    async fn search(&self, criteria: &SearchCriteria) -> Result<CustomerPage, RepositoryError> {
        self.inner.search(criteria).await
    }

    async fn forget_erased(&self) {
        self.asked.store(true, Ordering::Relaxed);
    }
}

struct Keyed {
    transaction: PgTransaction,
    use_cases: Arc<dyn CustomerUseCases>,
    scope: String,
    key: String,
    search_cache: Option<Arc<SearchCache>>,
    /// Set when the use cases erased: the search cache is emptied after the commit.
    forget: Arc<AtomicBool>,
}

#[async_trait]
impl KeyedTransaction for Keyed {
    async fn rollback(self: Box<Self>) {
        end(self.transaction).await;
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
        if self.forget.load(Ordering::Relaxed)
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
    use infra_postgres::PoolSettings;

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

    /// A keyed erasure empties the search cache once it committed, and only then; another
    /// keyed write leaves the cache as it is (its results are never reused at the version
    /// after the write, and hold nothing erased).
    #[actix_web::test]
    async fn a_keyed_erasure_empties_the_search_cache_after_its_commit() {
        use domain::{NewCustomer, Precondition};
        use layers::CachedSearch;

        let db = test_db::TestDatabase::new().await;
        let pool = infra_postgres::build_pool(&PoolSettings::for_url(db.url())).unwrap();
        let adapter = PgCustomerRepository::new(pool.clone());
        let cache = Arc::new(SearchCache::new(100));
        let service = CustomerService::new(Storage {
            store: adapter.clone(),
            reads: adapter.clone(),
            search: CachedSearch::new(adapter.clone(), Some(Arc::clone(&cache))),
            statistics: adapter.clone(),
            history: adapter,
        });
        let ann = service
            .create(NewCustomer {
                first_name: "Ann".into(),
                last_name: "Lee".into(),
                email: "ann@example.com".into(),
                ..NewCustomer::default()
            })
            .await
            .unwrap();
        let id = ann.customer_id.as_str();
        let kept = async || {
            let criteria = SearchCriteria {
                email: Some("ann@example.com".into()),
                ..SearchCriteria::default()
            };
            assert_eq!(service.search(criteria).await.unwrap().total, 1);
            assert_eq!(cache.customers_held(), 1);
        };
        let store = PgReplayStore::new(pool).forgetting_in(Some(Arc::clone(&cache)));
        let answer = || Recorded {
            fingerprint: vec![1],
            status: 200,
            headers: vec![],
            body: vec![],
            customer_id: None,
        };

        kept().await;
        let keyed = store
            .begin("deactivate", "k1", Utc::now())
            .await
            .unwrap()
            .unwrap()
            .transaction;
        keyed
            .use_cases()
            .deactivate(id, Precondition::Any)
            .await
            .unwrap();
        keyed.commit_with(answer(), Utc::now()).await.unwrap();
        assert_eq!(cache.customers_held(), 1, "not an erasure");

        kept().await;
        let keyed = store
            .begin("erase", "k2", Utc::now())
            .await
            .unwrap()
            .unwrap()
            .transaction;
        keyed.use_cases().erase(id, None).await.unwrap();
        assert_eq!(cache.customers_held(), 1, "not committed yet");
        keyed.commit_with(answer(), Utc::now()).await.unwrap();
        assert_eq!(cache.customers_held(), 0);
    }
}
