//! Logging: readable lines in development, JSON in production; every line inside a request
//! carries its request id. Personal data (emails, phones, names) is never logged: requests
//! are logged by route pattern, not by path.

use std::io::{BufWriter, IsTerminal};

use tracing::Metadata;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, fmt};

use crate::settings::{LogFormat, TelemetrySettings};

/// Installs the global subscriber; `RUST_LOG` overrides the configured level.
///
/// Lines are written to stdout by a thread of their own, in batches: under load one
/// `write` carries many lines instead of each request paying a system call (a third of a
/// lookup's CPU time went to its log line). Nothing is dropped: when the queue is full,
/// loggers wait. Keep the returned guard alive until exit; dropping it flushes the rest.
///
/// # Errors
/// When the level is not a valid filter directive or a subscriber is already installed.
pub fn init(settings: &TelemetrySettings) -> anyhow::Result<WorkerGuard> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(directives)?,
        _ => EnvFilter::try_new(&settings.level)
            .map_err(|e| anyhow::anyhow!("telemetry.level {:?} is invalid: {e}", settings.level))?,
    };
    let ansi = std::io::stdout().is_terminal();
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .finish(BufWriter::with_capacity(64 * 1024, std::io::stdout()));
    let registry = tracing_subscriber::registry().with(filter);
    let no_pii = FilterFn::new(without_personal_data);
    match settings.format {
        LogFormat::Pretty => registry
            .with(
                fmt::layer()
                    .with_target(false)
                    // Colours only for a terminal, not in files or collectors.
                    .with_ansi(ansi)
                    .with_writer(writer)
                    .with_filter(no_pii),
            )
            .try_init()?,
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .flatten_event(true)
                    .with_writer(writer)
                    .with_filter(no_pii),
            )
            .try_init()?,
    }
    Ok(guard)
}

/// Drops the events of dependencies that print personal data, whatever `RUST_LOG` says:
/// tokio-postgres logs every statement with its bound parameters (emails, names, phones)
/// at debug level, and actix-http traces request lines (paths hold emails).
fn without_personal_data(meta: &Metadata<'_>) -> bool {
    may_log(meta.target(), *meta.level())
}

fn may_log(target: &str, level: tracing::Level) -> bool {
    const LEAKY: [&str; 2] = ["tokio_postgres", "actix_http"];
    let leaky = LEAKY.iter().any(|prefix| target.starts_with(prefix));
    !(leaky && level > tracing::Level::INFO)
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    #[test]
    fn statement_parameters_of_tokio_postgres_are_never_logged() {
        assert!(!may_log("tokio_postgres::query", Level::DEBUG));
        assert!(!may_log("actix_http::h1", Level::TRACE));
    }

    #[test]
    fn warnings_of_dependencies_and_our_own_debug_lines_are_kept() {
        assert!(may_log("tokio_postgres::connection", Level::WARN));
        assert!(may_log("api_actix::handlers", Level::DEBUG));
    }
}
