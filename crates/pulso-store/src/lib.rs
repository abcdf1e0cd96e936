//! The record store: the system of record for feedback, its scores and aspect results.
//!
//! Two traits split the work. [`FeedbackWriter`] is what ingestion and scoring need: atomic
//! batches, the scoring queue, scores. [`FeedbackReader`] answers the query model; the
//! analytics engine implements it too, so trends and insights run unchanged on either. A
//! [`RecordStore`] is both, plus the change feed the analytics mirror is built from. SQLite is
//! the implementation today; it knows SQL and nothing about text analysis.

pub mod feedback;

use std::path::PathBuf;

use async_trait::async_trait;
use thiserror::Error;

pub use feedback::{NewFeedback, SourceType};
use pulso_core::analysis::{Aspect, Emotion, EmotionConfidences, Label};
use pulso_core::query::{
    Dimension, DimensionValues, DimensionValuesQuery, Distribution, DistributionQuery, Filters,
    MentionRow, Mentions, MentionsQuery, TimeRange, Timeseries, TimeseriesQuery,
};

/// Sentiment for one stored feedback row, as a model produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewScore {
    pub feedback_id: i64,
    pub label: Label,
    pub score: f64,
    pub p_negative: f64,
    pub p_neutral: f64,
    pub p_positive: f64,
    /// The emotion head's confidences, where the model has one.
    pub emotions: Option<EmotionConfidences>,
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
    pub label: Label,
    pub score: f64,
}

/// What one scoring batch stores. A scorer that is behind scores a mention before its clauses:
/// the mention's label is stored at once, and the aspects it names get the mention's own
/// sentiment until a later batch scores its clauses and replaces them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Analysis<'a> {
    /// New scores, each replacing the model's earlier score of its row and that row's aspects.
    pub scores: &'a [NewScore],
    /// Aspect results of the rows in `scores` and in `clauses_scored`.
    pub aspects: &'a [NewAspectScore],
    /// Rows of `scores` whose clauses are still to score.
    pub clauses_deferred: &'a [i64],
    /// Rows scored earlier whose clauses this batch scored: their aspects are replaced by the
    /// ones in `aspects`, and they no longer await their clauses.
    pub clauses_scored: &'a [i64],
}

/// Computes the analysis of rows about to be stored, from the id the first one will get.
pub type AnalyseNewRows<'a> =
    &'a (dyn Fn(i64) -> (Vec<NewScore>, Vec<NewAspectScore>) + Send + Sync);

/// Which rows trending terms compare: `range` against `before`.
#[derive(Debug, Clone, PartialEq)]
pub struct TermScan {
    pub range: TimeRange,
    pub before: TimeRange,
    pub filters: Filters,
    pub group_by: Option<Dimension>,
    /// Terms mentioned fewer times in `range` are left out of the tallies.
    pub min_support: u32,
}

/// One group's rows with terms, in the range and before it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTotals {
    pub group: Option<String>,
    pub now: u64,
    pub before: u64,
}

/// How often one term was mentioned in one group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TermTally {
    /// Index into [`TermTallies::groups`].
    pub group: usize,
    pub hash: u32,
    pub now: i64,
    pub before: i64,
    /// Sum and count of the active model's scores of the mentions in the range.
    pub score_sum: f64,
    pub scored: i64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TermTallies {
    /// Sorted by group value, `None` first.
    pub groups: Vec<GroupTotals>,
    /// Terms with at least `min_support` mentions in the range, in no particular order.
    pub tallies: Vec<TermTally>,
    /// Rows in the scan whose terms the background indexer has not computed yet.
    pub unindexed: u64,
    pub executed_sql: String,
}

impl TermTallies {
    /// Rows with terms in the range, over all groups.
    pub fn mentions(&self) -> u64 {
        self.groups.iter().map(|g| g.now).sum()
    }

    /// Rows with terms before the range, over all groups.
    pub fn mentions_before(&self) -> u64 {
        self.groups.iter().map(|g| g.before).sum()
    }
}

/// The latest mentions of some terms, for showing how people write them.
#[derive(Debug, Clone, PartialEq)]
pub struct TermSampleScan {
    pub range: TimeRange,
    pub filters: Filters,
    pub group_by: Option<Dimension>,
    /// `(group, term hash)` pairs.
    pub wanted: Vec<(Option<String>, u32)>,
    pub per_term: usize,
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

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AspectCounts {
    /// Ordered by bucket, then aspect.
    pub counts: Vec<AspectCount>,
    pub executed_sql: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleOrder {
    /// Scored rows only, lowest score first.
    MostNegative,
    Latest,
}

/// Mentions picked to illustrate a range.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleScan {
    pub range: TimeRange,
    pub filters: Filters,
    pub order: SampleOrder,
    pub limit: u32,
}

/// What one batch insert did. A batch is all or nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InsertReport {
    pub inserted: u64,
    /// Rows whose (platform, external id) was already stored.
    pub duplicates: u64,
    /// When every row was new: the id the first one got; the others follow in row order.
    pub first_id: Option<i64>,
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
    pub backlog: ScoringBacklog,
}

/// How far scoring is behind: rows the active model has not scored, and when the first of them
/// arrived.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScoringBacklog {
    pub rows: i64,
    /// Ingest time of the earliest stored row still unscored.
    pub oldest_ingest_ms: Option<i64>,
    /// Scored rows whose clauses wait to be scored (their aspects are the mention's own
    /// sentiment until then).
    pub clauses_pending: i64,
}

/// One row as the change feed gives it to the analytics mirror.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow<'a> {
    pub id: i64,
    pub time_ms: i64,
    /// In [`FEED_DIMENSIONS`] order.
    pub dimensions: [&'a str; 7],
    /// The active model's sentiment; `None` until scored.
    pub label: Option<Label>,
    pub score: Option<f64>,
    pub confidence: Option<f64>,
    /// The active model's dominant emotion; `None` when no emotion reaches the threshold,
    /// when the model has no emotion head, or until scored.
    pub emotion: Option<Emotion>,
    /// Term hashes; `None` until the background indexer computed them.
    pub terms: Option<Vec<u32>>,
    /// The active model's aspect results for this row.
    pub aspects: &'a [FeedAspect],
}

/// The dimensions every feed row carries, in [`FeedRow::dimensions`] order.
pub const FEED_DIMENSIONS: [Dimension; 7] = [
    Dimension::SourceType,
    Dimension::Platform,
    Dimension::Region,
    Dimension::Category,
    Dimension::Brand,
    Dimension::Product,
    Dimension::Language,
];

/// One of the active model's aspect results for a feed row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeedAspect {
    pub aspect: Aspect,
    pub label: Label,
    pub score: f64,
}

/// Where a read of the change feed stopped. Every write transaction takes a new revision and
/// tags the rows it adds or changes with it, so "revision > R" is exactly what changed since.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedCursor {
    pub revision: i64,
    pub active_model: Option<String>,
}

/// Receives a read of the change feed, one row (with its aspect results) at a time, in id
/// order.
pub trait FeedSink: Send {
    fn row(&mut self, row: FeedRow<'_>);
}

/// A backend's own error (SQLite's, DataFusion's), kept whole for its message and its source
/// chain; the traits above the store never look inside it.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the folder {folder} for sqlitePath {path} does not exist: create the folder, or change sqlitePath in the data source settings")]
    FolderMissing { path: PathBuf, folder: PathBuf },
    #[error("cannot open the database at sqlitePath {path}: {source}. Check that Grafana's user may read and write it, or change sqlitePath in the data source settings")]
    Open { path: PathBuf, source: BackendError },
    #[error("cannot bring the database at {path} to the current schema: {source}. Back it up, then point sqlitePath at a new file, or restore a file made by this Pulso version")]
    Migrate { path: PathBuf, source: BackendError },
    #[error("the file at sqlitePath {path} is an SQLite database made by another program (it has tables, none of them Pulso's), which Pulso leaves untouched: point sqlitePath at a new file or at a database made by Pulso")]
    Foreign { path: PathBuf },
    #[error("the database at {path} is locked: another process (a backup, an sqlite3 shell, a long import) has held its write lock for over {waited_ms} ms. Health recovers by itself once that process lets go; if it stays locked, find and stop the process holding the file")]
    Locked { path: PathBuf, waited_ms: u64 },
    #[error("the database at {path} is busy: this write waited {waited_ms} ms for the writes queued before it (a large import holds the file, or writes arrive faster than the disk takes them). Retry it; if this repeats, send large imports in smaller batches or at a quieter time")]
    WriteQueueTimeout { path: PathBuf, waited_ms: u64 },
    #[error("the database at {path} is read-only: {source}. Give Grafana's user write access to the file and its folder")]
    ReadOnly { path: PathBuf, source: BackendError },
    #[error("PostgreSQL at {location} refused the login: {source}. Check the user in postgresUrl and the password in the data source's Storage settings")]
    PostgresAuth {
        location: String,
        source: BackendError,
    },
    #[error("PostgreSQL at {location} has no database named {database}: create it (createdb {database}), or fix the database in postgresUrl in the data source's Storage settings")]
    PostgresDatabaseMissing { location: String, database: String },
    #[error("cannot reach PostgreSQL at {location}: {source}. Check that the server is running and that Grafana's host may connect to that host and port (postgresUrl in the data source's Storage settings)")]
    PostgresUnreachable {
        location: String,
        source: BackendError,
    },
    #[error("PostgreSQL at {location} accepts only encrypted connections ({source}): set SSL mode to require or verify-full in the data source's Storage settings")]
    PostgresTlsRequired {
        location: String,
        source: BackendError,
    },
    #[error("PostgreSQL at {location} is read-only (a standby or read replica, or default_transaction_read_only is on): {source}. Point postgresUrl at the primary server")]
    PostgresReadOnly {
        location: String,
        source: BackendError,
    },
    #[error("PostgreSQL at {location} is out of disk space: {source}. Free space on the server's data volume: writes fail until then, and none is half stored")]
    PostgresDiskFull {
        location: String,
        source: BackendError,
    },
    #[error("cannot bring the PostgreSQL database at {location} to the current schema: {source}. Point postgresUrl at a database made by this Pulso version, or at an empty one")]
    PostgresMigrate {
        location: String,
        source: BackendError,
    },
    #[error("database query failed: {0}")]
    Query(#[source] BackendError),
    #[error("row {row} field {field} is invalid: {reason}")]
    InvalidRow {
        row: usize,
        field: &'static str,
        reason: String,
    },
    #[error("{duplicates} of these rows are already stored, so their ids would not follow in row order: store them with insert_feedback and score them after")]
    AlreadyStored { duplicates: u64 },
    /// A reader that is not SQL (the analytics engine) failed.
    #[error("the analytics engine failed: {0}")]
    Engine(#[source] BackendError),
}

impl StoreError {
    /// A failed query, from the backend's own error.
    pub fn query(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Query(Box::new(error))
    }

    /// Whether the database is only unavailable for now (busy, restarting, out of space,
    /// a read-only standby): a push is answered 503, to retry, not 500.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::WriteQueueTimeout { .. }
                | Self::Locked { .. }
                | Self::PostgresUnreachable { .. }
                | Self::PostgresReadOnly { .. }
                | Self::PostgresDiskFull { .. }
        )
    }

    /// A failure of the analytics engine, from its own error or a message.
    pub fn engine(error: impl Into<BackendError>) -> Self {
        Self::Engine(error.into())
    }
}

/// An open, all-or-nothing write of feedback rows.
#[async_trait]
pub trait FeedbackBatch: Send {
    /// Adds rows; rows whose (platform, external id) is already stored are counted, not added.
    async fn insert(&mut self, rows: &[NewFeedback]) -> Result<InsertReport, StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
    async fn rollback(self: Box<Self>) -> Result<(), StoreError>;
}

/// Writes: ingestion batches, the scoring queue and scores.
#[async_trait]
pub trait FeedbackWriter: Send + Sync {
    /// Opens a write transaction that can take rows in several calls, for batches too large to
    /// hold in memory. Nothing is visible to others until `commit`; dropping it rolls back.
    async fn begin_batch(&self) -> Result<Box<dyn FeedbackBatch>, StoreError>;
    /// Stores a batch in one transaction: every row lands, or none does.
    async fn insert_feedback(&self, rows: &[NewFeedback]) -> Result<InsertReport, StoreError> {
        let mut batch = self.begin_batch().await?;
        let report = batch.insert(rows).await?;
        batch.commit().await?;
        Ok(report)
    }
    /// Stores new rows together with `model_id`'s analysis of them, in one transaction (how
    /// `pulso demo` fills a fixture): `analyse` gets the id the first row will get, the others
    /// following in row order, and returns their scores and aspects. When `model_id` is the
    /// active model, the rows are written with its labels, not updated after. Fails, storing
    /// nothing, when a row is already stored (the ids would not follow in order).
    async fn insert_analysed_feedback(
        &self,
        rows: &[NewFeedback],
        model_id: &str,
        analyse: AnalyseNewRows<'_>,
    ) -> Result<InsertReport, StoreError>;
    /// Up to `limit` rows the active model has not scored yet, newest first: `(id, text)`.
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
    ) -> Result<(), StoreError> {
        self.store_analysis(
            model_id,
            &Analysis {
                scores,
                aspects,
                clauses_deferred: &[],
                clauses_scored: &[],
            },
        )
        .await
    }
    /// Stores one scoring batch in one transaction: see [`Analysis`].
    async fn store_analysis(
        &self,
        model_id: &str,
        analysis: &Analysis<'_>,
    ) -> Result<(), StoreError>;
    /// Up to `limit` rows whose clauses `model_id` has still to score (their aspects are the
    /// whole mention's meanwhile), newest first: `(id, text)`.
    async fn rows_awaiting_clauses(
        &self,
        model_id: &str,
        limit: u32,
    ) -> Result<Vec<(i64, String)>, StoreError>;
    /// Up to `limit` rows stored before terms existed (or under another tokeniser version):
    /// `(id, text, language)`, oldest first.
    async fn rows_without_terms(
        &self,
        limit: u32,
    ) -> Result<Vec<(i64, String, String)>, StoreError>;
    /// Stores the term hashes computed for those rows, in one transaction.
    async fn store_terms(&self, rows: &[(i64, Vec<u32>)]) -> Result<(), StoreError>;
    /// The model whose scores queries read; switching copies its scores in for queries.
    async fn set_active_model(&self, model_id: &str) -> Result<(), StoreError>;
    /// What a background scorer calls before each batch: makes `model_id` active, unless the
    /// store is shared and a scorer of the active model is still at work (Grafana instances
    /// running different Pulso versions), in which case it returns `false` and this scorer
    /// waits, so the instances never switch every row back and forth between two models.
    async fn claim_active_model(&self, model_id: &str) -> Result<bool, StoreError> {
        self.set_active_model(model_id).await.map(|()| true)
    }
}

/// Reads that answer the query model. Implemented by the record store and by the analytics
/// engine; aggregates are where they differ, row reads the engine leaves to the record store.
#[async_trait]
pub trait FeedbackReader: Send + Sync {
    async fn timeseries(&self, query: &TimeseriesQuery) -> Result<Timeseries, StoreError>;
    async fn distribution(&self, query: &DistributionQuery) -> Result<Distribution, StoreError>;
    async fn dimension_values(
        &self,
        query: &DimensionValuesQuery,
    ) -> Result<DimensionValues, StoreError>;
    /// Aspect sentiment counts under the active model.
    async fn aspect_counts(&self, scan: &AspectScan) -> Result<AspectCounts, StoreError>;
    /// The same for several scans; an engine answers them in one read.
    async fn aspect_counts_many(
        &self,
        scans: &[AspectScan],
    ) -> Result<Vec<AspectCounts>, StoreError> {
        let mut out = Vec::with_capacity(scans.len());
        for scan in scans {
            out.push(self.aspect_counts(scan).await?);
        }
        Ok(out)
    }
    /// Per group and term, how often it was mentioned in the range and before it.
    async fn term_tallies(&self, scan: &TermScan) -> Result<TermTallies, StoreError>;
    /// The same for several scans; an engine answers them in one read.
    async fn term_tallies_many(&self, scans: &[TermScan]) -> Result<Vec<TermTallies>, StoreError> {
        let mut out = Vec::with_capacity(scans.len());
        for scan in scans {
            out.push(self.term_tallies(scan).await?);
        }
        Ok(out)
    }
    /// For each wanted term, the ids of its latest mentions in the range (latest first).
    async fn term_samples(&self, scan: &TermSampleScan) -> Result<Vec<Vec<i64>>, StoreError>;
    /// The same for several scans; an engine answers them in one read.
    async fn term_samples_many(
        &self,
        scans: &[TermSampleScan],
    ) -> Result<Vec<Vec<Vec<i64>>>, StoreError> {
        let mut out = Vec::with_capacity(scans.len());
        for scan in scans {
            out.push(self.term_samples(scan).await?);
        }
        Ok(out)
    }
    /// Ids of mentions picked to illustrate each scan, in the scan's order.
    async fn sample_ids_many(&self, scans: &[SampleScan]) -> Result<Vec<Vec<i64>>, StoreError>;
    /// Changes whenever rows in the range are added or scored.
    async fn fingerprint(&self, range: TimeRange, filters: &Filters) -> Result<String, StoreError>;

    async fn mentions(&self, query: &MentionsQuery) -> Result<Mentions, StoreError>;
    /// Up to `limit` mentions in a range, in `order`.
    async fn sample_mentions(&self, scan: &SampleScan) -> Result<Vec<MentionRow>, StoreError>;
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
    /// The mentions `query` would return, among the given rows only (a live feed's newly
    /// scored rows), oldest first: range, filters, search and limit all apply.
    async fn mentions_among(
        &self,
        ids: &[i64],
        query: &MentionsQuery,
    ) -> Result<Vec<MentionRow>, StoreError>;
}

/// The system of record: reads, writes, health, and the change feed of everything written.
#[async_trait]
pub trait RecordStore: FeedbackReader + FeedbackWriter {
    /// Checks reachability, writability and schema version, and counts rows.
    async fn health(&self) -> Result<StoreHealth, StoreError>;
    /// Rows waiting for the active model, cheaply (for metrics scraped every few seconds).
    async fn scoring_backlog(&self) -> Result<ScoringBacklog, StoreError>;
    /// The current revision and active model, cheaply.
    async fn feed_cursor(&self) -> Result<FeedCursor, StoreError>;
    /// Every row whose revision is above `since` (every row when `None`) and that row's
    /// aspect results under the active model, read from one consistent snapshot. Returns the
    /// snapshot's revision and active model.
    async fn read_feed(
        &self,
        since: Option<i64>,
        sink: &mut dyn FeedSink,
    ) -> Result<FeedCursor, StoreError>;
}
