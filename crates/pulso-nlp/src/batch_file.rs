//! `pulso score`: sentiment for every row of a CSV or JSON Lines file, with the same engine
//! the plugin uses. A bad row (empty text, invalid UTF-8) gets an `error` cell; the others are
//! scored as usual. A model with an emotion head adds a `p_<emotion>` column per emotion after
//! the others, so the sentiment columns keep their places.

use pulso_core::analysis::Label;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use thiserror::Error;

use super::{NlpError, SentimentModel, TextResult};

const ROWS_PER_BATCH: usize = 64;
const ADDED_COLUMNS: [&str; 7] = [
    "label",
    "score",
    "p_negative",
    "p_neutral",
    "p_positive",
    "truncated",
    "error",
];

#[derive(Debug, Error)]
pub enum BatchFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not valid CSV: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path} has no column {column:?}: its columns are {found}")]
    MissingColumn {
        path: PathBuf,
        column: String,
        found: String,
    },
    #[error(transparent)]
    Model(#[from] NlpError),
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    pub rows: usize,
    pub scored: usize,
    pub failed: usize,
    pub truncated: usize,
}

enum Output {
    Csv(Box<csv::Writer<BufWriter<Box<dyn Write>>>>),
    JsonLines(BufWriter<Box<dyn Write>>),
}

enum Format {
    Csv,
    JsonLines,
}

fn format_of(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("jsonl" | "ndjson") => Format::JsonLines,
        _ => Format::Csv,
    }
}

/// One input row: its cells, and its text or why it has none.
struct Row {
    cells: Vec<(String, String)>,
    text: Result<String, String>,
}

fn outcome_cells(result: &Result<TextResult, String>, labels: &[String]) -> Vec<String> {
    let probability = |p: &crate::Prediction, name: &str| {
        labels
            .iter()
            .position(|l| l == name)
            .map(|i| format!("{:.6}", p.probabilities[i]))
            .unwrap_or_default()
    };
    match result {
        Ok(Ok(p)) => vec![
            p.label.clone(),
            format!("{:.6}", p.score),
            probability(p, Label::Negative.name()),
            probability(p, Label::Neutral.name()),
            probability(p, Label::Positive.name()),
            p.truncated.to_string(),
            String::new(),
        ],
        Ok(Err(e)) => error_cells(e.to_string()),
        Err(e) => error_cells(e.clone()),
    }
}

fn error_cells(message: String) -> Vec<String> {
    let mut cells = vec![String::new(); ADDED_COLUMNS.len() - 1];
    cells.push(message);
    cells
}

fn read_rows(input: &Path, text_column: &str) -> Result<(Vec<String>, Vec<Row>), BatchFileError> {
    let read_error = |source| BatchFileError::Read {
        path: input.to_path_buf(),
        source,
    };
    match format_of(input) {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .from_path(input)
                .map_err(|source| BatchFileError::Csv {
                    path: input.to_path_buf(),
                    source,
                })?;
            let headers: Vec<String> = reader
                .byte_headers()
                .map_err(|source| BatchFileError::Csv {
                    path: input.to_path_buf(),
                    source,
                })?
                .iter()
                .map(|h| String::from_utf8_lossy(h).into_owned())
                .collect();
            let text_index = headers
                .iter()
                .position(|h| h == text_column)
                .ok_or_else(|| BatchFileError::MissingColumn {
                    path: input.to_path_buf(),
                    column: text_column.to_string(),
                    found: headers.join(", "),
                })?;
            let mut rows = Vec::new();
            for record in reader.byte_records() {
                let record = record.map_err(|source| BatchFileError::Csv {
                    path: input.to_path_buf(),
                    source,
                })?;
                let cells = headers
                    .iter()
                    .zip(record.iter())
                    .map(|(h, v)| (h.clone(), String::from_utf8_lossy(v).into_owned()))
                    .collect();
                let text = match record.get(text_index) {
                    None => Err(format!("row has no {text_column} cell")),
                    Some(bytes) => String::from_utf8(bytes.to_vec())
                        .map_err(|_| format!("{text_column} is not valid UTF-8")),
                };
                rows.push(Row { cells, text });
            }
            Ok((headers, rows))
        }
        Format::JsonLines => {
            let reader = BufReader::new(File::open(input).map_err(read_error)?);
            let mut headers: Vec<String> = Vec::new();
            let mut rows = Vec::new();
            for line in reader.split(b'\n') {
                let line = line.map_err(read_error)?;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let parsed = std::str::from_utf8(&line)
                    .map_err(|_| "line is not valid UTF-8".to_string())
                    .and_then(|s| {
                        serde_json::from_str::<Map<String, Value>>(s)
                            .map_err(|e| format!("line is not a JSON object: {e}"))
                    });
                let row = match parsed {
                    Ok(object) => {
                        for key in object.keys() {
                            if !headers.contains(key) {
                                headers.push(key.clone());
                            }
                        }
                        let text = match object.get(text_column) {
                            Some(Value::String(s)) => Ok(s.clone()),
                            Some(other) => Err(format!("{text_column} is not a string: {other}")),
                            None => Err(format!("row has no {text_column} field")),
                        };
                        let cells = object
                            .into_iter()
                            .map(|(k, v)| match v {
                                Value::String(s) => (k, s),
                                other => (k, other.to_string()),
                            })
                            .collect();
                        Row { cells, text }
                    }
                    Err(message) => Row {
                        cells: Vec::new(),
                        text: Err(message),
                    },
                };
                rows.push(row);
            }
            Ok((headers, rows))
        }
    }
}

/// Scores `input` into `output` (or standard output), in the input's format.
pub fn score_file(
    model: &dyn SentimentModel,
    input: &Path,
    text_column: &str,
    output: Option<&Path>,
) -> Result<BatchReport, BatchFileError> {
    let (headers, rows) = read_rows(input, text_column)?;
    let emotion_columns: Vec<String> = model
        .emotion_labels()
        .iter()
        .map(|emotion| format!("p_{emotion}"))
        .collect();
    let output_name = output.map_or_else(|| PathBuf::from("<stdout>"), Path::to_path_buf);
    let write_error = |source| BatchFileError::Write {
        path: output_name.clone(),
        source,
    };
    let sink: Box<dyn Write> = match output {
        Some(path) => Box::new(File::create(path).map_err(write_error)?),
        None => Box::new(std::io::stdout().lock()),
    };
    let sink = BufWriter::new(sink);
    let mut writer = match format_of(input) {
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(sink);
            let all_headers = headers
                .iter()
                .map(String::as_str)
                .chain(ADDED_COLUMNS)
                .chain(emotion_columns.iter().map(String::as_str));
            writer
                .write_record(all_headers)
                .map_err(|e| write_error(e.into()))?;
            Output::Csv(Box::new(writer))
        }
        Format::JsonLines => Output::JsonLines(sink),
    };
    let show_progress = std::io::stderr().is_terminal();
    let mut report = BatchReport::default();
    for chunk in rows.chunks(ROWS_PER_BATCH) {
        let texts: Vec<&str> = chunk
            .iter()
            .filter_map(|r| r.text.as_deref().ok())
            .collect();
        let mut predictions = model.predict(&texts)?.into_iter();
        for row in chunk {
            let result: Result<TextResult, String> = match &row.text {
                Ok(_) => Ok(predictions.next().expect("one prediction per text")),
                Err(message) => Err(message.clone()),
            };
            report.rows += 1;
            match &result {
                Ok(Ok(p)) => {
                    report.scored += 1;
                    report.truncated += usize::from(p.truncated);
                }
                _ => report.failed += 1,
            }
            let added = outcome_cells(&result, model.labels());
            let emotion_cells: Vec<String> = match &result {
                Ok(Ok(p)) if p.emotions.len() == emotion_columns.len() => {
                    p.emotions.iter().map(|c| format!("{c:.6}")).collect()
                }
                _ => vec![String::new(); emotion_columns.len()],
            };
            match &mut writer {
                Output::Csv(writer) => {
                    let cell = |h: &String| {
                        row.cells
                            .iter()
                            .find(|(k, _)| k == h)
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default()
                    };
                    let record: Vec<String> = headers
                        .iter()
                        .map(cell)
                        .chain(added)
                        .chain(emotion_cells)
                        .collect();
                    writer
                        .write_record(&record)
                        .map_err(|e| write_error(e.into()))?;
                }
                Output::JsonLines(sink) => {
                    let mut object: Map<String, Value> = row
                        .cells
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect();
                    for (name, value) in ADDED_COLUMNS.iter().zip(added) {
                        object.insert(name.to_string(), Value::String(value));
                    }
                    for (name, value) in emotion_columns.iter().zip(emotion_cells) {
                        object.insert(name.clone(), Value::String(value));
                    }
                    serde_json::to_writer(&mut *sink, &object)
                        .map_err(|e| write_error(e.into()))?;
                    sink.write_all(b"\n").map_err(write_error)?;
                }
            }
        }
        if show_progress {
            eprint!("\rscored {}/{} rows", report.rows, rows.len());
        }
    }
    match writer {
        Output::Csv(mut writer) => writer.flush().map_err(write_error)?,
        Output::JsonLines(mut sink) => sink.flush().map_err(write_error)?,
    }
    if show_progress {
        eprintln!();
    }
    Ok(report)
}
