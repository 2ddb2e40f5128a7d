//! Entry point of the `customer-api` binary.

use clap::Parser;
use customer_api::cli::{self, Cli};
use customer_api::{Settings, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    telemetry::init(&settings.telemetry)?;
    cli::run(cli, settings).await
}
