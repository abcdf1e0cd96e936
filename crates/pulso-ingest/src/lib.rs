//! Feedback ingestion: parses CSV, JSON arrays and NDJSON, maps columns to fields, normalises,
//! redacts personal data and deduplicates, then stores each input as one all-or-nothing batch.
//! Knows nothing of Grafana: the CLI and the plugin's `POST /feedback` both call [`ingest`].

pub mod backfill;
pub mod fields;
pub mod normalise;
pub mod read;
pub use pulso_core::redact;
pub mod regions;
pub mod time;

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono_tz::Tz;
use serde::Serialize;
use thiserror::Error;

pub use fields::{Field, Mapping};
use normalise::{Normaliser, Outcome};
pub use read::InputFormat;
use read::Item;
pub use redact::RedactionCounts;

use pulso_store::{FeedbackBatch, FeedbackWriter, NewFeedback, StoreError};

/// Rows handed to the store at a time; the whole input is still one transaction.
const CHUNK_ROWS: usize = 2_000;
/// Chunks that may wait for the store before the reader is held back.
const CHUNKS_IN_FLIGHT: usize = 4;
/// Issues kept in a report; the rest are counted.
pub const MAX_REPORTED_ISSUES: usize = 1_000;
/// Longest value shown in an issue, after redaction.
const MAX_SHOWN_VALUE_CHARS: usize = 80;

#[derive(Debug, Error)]
pub enum IngestError {
    #[error("the input is empty: there are no rows to import")]
    Empty,
    #[error(
        "the input has a header (or an empty JSON array) but no rows: there is nothing to import"
    )]
    HeaderOnly,
    #[error("no text column among the columns ({columns}): name it with --map text=COLUMN or in the mapping file's [columns]; recognised names include text, texto, comentario, opinion, review, mensaje.{hint}")]
    NoTextColumn { columns: String, hint: String },
    #[error("{0}: fix the mapping, or the file's header")]
    Columns(String),
    #[error("the input is not JSON: it starts with {found:?}; send a JSON array of objects, or one object per line (NDJSON)")]
    NotJson { found: String },
    #[error("JSON syntax error in row {row} (line {line}, column {column}): {reason}. Nothing from this input was stored: fix the file and import it again, or export it as NDJSON so one bad line rejects only that row")]
    JsonSyntax {
        row: u64,
        line: u64,
        column: u64,
        reason: String,
    },
    #[error("the mapping file {path} is invalid: {reason}")]
    Mapping { path: String, reason: String },
    #[error("{option} {value:?} is invalid: {reason}")]
    Option {
        option: String,
        value: String,
        reason: String,
    },
    #[error("cannot read the input: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot read the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("nothing from this input was stored: {0}")]
    Store(#[from] StoreError),
    #[error("the reader stopped unexpectedly; nothing from this input was stored")]
    ReaderFailed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The row was not stored.
    Error,
    /// The row was stored, with a value replaced (e.g. an unknown region).
    Warning,
}

/// A problem with one row: where it is, which field, the value (redacted, shortened) and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowIssue {
    pub row: u64,
    pub line: u64,
    pub field: String,
    pub value: String,
    pub reason: String,
    pub severity: Severity,
}

impl RowIssue {
    pub fn error(row: u64, line: u64, field: &str, value: &str, reason: String) -> RowIssue {
        RowIssue::new(row, line, field, value, reason, Severity::Error)
    }

    pub fn warning(row: u64, line: u64, field: &str, value: &str, reason: String) -> RowIssue {
        RowIssue::new(row, line, field, value, reason, Severity::Warning)
    }

    fn new(
        row: u64,
        line: u64,
        field: &str,
        value: &str,
        reason: String,
        severity: Severity,
    ) -> RowIssue {
        RowIssue {
            row,
            line,
            field: field.to_string(),
            value: shown_value(value),
            reason,
            severity,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for RowIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.severity {
            Severity::Error => "rejected",
            Severity::Warning => "warning",
        };
        // Row 0 is the header: a warning about the columns.
        let place = if self.row == 0 {
            "header".to_string()
        } else {
            format!("row {}", self.row)
        };
        write!(
            f,
            "{place} (line {}) {kind}: {} {:?}: {}",
            self.line, self.field, self.value, self.reason
        )
    }
}

/// Reports never carry personal data, and never a whole 10 MB field.
fn shown_value(value: &str) -> String {
    let mut counts = RedactionCounts::default();
    let redacted = redact::redact(value, redact::RedactionRules { handles: true }, &mut counts);
    let length = redacted.chars().count();
    if length <= MAX_SHOWN_VALUE_CHARS {
        return redacted.into_owned();
    }
    let start: String = redacted.chars().take(MAX_SHOWN_VALUE_CHARS).collect();
    format!("{start}… ({length} characters)")
}

/// How to read and store one input.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub format: InputFormat,
    pub mapping: Mapping,
    /// For rows without one; a column value wins.
    pub source_type: Option<String>,
    pub platform: Option<String>,
    pub timezone: Tz,
    pub redact_handles: bool,
    /// Reject the whole input if any row is rejected.
    pub strict: bool,
    pub now_ms: i64,
    /// The time given to rows without one (pushed mentions); None rejects such rows.
    pub received_ms: Option<i64>,
}

impl IngestOptions {
    pub fn new(format: InputFormat, mapping: Mapping) -> IngestOptions {
        let timezone = chrono_tz::America::Lima;
        let redact_handles = mapping.redact_handles.unwrap_or(false);
        IngestOptions {
            format,
            mapping,
            source_type: None,
            platform: None,
            timezone,
            redact_handles,
            strict: false,
            now_ms: chrono::Utc::now().timestamp_millis(),
            received_ms: None,
        }
    }

    /// Sets the time zone from an IANA name such as America/Lima.
    pub fn set_timezone(&mut self, option: &str, name: &str) -> Result<(), IngestError> {
        self.timezone = name.parse::<Tz>().map_err(|_| IngestError::Option {
            option: option.into(),
            value: name.into(),
            reason: "it is not an IANA time zone such as America/Lima".into(),
        })?;
        Ok(())
    }
}

/// What an import did; `stored + duplicates + rejected == read`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestReport {
    pub read: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub warnings: u64,
    pub redactions: u64,
    pub redactions_by_kind: RedactionCounts,
    /// False when `strict` turned the rows away, so nothing was stored.
    pub committed: bool,
    pub issues: Vec<RowIssue>,
    pub issues_omitted: u64,
}

impl IngestReport {
    pub fn summary(&self) -> String {
        format!(
            "read {}, stored {}, duplicates {}, rejected {}, redactions {}, warnings {}",
            self.read, self.stored, self.duplicates, self.rejected, self.redactions, self.warnings
        )
    }

    fn absorb(&mut self, chunk: &mut Chunk) {
        self.read += chunk.read;
        self.rejected += chunk.rejected;
        self.duplicates += chunk.duplicates;
        self.redactions_by_kind.add(&chunk.redactions);
        self.redactions = self.redactions_by_kind.total();
        for issue in chunk.issues.drain(..) {
            if issue.severity == Severity::Warning {
                self.warnings += 1;
            }
            if self.issues.len() < MAX_REPORTED_ISSUES {
                self.issues.push(issue);
            } else {
                self.issues_omitted += 1;
            }
        }
    }
}

/// Progress of a running import, for progress bars.
#[derive(Debug, Default)]
pub struct IngestProgress {
    pub bytes_read: Arc<AtomicU64>,
    pub rows_read: AtomicU64,
}

#[derive(Default)]
struct Chunk {
    rows: Vec<NewFeedback>,
    issues: Vec<RowIssue>,
    read: u64,
    rejected: u64,
    duplicates: u64,
    redactions: RedactionCounts,
}

/// Reads, normalises and stores `input` as one transaction: on any failure, and under
/// `strict` when any row is rejected, nothing of it is stored.
pub async fn ingest(
    store: &dyn FeedbackWriter,
    input: Box<dyn Read + Send>,
    options: IngestOptions,
    progress: Arc<IngestProgress>,
) -> Result<IngestReport, IngestError> {
    let strict = options.strict;
    let (sender, mut receiver) = tokio::sync::mpsc::channel(CHUNKS_IN_FLIGHT);
    // Parsing and redaction run on their own thread while this task writes to the store.
    let reader = tokio::task::spawn_blocking(move || produce(input, options, progress, sender));
    let mut report = IngestReport::default();
    let mut batch: Option<Box<dyn FeedbackBatch>> = None;
    let mut failure = None;
    while let Some(message) = receiver.recv().await {
        let mut chunk = match message {
            Ok(chunk) => chunk,
            Err(error) => {
                failure = Some(error);
                break;
            }
        };
        report.absorb(&mut chunk);
        if chunk.rows.is_empty() || (strict && report.rejected > 0) {
            continue;
        }
        if batch.is_none() {
            match store.begin_batch().await {
                Ok(opened) => batch = Some(opened),
                Err(error) => {
                    failure = Some(error.into());
                    break;
                }
            }
        }
        let open = batch.as_mut().expect("opened above");
        match open.insert(&chunk.rows).await {
            Ok(inserted) => {
                report.stored += inserted.inserted;
                report.duplicates += inserted.duplicates;
            }
            Err(error) => {
                failure = Some(error.into());
                break;
            }
        }
    }
    drop(receiver); // stops the reader if we stopped early
    let reader_result = reader.await;
    if failure.is_none() && reader_result.is_err() {
        failure = Some(IngestError::ReaderFailed);
    }
    if let Some(error) = failure {
        if let Some(open) = batch {
            if let Err(rollback) = open.rollback().await {
                tracing::warn!(%rollback, "rolling back a failed import failed; SQLite discards it on the next open");
            }
        }
        return Err(error);
    }
    if strict && report.rejected > 0 {
        if let Some(open) = batch {
            open.rollback().await?;
        }
        report.duplicates = 0;
        report.stored = 0;
        report.committed = false;
        return Ok(report);
    }
    if let Some(open) = batch {
        open.commit().await?;
    }
    report.committed = true;
    Ok(report)
}

fn produce(
    input: Box<dyn Read + Send>,
    options: IngestOptions,
    progress: Arc<IngestProgress>,
    sender: tokio::sync::mpsc::Sender<Result<Chunk, IngestError>>,
) {
    let rows = match read::rows(
        input,
        options.format,
        &options.mapping,
        progress.bytes_read.clone(),
    ) {
        Ok(rows) => rows,
        Err(error) => {
            let _ = sender.blocking_send(Err(error));
            return;
        }
    };
    let mut normaliser = Normaliser::new(&options);
    let mut chunk = Chunk::default();
    for item in rows {
        match item {
            Err(error) => {
                let _ = sender.blocking_send(Err(error));
                return;
            }
            Ok(Item::Warning(issue)) => {
                chunk.issues.push(issue);
                continue;
            }
            Ok(Item::Problem(issue)) => {
                chunk.read += 1;
                chunk.rejected += 1;
                chunk.issues.push(issue);
            }
            Ok(Item::Row(raw)) => {
                chunk.read += 1;
                match normaliser.normalise(&raw, &mut chunk.issues, &mut chunk.redactions) {
                    Outcome::Keep(row) => chunk.rows.push(row),
                    Outcome::Rejected => chunk.rejected += 1,
                    Outcome::DuplicateInInput => chunk.duplicates += 1,
                }
            }
        }
        progress.rows_read.fetch_add(1, Ordering::Relaxed);
        let full = chunk.rows.len() >= CHUNK_ROWS || chunk.issues.len() >= CHUNK_ROWS;
        if full
            && sender
                .blocking_send(Ok(std::mem::take(&mut chunk)))
                .is_err()
        {
            return;
        }
    }
    let _ = sender.blocking_send(Ok(chunk));
}
