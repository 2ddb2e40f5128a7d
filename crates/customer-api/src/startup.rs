//! Builds the application from settings: pool, migrations, the service, the HTTP server.
//! Tests build it too, on port 0, against their own database.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use api_actix::idempotency::ReplayStore;
use api_actix::security;
use domain::{
    CustomerHistory, CustomerReads, CustomerSearch, CustomerService, CustomerUseCases,
    DataVersions, StatisticsSource, Storage,
};
use infra_postgres::{
    PgCustomerRepository, Pool, PoolSettings, Replicas, RoutedReads, SearchTotals,
};
use layers::{
    CachedSearch, CoalescedStatistics, IndexedSearch, SearchCache, SearchCacheCounts, SearchIndex,
};

use crate::consistency::consistency;
use crate::metrics::{Metrics, PoolGauges};
use crate::observe::observe;
use crate::outage::Outage;
use crate::replay::{PgReplayStore, purge_replays_every};
use crate::settings::Settings;

/// How long to wait before the first retry of the migrations while the database is
/// unreachable; doubled after each failure up to [`MIGRATION_RETRY_MAX`].
const MIGRATION_RETRY: Duration = Duration::from_secs(2);
const MIGRATION_RETRY_MAX: Duration = Duration::from_secs(60);

/// How often expired idempotency records are removed.
const REPLAY_PURGE: Duration = Duration::from_secs(600);
/// How often events older than the retention are removed.
const EVENT_PURGE: Duration = Duration::from_secs(600);

/// How often the latency samples are folded into their histograms between scrapes.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// The `application_name` of the connections that serve requests; each background job's
/// are named `customer-api: <job>`, so that `pg_stat_activity` tells them apart.
pub const APPLICATION_NAME: &str = "customer-api";
/// The name of the replica monitor's connections, to the primary and to each replica.
const MONITOR_NAME: &str = "customer-api: replica monitor";

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Binds the listener and builds the server; it does not fail when the database is
    /// down: requests then answer 503 and pending migrations are retried in the background.
    ///
    /// # Errors
    /// When the address cannot be bound or the pool settings are invalid.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let pool_settings = settings.database.pool();
        if settings.database.migrate_on_start {
            // A pool of its own, dropped once the migrations are applied.
            migrate_or_retry_in_background(background_pool(&pool_settings, "migrating")?).await;
        }
        spawn_background_jobs(settings, &pool_settings)?;
        let workers = settings.server.worker_count();
        let pools = WorkerPools::build(&pool_settings, workers)?;
        let replicas = worker_replicas(settings, workers)?;
        let layers = Layers::from_settings(settings);
        if let Some(index) = &layers.index {
            let source =
                PgCustomerRepository::new(background_pool(&pool_settings, "search index")?);
            let every = Duration::from_millis(settings.search.index_refresh_ms);
            tokio::spawn(Arc::clone(index).maintain(source, every));
        }
        let services: Vec<_> = pools
            .0
            .iter()
            .enumerate()
            .map(|(worker, pool)| {
                let replicas = replicas.as_ref().map(|each| each[worker].clone());
                api_actix::service_data(layers.service(pool, replicas))
            })
            .collect();
        let routing = replicas.is_some();
        let replica_status = web::Data::new(replicas.and_then(|each| each.into_iter().next()));

        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!("binding {}:{}", settings.server.host, settings.server.port)
            })?;
        let port = listener.local_addr()?.port();
        let metrics = web::Data::new(Metrics::default());
        tokio::spawn(upkeep_every(metrics.clone(), METRICS_UPKEEP));
        let worker_pools: Vec<web::Data<Pool>> = pools
            .0
            .iter()
            .map(|pool| web::Data::new(pool.clone()))
            .collect();
        let pools = web::Data::new(pools);
        let search_cache = web::Data::new(layers.search_cache.clone());
        let search_index = web::Data::new(layers.index.clone());
        let api = api_settings(settings);
        let replays: Vec<web::Data<dyn ReplayStore>> = pools
            .0
            .iter()
            .map(|pool| {
                let store: Arc<dyn ReplayStore> = Arc::new(
                    PgReplayStore::new(pool.clone()).forgetting_in(layers.search_cache.clone()),
                );
                web::Data::from(store)
            })
            .collect();
        // Built once, outside the factory: every worker shares one rate limiter.
        let security = web::Data::new(settings.security().context("configuring access control")?);
        tracing::info!(
            authentication = settings.auth.enabled,
            rate_limit = settings.rate_limit.enabled,
            shared_rate_limit =
                settings.rate_limit.enabled && settings.rate_limit.redis_url.is_set(),
            cors = !settings.cors.allowed_origins.is_empty(),
            "access control configured"
        );
        let next_worker = Arc::new(AtomicUsize::new(0));
        let server = HttpServer::new(move || {
            // The factory runs on each worker's thread: each takes a service over a pool of
            // its own, so its connections' tasks run on its own runtime.
            let worker = next_worker.fetch_add(1, Ordering::Relaxed) % services.len();
            // The last wrap runs first: observe stays outermost so refusals are logged and
            // counted too; headers go on every answer, CORS answers preflights before auth.
            App::new()
                .wrap(Condition::new(routing, from_fn(consistency)))
                .wrap(from_fn(security::access_control))
                .wrap(from_fn(security::cors))
                .wrap(from_fn(security::security_headers))
                .wrap(from_fn(observe))
                .app_data(security.clone())
                .app_data(metrics.clone())
                .app_data(pools.clone())
                .app_data(search_cache.clone())
                .app_data(search_index.clone())
                .app_data(replica_status.clone())
                .app_data(services[worker].clone())
                .app_data(replays[worker].clone())
                .app_data(worker_pools[worker].clone())
                .route("/metrics", web::get().to(metrics_endpoint))
                .configure(api_actix::configure(api))
        })
        .workers(workers)
        .listen(listener)?
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    /// The port the server listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then lets in-flight requests finish.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// A pool of one connection for one background job, named after it (see
/// [`APPLICATION_NAME`]).
fn background_pool(pool_settings: &PoolSettings, job: &str) -> anyhow::Result<Pool> {
    infra_postgres::build_pool(&PoolSettings {
        max_size: 1,
        application_name: format!("{APPLICATION_NAME}: {job}"),
        ..pool_settings.clone()
    })
    .context("building the database pool")
}

/// Starts the upkeep that runs beside the requests, each job on a connection of its own:
/// compacting the statistics' counters, purging expired idempotency records and, with a
/// retention, old change events.
fn spawn_background_jobs(settings: &Settings, pool_settings: &PoolSettings) -> anyhow::Result<()> {
    if settings.database.counts_compact_interval_secs > 0 {
        let every = Duration::from_secs(settings.database.counts_compact_interval_secs);
        tokio::spawn(compact_counts_every(
            background_pool(pool_settings, "folding counters")?,
            every,
        ));
    }
    tokio::spawn(purge_replays_every(
        background_pool(pool_settings, "purging idempotency records")?,
        settings.idempotency.ttl_hours,
        REPLAY_PURGE,
    ));
    if settings.events.retention_days > 0 {
        tokio::spawn(crate::history::purge_events_every(
            background_pool(pool_settings, "purging events")?,
            settings.events.retention_days,
            EVENT_PURGE,
        ));
    }
    Ok(())
}

/// What the HTTP adapter needs to know of the settings.
fn api_settings(settings: &Settings) -> api_actix::ApiSettings {
    api_actix::ApiSettings {
        max_body_bytes: settings.server.max_body_bytes,
        authentication: settings.auth.enabled,
        require_if_match: settings.http.require_if_match,
        idempotency_ttl_hours: settings.idempotency.ttl_hours,
        idempotency_wait_for_running: settings.idempotency.wait_for_running,
        feed_max_wait_secs: settings.events.max_wait_secs,
        create_status: settings.api.create_status,
    }
}

/// Applies pending migrations now if the database answers; otherwise keeps trying in the
/// background so the service starts (and reports 503) while PostgreSQL is down.
async fn migrate_or_retry_in_background(pool: Pool) {
    match infra_postgres::run_migrations(&pool).await {
        Ok(()) => tracing::info!("database migrations are up to date"),
        Err(err) => {
            tracing::warn!(error = %err, "could not apply migrations yet; retrying in the background");
            tokio::spawn(async move {
                let mut wait = MIGRATION_RETRY;
                loop {
                    tokio::time::sleep(wait).await;
                    match infra_postgres::run_migrations(&pool).await {
                        Ok(()) => {
                            tracing::info!("database migrations are up to date");
                            break;
                        }
                        // Warned once above; each attempt is bounded by the pool's connect
                        // timeout and the maintenance round-trip bound.
                        Err(err) => tracing::debug!(error = %err, "migrations still failing"),
                    }
                    wait = (wait * 2).min(MIGRATION_RETRY_MAX);
                }
            });
        }
    }
}

/// Folds the aggregates' slots (see `infra_postgres::compact_counts`) every `every`, for as
/// long as the process runs; a failure (the database down) is logged and tried again later.
async fn compact_counts_every(pool: Pool, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    let mut outage = Outage::of("folding the statistics counters");
    loop {
        ticks.tick().await;
        match infra_postgres::compact_counts(&pool).await {
            Ok(folded) => {
                outage.succeeded();
                tracing::debug!(folded, "statistics counters folded");
            }
            Err(error) => {
                outage.failed(&error);
            }
        }
    }
}

/// Folds the recorded latencies into the histograms, so that they take bounded memory
/// however rarely `/metrics` is scraped.
async fn upkeep_every(metrics: web::Data<Metrics>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        metrics.run_upkeep();
    }
}

/// With `[database] replica_urls`: each worker's view of the replicas (pools of its own,
/// like [`WorkerPools`], and the state they all share), and the monitor that measures them,
/// spawned with connections of its own.
fn worker_replicas(settings: &Settings, workers: usize) -> anyhow::Result<Option<Vec<Replicas>>> {
    let Some(routing) = settings.database.replicas() else {
        return Ok(None);
    };
    let database = &settings.database;
    let pools_of = |max_size: usize, application_name: &str| -> anyhow::Result<Vec<Pool>> {
        database
            .replica_urls
            .iter()
            .map(|url| {
                infra_postgres::build_pool(&PoolSettings {
                    max_size,
                    application_name: application_name.to_owned(),
                    ..database.replica_pool(url)
                })
                .context("building a replica's pool")
            })
            .collect()
    };
    let monitor = Replicas::new(pools_of(1, MONITOR_NAME)?, routing);
    let primary = infra_postgres::build_pool(&PoolSettings {
        max_size: 1,
        application_name: MONITOR_NAME.to_owned(),
        ..database.pool()
    })
    .context("building the database pool")?;
    tokio::spawn(monitor.clone().monitor(primary));
    tracing::info!(
        replicas = database.replica_urls.len(),
        "reads go to replicas"
    );
    let per_worker = database.max_connections.div_ceil(workers.max(1));
    (0..workers.max(1))
        .map(|_| Ok(monitor.with_pools(pools_of(per_worker, APPLICATION_NAME)?)))
        .collect::<anyhow::Result<_>>()
        .map(Some)
}

/// One pool per HTTP worker.
///
/// A connection's task runs on the runtime that opened it. With one pool for all workers,
/// half of the queries were handed from one worker's thread to the other's and back (two
/// wake-ups per query); a worker that only uses connections it opened itself never does.
struct WorkerPools(Vec<Pool>);

impl std::fmt::Debug for WorkerPools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("WorkerPools").field(&self.0.len()).finish()
    }
}

impl WorkerPools {
    /// `workers` pools sharing `settings.max_size` connections between them. No connection
    /// is opened here: each worker opens its own on first use.
    ///
    /// They share one wake-up of the feed's readers: a reader waiting on one worker's pool
    /// is woken by a write through another's.
    fn build(settings: &PoolSettings, workers: usize) -> anyhow::Result<Self> {
        let per_worker = settings.max_size.div_ceil(workers.max(1));
        let mut pools: Vec<Pool> = Vec::with_capacity(workers.max(1));
        for _ in 0..workers.max(1) {
            let pool = infra_postgres::build_pool(&PoolSettings {
                max_size: per_worker,
                ..settings.clone()
            })
            .context("building the database pool")?;
            pools.push(match pools.first() {
                Some(first) => pool.sharing_wakeups_with(first),
                None => pool,
            });
        }
        Ok(Self(pools))
    }

    /// The pools' sizes and waiters, summed.
    fn gauges(&self) -> PoolGauges {
        self.0
            .iter()
            .map(infra_postgres::pool_status)
            .fold(PoolGauges::default(), |sum, status| PoolGauges {
                max_size: sum.max_size + status.max_size,
                size: sum.size + status.size,
                available: sum.available + status.available,
                waiting: sum.waiting + status.waiting,
            })
    }
}

async fn metrics_endpoint(
    metrics: web::Data<Metrics>,
    pools: web::Data<WorkerPools>,
    pool: web::Data<Pool>,
    search_cache: web::Data<Option<Arc<SearchCache>>>,
    search_index: web::Data<Option<Arc<SearchIndex>>>,
    replicas: web::Data<Option<Replicas>>,
    security: web::Data<security::Security>,
) -> HttpResponse {
    // With the cache off the counters stay, at zero.
    let search_cache = search_cache
        .as_ref()
        .as_ref()
        .map_or_else(SearchCacheCounts::default, |cache| cache.counts());
    // Left out (and logged) when the database does not answer: the other metrics still do.
    let feed_lag = match infra_postgres::feed_lag(&pool).await {
        Ok(lag) => Some(lag),
        Err(error) => {
            tracing::warn!(%error, "could not measure the event feed's lag");
            None
        }
    };
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(
            pools.gauges(),
            search_cache,
            search_index.as_ref().as_ref().map(|index| index.counts()),
            feed_lag,
            replicas.as_ref().as_ref().map(Replicas::status),
            security.shared_limit_counts(),
        ))
}

/// The speed layers the settings turn on, shared by every worker: each a decorator around
/// the one storage port it concerns, left out entirely when off (then the worker's service talks to the
/// adapter directly, with the same answers).
struct Layers {
    /// `[search] cache_customers` above 0: search results reused while the data version is
    /// the same.
    search_cache: Option<Arc<SearchCache>>,
    /// `[statistics] coalesce`: one overview computation at a time for the process,
    /// whichever worker's connection runs it.
    statistics: Option<Arc<layers::StatisticsCoalescer>>,
    /// `[search] exact_total_up_to`: how exact a search's total is.
    totals: SearchTotals,
    /// `[search] index`: searches answered from memory, maintained by a background job.
    index: Option<Arc<SearchIndex>>,
}

impl Layers {
    fn from_settings(settings: &Settings) -> Self {
        Self {
            search_cache: (settings.search.cache_customers > 0)
                .then(|| Arc::new(SearchCache::new(settings.search.cache_customers))),
            statistics: settings
                .statistics
                .coalesce
                .then(CoalescedStatistics::<PgCustomerRepository>::coalescer),
            totals: SearchTotals::exact_up_to(settings.search.exact_total_up_to),
            index: settings.search.index.then(SearchIndex::new),
        }
    }

    /// The use cases over `pool` (and `replicas` for the reads of requests), each layer
    /// that is on in front of the one port it concerns.
    fn service(&self, pool: &Pool, replicas: Option<Replicas>) -> Arc<dyn CustomerUseCases> {
        let adapter = PgCustomerRepository::new(pool.clone()).with_search_totals(self.totals);
        let statistics: Arc<dyn StatisticsSource> = match &self.statistics {
            Some(coalescer) => Arc::new(CoalescedStatistics::new(
                adapter.clone(),
                Arc::clone(coalescer),
            )),
            None => Arc::new(adapter.clone()),
        };
        match replicas {
            Some(replicas) => {
                let reads = RoutedReads::new(adapter.clone(), replicas);
                self.over(adapter, reads, statistics)
            }
            None => self.over(adapter.clone(), adapter, statistics),
        }
    }

    /// The use cases writing through `store` and reading through `reads` (searches through
    /// the cache when it is on).
    fn over<R>(
        &self,
        store: PgCustomerRepository,
        reads: R,
        statistics: Arc<dyn StatisticsSource>,
    ) -> Arc<dyn CustomerUseCases>
    where
        R: CustomerReads + CustomerSearch + CustomerHistory + DataVersions + Clone,
    {
        let search = IndexedSearch::new(
            CachedSearch::new(reads.clone(), self.search_cache.clone()),
            store.clone(),
            self.index.clone(),
        );
        Arc::new(CustomerService::new(Storage {
            store,
            reads: reads.clone(),
            search,
            statistics,
            history: reads,
        }))
    }
}
