//! Query results in domain terms; the protocol layer turns them into frames.

/// A wide time series: shared bucket starts, one series per group.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeseries {
    pub bucket_starts_ms: Vec<i64>,
    pub series: Vec<Series>,
    /// Rows in range (after filters) that the active model has not scored.
    pub unscored_rows: u64,
    pub executed_sql: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The group's value, `None` when the query has no `groupBy`.
    pub group: Option<String>,
    pub values: SeriesValues,
    /// Rows per bucket, whatever the metric, so callers can tell thin buckets apart.
    pub volumes: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SeriesValues {
    /// Volume: empty buckets are zero.
    Counts(Vec<i64>),
    /// Ratios and averages: empty buckets are null.
    Ratios(Vec<Option<f64>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MentionRow {
    pub time_ms: i64,
    pub id: i64,
    pub text: String,
    pub source_type: String,
    pub platform: String,
    pub region: String,
    pub category: String,
    pub brand: String,
    pub label: Option<String>,
    pub score: Option<f64>,
    pub confidence: Option<f64>,
    pub language: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mentions {
    pub rows: Vec<MentionRow>,
    pub executed_sql: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DistributionRow {
    /// `negative`, `neutral`, `positive`, or `unscored`.
    pub label: String,
    pub group: Option<String>,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub rows: Vec<DistributionRow>,
    pub executed_sql: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DimensionValues {
    pub values: Vec<String>,
    pub executed_sql: String,
}

/// The label a row has before the active model has scored it.
pub const UNSCORED_LABEL: &str = "unscored";

impl Distribution {
    pub fn unscored_rows(&self) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.label == UNSCORED_LABEL)
            .map(|r| r.count.max(0) as u64)
            .sum()
    }
}

impl Mentions {
    pub fn unscored_rows(&self) -> u64 {
        self.rows.iter().filter(|r| r.label.is_none()).count() as u64
    }
}
