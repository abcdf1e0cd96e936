//! Where the background scorer's time goes, on the mentions `freshness_bench` pushes: token
//! lengths, how many clause texts ride along with the rows, and the model's rate per call size
//! and thread count, with and without the clauses.
//!
//! `cargo run --release --example scoring_profile -- --rows 1024`

#[path = "support/pushed_mentions.rs"]
mod pushed_mentions;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use pulso_core::analysis::aspects::clauses_to_score;
use pulso_nlp::files::default_model_dir;
use pulso_nlp::onnx::OnnxSentimentModel;
use pulso_nlp::SentimentModel;
use pushed_mentions::pushed_mentions;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    model: Option<PathBuf>,
    /// Mentions to score per measurement.
    #[arg(long, default_value_t = 1024)]
    rows: usize,
    /// Rows per scoring call (the scorer's batch).
    #[arg(long, value_delimiter = ',', default_value = "8,32,128")]
    batches: Vec<usize>,
    /// ONNX Runtime intra-op threads to try.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = args.model.clone().unwrap_or_else(default_model_dir);
    // The texts freshness_bench pushes.
    let rows = pushed_mentions(args.rows);
    let clauses: Vec<Vec<String>> = rows
        .iter()
        .map(|t| {
            clauses_to_score(t)
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.text)
                .collect()
        })
        .collect();
    let clause_count: usize = clauses.iter().map(Vec::len).sum();
    let probe = OnnxSentimentModel::load(&dir, 1)?;
    let mut lengths: Vec<usize> = rows
        .iter()
        .map(|t| probe.token_ids(t).map(|ids| ids.len()))
        .collect::<Result<_, _>>()?;
    lengths.sort_unstable();
    let mut clause_lengths: Vec<usize> = clauses
        .iter()
        .flatten()
        .map(|t| probe.token_ids(t).map(|ids| ids.len()))
        .collect::<Result<_, _>>()?;
    clause_lengths.sort_unstable();
    let quantile = |v: &[usize], q: f64| v.get(((v.len() as f64 - 1.0) * q) as usize).copied();
    println!(
        "{} rows: tokens p50 {:?}, p90 {:?}, max {:?}; {clause_count} clause texts ({:.2} per row), tokens p50 {:?}",
        rows.len(),
        quantile(&lengths, 0.5),
        quantile(&lengths, 0.9),
        lengths.last(),
        clause_count as f64 / rows.len() as f64,
        quantile(&clause_lengths, 0.5),
    );
    drop(probe);

    println!("\n| threads | rows per call | rows/s, row texts only | rows/s, with their clauses | texts/s with clauses |");
    println!("| ---: | ---: | ---: | ---: | ---: |");
    for &threads in &args.threads {
        let model = OnnxSentimentModel::load(&dir, threads)?;
        // Warm-up: the first calls allocate ONNX Runtime's arena.
        model.predict(&rows.iter().take(64).map(String::as_str).collect::<Vec<_>>())?;
        for &batch in &args.batches {
            let mut rates = Vec::new();
            for with_clauses in [false, true] {
                let started = Instant::now();
                let mut texts_scored = 0;
                for (chunk, chunk_clauses) in rows.chunks(batch).zip(clauses.chunks(batch)) {
                    let mut texts: Vec<&str> = chunk.iter().map(String::as_str).collect();
                    if with_clauses {
                        texts.extend(chunk_clauses.iter().flatten().map(String::as_str));
                    }
                    texts_scored += texts.len();
                    model.predict(&texts)?;
                }
                let seconds = started.elapsed().as_secs_f64();
                rates.push((rows.len() as f64 / seconds, texts_scored as f64 / seconds));
            }
            println!(
                "| {threads} | {batch} | {:.0} | {:.0} | {:.0} |",
                rates[0].0, rates[1].0, rates[1].1
            );
        }
    }
    Ok(())
}
