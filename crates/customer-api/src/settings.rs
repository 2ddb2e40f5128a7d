//! Layered configuration: compiled-in defaults, then `config/default.toml` and
//! `config/{APP_ENV}.toml` from the config directory, then environment variables
//! (`APP__SERVER__PORT=9000`; `DATABASE_URL` as a fallback for the database URL).

mod security;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

pub use security::{AuthSettings, CorsSettings, RateLimitSettings, Secret};

/// The defaults every build carries, so the binary runs with no file beside it.
const BUILT_IN_DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Which environment file is layered over the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

impl AppEnv {
    /// Reads `APP_ENV` (default `development`).
    ///
    /// # Errors
    /// When `APP_ENV` names no known environment.
    pub fn from_env() -> anyhow::Result<Self> {
        match std::env::var("APP_ENV").as_deref().unwrap_or("development") {
            "development" | "dev" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" | "prod" => Ok(Self::Production),
            other => anyhow::bail!("APP_ENV={other:?} is not one of development, test, production"),
        }
    }

    fn file_stem(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// Every setting of the service.
///
/// Each field's own bounds are declared with garde's rules below; the sections whose rules
/// span several fields (authentication, rate limits, CORS) check themselves.
#[derive(Debug, Clone, Deserialize, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[garde(dive)]
    pub server: ServerSettings,
    #[garde(dive)]
    pub database: DatabaseSettings,
    #[garde(skip)]
    pub telemetry: TelemetrySettings,
    #[garde(skip)]
    pub auth: AuthSettings,
    #[garde(skip)]
    pub rate_limit: RateLimitSettings,
    #[garde(skip)]
    pub cors: CorsSettings,
    #[garde(dive)]
    pub search: SearchSettings,
    #[garde(skip)]
    pub statistics: StatisticsSettings,
    #[garde(skip)]
    pub http: HttpSettings,
    #[garde(skip)]
    pub api: ApiSection,
    #[garde(dive)]
    pub idempotency: IdempotencySettings,
    #[garde(dive)]
    pub events: EventSettings,
}

/// The change history.
#[derive(Debug, Clone, Deserialize, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct EventSettings {
    /// How long events are kept, in days (at most a hundred years); 0 keeps them forever.
    #[garde(range(max = 36_500))]
    pub retention_days: u32,
    /// The longest a feed request holds an empty answer, in seconds (at most 30).
    #[garde(range(max = 30))]
    pub max_wait_secs: u64,
}

/// Answers where deployments may differ.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// The status a create answers with: 200, as the original service, or 201.
    pub create_status: api_actix::settings::CreateStatus,
}

/// HTTP semantics beyond the original service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Single-customer writes without `If-Match` answer 428.
    pub require_if_match: bool,
}

/// Requests with an `Idempotency-Key`.
#[derive(Debug, Clone, Deserialize, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct IdempotencySettings {
    /// How long an answer is replayed, in hours (at most ten years).
    #[garde(range(min = 1, max = 87_600))]
    pub ttl_hours: u32,
    /// A repeat waits for the first request instead of answering 409.
    #[garde(skip)]
    pub wait_for_running: bool,
}

/// The statistics overview.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatisticsSettings {
    /// Overviews asked while one is computed share the next computation (`layers::Coalescer`).
    pub coalesce: bool,
}

/// The search endpoint.
#[derive(Debug, Clone, Deserialize, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    /// How many customers the search results reused while the database has not changed
    /// may hold in all (about a kilobyte each; 0 leaves the cache out: `layers::CachedSearch`).
    #[garde(skip)]
    pub cache_customers: usize,
    /// Up to how many matches a search's total is counted exactly (1 to 1,000,000); above,
    /// it is estimated (`infra_postgres::SearchTotals`).
    #[garde(range(min = 1, max = 1_000_000))]
    pub exact_total_up_to: u32,
    /// Searches answered from an index in memory (`layers::SearchIndex`).
    #[garde(skip)]
    pub index: bool,
    /// How often the index reads the changes when no search asks.
    #[garde(range(min = 10))]
    pub index_refresh_ms: u64,
}

/// The HTTP listener.
#[derive(Debug, Clone, Deserialize, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    #[garde(custom(not_blank))]
    pub host: String,
    /// 0 picks a free port (tests).
    #[garde(skip)]
    pub port: u16,
    /// 0 means one worker per core.
    #[garde(skip)]
    pub workers: usize,
    #[garde(range(min = 1024))]
    pub max_body_bytes: usize,
    #[garde(skip)]
    pub shutdown_timeout_secs: u64,
}

/// The PostgreSQL connection pool.
#[derive(Debug, Clone, Deserialize, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    #[garde(custom(not_blank))]
    pub url: String,
    /// The service needs one connection for a request and one for the background work.
    #[garde(range(min = 2))]
    pub max_connections: usize,
    #[garde(skip)]
    pub wait_timeout_ms: u64,
    #[garde(skip)]
    pub connect_timeout_ms: u64,
    #[garde(skip)]
    pub statement_timeout_ms: u64,
    /// How much longer than the statement timeout the service waits for an answer.
    #[garde(skip)]
    pub round_trip_margin_ms: u64,
    /// The round-trip limit of work without the statement timeout.
    #[garde(range(min = 1000))]
    pub maintenance_timeout_ms: u64,
    #[garde(range(min = 1000))]
    pub keepalive_idle_ms: u64,
    /// How long a session may sit idle inside a transaction; 0 never ends it.
    #[garde(skip)]
    pub idle_in_transaction_timeout_ms: u64,
    /// The planner's cost of a random page read in the service's sessions; 0 keeps the
    /// server's.
    #[garde(skip)]
    pub random_page_cost: f64,
    #[garde(skip)]
    pub migrate_on_start: bool,
    /// `false` when `url` is a transaction-mode pooler (PgBouncer): nothing is kept prepared
    /// and every call runs in a transaction of its own.
    #[garde(skip)]
    pub prepared_statements: bool,
    /// Streaming replicas that serve reads (`postgres://...` each); empty: the primary serves
    /// everything.
    #[garde(skip)]
    pub replica_urls: Vec<String>,
    /// How long a read with a consistency token waits for a replica to replay past it
    /// before the primary serves it.
    #[garde(skip)]
    pub replica_wait_ms: u64,
    /// The largest measured staleness of a replica that serves reads without a token.
    #[garde(skip)]
    pub max_replica_lag_ms: u64,
    /// How often the replicas' replay positions and staleness are measured.
    #[garde(range(min = 1))]
    pub replica_check_ms: u64,
    /// How often the aggregates' slots are folded into one row per group; 0 never.
    #[garde(skip)]
    pub counts_compact_interval_secs: u64,
}

/// garde's rule for a text setting that must say something.
fn not_blank(value: &str, _context: &()) -> garde::Result {
    if value.trim().is_empty() {
        return Err(garde::Error::new("must not be empty"));
    }
    Ok(())
}

/// Log format and level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    pub format: LogFormat,
    pub level: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl ServerSettings {
    /// HTTP workers to run: `workers`, or one per core when 0.
    pub fn worker_count(&self) -> usize {
        match self.workers {
            0 => std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            n => n,
        }
    }
}

impl DatabaseSettings {
    /// The pool settings the PostgreSQL adapter takes.
    pub fn pool(&self) -> infra_postgres::PoolSettings {
        infra_postgres::PoolSettings {
            url: self.url.clone(),
            max_size: self.max_connections,
            wait_timeout: Duration::from_millis(self.wait_timeout_ms),
            create_timeout: Duration::from_millis(self.connect_timeout_ms),
            statement_timeout: Duration::from_millis(self.statement_timeout_ms),
            idle_in_transaction_timeout: Duration::from_millis(self.idle_in_transaction_timeout_ms),
            random_page_cost: (self.random_page_cost > 0.0).then_some(self.random_page_cost),
            prepared_statements: self.prepared_statements,
            round_trip_margin: Duration::from_millis(self.round_trip_margin_ms),
            maintenance_timeout: Duration::from_millis(self.maintenance_timeout_ms),
            keepalive_idle: Duration::from_millis(self.keepalive_idle_ms),
            application_name: crate::startup::APPLICATION_NAME.to_owned(),
        }
    }
}

impl DatabaseSettings {
    /// The routing of reads to replicas; `None` without replicas.
    pub fn replicas(&self) -> Option<infra_postgres::ReplicaSettings> {
        (!self.replica_urls.is_empty()).then(|| infra_postgres::ReplicaSettings {
            wait: Duration::from_millis(self.replica_wait_ms),
            max_lag: Duration::from_millis(self.max_replica_lag_ms),
            check_every: Duration::from_millis(self.replica_check_ms),
        })
    }

    /// The pool settings of replica `url`: the primary's, to another server.
    pub fn replica_pool(&self, url: &str) -> infra_postgres::PoolSettings {
        infra_postgres::PoolSettings {
            url: url.to_owned(),
            ..self.pool()
        }
    }
}

impl Settings {
    /// Loads the settings for `APP_ENV` from `APP_CONFIG_DIR` (default `./config`) and the
    /// environment.
    ///
    /// # Errors
    /// When a file is malformed, a value has the wrong type (the message names the key), or
    /// a value is out of range.
    pub fn load() -> anyhow::Result<Self> {
        let dir = std::env::var_os("APP_CONFIG_DIR")
            .map_or_else(|| PathBuf::from("config"), PathBuf::from);
        let env = AppEnv::from_env()?;
        let vars: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(&dir, env, &vars)
    }

    /// Loads from an explicit directory, environment and variable list (for tests).
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_from(
        dir: &std::path::Path,
        env: AppEnv,
        vars: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let app_vars: config::Map<String, String> = vars
            .iter()
            .filter(|(k, _)| k.starts_with("APP__"))
            .cloned()
            .collect();
        let mut builder = Config::builder()
            .add_source(File::from_str(BUILT_IN_DEFAULTS, FileFormat::Toml))
            .add_source(File::from(dir.join("default.toml")).required(false))
            .add_source(File::from(dir.join(format!("{}.toml", env.file_stem()))).required(false));
        // DATABASE_URL is what most tools export; APP__DATABASE__URL still wins over it.
        let app_url_set = app_vars.contains_key("APP__DATABASE__URL");
        if let Some((_, url)) = vars
            .iter()
            .find(|(k, _)| k == "DATABASE_URL" && !app_url_set)
        {
            builder = builder.set_override("database.url", url.as_str())?;
        }
        let settings: Self = builder
            .add_source(
                Environment::with_prefix("APP")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("cors.allowed_origins")
                    .with_list_parse_key("database.replica_urls")
                    .source(Some(app_vars)),
            )
            .build()
            .context("reading configuration")?
            .try_deserialize()
            .context("invalid configuration")?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        // Every broken bound at once, one per line: `database.max_connections: lower than 2`.
        garde::Validate::validate(self)
            .map_err(|report| anyhow::anyhow!("invalid configuration:\n{report}"))?;
        anyhow::ensure!(
            self.database.prepared_statements || !self.database.migrate_on_start,
            "invalid configuration: database.prepared_statements = false (a transaction-mode \
             pooler) needs database.migrate_on_start = false: migrations hold a session of \
             their own, so run `customer-api migrate` against PostgreSQL itself"
        );
        self.auth.validate()?;
        self.rate_limit.validate()?;
        self.cors.validate()?;
        Ok(())
    }

    /// The HTTP adapter's access control: authentication, rate limits and CORS.
    ///
    /// # Errors
    /// When the authentication key cannot be read or used.
    pub fn security(&self) -> anyhow::Result<api_actix::security::Security> {
        security::security(&self.auth, &self.rate_limit, &self.cors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn repo_config() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
    }

    #[test]
    fn defaults_load_with_no_files_and_no_variables() {
        let s = Settings::load_from(
            std::path::Path::new("/nonexistent"),
            AppEnv::Development,
            &[],
        )
        .unwrap();
        assert_eq!(s.server.port, 8000);
        assert_eq!(s.server.max_body_bytes, 65536);
        assert_eq!(s.telemetry.format, LogFormat::Pretty);
    }

    #[test]
    fn the_environment_file_overrides_the_defaults() {
        let secret = vars(&[("APP__AUTH__HS256_SECRET", SECRET)]);
        let s = Settings::load_from(&repo_config(), AppEnv::Production, &secret).unwrap();
        assert_eq!(s.server.host, "0.0.0.0");
        assert_eq!(s.telemetry.format, LogFormat::Json);
    }

    #[test]
    fn an_app_variable_overrides_a_nested_key() {
        let s = Settings::load_from(
            &repo_config(),
            AppEnv::Development,
            &vars(&[("APP__SERVER__PORT", "9000")]),
        )
        .unwrap();
        assert_eq!(s.server.port, 9000);
    }

    #[test]
    fn a_create_answers_200_unless_configured_for_201_and_nothing_else_is_taken() {
        let load = |pairs: &[(&str, &str)]| {
            Settings::load_from(&repo_config(), AppEnv::Development, &vars(pairs))
        };
        let default = load(&[]).unwrap();
        assert_eq!(
            default.api.create_status,
            api_actix::settings::CreateStatus::Ok
        );
        let created = load(&[("APP__API__CREATE_STATUS", "201")]).unwrap();
        assert_eq!(
            created.api.create_status,
            api_actix::settings::CreateStatus::Created
        );
        let refused = load(&[("APP__API__CREATE_STATUS", "202")]).unwrap_err();
        let message = format!("{refused:#}");
        assert!(
            message.contains("create_status") && message.contains("200"),
            "{message}"
        );
    }

    #[test]
    fn database_url_is_used_but_app_database_url_wins() {
        let only = vars(&[("DATABASE_URL", "postgres://a@h/x")]);
        let s = Settings::load_from(&repo_config(), AppEnv::Development, &only).unwrap();
        assert_eq!(s.database.url, "postgres://a@h/x");
        let both = vars(&[
            ("DATABASE_URL", "postgres://a@h/x"),
            ("APP__DATABASE__URL", "postgres://b@h/y"),
        ]);
        let s = Settings::load_from(&repo_config(), AppEnv::Development, &both).unwrap();
        assert_eq!(s.database.url, "postgres://b@h/y");
    }

    #[test]
    fn a_value_of_the_wrong_type_fails_naming_the_key() {
        let err = Settings::load_from(
            &repo_config(),
            AppEnv::Development,
            &vars(&[("APP__SERVER__PORT", "eighty")]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("server.port"), "{err:#}");
    }

    #[test]
    fn an_unknown_key_fails_naming_it() {
        let err = Settings::load_from(
            &repo_config(),
            AppEnv::Development,
            &vars(&[("APP__SERVER__PROT", "1")]),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("prot"), "{err:#}");
    }

    #[test]
    fn a_transaction_mode_pooler_needs_migrations_run_elsewhere() {
        let pooled = |migrate: &str| {
            Settings::load_from(
                &repo_config(),
                AppEnv::Development,
                &vars(&[
                    ("APP__DATABASE__PREPARED_STATEMENTS", "false"),
                    ("APP__DATABASE__MIGRATE_ON_START", migrate),
                ]),
            )
        };
        let err = pooled("true").unwrap_err();
        assert!(
            format!("{err:#}").contains("needs database.migrate_on_start = false"),
            "{err:#}"
        );
        let settings = pooled("false").unwrap();
        assert!(!settings.database.pool().prepared_statements);
    }

    #[test]
    fn a_pool_smaller_than_two_is_refused() {
        let err = Settings::load_from(
            &repo_config(),
            AppEnv::Development,
            &vars(&[("APP__DATABASE__MAX_CONNECTIONS", "1")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("database.max_connections"),
            "{err:#}"
        );
    }

    #[test]
    fn a_search_total_bound_outside_one_to_a_million_is_refused() {
        let load = |bound: &str| {
            Settings::load_from(
                &repo_config(),
                AppEnv::Development,
                &vars(&[("APP__SEARCH__EXACT_TOTAL_UP_TO", bound)]),
            )
        };
        for refused in ["0", "1000001"] {
            let err = load(refused).unwrap_err();
            assert!(
                err.to_string().contains("search.exact_total_up_to"),
                "{refused}: {err:#}"
            );
        }
        assert_eq!(load("1").unwrap().search.exact_total_up_to, 1);
        let defaults = load("10000").unwrap();
        assert_eq!(defaults.search.exact_total_up_to, 10_000);
    }

    #[test]
    fn every_broken_bound_is_named_at_once() {
        let err = Settings::load_from(
            &repo_config(),
            AppEnv::Development,
            &vars(&[
                ("APP__SERVER__MAX_BODY_BYTES", "1023"),
                ("APP__DATABASE__URL", "  "),
                ("APP__SERVER__HOST", ""),
            ]),
        )
        .unwrap_err()
        .to_string();
        for expected in [
            "server.max_body_bytes: lower than 1024",
            "database.url: must not be empty",
            "server.host: must not be empty",
        ] {
            assert!(err.contains(expected), "{expected:?} not in {err}");
        }
        // At the bounds, accepted.
        let settings = Settings::load_from(
            &repo_config(),
            AppEnv::Development,
            &vars(&[
                ("APP__SERVER__MAX_BODY_BYTES", "1024"),
                ("APP__DATABASE__MAX_CONNECTIONS", "2"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.server.max_body_bytes, 1024);
    }

    #[test]
    fn app_env_names_are_checked() {
        assert_eq!(AppEnv::Test.file_stem(), "test");
    }
}
