//! What redaction costs per text, against Unicode NFC, which ingestion already runs on every
//! text, measured in the same run on the same texts: the comments of the survey export that
//! `examples/ingest_bench.rs` writes (or any `;`-separated file whose last column is text).
//!
//! `cargo run --release -p pulso-core --example redaction_bench -- target/ingest-bench/encuestas.csv`

use std::time::Instant;

use pulso_core::redact::{redact, RedactionCounts, RedactionRules};
use unicode_normalization::UnicodeNormalization;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/ingest-bench/encuestas.csv".into());
    let data = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run examples/ingest_bench.rs first"));
    let texts: Vec<&str> = data
        .lines()
        .skip(1)
        .take(200_000)
        .filter_map(|line| line.rsplit(';').next())
        .collect();
    let time = |f: &dyn Fn(&str) -> usize| {
        let start = Instant::now();
        let bytes: usize = texts.iter().map(|t| f(t)).sum();
        (start.elapsed().as_secs_f64(), bytes)
    };
    let nfc = |t: &str| t.nfc().count();
    let redaction = |t: &str| {
        let mut counts = RedactionCounts::default();
        redact(t, RedactionRules::default(), &mut counts).len()
    };
    time(&nfc); // warm-up
    time(&redaction);
    let (nfc_s, _) = time(&nfc);
    let (redact_s, _) = time(&redaction);
    println!("{} texts from {path}", texts.len());
    println!("| step | seconds | texts/s | vs NFC |\n|---|---:|---:|---:|");
    for (name, seconds) in [("NFC", nfc_s), ("redaction", redact_s)] {
        println!(
            "| {name} | {seconds:.3} | {:.0} | {:.2}× |",
            texts.len() as f64 / seconds,
            seconds / nfc_s
        );
    }
}
