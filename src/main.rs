//! `pulso`: with no arguments it is the Grafana backend plugin; with a subcommand, the command
//! line for the same code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pulso::demo::{generate, DemoOptions, DEFAULT_DAYS, DEFAULT_ROWS, DEFAULT_SEED};
use pulso::store::{FeedbackStore, SqliteStore};
use tracing_subscriber::prelude::*;

#[derive(Parser)]
#[command(
    name = "pulso",
    version,
    about = "Consumer-feedback sentiment for Grafana. Run without arguments to serve the plugin protocol."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Build a realistic, reproducible demo database of Peruvian food feedback.
    Demo {
        /// SQLite file to create or extend.
        #[arg(long)]
        db: PathBuf,
        /// Number of feedback rows.
        #[arg(long, default_value_t = DEFAULT_ROWS)]
        rows: usize,
        /// Days of history, ending now.
        #[arg(long, default_value_t = DEFAULT_DAYS)]
        days: u32,
        /// Random seed; the same seed gives the same rows.
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
    },
}

fn init_logging() {
    // hclog JSON on stderr is what Grafana reads; stdout belongs to the handshake.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(grafana_plugin_sdk::backend::layer())
        .with(filter)
        .init();
}

async fn demo(db: PathBuf, rows: usize, days: u32, seed: u64) -> anyhow::Result<()> {
    if let Some(folder) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create the folder {}", folder.display()))?;
    }
    let started = Instant::now();
    let store = SqliteStore::open(&db).await?;
    // Ends at the start of the current hour: nothing lies in the future, and the same seed gives
    // the same rows for the rest of the hour.
    let end_time_ms = chrono::Utc::now().timestamp_millis() / 3_600_000 * 3_600_000;
    let options = DemoOptions {
        rows,
        days,
        seed,
        end_time_ms,
    };
    let progress = std::io::stderr().is_terminal();
    let mut batch = Vec::with_capacity(10_000);
    let (mut inserted, mut duplicates) = (0, 0);
    for row in generate(&options) {
        batch.push(row);
        if batch.len() == batch.capacity() {
            let report = store.insert_feedback(&batch).await?;
            inserted += report.inserted;
            duplicates += report.duplicates;
            batch.clear();
            if progress {
                eprint!("\r{inserted} rows stored");
            }
        }
    }
    let report = store.insert_feedback(&batch).await?;
    inserted += report.inserted;
    duplicates += report.duplicates;
    eprintln!(
        "\rdemo database {}: {inserted} rows stored, {duplicates} already there, in {:.1} s",
        db.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    match cli.command {
        None => pulso::plugin::serve().await?,
        Some(Command::Demo {
            db,
            rows,
            days,
            seed,
        }) => demo(db, rows, days, seed).await?,
    }
    Ok(())
}
