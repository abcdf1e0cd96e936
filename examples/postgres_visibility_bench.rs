//! How long a write through one instance takes to reach another instance's panels on a shared
//! PostgreSQL database: instance A pushes a small batch (its store), instance B's analytics
//! mirror (its own store and `Analytics`, never woken by A) is polled until its snapshot holds
//! the batch's revision. Baseline in the same run: the same wait for A's own mirror when A
//! wakes it, as a push through A does.
//!
//! Needs `PULSO_TEST_POSTGRES_URL` (`tools/postgres.sh start DIR`); the run gets a fresh database.
//!
//! `cargo run --release --example postgres_visibility_bench -- --writes 100`

#[path = "support/postgres_bench.rs"]
mod postgres_bench;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use postgres_bench::{connect, social_post};
use pulso_analytics::Analytics;
use pulso_store::{FeedbackWriter, NewFeedback, RecordStore};

#[derive(Parser)]
struct Args {
    /// Batches written one after the other.
    #[arg(long, default_value_t = 100)]
    writes: usize,
    /// Mentions per batch.
    #[arg(long, default_value_t = 10)]
    rows: usize,
}

fn batch(write: usize, rows: usize) -> Vec<NewFeedback> {
    let now = chrono::Utc::now().timestamp_millis();
    (0..rows)
        .map(|i| {
            let text = format!("El pollo llegó frío, pedido {write}-{i}");
            social_post(text, format!("visibility-{write}-{i}"), now)
        })
        .collect()
}

/// Waits until `analytics` holds `revision`; the time it took.
async fn seen(analytics: &Analytics, revision: i64, since: Instant) -> anyhow::Result<Duration> {
    loop {
        if analytics
            .snapshot()
            .is_some_and(|snapshot| snapshot.revision >= revision)
        {
            return Ok(since.elapsed());
        }
        anyhow::ensure!(
            since.elapsed() < Duration::from_secs(60),
            "revision {revision} not seen after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = pulso_testkit::postgres::fresh_database("visibility_bench").await;
    let a = Arc::new(connect(&url).await?);
    let b = Arc::new(connect(&url).await?);
    let mirror_a = Analytics::start(a.clone());
    let mirror_b = Analytics::start(b.clone());
    a.insert_feedback(&batch(usize::MAX, args.rows)).await?;
    let first = a.feed_cursor().await?.revision;
    seen(&mirror_a, first, Instant::now()).await?;
    seen(&mirror_b, first, Instant::now()).await?;
    let (mut own, mut other) = (Vec::new(), Vec::new());
    for write in 0..args.writes {
        let started = Instant::now();
        a.insert_feedback(&batch(write, args.rows)).await?;
        let revision = a.feed_cursor().await?.revision;
        // A push through A wakes A's mirror; nothing tells B's.
        mirror_a.wake();
        own.push(seen(&mirror_a, revision, started).await?);
        other.push(seen(&mirror_b, revision, started).await?);
        // A random pause, so writes land anywhere in the other mirror's polling period rather
        // than in step with it.
        tokio::time::sleep(Duration::from_millis(rand::random::<u64>() % 250)).await;
    }
    own.sort();
    other.sort();
    println!(
        "{} batches of {} mentions written through instance A",
        args.writes, args.rows
    );
    println!();
    println!("| panel data of | p50 ms | p95 ms | max ms |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, times) in [
        ("instance A (wrote it, woke its mirror)", &own),
        ("instance B (another process's write)", &other),
    ] {
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} |",
            percentile(times, 0.5),
            percentile(times, 0.95),
            percentile(times, 1.0)
        );
    }
    Ok(())
}
