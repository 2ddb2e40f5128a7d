//! Logging: readable lines in development, JSON in production; every line inside a request
//! carries its request id. Personal data (emails, phones, names) is never logged: requests
//! are logged by route pattern, not by path.

use tracing::Metadata;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, fmt};

use crate::settings::{LogFormat, TelemetrySettings};

/// Installs the global subscriber; `RUST_LOG` overrides the configured level.
///
/// # Errors
/// When the level is not a valid filter directive or a subscriber is already installed.
pub fn init(settings: &TelemetrySettings) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(directives)?,
        _ => EnvFilter::try_new(&settings.level)
            .map_err(|e| anyhow::anyhow!("telemetry.level {:?} is invalid: {e}", settings.level))?,
    };
    let registry = tracing_subscriber::registry().with(filter);
    match settings.format {
        LogFormat::Pretty => registry.with(fmt::layer().with_target(false)).try_init()?,
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .flatten_event(true),
            )
            .try_init()?,
    }
    Ok(())
}
