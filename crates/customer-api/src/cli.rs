//! The command line: `serve` (default), `migrate`, `seed`, `token`, `stats`.

use clap::{Parser, Subcommand};

use crate::settings::Settings;
use crate::startup::Application;

/// Customer management REST service.
#[derive(Debug, Parser)]
#[command(name = "customer-api", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print a bearer token signed with auth.hs256_secret, for local use.
    Token(crate::token::TokenArgs),
    /// Apply migrations, then generate realistic customers (the same seed gives the same
    /// customers) and exit.
    Seed {
        /// How many customers to generate.
        #[arg(long)]
        count: u64,
        /// Which data set.
        #[arg(long, default_value_t = 42)]
        seed: u32,
    },
    /// The aggregates behind the statistics, the available places and the list's totals.
    #[command(subcommand)]
    Stats(StatsCommand),
}

/// What to do with the aggregates.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Recompute them from the customers and print every difference; exits non-zero when
    /// there is any.
    Check,
    /// Recompute them from the customers and replace them (writers wait meanwhile; safe
    /// while the service runs).
    Rebuild,
}

/// Runs the chosen command with the loaded settings.
///
/// # Errors
/// When the command fails; the message says why.
pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(&settings).await?;
            tracing::info!(
                "listening on http://{}:{} (docs at /docs, health at /health)",
                settings.server.host,
                app.port()
            );
            app.run_until_stopped().await?;
            tracing::info!("stopped");
        }
        Command::Migrate => {
            let pool = infra_postgres::build_pool(&settings.database.pool())?;
            infra_postgres::run_migrations(&pool).await?;
            tracing::info!("database migrations are up to date");
        }
        Command::Token(args) => crate::token::run(&settings, &args)?,
        Command::Seed { count, seed } => {
            let pool = infra_postgres::build_pool(&settings.database.pool())?;
            infra_postgres::run_migrations(&pool).await?;
            let options = datagen::GeneratorOptions::ending_now(count, seed);
            let report = datagen::generate_customers(&settings.database.url, &options).await?;
            tracing::info!(
                inserted = report.inserted,
                requested = report.requested,
                rebuilt_indexes = report.rebuilt_indexes(),
                seconds = report.elapsed.as_secs_f64(),
                "seeded customers"
            );
            let phases = &report.phases;
            let longest = phases.index_builds.first();
            tracing::info!(
                copy_seconds = phases.copy.as_secs_f64(),
                unique_indexes_seconds = phases.unique_indexes.as_secs_f64(),
                other_indexes_seconds = phases.other_indexes.as_secs_f64(),
                longest_index = longest.map(|b| b.name.as_str()),
                longest_index_seconds = longest.map(|b| b.elapsed.as_secs_f64()),
                analyze_seconds = phases.analyze.as_secs_f64(),
                counts_seconds = phases.counts.as_secs_f64(),
                "where the seeding's time went"
            );
        }
        Command::Stats(command) => {
            let pool = infra_postgres::build_pool(&settings.database.pool())?;
            infra_postgres::run_migrations(&pool).await?;
            match command {
                StatsCommand::Check => {
                    let drift = infra_postgres::count_drift(&pool).await?;
                    for d in &drift {
                        println!("{d}");
                    }
                    anyhow::ensure!(
                        drift.is_empty(),
                        "{} aggregate groups differ from the customers",
                        drift.len()
                    );
                    println!("the aggregates match the customers");
                }
                StatsCommand::Rebuild => {
                    infra_postgres::rebuild_counts(&pool).await?;
                    println!("the aggregates were recomputed from the customers");
                }
            }
        }
    }
    Ok(())
}
