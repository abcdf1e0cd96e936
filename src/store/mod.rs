//! Feedback storage. [`FeedbackStore`] is the seam: SQLite now, PostgreSQL as a second
//! implementation later, with the same query model on top.

pub mod feedback;
pub mod sql;
pub mod sqlite;

use std::path::PathBuf;

use async_trait::async_trait;
use thiserror::Error;

use crate::query::{
    Dimension, DimensionValues, DimensionValuesQuery, Distribution, DistributionQuery, Filters,
    MentionRow, Mentions, MentionsQuery, TimeRange, Timeseries, TimeseriesQuery,
};
use crate::trends::aspects::Aspect;
pub use feedback::{NewFeedback, SourceType};
pub use sqlite::SqliteStore;

/// Sentiment for one stored feedback row, as a model produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewScore {
    pub feedback_id: i64,
    pub label: String,
    pub score: f64,
    pub p_negative: f64,
    pub p_neutral: f64,
    pub p_positive: f64,
}

impl NewScore {
    /// The probability of the most likely label.
    pub fn confidence(&self) -> f64 {
        self.p_negative.max(self.p_neutral).max(self.p_positive)
    }
}

/// The sentiment of the clauses of one row that name one aspect.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAspectScore {
    pub feedback_id: i64,
    pub aspect: Aspect,
    pub label: String,
    pub score: f64,
}

/// Which rows to read term hashes from.
#[derive(Debug, Clone, PartialEq)]
pub struct TermScan {
    pub range: TimeRange,
    pub filters: Filters,
    pub group_by: Option<Dimension>,
}

/// One row's stored terms.
#[derive(Debug, Clone, PartialEq)]
pub struct TermRow {
    pub id: i64,
    pub time_ms: i64,
    pub group: Option<String>,
    pub hashes: Vec<u32>,
    pub score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TermRows {
    pub rows: Vec<TermRow>,
    /// Rows in range whose terms the background indexer has not computed yet.
    pub unindexed: u64,
    pub executed_sql: String,
}

/// Which aspect results to count, optionally per time bucket `(origin, width)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AspectScan {
    pub range: TimeRange,
    pub filters: Filters,
    /// Empty means all.
    pub aspects: Vec<Aspect>,
    pub buckets: Option<(i64, i64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AspectCount {
    /// Bucket index from the scan's origin, when bucketed.
    pub bucket: Option<i64>,
    pub aspect: Aspect,
    pub mentions: i64,
    pub positive: i64,
    pub negative: i64,
    pub neutral: i64,
    pub score_sum: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AspectCounts {
    pub counts: Vec<AspectCount>,
    pub executed_sql: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleOrder {
    MostNegative,
    Latest,
}

/// What one batch insert did. A batch is all or nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InsertReport {
    pub inserted: u64,
    /// Rows whose (platform, external id) was already stored.
    pub duplicates: u64,
}

/// What a health check learns about the database.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreHealth {
    pub location: String,
    pub schema_version: i64,
    pub expected_schema_version: i64,
    pub total_rows: i64,
    pub scored_rows: i64,
    pub unscored_rows: i64,
    pub active_model: Option<String>,
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the folder {folder} for sqlitePath {path} does not exist: create the folder, or change sqlitePath in the data source settings")]
    FolderMissing { path: PathBuf, folder: PathBuf },
    #[error("cannot open the database at sqlitePath {path}: {source}. Check that Grafana's user may read and write it, or change sqlitePath in the data source settings")]
    Open { path: PathBuf, source: sqlx::Error },
    #[error("cannot bring the database at {path} to the current schema: {source}. Back it up, then point sqlitePath at a new file, or restore a file made by this Pulso version")]
    Migrate {
        path: PathBuf,
        source: sqlx::migrate::MigrateError,
    },
    #[error("the database at {path} is read-only: {source}. Give Grafana's user write access to the file and its folder")]
    ReadOnly { path: PathBuf, source: sqlx::Error },
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("row {row} field {field} is invalid: {reason}")]
    InvalidRow {
        row: usize,
        field: &'static str,
        reason: String,
    },
}

/// An open, all-or-nothing write of feedback rows.
#[async_trait]
pub trait FeedbackBatch: Send {
    /// Adds rows; rows whose (platform, external id) is already stored are counted, not added.
    async fn insert(&mut self, rows: &[NewFeedback]) -> Result<InsertReport, StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    async fn rollback(self: Box<Self>) -> Result<(), StoreError>;
}

#[async_trait]
pub trait FeedbackStore: Send + Sync {
    async fn timeseries(&self, query: &TimeseriesQuery) -> Result<Timeseries, StoreError>;
    async fn mentions(&self, query: &MentionsQuery) -> Result<Mentions, StoreError>;
    async fn distribution(&self, query: &DistributionQuery) -> Result<Distribution, StoreError>;
    async fn dimension_values(
        &self,
        query: &DimensionValuesQuery,
    ) -> Result<DimensionValues, StoreError>;
    /// Stores a batch in one transaction: every row lands, or none does.
    async fn insert_feedback(&self, rows: &[NewFeedback]) -> Result<InsertReport, StoreError>;
    /// Opens a write transaction that can take rows in several calls, for batches too large to
    /// hold in memory. Nothing is visible to others until `commit`; dropping it rolls back.
    async fn begin_batch(&self) -> Result<Box<dyn FeedbackBatch>, StoreError>;
    /// Up to `limit` rows the active model has not scored yet, oldest first: `(id, text)`.
    async fn unscored_feedback(&self, limit: u32) -> Result<Vec<(i64, String)>, StoreError>;
    /// Stores scores under `model_id`, replacing that model's earlier score for a row.
    async fn insert_scores(&self, model_id: &str, scores: &[NewScore]) -> Result<(), StoreError> {
        self.insert_analysis(model_id, scores, &[]).await
    }
    /// Stores scores and aspect results in one transaction, replacing that model's earlier
    /// results for the same rows.
    async fn insert_analysis(
        &self,
        model_id: &str,
        scores: &[NewScore],
        aspects: &[NewAspectScore],
    ) -> Result<(), StoreError>;
    /// Rows in a range with their term hashes.
    async fn term_rows(&self, scan: &TermScan) -> Result<TermRows, StoreError>;
    /// Computes terms for up to `limit` rows stored before terms existed; returns how many.
    async fn index_terms(&self, limit: u32) -> Result<u64, StoreError>;
    /// Aspect sentiment counts under the active model.
    async fn aspect_counts(&self, scan: &AspectScan) -> Result<AspectCounts, StoreError>;
    /// Up to `limit` mentions in a range, in `order`.
    async fn sample_mentions(
        &self,
        range: TimeRange,
        filters: &Filters,
        order: SampleOrder,
        limit: u32,
    ) -> Result<Vec<MentionRow>, StoreError>;
    /// The most negative mentions in a range whose clauses about `aspect` were negative.
    async fn aspect_mentions(
        &self,
        range: TimeRange,
        filters: &Filters,
        aspect: Aspect,
        limit: u32,
    ) -> Result<Vec<MentionRow>, StoreError>;
    /// The given rows, in no particular order; unknown ids are skipped.
    async fn mentions_by_id(&self, ids: &[i64]) -> Result<Vec<MentionRow>, StoreError>;
    /// Changes whenever rows in the range are added or scored.
    async fn fingerprint(&self, range: TimeRange, filters: &Filters) -> Result<String, StoreError>;
    /// The model whose scores queries read; switching copies its scores in for queries.
    async fn set_active_model(&self, model_id: &str) -> Result<(), StoreError>;
    /// Checks reachability, writability and schema version, and counts rows.
    async fn health(&self) -> Result<StoreHealth, StoreError>;
}
