//! Sentiment throughput of the Rust engine, and its load time and memory.
//!
//! `cargo run --release --example nlp_bench -- --threads 2`
//!
//! Texts come from the demo generator, bucketed by token count into short (about 20 tokens)
//! and long (about 120). They are written to `target/nlp-bench/texts.json` so that
//! `models/bench_python.py` times Python onnxruntime on exactly the same inputs.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use pulso_demo::{generate, DemoOptions};
use pulso_nlp::files::default_model_dir;
use pulso_nlp::onnx::OnnxSentimentModel;
use pulso_nlp::SentimentModel;
use serde_json::json;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    model: Option<PathBuf>,
    /// ONNX Runtime intra-op threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Texts per measurement.
    #[arg(long, default_value_t = 256)]
    texts: usize,
    #[arg(long, default_value = "target/nlp-bench")]
    out: PathBuf,
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = args.model.unwrap_or_else(default_model_dir);
    let rss_before = rss_mib();
    let started = Instant::now();
    let model = OnnxSentimentModel::load(&dir, args.threads)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let rss_loaded = rss_mib();

    // Pick demo texts by token count (prefix and special tokens included).
    let options = DemoOptions {
        rows: 200_000,
        days: 180,
        seed: 11,
        end_time_ms: 1_767_225_600_000,
    };
    let (mut short, mut long) = (Vec::new(), Vec::new());
    let mut long_text = String::new();
    for row in generate(&options) {
        let n = model.token_ids(&row.text)?.len();
        if (18..=22).contains(&n) && short.len() < args.texts {
            short.push(row.text);
        } else if long.len() < args.texts {
            // Long reviews are rare, so join several into ~120-token texts.
            long_text.push_str(&row.text);
            long_text.push(' ');
            let m = model.token_ids(&long_text)?.len();
            if m >= 115 {
                if m <= 125 {
                    long.push(std::mem::take(&mut long_text));
                } else {
                    long_text.clear();
                }
            }
        }
        if short.len() == args.texts && long.len() == args.texts {
            break;
        }
    }
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(
        args.out.join("texts.json"),
        serde_json::to_vec(&json!({"short": short, "long": long}))?,
    )?;

    let mut results = Vec::new();
    println!("| texts | batch | Rust ort texts/s |");
    println!("| --- | ---: | ---: |");
    for (name, texts) in [
        ("short (~20 tokens)", &short),
        ("long (~120 tokens)", &long),
    ] {
        for batch in [1usize, 32, 256] {
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            model.predict(&refs[..batch.min(refs.len())])?; // warm-up
            let started = Instant::now();
            for chunk in refs.chunks(batch) {
                std::hint::black_box(model.predict(chunk)?);
            }
            let rate = refs.len() as f64 / started.elapsed().as_secs_f64();
            println!("| {name} | {batch} | {rate:.1} |");
            results.push(json!({"texts": name, "batch": batch, "texts_per_second": rate}));
        }
    }
    let summary = json!({
        "model_id": model.model_id(),
        "threads": args.threads,
        "load_seconds": load_seconds,
        "rss_mib_before_load": rss_before,
        "rss_mib_loaded": rss_loaded,
        "rss_mib_after_runs": rss_mib(),
        "results": results,
    });
    std::fs::write(
        args.out.join("rust.json"),
        serde_json::to_vec_pretty(&summary)?,
    )?;
    println!(
        "model {} loaded in {load_seconds:.2} s; RSS {rss_before:.0} MiB before, {rss_loaded:.0} MiB loaded, {:.0} MiB after the runs",
        model.model_id(),
        rss_mib()
    );
    Ok(())
}
