//! Scorers sharing one PostgreSQL database: a backlog of mentions stored at once, then 1 and then
//! N background scorers (each with its own store, connection pool, claims and model session, as
//! N plugin processes would have) score it. Reports the time until every row is scored, rows
//! per second against one scorer's, and the rows scored twice (`scores.scored_count > 1`) or
//! never, which must both be 0.
//!
//! Needs a PostgreSQL server whose superuser URL is in `PULSO_TEST_POSTGRES_URL`
//! (`tools/postgres.sh start DIR` starts a throwaway one); each run gets a fresh database.
//!
//! `cargo run --release --example postgres_scoring_bench -- --rows 30000 --scorers 1,3`

#[path = "support/postgres_bench.rs"]
mod postgres_bench;
#[path = "support/pushed_mentions.rs"]
mod pushed_mentions;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use postgres_bench::{connect, social_post};
use pulso_nlp::files::default_model_dir;
use pulso_nlp::onnx::OnnxSentimentModel;
use pulso_nlp::queue::ScoringQueue;
use pulso_postgres::PostgresStore;
use pulso_scoring::ScoringStats;
use pulso_store::{FeedbackWriter, NewFeedback, RecordStore};
use pushed_mentions::pushed_mentions;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    model: Option<PathBuf>,
    /// Mentions in the backlog.
    #[arg(long, default_value_t = 30_000)]
    rows: usize,
    /// Scorer counts to run, one after the other, each on a fresh copy of the backlog.
    #[arg(long, value_delimiter = ',', default_value = "1,3")]
    scorers: Vec<usize>,
    /// ONNX Runtime intra-op threads per scorer's model.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

fn backlog(texts: &[String]) -> Vec<NewFeedback> {
    let now = chrono::Utc::now().timestamp_millis();
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let time = now - (i as i64 % 86_400) * 1_000;
            social_post(text.clone(), format!("backlog-{i}"), time)
        })
        .collect()
}

/// Rows the active model scored, and those it scored more than once.
async fn scored(store: &PostgresStore) -> anyhow::Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE scored_count > 1) FROM scores \
         WHERE model_id = (SELECT value FROM settings WHERE key = 'active_model_id')",
    )
    .fetch_one(store.pool())
    .await?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = args.model.clone().unwrap_or_else(default_model_dir);
    let rows = backlog(&pushed_mentions(args.rows));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{} mentions in the backlog; {cores} cores; {} ONNX Runtime threads per scorer",
        rows.len(),
        args.threads
    );
    let mut results = Vec::new();
    for &scorers in &args.scorers {
        let url =
            pulso_testkit::postgres::fresh_database(&format!("scoring_bench_{scorers}")).await;
        let watcher = connect(&url).await?;
        for chunk in rows.chunks(5_000) {
            watcher.insert_feedback(chunk).await?;
        }
        let mut tasks = Vec::new();
        let mut stats = Vec::new();
        for _ in 0..scorers {
            let model = OnnxSentimentModel::load(&dir, args.threads)?;
            let queue = ScoringQueue::start(Arc::new(model), 64, 256);
            let store: Arc<dyn FeedbackWriter> = Arc::new(connect(&url).await?);
            let stat = Arc::new(ScoringStats::default());
            stats.push(stat.clone());
            tasks.push((store.clone(), queue, stat));
        }
        // Every scorer ready before the clock starts: what is timed is scoring, not loading.
        let started = Instant::now();
        let handles: Vec<_> = tasks
            .into_iter()
            .map(|(store, queue, stat)| pulso_scoring::spawn(store, queue, stat))
            .collect();
        loop {
            let backlog = watcher.scoring_backlog().await?;
            if backlog.rows == 0 && backlog.clauses_pending == 0 {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(3_600),
                "not done after an hour: {backlog:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        for handle in handles {
            handle.abort();
        }
        let (done, twice) = scored(&watcher).await?;
        let per_scorer: Vec<u64> = stats.iter().map(|s| s.rows_scored()).collect();
        println!(
            "{scorers} scorer(s): {seconds:.1} s, {:.0} rows/s; rows scored {done} of {}, twice {twice}, never {}; rows per scorer {per_scorer:?}",
            rows.len() as f64 / seconds,
            rows.len(),
            rows.len() as i64 - done
        );
        results.push((scorers, seconds, done, twice));
    }
    println!();
    println!(
        "| scorers | seconds | rows/s | vs one scorer | scored | scored twice | never scored |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let one = results
        .iter()
        .find(|r| r.0 == 1)
        .map(|r| rows.len() as f64 / r.1);
    for (scorers, seconds, done, twice) in &results {
        let rate = rows.len() as f64 / seconds;
        println!(
            "| {scorers} | {seconds:.1} | {rate:.0} | {} | {done} | {twice} | {} |",
            one.map_or("n/a".to_string(), |one| format!("{:.2}×", rate / one)),
            rows.len() as i64 - done
        );
    }
    Ok(())
}
