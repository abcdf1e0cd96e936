//! `pulso`: with no arguments it is the Grafana backend plugin; with a subcommand, the command
//! line for the same code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};
use pulso_demo::database::write_demo;
use pulso_demo::fixture::FIXTURE_MODEL_ID;
use pulso_demo::{DemoOptions, DEFAULT_DAYS, DEFAULT_ROWS, DEFAULT_SEED};
use pulso_nlp::batch_file::score_file;
use pulso_nlp::files::default_model_dir;
use pulso_nlp::onnx::OnnxSentimentModel;
use pulso_nlp::queue::ScoringQueue;
use pulso_nlp::SentimentModel;
use pulso_scoring::{score_next_batch, ScoringStats};
use pulso_store::RecordStore;
use tracing_subscriber::prelude::*;

use crate::target::{StoreArgs, Target};

mod ingest_cli;
mod target;

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
        #[command(flatten)]
        store: StoreArgs,
        /// Number of feedback rows.
        #[arg(long, default_value_t = DEFAULT_ROWS)]
        rows: usize,
        /// Days of history, ending at `--end`.
        #[arg(long, default_value_t = DEFAULT_DAYS)]
        days: u32,
        /// End of the history (exclusive), RFC 3339, e.g. `2026-01-01T00:00:00Z`; defaults
        /// to the start of the current hour. With the same end and seed, the same rows on any
        /// day: tests pin it.
        #[arg(long, value_parser = parse_end_time)]
        end: Option<i64>,
        /// Random seed; the same seed gives the same rows.
        #[arg(long, default_value_t = DEFAULT_SEED)]
        seed: u64,
        /// Model folder used to score the rows; see `score --model`.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Store the rows without scoring them.
        #[arg(long, conflicts_with = "fixture_scores")]
        no_score: bool,
        /// Give every row a deterministic fixture score and aspect results that follow the
        /// feeling its text was written with, instead of running the model: builds millions of
        /// rows for load tests in minutes. A real model replaces them once the plugin runs one.
        #[arg(long)]
        fixture_scores: bool,
    },
    /// Import feedback from CSV, JSON or NDJSON files: columns are mapped, personal data is
    /// redacted and re-imports store nothing twice. Each file is stored whole or not at all.
    Ingest(ingest_cli::Args),
    /// Score every row of a CSV or JSON Lines file; writes the input columns plus label, score,
    /// p_negative, p_neutral, p_positive, truncated and error.
    Score {
        /// CSV file, or JSON Lines (`.jsonl`, `.ndjson`).
        #[arg(long)]
        input: PathBuf,
        /// The column (or JSON field) holding the text.
        #[arg(long)]
        text_column: String,
        /// Where to write; standard output when absent.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Model folder; defaults to $PULSO_MODEL_DIR, `model/` beside the binary, or the
        /// newest build in models/dist/.
        #[arg(long)]
        model: Option<PathBuf>,
        /// ONNX Runtime threads per inference.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

/// `--end`: an RFC 3339 time, as UTC epoch milliseconds.
fn parse_end_time(text: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| time.timestamp_millis())
        .map_err(|e| format!("{text:?} is not an RFC 3339 time like 2026-01-01T00:00:00Z: {e}"))
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

/// Scores every stored row with the model in `dir`, or says why it cannot.
async fn score_demo(store: &dyn RecordStore, dir: &std::path::Path) -> anyhow::Result<()> {
    let model = match OnnxSentimentModel::load(dir, 2) {
        Ok(model) if !model.labels().is_empty() => model,
        Ok(_) => {
            eprintln!(
                "rows left unscored: the model in {} has no trained head",
                dir.display()
            );
            return Ok(());
        }
        Err(error) => {
            eprintln!("rows left unscored: {error}");
            return Ok(());
        }
    };
    let model_id = model.model_id().to_string();
    let queue = ScoringQueue::start(std::sync::Arc::new(model), 4, 256);
    let stats = ScoringStats::default();
    store.set_active_model(&model_id).await?;
    let total = store.health().await?.unscored_rows;
    let started = Instant::now();
    let progress = std::io::stderr().is_terminal();
    let mut done = 0;
    loop {
        let scored = score_next_batch(store, &queue, &stats).await?;
        if scored.is_empty() {
            break;
        }
        done += scored.rows;
        if progress {
            eprint!("\rscored {done}/{total} rows");
        }
    }
    eprintln!(
        "\rscored {done} rows with {model_id} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn demo(
    args: &StoreArgs,
    options: DemoOptions,
    fixture_scores: bool,
) -> anyhow::Result<Target> {
    let started = Instant::now();
    // A new SQLite file is filled without a journal on disk or syncs: if this is interrupted,
    // it is simply made again. An existing file keeps its write-ahead log.
    let target = Target::open(args, true).await?;
    let progress = std::io::stderr().is_terminal();
    let report = write_demo(target.store(), &options, fixture_scores, |rows| {
        if progress {
            eprint!("\r{rows} rows stored");
        }
    })
    .await?;
    target.finish_bulk_load().await?;
    let scores = if fixture_scores {
        format!(
            ", {} with fixture scores ({FIXTURE_MODEL_ID})",
            report.fixture_scored
        )
    } else {
        String::new()
    };
    eprintln!(
        "\rdemo database {}: {} rows stored{scores}, {} already there, in {:.1} s",
        target.describe(args),
        report.inserted,
        report.duplicates,
        started.elapsed().as_secs_f64()
    );
    Ok(target)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    match cli.command {
        None => {
            pulso_memory::manage();
            pulso_plugin::serve().await?
        }
        Some(Command::Demo {
            store,
            rows,
            days,
            end,
            seed,
            model,
            no_score,
            fixture_scores,
        }) => {
            // By default it ends at the start of the current hour: nothing lies in the future,
            // and the same seed gives the same rows for the rest of the hour.
            let end_time_ms = end
                .unwrap_or_else(|| chrono::Utc::now().timestamp_millis() / 3_600_000 * 3_600_000);
            let options = DemoOptions {
                rows,
                days,
                seed,
                end_time_ms,
            };
            let target = demo(&store, options, fixture_scores).await?;
            if !no_score && !fixture_scores {
                score_demo(target.store(), &model.unwrap_or_else(default_model_dir)).await?;
            }
            // Everything in the database file, none left in the WAL: copying the .db is enough.
            target.close().await;
        }
        Some(Command::Ingest(args)) => {
            let code = ingest_cli::run(args).await?;
            if code != 0 {
                std::process::exit(code);
            }
        }
        Some(Command::Score {
            input,
            text_column,
            output,
            model,
            threads,
        }) => {
            let dir = model.unwrap_or_else(default_model_dir);
            let model = OnnxSentimentModel::load(&dir, threads)?;
            let started = Instant::now();
            let report = score_file(&model, &input, &text_column, output.as_deref())?;
            eprintln!(
                "{} rows: {} scored, {} failed, {} truncated, with {} in {:.1} s",
                report.rows,
                report.scored,
                report.failed,
                report.truncated,
                model.model_id(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
