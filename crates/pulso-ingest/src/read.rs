//! Turns CSV, JSON arrays and NDJSON into raw rows: one value per Pulso field, still as text.
//! Problems that concern one row (a bad field count, invalid UTF-8, a broken NDJSON line)
//! become that row's issue; problems that make the whole input unreadable end it.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::Value;

use super::fields::{scale_in_name, Field, Mapping, Resolved, FIELD_COUNT};
use super::{IngestError, RowIssue};

const READ_BUFFER: usize = 256 * 1024;
const DELIMITER_CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The shape of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Delimiter sniffed from the header when None.
    Csv { delimiter: Option<u8> },
    /// A JSON array of objects, or one object per line (NDJSON); told apart by the first byte.
    Json,
}

impl InputFormat {
    /// From the file name: `.json`, `.ndjson`, `.jsonl` are JSON, `.tsv` is tab-separated, the
    /// rest CSV.
    pub fn from_path(path: &std::path::Path, delimiter: Option<u8>) -> InputFormat {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match extension.as_str() {
            "json" | "ndjson" | "jsonl" => InputFormat::Json,
            "tsv" => InputFormat::Csv {
                delimiter: delimiter.or(Some(b'\t')),
            },
            _ => InputFormat::Csv { delimiter },
        }
    }
}

/// One row's values, by field, before normalisation.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    /// 1-based position among the data rows (the header is not a row).
    pub row: u64,
    /// 1-based line in the input where the row starts.
    pub line: u64,
    pub values: [Option<String>; FIELD_COUNT],
    /// A rating scale written in the rating column's name, e.g. "Puntuación (1-5)".
    pub rating_scale: Option<(f64, f64)>,
}

impl RawRow {
    pub fn get(&self, field: Field) -> Option<&str> {
        self.values[field.index()].as_deref()
    }
}

// Short-lived, one per row: boxing the row would cost an allocation per row.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Item {
    Row(RawRow),
    /// A row that cannot be stored: counted as read and rejected.
    Problem(RowIssue),
    /// Something the user should know that does not stop a row (or concerns the header).
    Warning(RowIssue),
}

pub type Rows = Box<dyn Iterator<Item = Result<Item, IngestError>> + Send>;

/// How much of the input's end is kept, to check how its last CSV record ends.
const TAIL_BYTES: usize = 64 * 1024;

/// Counts bytes as they are read, for progress bars, and keeps the last ones read.
struct Counting<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
    /// At least the last `TAIL_BYTES` read (at most twice that).
    tail: Vec<u8>,
    total: u64,
    /// Whether a read found the end of the input.
    exhausted: bool,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        self.total += n as u64;
        self.exhausted |= n == 0 && !buf.is_empty();
        self.tail.extend_from_slice(&buf[..n]);
        if self.tail.len() > 2 * TAIL_BYTES {
            let excess = self.tail.len() - TAIL_BYTES;
            self.tail.drain(..excess);
        }
        Ok(n)
    }
}

/// Opens `input` as rows of `format`.
pub fn rows(
    input: Box<dyn Read + Send>,
    format: InputFormat,
    mapping: &Mapping,
    bytes_read: Arc<AtomicU64>,
) -> Result<Rows, IngestError> {
    let mut reader = BufReader::with_capacity(
        READ_BUFFER,
        Counting {
            inner: input,
            bytes: bytes_read,
            tail: Vec::new(),
            total: 0,
            exhausted: false,
        },
    );
    skip_bom(&mut reader)?;
    let first = first_meaningful_byte(&mut reader)?.ok_or(IngestError::Empty)?;
    match format {
        InputFormat::Csv { delimiter } => csv_rows(reader, delimiter, mapping),
        InputFormat::Json if first == b'[' => json_array_rows(reader, mapping),
        InputFormat::Json if first == b'{' => Ok(ndjson_rows(reader, mapping)),
        InputFormat::Json => Err(IngestError::NotJson {
            found: (first as char).escape_default().to_string(),
        }),
    }
}

fn skip_bom(reader: &mut impl BufRead) -> Result<(), IngestError> {
    let buffer = reader.fill_buf()?;
    if buffer.starts_with(&[0xEF, 0xBB, 0xBF]) {
        reader.consume(3);
    }
    Ok(())
}

/// The first byte that is not white space, without consuming anything after the white space.
fn first_meaningful_byte(reader: &mut impl BufRead) -> Result<Option<u8>, IngestError> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(None);
        }
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let byte = buffer[i];
                reader.consume(i);
                return Ok(Some(byte));
            }
            None => {
                let n = buffer.len();
                reader.consume(n);
            }
        }
    }
}

/// The candidate that appears most often outside quotes on the header line.
fn sniff_delimiter(header_line: &[u8]) -> u8 {
    let mut counts = [0usize; DELIMITER_CANDIDATES.len()];
    let mut quoted = false;
    for &byte in header_line {
        if byte == b'"' {
            quoted = !quoted;
        } else if byte == b'\n' && !quoted {
            break;
        } else if !quoted {
            if let Some(i) = DELIMITER_CANDIDATES.iter().position(|c| *c == byte) {
                counts[i] += 1;
            }
        }
    }
    let best = (0..counts.len())
        .max_by_key(|i| (counts[*i], usize::MAX - i))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        DELIMITER_CANDIDATES[best]
    }
}

fn delimiter_name(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tab".to_string(),
        other => format!("'{}'", other as char),
    }
}

fn csv_rows(
    mut reader: BufReader<Counting<Box<dyn Read + Send>>>,
    delimiter: Option<u8>,
    mapping: &Mapping,
) -> Result<Rows, IngestError> {
    let sniffed = sniff_delimiter(reader.fill_buf()?);
    // Where the CSV reader starts in the input: after a BOM and blank lines.
    let start_offset = reader.get_ref().total - reader.buffer().len() as u64;
    let delimiter = delimiter.or(mapping.delimiter).unwrap_or(sniffed);
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        // With CRLF as a terminator the reader reports the line before the real one; a
        // trailing \r is trimmed from the values instead.
        .terminator(csv::Terminator::Any(b'\n'))
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut header = csv::ByteRecord::new();
    if !csv.read_byte_record(&mut header)? {
        return Err(IngestError::Empty);
    }
    let names: Vec<String> = header
        .iter()
        .map(|n| {
            String::from_utf8_lossy(n)
                .trim_matches(['\r', ' ', '\t'])
                .to_string()
        })
        .collect();
    let resolved = mapping.resolve(&names).map_err(IngestError::Columns)?;
    if resolved[Field::Text.index()].is_none() {
        let hint = if names.len() == 1 && sniffed != delimiter {
            format!(
                " The header is a single column when split on {}; it looks {}-separated: pass --delimiter {} (or set delimiter in the mapping file).",
                delimiter_name(delimiter),
                delimiter_name(sniffed),
                delimiter_name(sniffed)
            )
        } else {
            String::new()
        };
        return Err(IngestError::NoTextColumn {
            columns: names.join(", "),
            hint,
        });
    }
    let rating_scale = resolved[Field::Rating.index()].and_then(|i| scale_in_name(&names[i]));
    let mut pending: VecDeque<Item> = mapping
        .shadowed(&names, &resolved)
        .into_iter()
        .map(|(field, used, other)| {
            Item::Warning(RowIssue::warning(
                0,
                1,
                field.name(),
                &names[other],
                format!(
                    "the column {:?} also looks like the {field}, but only {:?} is imported: map the one you want (--map {field}=COLUMN, or map.{field}=COLUMN when pushing), or rename the other",
                    names[other],
                    names[used],
                    field = field.name(),
                ),
            ))
        })
        .collect();
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    let iterator = std::iter::from_fn(move || loop {
        if let Some(item) = pending.pop_front() {
            return Some(Ok(item));
        }
        // The reader's position before a record is the line the record starts on.
        let line = csv.position().line();
        return match csv.read_byte_record(&mut record) {
            Err(error) => Some(Err(IngestError::from(error))),
            Ok(false) if row == 0 => {
                row = 1; // report once
                Some(Err(IngestError::HeaderOnly))
            }
            Ok(false) => None,
            Ok(true) if record.len() == 1 && record[0].trim_ascii().is_empty() => continue,
            Ok(true) => {
                row += 1;
                if let Some(warning) = swallowed_rows(&record, &names, row, line, csv.position().line(), delimiter) {
                    pending.push_back(Item::Warning(warning));
                }
                // Ended by the end of the input, not by a line break: if that was inside a
                // quoted field, the file was cut off (or a quote never closed) mid-row.
                let input = csv.get_ref().get_ref();
                let at_end = input.exhausted
                    && start_offset + csv.position().byte() == input.total
                    && input.tail.last() != Some(&b'\n');
                let cut_off = at_end
                    && record.position().is_some_and(|start| {
                        let length = (csv.position().byte() - start.byte()) as usize;
                        let tail = &input.tail;
                        length <= tail.len()
                            && tail[tail.len() - length..].iter().filter(|b| **b == b'"').count() % 2 == 1
                    });
                let item = if cut_off {
                    Item::Problem(RowIssue::error(
                        row,
                        line,
                        "row",
                        &joined(&record, delimiter),
                        format!("the input ends inside a quoted field of this row (line {line}): the file looks cut off, or a closing quote is missing, so the row is incomplete and was not stored; export the file again"),
                    ))
                } else {
                    csv_item(&record, &names, &resolved, row, line, delimiter, rating_scale)
                };
                pending.push_back(item);
                continue;
            }
        };
    })
    .take_while_inclusive_header_only();
    Ok(Box::new(iterator))
}

/// Stops after a header-only error, which the iterator reports in place of the end.
trait TakeWhileInclusive: Iterator<Item = Result<Item, IngestError>> + Sized {
    fn take_while_inclusive_header_only(self) -> HeaderOnlyGuard<Self> {
        HeaderOnlyGuard {
            inner: self,
            done: false,
        }
    }
}
impl<I: Iterator<Item = Result<Item, IngestError>>> TakeWhileInclusive for I {}

struct HeaderOnlyGuard<I> {
    inner: I,
    done: bool,
}

impl<I: Iterator<Item = Result<Item, IngestError>>> Iterator for HeaderOnlyGuard<I> {
    type Item = Result<Item, IngestError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.inner.next();
        if matches!(next, Some(Err(_)) | None) {
            self.done = true;
        }
        next
    }
}

fn joined(record: &csv::ByteRecord, delimiter: u8) -> String {
    record
        .iter()
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(&(delimiter as char).to_string())
}

/// A warning when a field holds lines that look like rows of the file: they have as many
/// fields as the header and start the way this row does (same shape of id or date), so a
/// quote opened in this row was probably closed rows later, and those rows were read as part
/// of this field.
fn swallowed_rows(
    record: &csv::ByteRecord,
    names: &[String],
    row: u64,
    line: u64,
    next_line: u64,
    delimiter: u8,
) -> Option<RowIssue> {
    if names.len() < 2 || record.is_empty() {
        return None;
    }
    // Most records have no line break in any field: nothing is computed for them.
    let mut first_shape = None;
    for (column, field) in record.iter().enumerate() {
        if !field.contains(&b'\n') {
            continue;
        }
        let first_shape = first_shape.get_or_insert_with(|| shape(&record[0]));
        let swallowed = field
            .split(|b| *b == b'\n')
            .skip(1)
            .filter(|inner| {
                let parts: Vec<&[u8]> = inner.split(|b| *b == delimiter).collect();
                parts.len() >= names.len() && shape(parts[0]) == *first_shape
            })
            .count();
        if swallowed > 0 {
            let name = names.get(column).map_or("row", String::as_str);
            let last_line = next_line.saturating_sub(1).max(line);
            return Some(RowIssue::warning(
                row,
                line,
                name,
                &String::from_utf8_lossy(field),
                format!("it runs from line {line} to line {last_line}, and {swallowed} of its lines look like rows of this file: a quote in this row is probably not closed where it should be, so those rows were read as part of this field and not imported on their own; fix the quoting and import the file again (rows already stored are not stored twice)"),
            ));
        }
    }
    None
}

/// The shape of a value: digits as 9, letters as a, the rest as is ("R-1021" → "a-9999").
fn shape(value: &[u8]) -> Vec<u8> {
    value
        .trim_ascii()
        .iter()
        .map(|b| match b {
            b'0'..=b'9' => b'9',
            b if b.is_ascii_alphabetic() => b'a',
            b => *b,
        })
        .collect()
}

fn csv_item(
    record: &csv::ByteRecord,
    names: &[String],
    resolved: &Resolved<usize>,
    row: u64,
    line: u64,
    delimiter: u8,
    rating_scale: Option<(f64, f64)>,
) -> Item {
    if record.len() != names.len() {
        return Item::Problem(RowIssue::error(
            row,
            line,
            "row",
            &joined(record, delimiter),
            format!(
                "it has {} fields and the header has {}: check the delimiter ({}) and the quoting",
                record.len(),
                names.len(),
                delimiter_name(delimiter)
            ),
        ));
    }
    let mut raw = RawRow {
        row,
        line,
        rating_scale,
        ..RawRow::default()
    };
    for field in Field::ALL {
        let Some(column) = resolved[field.index()] else {
            continue;
        };
        let bytes = record[column]
            .strip_suffix(b"\r")
            .unwrap_or(&record[column]);
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                if !text.trim().is_empty() {
                    raw.values[field.index()] = Some(text.to_string());
                }
            }
            Err(error) => {
                return Item::Problem(RowIssue::error(
                    row,
                    line,
                    field.name(),
                    String::from_utf8_lossy(bytes).as_ref(),
                    format!(
                        "it is not valid UTF-8 (byte {} of the field): save the file as UTF-8 (in Excel, \"CSV UTF-8\"); it may be Latin-1 / Windows-1252",
                        error.valid_up_to() + 1
                    ),
                ));
            }
        }
    }
    Item::Row(raw)
}

/// A JSON object's scalar values by key; nested objects become `outer.inner` keys.
fn flatten(value: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    let Value::Object(map) = value else { return };
    for (key, value) in map {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::String(s) => out.push((name, s.clone())),
            Value::Number(n) => out.push((name, n.to_string())),
            Value::Bool(b) => out.push((name, b.to_string())),
            Value::Object(_) => flatten(value, &name, out),
            Value::Null | Value::Array(_) => {}
        }
    }
}

/// Maps JSON objects to raw rows, resolving keys once per distinct key set.
struct JsonRowBuilder {
    mapping: Mapping,
    cached_keys: Vec<String>,
    cached: Option<Resolved<usize>>,
}

impl JsonRowBuilder {
    fn build(&mut self, value: &Value, row: u64, line: u64) -> Item {
        if !value.is_object() {
            return Item::Problem(RowIssue::error(
                row,
                line,
                "row",
                &value.to_string(),
                "it is not a JSON object: each row must be {\"text\": ..., ...}".into(),
            ));
        }
        let mut pairs = Vec::new();
        flatten(value, "", &mut pairs);
        let keys: Vec<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
        if self.cached.is_none() || keys != self.cached_keys {
            match self.mapping.resolve(&keys) {
                Ok(resolved) => {
                    self.cached = Some(resolved);
                    self.cached_keys = keys;
                }
                Err(reason) => {
                    return Item::Problem(RowIssue::error(row, line, "row", "", reason));
                }
            }
        }
        let resolved = self.cached.as_ref().expect("resolved above");
        let mut raw = RawRow {
            row,
            line,
            ..RawRow::default()
        };
        for field in Field::ALL {
            if let Some(i) = resolved[field.index()] {
                let text = &pairs[i].1;
                if !text.trim().is_empty() {
                    raw.values[field.index()] = Some(text.clone());
                }
            }
        }
        if let Some(i) = resolved[Field::Rating.index()] {
            raw.rating_scale = scale_in_name(&pairs[i].0);
        }
        Item::Row(raw)
    }
}

fn ndjson_rows(mut reader: BufReader<Counting<Box<dyn Read + Send>>>, mapping: &Mapping) -> Rows {
    let mut builder = JsonRowBuilder {
        mapping: mapping.clone(),
        cached_keys: Vec::new(),
        cached: None,
    };
    let mut line_number = 0u64;
    let mut row = 0u64;
    let mut line = Vec::new();
    Box::new(std::iter::from_fn(move || loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Err(error) => return Some(Err(IngestError::from(error))),
            Ok(0) => return None,
            Ok(_) => {}
        }
        line_number += 1;
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        row += 1;
        return Some(Ok(match serde_json::from_slice::<Value>(text) {
            Ok(value) => builder.build(&value, row, line_number),
            Err(error) => Item::Problem(RowIssue::error(
                row,
                line_number,
                "row",
                String::from_utf8_lossy(text).as_ref(),
                format!("it is not valid JSON ({error}): each line must be one JSON object"),
            )),
        }));
    }))
}

fn json_array_rows(
    mut reader: BufReader<Counting<Box<dyn Read + Send>>>,
    mapping: &Mapping,
) -> Result<Rows, IngestError> {
    let mut buffer = Vec::new();
    reader.read_to_end(&mut buffer)?;
    let mut builder = JsonRowBuilder {
        mapping: mapping.clone(),
        cached_keys: Vec::new(),
        cached: None,
    };
    let mut position = 1; // after '['
    let mut row = 0u64;
    let mut finished = false;
    let line_at = |buffer: &[u8], position: usize| -> (u64, u64) {
        let before = &buffer[..position.min(buffer.len())];
        let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        let column = before.iter().rev().take_while(|b| **b != b'\n').count() as u64 + 1;
        (line, column)
    };
    Ok(Box::new(std::iter::from_fn(move || {
        if finished {
            return None;
        }
        let skip_ws = |buffer: &[u8], mut p: usize| {
            while p < buffer.len() && buffer[p].is_ascii_whitespace() {
                p += 1;
            }
            p
        };
        position = skip_ws(&buffer, position);
        if row == 0 && buffer.get(position) == Some(&b']') {
            finished = true;
            return Some(Err(IngestError::HeaderOnly));
        }
        let mut values =
            serde_json::Deserializer::from_slice(&buffer[position..]).into_iter::<Value>();
        let parsed = values.next();
        let consumed = values.byte_offset();
        let syntax_error = |error: String, at: usize, row: u64| {
            let (line, column) = line_at(&buffer, at);
            IngestError::JsonSyntax {
                row,
                line,
                column,
                reason: error,
            }
        };
        match parsed {
            None => {
                finished = true;
                Some(Err(syntax_error(
                    "the array is not closed with ]".into(),
                    position,
                    row + 1,
                )))
            }
            Some(Err(error)) => {
                finished = true;
                let (line, column) = line_at(&buffer, position);
                let (line, column) = if error.line() <= 1 {
                    (line, column + error.column() as u64 - 1)
                } else {
                    (line + error.line() as u64 - 1, error.column() as u64)
                };
                Some(Err(IngestError::JsonSyntax {
                    row: row + 1,
                    line,
                    column,
                    reason: error.to_string(),
                }))
            }
            Some(Ok(value)) => {
                row += 1;
                let start_line = line_at(&buffer, position).0;
                position = skip_ws(&buffer, position + consumed);
                match buffer.get(position) {
                    Some(b',') => position += 1,
                    Some(b']') => {
                        finished = true;
                        let rest = skip_ws(&buffer, position + 1);
                        if rest < buffer.len() {
                            return Some(Err(syntax_error(
                                "there is text after the closing ]".into(),
                                rest,
                                row,
                            )));
                        }
                    }
                    _ => {
                        finished = true;
                        return Some(Err(syntax_error(
                            "expected , or ] after the object".into(),
                            position,
                            row,
                        )));
                    }
                }
                Some(Ok(builder.build(&value, row, start_line)))
            }
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], format: InputFormat) -> Result<Vec<Item>, IngestError> {
        let rows = rows(
            Box::new(std::io::Cursor::new(input.to_vec())),
            format,
            &Mapping::default(),
            Arc::default(),
        )?;
        rows.collect()
    }

    fn texts(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|item| match item {
                Item::Row(raw) => raw.get(Field::Text).unwrap_or("-").to_string(),
                Item::Problem(issue) => format!("problem: {}", issue.reason),
                Item::Warning(issue) => format!("warning: {} {}", issue.field, issue.reason),
            })
            .collect()
    }

    fn csv(input: &str) -> Vec<String> {
        texts(&read_all(input.as_bytes(), InputFormat::Csv { delimiter: None }).unwrap())
    }

    #[test]
    fn a_quote_that_swallows_rows_is_a_warning_naming_its_lines() {
        let out = csv("id,fecha,comentario\nR-1,01/02/2025,\"rico\nR-2,02/02/2025,malo\nR-3,03/02/2025,\"frío\"\nR-4,04/02/2025,bien\n");
        assert!(
            out[0].starts_with("warning: comentario it runs from line 2 to line 4, and 2 of its lines look like rows"),
            "{out:?}"
        );
        assert_eq!(out[2], "bien");
        assert_eq!(out.len(), 3);
        // A comment on several lines is not a swallowed row.
        let out =
            csv("id,fecha,comentario\nR-1,01/02/2025,\"rico, barato,\nbueno, bonito, barato\"\n");
        assert_eq!(out, ["rico, barato,\nbueno, bonito, barato"]);
    }

    #[test]
    fn a_file_cut_inside_a_quoted_field_rejects_its_last_row() {
        let out = csv("fecha,comentario\n01/02/2025,\"rico\"\n02/02/2025,\"el pollo lleg");
        assert_eq!(out[0], "rico");
        assert!(
            out[1]
                .starts_with("problem: the input ends inside a quoted field of this row (line 3)"),
            "{out:?}"
        );
        // Without a final line break but whole, the last row is stored.
        assert_eq!(csv("fecha,comentario\n01/02/2025,\"rico\""), ["rico"]);
        assert_eq!(csv("fecha,comentario\n01/02/2025,rico"), ["rico"]);
    }

    #[test]
    fn a_second_text_column_is_a_header_warning() {
        let out = csv("fecha,comentario,texto\n01/02/2025,rico,malo\n");
        assert_eq!(
            out[0],
            "warning: text the column \"texto\" also looks like the text, but only \"comentario\" is imported: map the one you want (--map text=COLUMN, or map.text=COLUMN when pushing), or rename the other"
        );
        assert_eq!(out[1], "rico");
        let out = csv("text,fecha,text\nrico,01/02/2025,malo\n");
        assert!(
            out[0].starts_with("warning: text the column \"text\" also looks like"),
            "{out:?}"
        );
    }

    #[test]
    fn csv_with_bom_semicolons_and_quotes() {
        let input = "\u{feff}Fecha;Comentario;Región\r\n\r\n01/02/2025;\"rico; bien\";Lima\r\n02/02/2025;\"dijo \"\"bacán\"\"\";Cusco\r\n";
        let items = read_all(input.as_bytes(), InputFormat::Csv { delimiter: None }).unwrap();
        assert_eq!(texts(&items), ["rico; bien", "dijo \"bacán\""]);
        let Item::Row(second) = &items[1] else {
            panic!()
        };
        assert_eq!((second.row, second.line), (2, 4));
        assert_eq!(second.get(Field::Region), Some("Cusco"));
    }

    #[test]
    fn csv_file_level_problems() {
        let csv = InputFormat::Csv { delimiter: None };
        assert!(matches!(read_all(b"", csv), Err(IngestError::Empty)));
        assert!(matches!(read_all(b" \n\n", csv), Err(IngestError::Empty)));
        assert!(matches!(
            read_all(b"fecha,texto\n", csv),
            Err(IngestError::HeaderOnly)
        ));
        let error = read_all(b"fecha,region\n2025-01-01,Lima\n", csv).unwrap_err();
        assert!(error.to_string().contains("no text column"), "{error}");
        let error = read_all(
            b"fecha;texto\n2025-01-01;hola\n",
            InputFormat::Csv {
                delimiter: Some(b','),
            },
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("pass --delimiter ';'"),
            "{error}"
        );
    }

    #[test]
    fn csv_row_level_problems() {
        let mut input = b"texto,region\nbien,Lima\nmal,Lima,extra\n".to_vec();
        input.extend_from_slice(b"caf\xe9 fr\xedo,Lima\n");
        let items = read_all(&input, InputFormat::Csv { delimiter: None }).unwrap();
        let out = texts(&items);
        assert_eq!(out[0], "bien");
        assert!(
            out[1].contains("it has 3 fields and the header has 2"),
            "{}",
            out[1]
        );
        assert!(out[2].contains("not valid UTF-8 (byte 4"), "{}", out[2]);
    }

    #[test]
    fn ndjson_keeps_going_past_a_broken_line() {
        let input = b"{\"text\": \"uno\", \"stars\": 4}\n\n{\"text\": \"dos\"\n{\"text\": \"tres\", \"place\": {\"region\": \"Ica\"}}\n[1]\n";
        let items = read_all(input, InputFormat::Json).unwrap();
        let out = texts(&items);
        assert_eq!(out[0], "uno");
        assert!(
            out[1].starts_with("problem: it is not valid JSON"),
            "{}",
            out[1]
        );
        assert_eq!(out[2], "tres");
        assert!(out[3].contains("not a JSON object"));
        let Item::Row(third) = &items[2] else {
            panic!()
        };
        assert_eq!(
            (third.row, third.line, third.get(Field::Region)),
            (3, 4, Some("Ica"))
        );
    }

    #[test]
    fn json_array_syntax_errors_name_row_and_line() {
        let mut input = String::from("[\n");
        for i in 0..4_999 {
            input.push_str(&format!("{{\"text\": \"fila {i}\"}},\n"));
        }
        input.push_str("{\"text\": \"rota\" \"x\": 1}\n]");
        let rows = rows(
            Box::new(std::io::Cursor::new(input.into_bytes())),
            InputFormat::Json,
            &Mapping::default(),
            Arc::default(),
        )
        .unwrap();
        let results: Vec<_> = rows.collect();
        assert_eq!(results.len(), 5_000);
        let Err(IngestError::JsonSyntax { row, line, .. }) = &results[4_999] else {
            panic!("expected a syntax error")
        };
        assert_eq!((*row, *line), (5_000, 5_001));
        assert!(matches!(
            read_all(b"[]", InputFormat::Json),
            Err(IngestError::HeaderOnly)
        ));
        assert!(matches!(
            read_all(b"texto\nhola", InputFormat::Json),
            Err(IngestError::NotJson { .. })
        ));
    }
}
