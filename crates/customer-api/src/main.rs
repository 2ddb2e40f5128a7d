//! Entry point of the `customer-api` binary.

use clap::Parser;
use customer_api::cli::{self, Cli};
use customer_api::{Settings, telemetry};

/// mimalloc rather than glibc's allocator: requests allocate and free many small buffers
/// across threads, where glibc's `malloc`/`free` cost several percent of the CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    // Held to the end: dropping it flushes the last log lines.
    let _logs = telemetry::init(&settings.telemetry)?;
    cli::run(cli, settings).await
}
