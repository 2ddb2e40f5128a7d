//! Builds the application from settings: pool, migrations, the service, the HTTP server.
//! Tests build it too, on port 0, against their own database.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use api_actix::security;
use domain::{CustomerService, CustomerUseCases};
use infra_postgres::{PgCustomerRepository, Pool};

use crate::metrics::{Metrics, PoolGauges};
use crate::observe::observe;
use crate::settings::Settings;

/// How long to wait between migration attempts while the database is unreachable.
const MIGRATION_RETRY: Duration = Duration::from_secs(2);

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
        let pool = infra_postgres::build_pool(&settings.database.pool())
            .context("building the database pool")?;
        if settings.database.migrate_on_start {
            migrate_or_retry_in_background(pool.clone()).await;
        }
        let service: Arc<dyn CustomerUseCases> = Arc::new(
            CustomerService::new(PgCustomerRepository::new(pool.clone()))
                .with_statistics_ttl(Duration::from_millis(settings.statistics.cache_ttl_ms)),
        );

        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!("binding {}:{}", settings.server.host, settings.server.port)
            })?;
        let port = listener.local_addr()?.port();
        let metrics = web::Data::new(Metrics::default());
        let pool_data = web::Data::new(pool);
        let api = api_actix::ApiSettings {
            max_body_bytes: settings.server.max_body_bytes,
        };
        let use_cases = api_actix::service_data(service);
        // Built once, outside the factory: every worker shares one rate limiter.
        let security = web::Data::new(settings.security().context("configuring access control")?);
        tracing::info!(
            authentication = settings.auth.enabled,
            rate_limit = settings.rate_limit.enabled,
            cors = !settings.cors.allowed_origins.is_empty(),
            "access control configured"
        );
        let mut server = HttpServer::new(move || {
            // The last wrap runs first: observe stays outermost so refusals are logged and
            // counted too; headers go on every answer, CORS answers preflights before auth.
            App::new()
                .wrap(from_fn(security::access_control))
                .wrap(from_fn(security::cors))
                .wrap(from_fn(security::security_headers))
                .wrap(from_fn(observe))
                .app_data(security.clone())
                .app_data(metrics.clone())
                .app_data(pool_data.clone())
                .app_data(use_cases.clone())
                .route("/metrics", web::get().to(metrics_endpoint))
                .configure(api_actix::configure(api))
        })
        .listen(listener)?
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
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

/// Applies pending migrations now if the database answers; otherwise keeps trying in the
/// background so the service starts (and reports 503) while PostgreSQL is down.
async fn migrate_or_retry_in_background(pool: Pool) {
    match infra_postgres::run_migrations(&pool).await {
        Ok(()) => tracing::info!("database migrations are up to date"),
        Err(err) => {
            tracing::warn!(error = %err, "could not apply migrations yet; retrying in the background");
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(MIGRATION_RETRY).await;
                    match infra_postgres::run_migrations(&pool).await {
                        Ok(()) => {
                            tracing::info!("database migrations are up to date");
                            break;
                        }
                        Err(err) => tracing::warn!(error = %err, "migrations still failing"),
                    }
                }
            });
        }
    }
}

async fn metrics_endpoint(metrics: web::Data<Metrics>, pool: web::Data<Pool>) -> HttpResponse {
    let status = infra_postgres::pool_status(&pool);
    let gauges = PoolGauges {
        max_size: status.max_size,
        size: status.size,
        available: status.available,
        waiting: status.waiting,
    };
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(gauges))
}
