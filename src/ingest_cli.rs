//! `pulso ingest`: imports files into a SQLite file or a PostgreSQL database, one transaction
//! per file, with a progress bar on terminals and a summary line per file.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use pulso_ingest::fields::{parse_delimiter, parse_scale};
use pulso_ingest::{ingest, IngestOptions, IngestProgress, IngestReport, InputFormat, Mapping};
use pulso_store::FeedbackWriter;

use crate::target::{StoreArgs, Target};

/// Issues printed per file; `--report` has them all.
const PRINTED_ISSUES: usize = 20;

#[derive(clap::Args)]
pub struct Args {
    /// Files to import (.csv, .tsv, .json, .ndjson, .jsonl).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// For rows without one: social, review, survey or delivery.
    #[arg(long)]
    pub source_type: Option<String>,
    /// For rows without one, e.g. google_maps, twitter, encuesta_nps.
    #[arg(long)]
    pub platform: Option<String>,
    /// TOML or JSON file naming the columns: `[columns] text = "Comentario"`.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Names one column: FIELD=COLUMN, e.g. --map text=Opinión (repeatable).
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub map: Vec<String>,
    /// CSV delimiter (one character or `tab`); sniffed from the header when absent.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// Scale of numeric ratings, e.g. 0-10; "8/10" and stars carry their own.
    #[arg(long)]
    pub rating_scale: Option<String>,
    /// Time zone of times without an offset [default: the mapping file's, else America/Lima].
    #[arg(long)]
    pub timezone: Option<String>,
    /// Also replace social @handles with [usuario].
    #[arg(long)]
    pub redact_handles: bool,
    /// Store nothing from a file if any of its rows is rejected.
    #[arg(long)]
    pub strict: bool,
    /// Write the full report, with every row issue, as JSON.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// Exit codes: 0 all stored (rows may have been rejected without --strict), 1 a file could not
/// be read or stored, 2 a file was turned away by --strict.
pub async fn run(args: Args) -> anyhow::Result<i32> {
    let mut mapping = match &args.mapping {
        Some(path) => Mapping::from_file(path)?,
        None => Mapping::default(),
    };
    for flag in &args.map {
        mapping.add_column_flag(flag)?;
    }
    if let Some(delimiter) = &args.delimiter {
        mapping.delimiter =
            Some(parse_delimiter(delimiter).map_err(|reason| {
                anyhow::anyhow!("--delimiter {delimiter:?} is invalid: {reason}")
            })?);
    }
    if let Some(scale) = &args.rating_scale {
        mapping.rating_scale = Some(
            parse_scale(scale)
                .map_err(|reason| anyhow::anyhow!("--rating-scale is invalid: {reason}"))?,
        );
    }
    let store = Target::open(&args.store, false).await?;
    let mut exit_code = 0;
    let mut reports = Vec::new();
    for file in &args.files {
        let mut options = IngestOptions::new(
            InputFormat::from_path(file, mapping.delimiter),
            mapping.clone(),
        );
        options.source_type = args.source_type.clone();
        options.platform = args.platform.clone();
        options.redact_handles = args.redact_handles || mapping.redact_handles.unwrap_or(false);
        options.strict = args.strict;
        if let Some(zone) = args.timezone.as_deref().or(mapping.timezone.as_deref()) {
            options.set_timezone("--timezone", zone)?;
        }
        let name = file.display().to_string();
        let outcome = ingest_file(store.store(), file, options).await;
        match outcome {
            Ok(report) => {
                print_report(&name, &report, args.strict);
                if !report.committed {
                    exit_code = exit_code.max(2);
                }
                reports.push(serde_json::json!({ "file": name, "report": report }));
            }
            Err(error) => {
                eprintln!("{name}: not imported: {error}");
                exit_code = 1.max(exit_code);
                reports.push(serde_json::json!({ "file": name, "error": error.to_string() }));
            }
        }
    }
    store.close().await;
    if let Some(path) = &args.report {
        std::fs::write(path, serde_json::to_vec_pretty(&reports)?)
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
    }
    Ok(exit_code)
}

async fn ingest_file(
    store: &dyn FeedbackWriter,
    file: &std::path::Path,
    options: IngestOptions,
) -> Result<IngestReport, anyhow::Error> {
    let handle =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = handle.metadata().map(|m| m.len()).unwrap_or(0);
    let progress = Arc::new(IngestProgress::default());
    let bar = progress_bar(size);
    let ticker = bar.as_ref().map(|bar| {
        let bar = bar.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            loop {
                bar.set_position(progress.bytes_read.load(Ordering::Relaxed));
                bar.set_message(format!(
                    "{} rows",
                    progress.rows_read.load(Ordering::Relaxed)
                ));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });
    let started = Instant::now();
    let result = ingest(store, Box::new(handle), options, progress.clone()).await;
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = result?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "import finished");
    Ok(report)
}

/// A byte-based bar on terminals; nothing when stderr is a pipe or a file.
fn progress_bar(size: u64) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(bar)
}

fn print_report(name: &str, report: &IngestReport, strict: bool) {
    for issue in report.issues.iter().take(PRINTED_ISSUES) {
        eprintln!("{name}: {issue}");
    }
    let hidden = report.issues.len().saturating_sub(PRINTED_ISSUES) as u64 + report.issues_omitted;
    if hidden > 0 {
        eprintln!("{name}: … {hidden} more issues; --report FILE writes them all");
    }
    if report.committed {
        println!("{name}: {}", report.summary());
    } else {
        println!(
            "{name}: nothing stored (--strict{}): {}",
            if strict { ", rows were rejected" } else { "" },
            report.summary()
        );
    }
}
