//! Ingest throughput on a large survey-style CSV, against two baselines measured in the same
//! run on the same file:
//! - parse only: the csv crate reading every record (the floor for any CSV import);
//! - store only: the same rows, already normalised, written through the store's batch API;
//! - full import: `pulso_ingest::ingest` (parse, map, NFC, redact, regions, times, language,
//!   dedup, one transaction), what `pulso ingest` runs.
//!
//! With `--postgres`, the store-only and full-import runs are repeated into a fresh PostgreSQL
//! database on the server `PULSO_TEST_POSTGRES_URL` names (`tools/postgres.sh start DIR` starts
//! a throwaway one), and compared with SQLite's in the same run.
//!
//! `cargo run --release --example ingest_bench -- --rows 1000000 [--postgres]`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use pulso_demo::{generate, DemoOptions};
use pulso_ingest::{ingest, IngestOptions, IngestProgress, InputFormat, Mapping};
use pulso_postgres::{PostgresConfig, PostgresStore};
use pulso_sqlite::SqliteStore;
use pulso_store::{FeedbackWriter, NewFeedback};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Working folder for the CSV and the databases (deleted and recreated).
    #[arg(long, default_value = "target/ingest-bench")]
    dir: PathBuf,
    /// Also into PostgreSQL (see above).
    #[arg(long)]
    postgres: bool,
}

/// The store-only and full-import runs into `store`: seconds each.
async fn store_and_import(
    store_only: &dyn FeedbackWriter,
    import: &dyn FeedbackWriter,
    rows: &[NewFeedback],
    csv_path: &std::path::Path,
) -> anyhow::Result<(f64, f64, pulso_ingest::IngestReport)> {
    let started = Instant::now();
    let mut batch = store_only.begin_batch().await?;
    for chunk in rows.chunks(2_000) {
        batch.insert(chunk).await?;
    }
    batch.commit().await?;
    let store_s = started.elapsed().as_secs_f64();
    let mut options = IngestOptions::new(InputFormat::Csv { delimiter: None }, Mapping::default());
    options.source_type = Some("survey".into());
    let started = Instant::now();
    let report = ingest(
        import,
        Box::new(std::fs::File::open(csv_path)?),
        options,
        Arc::new(IngestProgress::default()),
    )
    .await?;
    let import_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.committed,
        "import not committed: {}",
        report.summary()
    );
    Ok((store_s, import_s, report))
}

async fn fresh_postgres(name: &str) -> anyhow::Result<PostgresStore> {
    let url = pulso_testkit::postgres::fresh_database(name).await;
    Ok(PostgresStore::connect(&PostgresConfig {
        url,
        password: None,
        ssl_mode: None,
        pool_size: 4,
    })
    .await?)
}

/// Peak resident memory of this process so far, from /proc (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir)?;
    let csv_path = args.dir.join("encuestas.csv");

    // A realistic export: demo feedback with Spanish headers, day-first Lima times, 1-5
    // ratings, and personal data in one row of twenty.
    let started = Instant::now();
    let options = DemoOptions {
        rows: args.rows,
        days: 365,
        seed: 7,
        end_time_ms: 1_764_000_000_000,
    };
    let mut rows = Vec::with_capacity(args.rows);
    {
        let mut out = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(std::io::BufWriter::new(std::fs::File::create(&csv_path)?));
        out.write_record([
            "ID Respuesta",
            "Fecha",
            "Departamento",
            "Ciudad",
            "Marca",
            "Producto",
            "Categoría",
            "Canal",
            "Puntuación (1-5)",
            "Comentario",
        ])?;
        for (i, row) in generate(&options).enumerate() {
            let local = chrono::DateTime::from_timestamp_millis(row.event_time_ms - 5 * 3_600_000)
                .context("time")?
                .format("%d/%m/%Y %H:%M")
                .to_string();
            let mut text = row.text.clone();
            if i % 20 == 0 {
                text.push_str(" Llámenme al 987 654 321.");
            }
            out.write_record([
                row.external_id.as_str(),
                &local,
                &row.region,
                &row.city,
                &row.brand,
                &row.product,
                &row.category,
                &row.platform,
                &row.rating.map(|r| r.to_string()).unwrap_or_default(),
                &text,
            ])?;
            rows.push(row);
        }
        out.flush()?;
    }
    let size = std::fs::metadata(&csv_path)?.len();
    println!(
        "generated {} rows, {:.1} MiB, in {:.1} s",
        args.rows,
        size as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );

    // Baseline 1: parse only.
    let started = Instant::now();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_path(&csv_path)?;
    let mut record = csv::ByteRecord::new();
    let mut parsed = 0usize;
    while reader.read_byte_record(&mut record)? {
        parsed += record.len();
    }
    let parse_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(parsed == args.rows * 10, "parsed {parsed} fields");

    // Baseline 2: store only, same rows, same batch size, one transaction; then the full import.
    let store_only = SqliteStore::open(&args.dir.join("store_only.db")).await?;
    let store = SqliteStore::open(&args.dir.join("import.db")).await?;
    let (store_s, import_s, report) =
        store_and_import(&store_only, &store, &rows, &csv_path).await?;
    let postgres = if args.postgres {
        let store_only = fresh_postgres("ingest_bench_store_only").await?;
        let import = fresh_postgres("ingest_bench_import").await?;
        let (store_s, import_s, pg_report) =
            store_and_import(&store_only, &import, &rows, &csv_path).await?;
        anyhow::ensure!(
            pg_report.stored == report.stored,
            "PostgreSQL stored {}, SQLite {}",
            pg_report.stored,
            report.stored
        );
        Some((store_s, import_s))
    } else {
        None
    };
    drop(rows);
    let expected_redactions = args.rows.div_ceil(20) as u64;
    anyhow::ensure!(
        report.redactions >= expected_redactions,
        "expected at least {expected_redactions} redactions: {}",
        report.summary()
    );
    println!("import: {}", report.summary());
    if let Some(first) = report.issues.first() {
        println!("first issue: {first}");
    }
    let rate = |seconds: f64| args.rows as f64 / seconds;
    println!();
    println!("| step | seconds | rows/s | vs full import |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, seconds) in [
        ("parse only (csv crate)", parse_s),
        ("store only (pre-normalised rows, one transaction)", store_s),
        ("full import (`ingest`)", import_s),
    ] {
        println!(
            "| {name} | {seconds:.2} | {:.0} | {:.2}× |",
            rate(seconds),
            import_s / seconds
        );
    }
    if let Some((pg_store_s, pg_import_s)) = postgres {
        println!();
        println!("| into PostgreSQL | seconds | rows/s | PostgreSQL ÷ SQLite rows/s |");
        println!("| --- | ---: | ---: | ---: |");
        for (name, seconds, sqlite_s) in [
            ("store only", pg_store_s, store_s),
            ("full import", pg_import_s, import_s),
        ] {
            println!(
                "| {name} | {seconds:.2} | {:.0} | {:.2}× |",
                rate(seconds),
                sqlite_s / seconds
            );
        }
    }
    if let Some(peak) = peak_rss_mib() {
        println!("\npeak RSS of the whole benchmark process: {peak:.0} MiB (it also holds the generated rows for the store-only baseline)");
    }
    Ok(())
}
