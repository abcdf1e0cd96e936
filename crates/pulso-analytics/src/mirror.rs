//! The analytics mirror: the record store's rows as Arrow record batches in memory,
//! partitioned by day, with dimensions dictionary-encoded to small integer codes.
//!
//! It is derived data. It is built from the record store's change feed, kept fresh by reading
//! what changed since its last revision, and can always be rebuilt. Batches are immutable:
//! a change rebuilds the columns it touches in the partitions it touches, and queries read a
//! [`Snapshot`] that later changes never alter.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Float64Array, Float64Builder, Int64Array, Int8Array, Int8Builder, ListArray,
    ListBuilder, UInt16Array, UInt32Array, UInt32Builder, UInt8Array, UInt8Builder,
};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use pulso_core::analysis::{Aspect, Emotion, Label};
use pulso_core::query::Dimension;
use pulso_store::{FeedRow, FeedSink, FEED_DIMENSIONS};

const DAY_MS: i64 = 86_400_000;
/// Rows a partition holds before the day gets another one: small enough that rebuilding a
/// partition after a few rows were scored stays cheap, large enough to amortise a batch.
pub const MAX_PARTITION_ROWS: usize = 16_384;
/// Dimension codes are 16-bit; a dimension with more distinct values cannot be mirrored.
pub const MAX_DIMENSION_VALUES: usize = u16::MAX as usize;

/// Column positions in every partition's batch.
pub mod col {
    pub const ID: usize = 0;
    pub const TIME: usize = 1;
    /// The seven dimensions, in `store::FEED_DIMENSIONS` order.
    pub const FIRST_DIMENSION: usize = 2;
    pub const LABEL: usize = 9;
    pub const SCORE: usize = 10;
    pub const CONFIDENCE: usize = 11;
    pub const EMOTION: usize = 12;
    pub const TERMS: usize = 13;
    pub const ASPECT: usize = 14;
    pub const ASPECT_LABEL: usize = 15;
    pub const ASPECT_SCORE: usize = 16;
}

/// The SQL name of a dimension's code column.
pub fn dimension_column(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::SourceType => "source_type",
        Dimension::Platform => "platform",
        Dimension::Region => "region",
        Dimension::Category => "category",
        Dimension::Brand => "brand",
        Dimension::Product => "product",
        Dimension::Language => "language",
        Dimension::Label => "label",
        Dimension::Emotion => "emotion",
    }
}

/// The emotion column's code of a scored row without a dominant emotion; `Emotion::index`
/// for the six emotions; null until scored.
pub const NO_EMOTION_CODE: i8 = 6;

fn emotion_code(label: Option<Label>, emotion: Option<Emotion>) -> Option<i8> {
    label?;
    Some(emotion.map_or(NO_EMOTION_CODE, |e| e.index() as i8))
}

/// An emotion column code back to the row's emotion: `None` for no dominant emotion.
pub fn emotion_of_code(code: i8) -> Option<Emotion> {
    Emotion::ALL.get(code as usize).copied()
}

/// Where a dimension sits in [`FEED_DIMENSIONS`]; `None` for the label.
pub fn dimension_slot(dimension: Dimension) -> Option<usize> {
    FEED_DIMENSIONS.iter().position(|d| *d == dimension)
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(item, false)))
}

/// The schema of every partition.
pub fn schema() -> SchemaRef {
    static SCHEMA: std::sync::OnceLock<SchemaRef> = std::sync::OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let mut fields = vec![
                Field::new("id", DataType::Int64, false),
                Field::new("time", DataType::Int64, false),
            ];
            for dimension in FEED_DIMENSIONS {
                fields.push(Field::new(
                    dimension_column(dimension),
                    DataType::UInt16,
                    false,
                ));
            }
            fields.extend([
                // 0 negative, 1 neutral, 2 positive (`Label::index`); null until scored.
                Field::new("label", DataType::Int8, true),
                Field::new("score", DataType::Float64, true),
                Field::new("confidence", DataType::Float64, true),
                // See `NO_EMOTION_CODE`.
                Field::new("emotion", DataType::Int8, true),
                // Null until the background indexer computed the row's terms.
                Field::new("terms", list_of(DataType::UInt32), true),
                // The active model's aspect results, one list entry per aspect named.
                Field::new("aspect", list_of(DataType::UInt8), false),
                Field::new("aspect_label", list_of(DataType::Int8), false),
                Field::new("aspect_score", list_of(DataType::Float64), false),
            ]);
            Arc::new(Schema::new(fields))
        })
        .clone()
}

/// A dimension's values and their codes, in first-seen order; codes never change.
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    values: Vec<String>,
    codes: HashMap<String, u16>,
}

impl Dictionary {
    pub fn code(&self, value: &str) -> Option<u16> {
        self.codes.get(value).copied()
    }

    pub fn value(&self, code: u16) -> &str {
        self.values
            .get(usize::from(code))
            .map_or("", String::as_str)
    }

    pub fn values(&self) -> &[String] {
        &self.values
    }

    fn intern(&mut self, value: &str) -> Result<u16, MirrorError> {
        if let Some(code) = self.codes.get(value) {
            return Ok(*code);
        }
        if self.values.len() >= MAX_DIMENSION_VALUES {
            return Err(MirrorError::TooManyValues);
        }
        let code = self.values.len() as u16;
        self.values.push(value.to_string());
        self.codes.insert(value.to_string(), code);
        Ok(code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MirrorError {
    #[error("a dimension has more than {MAX_DIMENSION_VALUES} distinct values, more than the analytics mirror can encode; panels are answered from the record store")]
    TooManyValues,
    #[error("a changed row moved to another day, which the mirror does not patch; it is rebuilt")]
    RowMoved,
}

/// A row as the mirror stores it: dimensions as codes.
#[derive(Debug, Clone, PartialEq)]
struct MirrorRow {
    id: i64,
    time_ms: i64,
    codes: [u16; 7],
    label: Option<Label>,
    score: Option<f64>,
    confidence: Option<f64>,
    emotion: Option<Emotion>,
    terms: Option<Vec<u32>>,
    aspects: Vec<(Aspect, Label, f64)>,
}

/// One day's slice of rows (or part of a busy day), with its time span for pruning.
#[derive(Debug, Clone)]
pub struct Partition {
    pub day: i64,
    pub min_time_ms: i64,
    pub max_time_ms: i64,
    pub batch: RecordBatch,
}

impl Partition {
    pub fn overlaps(&self, from_ms: i64, to_ms: i64) -> bool {
        self.max_time_ms >= from_ms && self.min_time_ms <= to_ms
    }
}

/// One day's rows with terms, counted per term: what an unfiltered trending query reads for
/// the days its ranges cover whole, instead of every row's terms.
#[derive(Debug, Clone)]
pub struct TermDay {
    pub day: i64,
    /// The time span of all the day's rows, with terms or not.
    pub min_time_ms: i64,
    pub max_time_ms: i64,
    /// term UInt32, mentions UInt32, scored UInt32, score_sum Float64.
    pub batch: RecordBatch,
    pub indexed_rows: u64,
    pub unindexed_rows: u64,
}

/// The schema of every [`TermDay`] batch.
pub fn term_day_schema() -> SchemaRef {
    static SCHEMA: std::sync::OnceLock<SchemaRef> = std::sync::OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("term", DataType::UInt32, false),
                Field::new("mentions", DataType::UInt32, false),
                Field::new("scored", DataType::UInt32, false),
                Field::new("score_sum", DataType::Float64, false),
            ]))
        })
        .clone()
}

fn roll_up_day(day: i64, partitions: &[&Partition]) -> TermDay {
    let mut counts: HashMap<u32, (u32, u32, f64)> = HashMap::new();
    let (mut indexed_rows, mut unindexed_rows) = (0u64, 0u64);
    let (mut min_time_ms, mut max_time_ms) = (i64::MAX, i64::MIN);
    for partition in partitions {
        min_time_ms = min_time_ms.min(partition.min_time_ms);
        max_time_ms = max_time_ms.max(partition.max_time_ms);
        let terms = lists(&partition.batch, col::TERMS);
        let scores: &Float64Array = typed(&partition.batch, col::SCORE);
        let hashes: &UInt32Array = terms.values().as_any().downcast_ref().expect("term hashes");
        let offsets = terms.value_offsets();
        for row in 0..terms.len() {
            if terms.is_null(row) {
                unindexed_rows += 1;
                continue;
            }
            indexed_rows += 1;
            let score = scores.is_valid(row).then(|| scores.value(row));
            for &hash in &hashes.values()[offsets[row] as usize..offsets[row + 1] as usize] {
                let entry = counts.entry(hash).or_default();
                entry.0 += 1;
                if let Some(score) = score {
                    entry.1 += 1;
                    entry.2 += score;
                }
            }
        }
    }
    let mut terms: Vec<(u32, (u32, u32, f64))> = counts.into_iter().collect();
    terms.sort_unstable_by_key(|t| t.0);
    let batch = RecordBatch::try_new(
        term_day_schema(),
        vec![
            Arc::new(UInt32Array::from_iter_values(terms.iter().map(|t| t.0))),
            Arc::new(UInt32Array::from_iter_values(terms.iter().map(|t| t.1 .0))),
            Arc::new(UInt32Array::from_iter_values(terms.iter().map(|t| t.1 .1))),
            Arc::new(Float64Array::from_iter_values(terms.iter().map(|t| t.1 .2))),
        ],
    )
    .expect("term day columns match their schema");
    TermDay {
        day,
        min_time_ms,
        max_time_ms,
        batch,
        indexed_rows,
        unindexed_rows,
    }
}

/// What queries read: partitions in time order and the dictionaries that decode them.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub partitions: Vec<Arc<Partition>>,
    /// Each day's term counts, by day start.
    pub term_days: Arc<BTreeMap<i64, Arc<TermDay>>>,
    pub dictionaries: Arc<[Dictionary; 7]>,
    pub revision: i64,
    pub rows: usize,
}

impl Snapshot {
    pub fn dictionary(&self, dimension: Dimension) -> Option<&Dictionary> {
        dimension_slot(dimension).map(|slot| &self.dictionaries[slot])
    }

    /// Bytes held by the partitions' and term rollups' Arrow buffers.
    pub fn memory_bytes(&self) -> usize {
        let rows: usize = self
            .partitions
            .iter()
            .map(|p| p.batch.get_array_memory_size())
            .sum();
        let rollups: usize = self
            .term_days
            .values()
            .map(|d| d.batch.get_array_memory_size())
            .sum();
        rows + rollups
    }
}

/// The mutable side: applies feed reads and publishes snapshots.
#[derive(Debug, Default)]
pub struct Mirror {
    dictionaries: Arc<[Dictionary; 7]>,
    /// By (day, chunk).
    partitions: BTreeMap<(i64, u32), Arc<Partition>>,
    term_days: Arc<BTreeMap<i64, Arc<TermDay>>>,
    /// Row id to (day, chunk, offset).
    locations: HashMap<i64, (i64, u32, u32)>,
    rows: usize,
}

fn encode(dictionaries: &mut [Dictionary; 7], row: &FeedRow<'_>) -> Result<MirrorRow, MirrorError> {
    let mut codes = [0u16; 7];
    for (slot, value) in row.dimensions.iter().enumerate() {
        codes[slot] = dictionaries[slot].intern(value)?;
    }
    Ok(MirrorRow {
        id: row.id,
        time_ms: row.time_ms,
        codes,
        label: row.label,
        score: row.score,
        confidence: row.confidence,
        emotion: row.emotion,
        terms: row.terms.clone(),
        aspects: row
            .aspects
            .iter()
            .map(|a| (a.aspect, a.label, a.score))
            .collect(),
    })
}

fn day_of(time_ms: i64) -> i64 {
    time_ms.div_euclid(DAY_MS) * DAY_MS
}

/// Builds a whole mirror from a full read of the feed, streaming: rows go straight into
/// their day's column builders, so the read never holds more than the result.
pub struct FullBuild {
    mirror: Mirror,
    dictionaries: [Dictionary; 7],
    open: HashMap<i64, (u32, Columns, usize)>,
    error: Option<MirrorError>,
}

impl FullBuild {
    pub fn new() -> Self {
        Self {
            mirror: Mirror::default(),
            dictionaries: Default::default(),
            open: HashMap::new(),
            error: None,
        }
    }

    pub fn rows(&self) -> usize {
        self.mirror.rows
    }

    pub fn finish(mut self) -> Result<Mirror, MirrorError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        for (day, (chunk, columns, _)) in std::mem::take(&mut self.open) {
            self.mirror.partitions.insert(
                (day, chunk),
                Arc::new(partition(day, batch(columns.finish()))),
            );
        }
        self.mirror.dictionaries = Arc::new(self.dictionaries);
        let days: Vec<i64> = self.mirror.partitions.keys().map(|k| k.0).collect();
        self.mirror.roll_up(days);
        Ok(self.mirror)
    }
}

impl Default for FullBuild {
    fn default() -> Self {
        Self::new()
    }
}

impl FeedSink for FullBuild {
    fn row(&mut self, row: FeedRow<'_>) {
        if self.error.is_some() {
            return;
        }
        let encoded = match encode(&mut self.dictionaries, &row) {
            Ok(encoded) => encoded,
            Err(error) => {
                self.error = Some(error);
                return;
            }
        };
        let day = day_of(row.time_ms);
        let (chunk, columns, count) = self
            .open
            .entry(day)
            .or_insert_with(|| (0, Columns::with_capacity(1_024), 0));
        columns.push(&encoded);
        self.mirror
            .locations
            .insert(row.id, (day, *chunk, *count as u32));
        *count += 1;
        self.mirror.rows += 1;
        if *count == MAX_PARTITION_ROWS {
            let full = std::mem::replace(columns, Columns::with_capacity(1_024));
            let key = (day, *chunk);
            *chunk += 1;
            *count = 0;
            self.mirror
                .partitions
                .insert(key, Arc::new(partition(day, batch(full.finish()))));
        }
    }
}

/// Collects an incremental read of the feed, encoding dimensions on the way.
pub struct FeedBuffer {
    dictionaries: [Dictionary; 7],
    rows: Vec<MirrorRow>,
    error: Option<MirrorError>,
}

impl FeedBuffer {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl FeedSink for FeedBuffer {
    fn row(&mut self, row: FeedRow<'_>) {
        if self.error.is_some() {
            return;
        }
        match encode(&mut self.dictionaries, &row) {
            Ok(encoded) => self.rows.push(encoded),
            Err(error) => self.error = Some(error),
        }
    }
}

impl Mirror {
    /// A sink for an incremental read, with the mirror's dictionaries to extend.
    pub fn changes(&self) -> FeedBuffer {
        FeedBuffer {
            dictionaries: (*self.dictionaries).clone(),
            rows: Vec::new(),
            error: None,
        }
    }

    /// Applies rows read from the feed: new ids are appended to their day, known ids replace
    /// their earlier version. Only the partitions and columns that change are rebuilt.
    pub fn apply(&mut self, feed: FeedBuffer) -> Result<(), MirrorError> {
        if let Some(error) = feed.error {
            return Err(error);
        }
        self.dictionaries = Arc::new(feed.dictionaries);
        let mut appends: BTreeMap<i64, Vec<MirrorRow>> = BTreeMap::new();
        let mut updates: BTreeMap<(i64, u32), Vec<(u32, MirrorRow)>> = BTreeMap::new();
        for row in feed.rows {
            let day = day_of(row.time_ms);
            match self.locations.get(&row.id) {
                Some(&(d, chunk, offset)) if d == day => {
                    updates.entry((d, chunk)).or_default().push((offset, row))
                }
                Some(_) => return Err(MirrorError::RowMoved),
                None => appends.entry(day).or_default().push(row),
            }
        }
        let touched: Vec<i64> = updates
            .keys()
            .map(|k| k.0)
            .chain(appends.keys().copied())
            .collect();
        for (key, changed) in updates {
            let partition = &self.partitions[&key];
            let patched = patch(partition, changed);
            self.partitions.insert(key, Arc::new(patched));
        }
        for (day, rows) in appends {
            self.append_day(day, rows);
        }
        self.roll_up(touched);
        Ok(())
    }

    /// Recounts the terms of these days.
    fn roll_up(&mut self, mut days: Vec<i64>) {
        days.sort_unstable();
        days.dedup();
        let term_days = Arc::make_mut(&mut self.term_days);
        for day in days {
            let parts: Vec<&Partition> = self
                .partitions
                .range((day, 0)..=(day, u32::MAX))
                .map(|(_, p)| p.as_ref())
                .collect();
            term_days.insert(day, Arc::new(roll_up_day(day, &parts)));
        }
    }

    fn append_day(&mut self, day: i64, mut rows: Vec<MirrorRow>) {
        while !rows.is_empty() {
            let last = self
                .partitions
                .range((day, 0)..=(day, u32::MAX))
                .next_back()
                .map(|(k, p)| (k.1, p.batch.num_rows()));
            let (chunk, existing) = match last {
                Some((chunk, n)) if n < MAX_PARTITION_ROWS => (chunk, n),
                Some((chunk, _)) => (chunk + 1, 0),
                None => (0, 0),
            };
            let room = MAX_PARTITION_ROWS - existing;
            let rest = rows.split_off(rows.len().min(room));
            for (i, row) in rows.iter().enumerate() {
                self.locations
                    .insert(row.id, (day, chunk, (existing + i) as u32));
            }
            self.rows += rows.len();
            let key = (day, chunk);
            let partition = match self.partitions.get(&key) {
                Some(old) => extend(old, &rows),
                None => build(day, &rows),
            };
            self.partitions.insert(key, Arc::new(partition));
            rows = rest;
        }
    }

    pub fn snapshot(&self, revision: i64) -> Snapshot {
        let mut partitions: Vec<Arc<Partition>> = self.partitions.values().cloned().collect();
        partitions.sort_by_key(|p| (p.min_time_ms, p.day));
        Snapshot {
            partitions,
            term_days: self.term_days.clone(),
            dictionaries: self.dictionaries.clone(),
            revision,
            rows: self.rows,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// Column builders for a run of rows.
struct Columns {
    id: Vec<i64>,
    time: Vec<i64>,
    codes: [Vec<u16>; 7],
    sentiment: SentimentColumns,
    terms: ListBuilder<UInt32Builder>,
    aspects: AspectColumns,
}

#[derive(Default)]
struct SentimentColumns {
    label: Int8Builder,
    score: Float64Builder,
    confidence: Float64Builder,
    emotion: Int8Builder,
}

/// A row's active-model results as the sentiment columns hold them.
#[derive(Debug, Clone, Copy)]
struct Sentiment {
    label: Option<Label>,
    score: Option<f64>,
    confidence: Option<f64>,
    emotion: Option<Emotion>,
}

impl SentimentColumns {
    fn push(&mut self, s: Sentiment) {
        self.label.append_option(s.label.map(|l| l.index() as i8));
        self.score.append_option(s.score);
        self.confidence.append_option(s.confidence);
        self.emotion.append_option(emotion_code(s.label, s.emotion));
    }

    fn finish(mut self) -> [ArrayRef; 4] {
        [
            Arc::new(self.label.finish()),
            Arc::new(self.score.finish()),
            Arc::new(self.confidence.finish()),
            Arc::new(self.emotion.finish()),
        ]
    }
}

impl MirrorRow {
    fn sentiment(&self) -> Sentiment {
        Sentiment {
            label: self.label,
            score: self.score,
            confidence: self.confidence,
            emotion: self.emotion,
        }
    }
}

struct AspectColumns {
    aspect: ListBuilder<UInt8Builder>,
    label: ListBuilder<Int8Builder>,
    score: ListBuilder<Float64Builder>,
}

impl AspectColumns {
    fn new() -> Self {
        Self {
            aspect: ListBuilder::new(UInt8Builder::new()).with_field(item_field(DataType::UInt8)),
            label: ListBuilder::new(Int8Builder::new()).with_field(item_field(DataType::Int8)),
            score: ListBuilder::new(Float64Builder::new())
                .with_field(item_field(DataType::Float64)),
        }
    }

    fn push(&mut self, aspects: &[(Aspect, Label, f64)]) {
        for (aspect, label, score) in aspects {
            self.aspect.values().append_value(*aspect as u8);
            self.label.values().append_value(label.index() as i8);
            self.score.values().append_value(*score);
        }
        self.aspect.append(true);
        self.label.append(true);
        self.score.append(true);
    }

    fn finish(mut self) -> [ArrayRef; 3] {
        [
            Arc::new(self.aspect.finish()),
            Arc::new(self.label.finish()),
            Arc::new(self.score.finish()),
        ]
    }
}

fn item_field(item: DataType) -> Arc<Field> {
    Arc::new(Field::new_list_field(item, false))
}

fn terms_builder() -> ListBuilder<UInt32Builder> {
    ListBuilder::new(UInt32Builder::new()).with_field(item_field(DataType::UInt32))
}

fn push_terms(builder: &mut ListBuilder<UInt32Builder>, terms: Option<&[u32]>) {
    match terms {
        Some(terms) => {
            builder.values().append_slice(terms);
            builder.append(true);
        }
        None => builder.append(false),
    }
}

impl Columns {
    fn with_capacity(n: usize) -> Self {
        Self {
            id: Vec::with_capacity(n),
            time: Vec::with_capacity(n),
            codes: std::array::from_fn(|_| Vec::with_capacity(n)),
            sentiment: SentimentColumns::default(),
            terms: terms_builder(),
            aspects: AspectColumns::new(),
        }
    }

    fn push(&mut self, row: &MirrorRow) {
        self.id.push(row.id);
        self.time.push(row.time_ms);
        for (column, code) in self.codes.iter_mut().zip(row.codes) {
            column.push(code);
        }
        self.sentiment.push(row.sentiment());
        push_terms(&mut self.terms, row.terms.as_deref());
        self.aspects.push(&row.aspects);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(self.id)),
            Arc::new(Int64Array::from(self.time)),
        ];
        for codes in self.codes {
            arrays.push(Arc::new(UInt16Array::from(codes)));
        }
        arrays.extend(self.sentiment.finish());
        arrays.push(Arc::new(self.terms.finish()));
        arrays.extend(self.aspects.finish());
        arrays
    }
}

/// A partition's batch, its buffers copied to their exact size: builders grow by doubling,
/// and the slack would stay allocated for as long as the partition lives.
fn batch(arrays: Vec<ArrayRef>) -> RecordBatch {
    let rows = arrays.first().map_or(0, |a| a.len());
    let all = UInt32Array::from_iter_values(0..rows as u32);
    let compact = arrays
        .iter()
        .map(|a| match a.as_any().downcast_ref::<ListArray>() {
            Some(list) => compact_list(list),
            None => take(a.as_ref(), &all, None).expect("take every row"),
        })
        .collect();
    RecordBatch::try_new(schema(), compact).expect("mirror columns match the mirror schema")
}

/// A list array with offsets and values in buffers of exactly their length (`take` leaves
/// list values with room to spare).
fn compact_list(list: &ListArray) -> ArrayRef {
    let offsets = list.value_offsets();
    let (start, end) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
    let rebased: Vec<i32> = offsets.iter().map(|o| o - offsets[0]).collect();
    let values = list.values().slice(start, end - start);
    macro_rules! exact {
        ($type:ty) => {
            values
                .as_any()
                .downcast_ref::<$type>()
                .map(|v| Arc::new(<$type>::from(v.values().to_vec())) as ArrayRef)
        };
    }
    let values = exact!(UInt32Array)
        .or_else(|| exact!(UInt8Array))
        .or_else(|| exact!(Int8Array))
        .or_else(|| exact!(Float64Array))
        .expect("a mirror list of a known item type");
    let field = match list.data_type() {
        DataType::List(field) => field.clone(),
        _ => unreachable!("a list array has a list type"),
    };
    Arc::new(ListArray::new(
        field,
        OffsetBuffer::new(ScalarBuffer::from(rebased)),
        values,
        list.nulls().cloned(),
    ))
}

fn time_span(batch: &RecordBatch) -> (i64, i64) {
    let times = batch
        .column(col::TIME)
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("time column");
    let min = times.values().iter().copied().min().unwrap_or(i64::MAX);
    let max = times.values().iter().copied().max().unwrap_or(i64::MIN);
    (min, max)
}

fn partition(day: i64, batch: RecordBatch) -> Partition {
    let (min_time_ms, max_time_ms) = time_span(&batch);
    Partition {
        day,
        min_time_ms,
        max_time_ms,
        batch,
    }
}

fn build(day: i64, rows: &[MirrorRow]) -> Partition {
    let mut columns = Columns::with_capacity(rows.len());
    for row in rows {
        columns.push(row);
    }
    partition(day, batch(columns.finish()))
}

/// Copies one list row of `list` into `builder`.
macro_rules! copy_list_row {
    ($builder:expr, $list:expr, $row:expr, $values:ty) => {{
        let list: &ListArray = $list;
        if list.is_null($row) {
            $builder.append(false);
        } else {
            let values = list.value($row);
            let values = values
                .as_any()
                .downcast_ref::<$values>()
                .expect("list item type");
            $builder.values().append_slice(values.values());
            $builder.append(true);
        }
    }};
}

fn lists(batch: &RecordBatch, column: usize) -> &ListArray {
    batch
        .column(column)
        .as_any()
        .downcast_ref::<ListArray>()
        .expect("list column")
}

fn typed<T: 'static>(batch: &RecordBatch, column: usize) -> &T {
    batch
        .column(column)
        .as_any()
        .downcast_ref::<T>()
        .expect("mirror column type")
}

/// The columns a rescore or the term indexer can change, read back from a batch.
struct Changeable<'a> {
    label: &'a Int8Array,
    score: &'a Float64Array,
    confidence: &'a Float64Array,
    emotion: &'a Int8Array,
    terms: &'a ListArray,
    aspect: &'a ListArray,
    aspect_label: &'a ListArray,
    aspect_score: &'a ListArray,
}

impl<'a> Changeable<'a> {
    fn of(batch: &'a RecordBatch) -> Self {
        Self {
            label: typed(batch, col::LABEL),
            score: typed(batch, col::SCORE),
            confidence: typed(batch, col::CONFIDENCE),
            emotion: typed(batch, col::EMOTION),
            terms: lists(batch, col::TERMS),
            aspect: lists(batch, col::ASPECT),
            aspect_label: lists(batch, col::ASPECT_LABEL),
            aspect_score: lists(batch, col::ASPECT_SCORE),
        }
    }

    /// Copies row `i` into the builders.
    fn copy(
        &self,
        i: usize,
        sentiment: &mut SentimentColumns,
        terms: &mut ListBuilder<UInt32Builder>,
        aspects: &mut AspectColumns,
    ) {
        sentiment.push(Sentiment {
            label: self
                .label
                .is_valid(i)
                .then(|| Label::ALL[self.label.value(i) as usize]),
            score: self.score.is_valid(i).then(|| self.score.value(i)),
            confidence: self
                .confidence
                .is_valid(i)
                .then(|| self.confidence.value(i)),
            emotion: self
                .emotion
                .is_valid(i)
                .then(|| emotion_of_code(self.emotion.value(i)))
                .flatten(),
        });
        copy_list_row!(terms, self.terms, i, UInt32Array);
        copy_list_row!(&mut aspects.aspect, self.aspect, i, UInt8Array);
        copy_list_row!(&mut aspects.label, self.aspect_label, i, Int8Array);
        copy_list_row!(&mut aspects.score, self.aspect_score, i, Float64Array);
    }
}

/// The sentiment, terms and aspect columns of `old` with the rows at `changed` offsets
/// replaced; id, time and dimensions never change, so those arrays are shared.
fn patch(old: &Partition, mut changed: Vec<(u32, MirrorRow)>) -> Partition {
    changed.sort_by_key(|(offset, _)| *offset);
    let b = &old.batch;
    let source = Changeable::of(b);
    let mut sentiment = SentimentColumns::default();
    let mut terms = terms_builder();
    let mut aspects = AspectColumns::new();
    let mut next = changed.iter().peekable();
    for i in 0..b.num_rows() {
        // The last version of a row wins when the feed held it twice.
        let mut replacement = None;
        while let Some((offset, row)) = next.peek() {
            if *offset as usize != i {
                break;
            }
            replacement = Some(row);
            next.next();
        }
        match replacement {
            Some(row) => {
                sentiment.push(row.sentiment());
                push_terms(&mut terms, row.terms.as_deref());
                aspects.push(&row.aspects);
            }
            None => source.copy(i, &mut sentiment, &mut terms, &mut aspects),
        }
    }
    let mut arrays: Vec<ArrayRef> = b.columns()[..col::LABEL].to_vec();
    arrays.extend(sentiment.finish());
    arrays.push(Arc::new(terms.finish()));
    arrays.extend(aspects.finish());
    partition(old.day, batch(arrays))
}

/// `old` with `rows` appended.
fn extend(old: &Partition, rows: &[MirrorRow]) -> Partition {
    let b = &old.batch;
    let mut columns = Columns::with_capacity(b.num_rows() + rows.len());
    columns
        .id
        .extend_from_slice(typed::<Int64Array>(b, col::ID).values());
    columns
        .time
        .extend_from_slice(typed::<Int64Array>(b, col::TIME).values());
    for (slot, codes) in columns.codes.iter_mut().enumerate() {
        codes.extend_from_slice(typed::<UInt16Array>(b, col::FIRST_DIMENSION + slot).values());
    }
    let source = Changeable::of(b);
    for i in 0..b.num_rows() {
        source.copy(
            i,
            &mut columns.sentiment,
            &mut columns.terms,
            &mut columns.aspects,
        );
    }
    for row in rows {
        columns.push(row);
    }
    partition(old.day, batch(columns.finish()))
}
