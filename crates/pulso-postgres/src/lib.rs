//! The PostgreSQL record store: the system of record behind the `pulso-store` traits when
//! several Grafana instances (or several plugin processes) share one database.
//!
//! What differs from SQLite, and why:
//! - Every write transaction takes the next revision first, which locks the revision row until
//!   it commits; writes of every process commit one at a time, in revision order, so each
//!   process's analytics mirror reads "revision > R" and misses nothing.
//! - The scorers of several processes claim their rows (`FOR UPDATE SKIP LOCKED`, then a
//!   claim with an expiry), so each row is scored once; a process that dies mid-batch holds
//!   its claim until it expires, and then another scores the rows.
//! - Migrations run under sqlx's advisory lock, so processes that start together migrate once.

mod errors;
mod feed;

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow, PgSslMode};
use sqlx::{Arguments, Executor, PgPool, Postgres, Transaction};

use pulso_core::analysis::{terms, text::fold_for_search, Aspect, Emotion};
use pulso_core::query::{
    DimensionValues, DimensionValuesQuery, Distribution, DistributionQuery, Filters, MentionRow,
    Mentions, MentionsQuery, TimeRange, Timeseries, TimeseriesQuery,
};
use pulso_sql::rows::{self, dominant_emotion_name, validate_row};
use pulso_sql::terms::{latest_rows_with_terms, tally_term_rows, TermRow};
use pulso_sql::{self as sql, Bind, Dialect, Statement};
use pulso_store::{
    AnalyseNewRows, Analysis, AspectCounts, AspectScan, FeedCursor, FeedSink, FeedbackBatch,
    FeedbackReader, FeedbackWriter, InsertReport, NewAspectScore, NewFeedback, NewScore,
    RecordStore, SampleScan, ScoringBacklog, StoreError, StoreHealth, TermSampleScan, TermScan,
    TermTallies,
};

pub use errors::classify;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

const NEXT_REVISION: &str =
    "UPDATE store_revision SET value = value + 1 WHERE id = 1 RETURNING value";
const ACTIVE_MODEL: &str = "SELECT value FROM settings WHERE key = 'active_model_id'";
/// How long a scorer's claim on its rows holds. A batch takes about a second; a process that
/// dies mid-batch delays its rows by at most this. `PULSO_SCORING_CLAIM_SECONDS` changes it.
const CLAIM_LEASE: Duration = Duration::from_secs(30);
const CLAIM_LEASE_VARIABLE: &str = "PULSO_SCORING_CLAIM_SECONDS";

fn claim_lease() -> Duration {
    std::env::var(CLAIM_LEASE_VARIABLE)
        .ok()
        .and_then(|seconds| seconds.trim().parse::<u64>().ok())
        .filter(|seconds| *seconds > 0)
        .map_or(CLAIM_LEASE, Duration::from_secs)
}
/// The settings key prefix under which each model's scorers say when they last asked to score.
const SCORER_SEEN: &str = "scorer_seen:";
/// A model whose scorers have not asked for this long no longer holds the active place.
const ACTIVE_SCORER_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a connection may take to open before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How to reach the database: the data source's Storage settings.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresConfig {
    /// `postgres://user@host:port/database?sslmode=...`; a password here is used unless
    /// `password` is set.
    pub url: String,
    pub password: Option<String>,
    /// `disable`, `allow`, `prefer`, `require`, `verify-ca` or `verify-full`; the URL's own
    /// `sslmode` (else `prefer`) when `None`.
    pub ssl_mode: Option<String>,
    pub pool_size: u32,
}

impl std::fmt::Debug for PostgresConfig {
    // The password never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &self.url)
            .field("password", &self.password.as_ref().map(|_| "[configured]"))
            .field("ssl_mode", &self.ssl_mode)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// How long health keeps naming a write that failed for want of disk space, when no write has
/// succeeded since.
const DISK_FULL_MEMORY: Duration = Duration::from_secs(600);

/// The last write that failed for want of disk space. A full data volume still answers reads,
/// and small writes that fit in pages it already has, so no probe shows it: health names the
/// failure until a write succeeds, or for [`DISK_FULL_MEMORY`].
#[derive(Clone, Default)]
struct DiskFullNotice(Arc<Mutex<Option<(Instant, String)>>>);

impl DiskFullNotice {
    /// Passes `error` on, noting it when it is a full disk.
    fn observe(&self, error: StoreError) -> StoreError {
        if let StoreError::PostgresDiskFull { source, .. } = &error {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((Instant::now(), source.to_string()));
        }
        error
    }

    /// A write committed: there is space again.
    fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// The failure, and how long ago, while it is recent.
    fn recent(&self) -> Option<(Duration, String)> {
        let noted = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (at, message) = noted.as_ref()?;
        (at.elapsed() < DISK_FULL_MEMORY).then(|| (at.elapsed(), message.clone()))
    }
}

pub struct PostgresStore {
    pool: PgPool,
    /// "host:port/database", for messages; never the password.
    location: String,
    disk_full: DiskFullNotice,
    /// Names this process's scoring claims.
    claimant: String,
    claim_lease: Duration,
}

/// The connect options a configuration gives, and where they point.
pub fn connect_options(config: &PostgresConfig) -> Result<(PgConnectOptions, String), String> {
    let mut options = PgConnectOptions::from_str(config.url.trim())
        .map_err(|e| format!("postgresUrl is not a PostgreSQL URL: {e}"))?;
    if let Some(password) = config.password.as_deref().filter(|p| !p.is_empty()) {
        options = options.password(password);
    }
    if let Some(mode) = config.ssl_mode.as_deref() {
        let mode = PgSslMode::from_str(mode).map_err(|_| {
            format!("SSL mode {mode:?} is not one of disable, allow, prefer, require, verify-ca, verify-full")
        })?;
        options = options.ssl_mode(mode);
    }
    let location = format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("postgres")
    );
    Ok((options.application_name("pulso"), location))
}

impl PostgresStore {
    /// Connects, and brings the schema up to date (once, under an advisory lock, however many
    /// processes start together).
    pub async fn connect(config: &PostgresConfig) -> Result<Self, StoreError> {
        let (options, location) =
            connect_options(config).map_err(|reason| StoreError::PostgresUnreachable {
                location: "postgresUrl".to_string(),
                source: reason.into(),
            })?;
        let database = options.get_database().unwrap_or("postgres").to_string();
        let pool = PgPoolOptions::new()
            .max_connections(config.pool_size.max(2))
            .min_connections(0)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| classify(&location, &database, e))?;
        MIGRATOR.run(&pool).await.map_err(|source| match source {
            sqlx::migrate::MigrateError::Execute(e) => classify(&location, &database, e),
            other => StoreError::PostgresMigrate {
                location: location.clone(),
                source: other.into(),
            },
        })?;
        let store = Self {
            pool,
            claimant: format!(
                "{}-{}-{:08x}",
                hostname(),
                std::process::id(),
                rand::random::<u32>()
            ),
            location,
            disk_full: DiskFullNotice::default(),
            claim_lease: claim_lease(),
        };
        store.expire_stale_terms().await?;
        Ok(store)
    }

    /// Shortens the scoring claims' lease (tests of a process killed mid-batch).
    pub fn with_claim_lease(mut self, lease: Duration) -> Self {
        self.claim_lease = lease;
        self
    }

    /// "host:port/database".
    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn error(&self, error: sqlx::Error) -> StoreError {
        self.disk_full.observe(classify(&self.location, "", error))
    }

    /// Commits a write transaction.
    async fn commit(&self, tx: Transaction<'static, Postgres>) -> Result<(), StoreError> {
        tx.commit().await.map_err(|e| self.error(e))?;
        self.disk_full.clear();
        Ok(())
    }

    /// Claims the database for organisation `org_id` if no organisation has it yet. Returns
    /// the owner when it is another organisation, so that its data is never served here.
    pub async fn claim_organisation(&self, org_id: i64) -> Result<Option<i64>, StoreError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('owner_org_id', $1) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(org_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        let owner: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'owner_org_id'")
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.error(e))?;
        Ok(owner
            .and_then(|owner| owner.parse::<i64>().ok())
            .filter(|owner| *owner != org_id))
    }

    /// Term hashes made by another tokeniser version would count the wrong terms: drop them,
    /// and the background indexer recomputes them.
    async fn expire_stale_terms(&self) -> Result<(), StoreError> {
        let version: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'terms_version'")
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.error(e))?;
        if version.as_deref() == Some(terms::TERMS_VERSION) {
            return Ok(());
        }
        let (mut tx, revision) = self.write().await?;
        sqlx::query("UPDATE feedback SET terms = NULL, revision = $1 WHERE terms IS NOT NULL")
            .bind(revision)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('terms_version', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(terms::TERMS_VERSION)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error(e))?;
        self.commit(tx).await
    }

    /// A write transaction and its revision. Taking the revision locks its row until the
    /// transaction ends: writes commit one at a time, in revision order.
    async fn write(&self) -> Result<(Transaction<'static, Postgres>, i64), StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.error(e))?;
        let revision: i64 = sqlx::query_scalar(NEXT_REVISION)
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        Ok((tx, revision))
    }

    /// Runs a generated statement and decodes its rows as `T` (a tuple of its columns).
    async fn fetch_as<T>(&self, statement: &Statement) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        sqlx::query_as_with(&statement.sql, arguments(statement)?)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.error(e))
    }

    async fn fetch_mentions(&self, statement: &Statement) -> Result<Vec<MentionRow>, StoreError> {
        Ok(self
            .fetch_as(statement)
            .await?
            .into_iter()
            .map(rows::mention)
            .collect())
    }

    /// The rows of a range that match the filters and have terms, in (time, id) order, and
    /// how many matching rows have none yet.
    async fn term_rows(
        &self,
        range: TimeRange,
        filters: &Filters,
        group_by: Option<pulso_core::query::Dimension>,
    ) -> Result<(Vec<TermRow>, u64, String), StoreError> {
        let statement = sql::term_rows_with_hashes(Dialect::Postgres, range, filters, group_by);
        type Tuple = (i64, i64, Option<String>, Option<f64>, Option<Vec<u8>>);
        let found: Vec<Tuple> = self.fetch_as(&statement).await?;
        let mut unindexed = 0u64;
        let mut rows = Vec::with_capacity(found.len());
        for (id, time_ms, group, score, hashes) in found {
            match hashes {
                Some(bytes) => rows.push(TermRow {
                    id,
                    time_ms,
                    group,
                    hashes: terms::decode(&bytes).collect(),
                    score,
                }),
                None => unindexed += 1,
            }
        }
        Ok((rows, unindexed, statement.describe()))
    }

    async fn store_scores(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        model_id: &str,
        scores: &[NewScore],
        clauses_deferred: &HashSet<i64>,
    ) -> Result<(), StoreError> {
        if scores.is_empty() {
            return Ok(());
        }
        let scored_at_ms = chrono::Utc::now().timestamp_millis();
        let column = |f: &dyn Fn(&NewScore) -> f64| scores.iter().map(f).collect::<Vec<f64>>();
        let emotion = |e: Emotion| {
            scores
                .iter()
                .map(|s| s.emotions.map(|c| c[e.index()]))
                .collect::<Vec<Option<f64>>>()
        };
        sqlx::query(
            "INSERT INTO scores (model_id, feedback_id, label, score, p_negative, p_neutral, \
             p_positive, confidence, scored_at_ms, clauses_pending, p_joy, p_anger, p_sadness, \
             p_fear, p_surprise, p_disgust) \
             SELECT $1, * FROM UNNEST($2::bigint[], $3::text[], $4::float8[], $5::float8[], \
             $6::float8[], $7::float8[], $8::float8[], $9::bigint[], $10::bool[], $11::float8[], \
             $12::float8[], $13::float8[], $14::float8[], $15::float8[], $16::float8[]) \
             ON CONFLICT (model_id, feedback_id) DO UPDATE SET label = excluded.label, \
             score = excluded.score, p_negative = excluded.p_negative, \
             p_neutral = excluded.p_neutral, p_positive = excluded.p_positive, \
             confidence = excluded.confidence, scored_at_ms = excluded.scored_at_ms, \
             clauses_pending = excluded.clauses_pending, p_joy = excluded.p_joy, \
             p_anger = excluded.p_anger, p_sadness = excluded.p_sadness, \
             p_fear = excluded.p_fear, p_surprise = excluded.p_surprise, \
             p_disgust = excluded.p_disgust, clauses_claimed_by = NULL, \
             clauses_claim_expires_ms = NULL, scored_count = scores.scored_count + 1",
        )
        .bind(model_id)
        .bind(scores.iter().map(|s| s.feedback_id).collect::<Vec<i64>>())
        .bind(scores.iter().map(|s| s.label.name()).collect::<Vec<&str>>())
        .bind(column(&|s| s.score))
        .bind(column(&|s| s.p_negative))
        .bind(column(&|s| s.p_neutral))
        .bind(column(&|s| s.p_positive))
        .bind(column(&NewScore::confidence))
        .bind(vec![scored_at_ms; scores.len()])
        .bind(
            scores
                .iter()
                .map(|s| clauses_deferred.contains(&s.feedback_id))
                .collect::<Vec<bool>>(),
        )
        .bind(emotion(Emotion::Joy))
        .bind(emotion(Emotion::Anger))
        .bind(emotion(Emotion::Sadness))
        .bind(emotion(Emotion::Fear))
        .bind(emotion(Emotion::Surprise))
        .bind(emotion(Emotion::Disgust))
        .execute(&mut **tx)
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Stores aspect results, each with its row's time (copied so time scans need no join).
    async fn store_aspects(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        model_id: &str,
        aspects: &[NewAspectScore],
    ) -> Result<(), StoreError> {
        if aspects.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO aspect_scores (model_id, feedback_id, aspect, label, score, \
             event_time_ms) SELECT $1, v.id, v.aspect, v.label, v.score, f.event_time_ms \
             FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::float8[]) \
             AS v(id, aspect, label, score) JOIN feedback f ON f.id = v.id \
             ON CONFLICT (model_id, feedback_id, aspect) DO UPDATE SET label = excluded.label, \
             score = excluded.score, event_time_ms = excluded.event_time_ms",
        )
        .bind(model_id)
        .bind(aspects.iter().map(|a| a.feedback_id).collect::<Vec<i64>>())
        .bind(
            aspects
                .iter()
                .map(|a| a.aspect.name())
                .collect::<Vec<&str>>(),
        )
        .bind(
            aspects
                .iter()
                .map(|a| a.label.name())
                .collect::<Vec<&str>>(),
        )
        .bind(
            aspects
                .iter()
                .map(|a| a.score.clamp(-1.0, 1.0))
                .collect::<Vec<f64>>(),
        )
        .execute(&mut **tx)
        .await
        .map_err(|e| self.error(e))?;
        Ok(())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_string())
}

/// A statement's bound values, in placeholder order.
fn arguments(statement: &Statement) -> Result<PgArguments, StoreError> {
    let mut args = PgArguments::default();
    for bind in &statement.binds {
        let added = match bind {
            Bind::Int(v) => args.add(*v),
            Bind::Real(v) => args.add(*v),
            Bind::Text(v) => args.add(v.clone()),
        };
        added
            .map_err(sqlx::Error::Encode)
            .map_err(StoreError::query)?;
    }
    Ok(args)
}

/// One open write transaction; dropping it without `commit` rolls everything back.
struct PostgresBatch {
    /// The store's location, for errors.
    location: String,
    disk_full: DiskFullNotice,
    tx: Transaction<'static, Postgres>,
    revision: i64,
    ingest_time_ms: i64,
    rows_seen: usize,
}

impl PostgresBatch {
    /// Inserts `rows`, with explicit ids when `ids` is given; `labels[i]`, where given, is the
    /// active model's score of `rows[i]`.
    async fn insert_rows(
        &mut self,
        rows: &[NewFeedback],
        ids: Option<&[i64]>,
        labels: &[Option<&NewScore>],
    ) -> Result<InsertReport, StoreError> {
        for (index, row) in rows.iter().enumerate() {
            validate_row(self.rows_seen + index, row)?;
        }
        self.rows_seen += rows.len();
        if rows.is_empty() {
            return Ok(InsertReport::default());
        }
        let text = |f: &dyn Fn(&NewFeedback) -> &str| rows.iter().map(f).collect::<Vec<&str>>();
        let label = |i: usize| labels.get(i).copied().flatten();
        let inserted: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO feedback (id, source_type, platform, region, city, category, brand, \
             product, language, text, text_folded, rating, rating_raw, redactions, \
             event_time_ms, ingest_time_ms, external_id, terms, revision, label, score, \
             confidence, emotion) \
             SELECT COALESCE(v.id, nextval(pg_get_serial_sequence('feedback', 'id'))), \
             v.source_type, v.platform, v.region, v.city, v.category, v.brand, v.product, \
             v.language, v.text, v.text_folded, v.rating, v.rating_raw, v.redactions, \
             v.event_time_ms, $1, v.external_id, v.terms, $2, v.label, v.score, v.confidence, \
             v.emotion \
             FROM UNNEST($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], \
             $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], \
             $14::float8[], $15::text[], $16::int4[], $17::bigint[], $18::text[], \
             $19::bytea[], $20::text[], $21::float8[], $22::float8[], $23::text[]) WITH ORDINALITY \
             AS v(id, source_type, platform, region, city, category, brand, product, language, \
             text, text_folded, rating, rating_raw, redactions, event_time_ms, external_id, \
             terms, label, score, confidence, emotion, position) \
             ORDER BY v.position \
             ON CONFLICT (platform, external_id) DO NOTHING RETURNING id",
        )
        .bind(self.ingest_time_ms)
        .bind(self.revision)
        .bind(match ids {
            Some(ids) => ids.iter().map(|id| Some(*id)).collect::<Vec<Option<i64>>>(),
            None => vec![None; rows.len()],
        })
        .bind(text(&|r| r.source_type.as_str()))
        .bind(text(&|r| &r.platform))
        .bind(text(&|r| &r.region))
        .bind(text(&|r| &r.city))
        .bind(text(&|r| &r.category))
        .bind(text(&|r| &r.brand))
        .bind(text(&|r| &r.product))
        .bind(text(&|r| &r.language))
        .bind(text(&|r| &r.text))
        .bind(
            rows.iter()
                .map(|r| fold_for_search(&r.text))
                .collect::<Vec<String>>(),
        )
        .bind(rows.iter().map(|r| r.rating).collect::<Vec<Option<f64>>>())
        .bind(
            rows.iter()
                .map(|r| r.rating_raw.as_deref())
                .collect::<Vec<Option<&str>>>(),
        )
        .bind(
            rows.iter()
                .map(|r| i32::try_from(r.redactions).unwrap_or(i32::MAX))
                .collect::<Vec<i32>>(),
        )
        .bind(rows.iter().map(|r| r.event_time_ms).collect::<Vec<i64>>())
        .bind(text(&|r| &r.external_id))
        .bind(
            rows.iter()
                .map(|r| terms::encode(&r.terms))
                .collect::<Vec<Vec<u8>>>(),
        )
        .bind(
            (0..rows.len())
                .map(|i| label(i).map(|s| s.label.name()))
                .collect::<Vec<Option<&str>>>(),
        )
        .bind(
            (0..rows.len())
                .map(|i| label(i).map(|s| s.score))
                .collect::<Vec<Option<f64>>>(),
        )
        .bind(
            (0..rows.len())
                .map(|i| label(i).map(NewScore::confidence))
                .collect::<Vec<Option<f64>>>(),
        )
        .bind(
            (0..rows.len())
                .map(|i| label(i).and_then(dominant_emotion_name))
                .collect::<Vec<Option<&str>>>(),
        )
        .fetch_all(&mut *self.tx)
        .await
        .map_err(|e| self.disk_full.observe(classify(&self.location, "", e)))?;
        let count = inserted.len() as u64;
        let duplicates = rows.len() as u64 - count;
        // Writes take turns on the revision row, so a batch without duplicates got
        // consecutive ids in row order (ORDER BY position).
        let first_id = inserted.iter().min().copied().filter(|first| {
            duplicates == 0 && inserted.iter().max() == Some(&(first + count as i64 - 1))
        });
        Ok(InsertReport {
            inserted: count,
            duplicates,
            first_id,
        })
    }
}

#[async_trait]
impl FeedbackBatch for PostgresBatch {
    async fn insert(&mut self, rows: &[NewFeedback]) -> Result<InsertReport, StoreError> {
        self.insert_rows(rows, None, &[]).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        let (location, disk_full) = (self.location, self.disk_full);
        self.tx
            .commit()
            .await
            .map_err(|e| disk_full.observe(classify(&location, "", e)))?;
        disk_full.clear();
        Ok(())
    }

    async fn rollback(self: Box<Self>) -> Result<(), StoreError> {
        let location = self.location;
        self.tx
            .rollback()
            .await
            .map_err(|e| classify(&location, "", e))
    }
}

impl PostgresStore {
    async fn open_batch(&self) -> Result<PostgresBatch, StoreError> {
        let (tx, revision) = self.write().await?;
        Ok(PostgresBatch {
            location: self.location.clone(),
            disk_full: self.disk_full.clone(),
            tx,
            revision,
            ingest_time_ms: chrono::Utc::now().timestamp_millis(),
            rows_seen: 0,
        })
    }
}

#[async_trait]
impl FeedbackWriter for PostgresStore {
    async fn begin_batch(&self) -> Result<Box<dyn FeedbackBatch>, StoreError> {
        Ok(Box::new(self.open_batch().await?))
    }

    async fn insert_analysed_feedback(
        &self,
        rows: &[NewFeedback],
        model_id: &str,
        analyse: AnalyseNewRows<'_>,
    ) -> Result<InsertReport, StoreError> {
        let mut batch = self.open_batch().await?;
        // Every writer holds the revision row while it inserts, so nobody takes ids between
        // this read and the insert.
        let first_id: i64 = sqlx::query_scalar(
            "SELECT GREATEST(COALESCE(MAX(id), 0), \
             (SELECT last_value FROM feedback_id_seq)) + 1 FROM feedback",
        )
        .fetch_one(&mut *batch.tx)
        .await
        .map_err(|e| self.error(e))?;
        let active: Option<String> = sqlx::query_scalar(ACTIVE_MODEL)
            .fetch_optional(&mut *batch.tx)
            .await
            .map_err(|e| self.error(e))?;
        let (scores, aspects) = analyse(first_id);
        let row_of = |feedback_id: i64| {
            usize::try_from(feedback_id - first_id)
                .ok()
                .filter(|&index| index < rows.len())
                .ok_or_else(|| StoreError::InvalidRow {
                    row: 0,
                    field: "feedback_id",
                    reason: format!(
                        "analysis for id {feedback_id}, outside the ids {first_id} to {} of these rows",
                        first_id + rows.len() as i64 - 1
                    ),
                })
        };
        for aspect in &aspects {
            row_of(aspect.feedback_id)?;
        }
        let mut labels: Vec<Option<&NewScore>> = vec![None; rows.len()];
        for score in &scores {
            let index = row_of(score.feedback_id)?;
            if active.as_deref() == Some(model_id) {
                labels[index] = Some(score);
            }
        }
        let ids: Vec<i64> = (first_id..first_id + rows.len() as i64).collect();
        let report = batch.insert_rows(rows, Some(&ids), &labels).await?;
        if report.duplicates > 0 {
            return Err(StoreError::AlreadyStored {
                duplicates: report.duplicates,
            });
        }
        sqlx::query("SELECT setval('feedback_id_seq', $1)")
            .bind(first_id + rows.len() as i64 - 1)
            .execute(&mut *batch.tx)
            .await
            .map_err(|e| self.error(e))?;
        self.store_scores(&mut batch.tx, model_id, &scores, &HashSet::new())
            .await?;
        self.store_aspects(&mut batch.tx, model_id, &aspects)
            .await?;
        self.commit(batch.tx).await?;
        Ok(InsertReport {
            first_id: Some(first_id),
            ..report
        })
    }

    async fn unscored_feedback(&self, limit: u32) -> Result<Vec<(i64, String)>, StoreError> {
        // Newest first, as on SQLite. Rows another process claimed are skipped, locked or not:
        // SKIP LOCKED passes over a claim being taken, and the re-checked WHERE over a claim
        // taken and committed meanwhile.
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut rows: Vec<(i64, String)> = sqlx::query_as(
            "UPDATE feedback SET claimed_by = $1, claim_expires_ms = $2 WHERE id IN ( \
             SELECT id FROM feedback WHERE label IS NULL \
             AND (claim_expires_ms IS NULL OR claim_expires_ms < $3) \
             ORDER BY id DESC LIMIT $4 FOR UPDATE SKIP LOCKED) \
             AND label IS NULL AND (claim_expires_ms IS NULL OR claim_expires_ms < $3) \
             RETURNING id, text",
        )
        .bind(&self.claimant)
        .bind(now_ms + self.claim_lease.as_millis() as i64)
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        Ok(rows)
    }

    async fn store_analysis(
        &self,
        model_id: &str,
        analysis: &Analysis<'_>,
    ) -> Result<(), StoreError> {
        let Analysis {
            scores,
            aspects,
            clauses_deferred,
            clauses_scored,
        } = *analysis;
        let clauses_deferred: HashSet<i64> = clauses_deferred.iter().copied().collect();
        let (mut tx, revision) = self.write().await?;
        let active: Option<String> = sqlx::query_scalar(ACTIVE_MODEL)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        self.store_scores(&mut tx, model_id, scores, &clauses_deferred)
            .await?;
        let scored_ids: Vec<i64> = scores.iter().map(|s| s.feedback_id).collect();
        if active.as_deref() == Some(model_id) && !scores.is_empty() {
            // Queries read the copy in `feedback`; the claim is done with.
            sqlx::query(
                "UPDATE feedback f SET label = v.label, score = v.score, \
                 confidence = v.confidence, emotion = v.emotion, revision = $1, \
                 claimed_by = NULL, claim_expires_ms = NULL \
                 FROM UNNEST($2::bigint[], $3::text[], $4::float8[], $5::float8[], $6::text[]) \
                 AS v(id, label, score, confidence, emotion) WHERE f.id = v.id",
            )
            .bind(revision)
            .bind(&scored_ids)
            .bind(scores.iter().map(|s| s.label.name()).collect::<Vec<&str>>())
            .bind(scores.iter().map(|s| s.score).collect::<Vec<f64>>())
            .bind(
                scores
                    .iter()
                    .map(NewScore::confidence)
                    .collect::<Vec<f64>>(),
            )
            .bind(
                scores
                    .iter()
                    .map(dominant_emotion_name)
                    .collect::<Vec<Option<&str>>>(),
            )
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        }
        // A rescored row's earlier aspects go, and so do the interim ones of rows whose
        // clauses this batch scored.
        let replaced: Vec<i64> = scored_ids.iter().chain(clauses_scored).copied().collect();
        if !replaced.is_empty() {
            sqlx::query("DELETE FROM aspect_scores WHERE model_id = $1 AND feedback_id = ANY($2)")
                .bind(model_id)
                .bind(&replaced)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.error(e))?;
        }
        if !clauses_scored.is_empty() {
            sqlx::query(
                "UPDATE scores SET clauses_pending = FALSE, clauses_claimed_by = NULL, \
                 clauses_claim_expires_ms = NULL WHERE model_id = $1 AND feedback_id = ANY($2)",
            )
            .bind(model_id)
            .bind(clauses_scored)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
            if active.as_deref() == Some(model_id) {
                // The new revision makes every mirror reread their aspects.
                sqlx::query("UPDATE feedback SET revision = $1 WHERE id = ANY($2)")
                    .bind(revision)
                    .bind(clauses_scored)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| self.error(e))?;
            }
        }
        self.store_aspects(&mut tx, model_id, aspects).await?;
        self.commit(tx).await
    }

    async fn rows_awaiting_clauses(
        &self,
        model_id: &str,
        limit: u32,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let mut rows: Vec<(i64, String)> = sqlx::query_as(
            "WITH claimed AS (UPDATE scores SET clauses_claimed_by = $1, \
             clauses_claim_expires_ms = $2 WHERE model_id = $3 AND feedback_id IN ( \
             SELECT feedback_id FROM scores WHERE model_id = $3 AND clauses_pending \
             AND (clauses_claim_expires_ms IS NULL OR clauses_claim_expires_ms < $4) \
             ORDER BY feedback_id DESC LIMIT $5 FOR UPDATE SKIP LOCKED) \
             AND clauses_pending \
             AND (clauses_claim_expires_ms IS NULL OR clauses_claim_expires_ms < $4) \
             RETURNING feedback_id) \
             SELECT f.id, f.text FROM claimed c JOIN feedback f ON f.id = c.feedback_id",
        )
        .bind(&self.claimant)
        .bind(now_ms + self.claim_lease.as_millis() as i64)
        .bind(model_id)
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        Ok(rows)
    }

    async fn rows_without_terms(
        &self,
        limit: u32,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        sqlx::query_as(
            "SELECT id, text, language FROM feedback WHERE terms IS NULL ORDER BY id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error(e))
    }

    async fn store_terms(&self, rows: &[(i64, Vec<u32>)]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let (mut tx, revision) = self.write().await?;
        sqlx::query(
            "UPDATE feedback f SET terms = v.terms, revision = $1 \
             FROM UNNEST($2::bigint[], $3::bytea[]) AS v(id, terms) WHERE f.id = v.id",
        )
        .bind(revision)
        .bind(rows.iter().map(|(id, _)| *id).collect::<Vec<i64>>())
        .bind(
            rows.iter()
                .map(|(_, hashes)| terms::encode(hashes))
                .collect::<Vec<Vec<u8>>>(),
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error(e))?;
        self.commit(tx).await
    }

    async fn claim_active_model(&self, model_id: &str) -> Result<bool, StoreError> {
        // Each model's scorers say when they last asked; the active model keeps its place while
        // one of them asked within ACTIVE_SCORER_TIMEOUT.
        let now_ms = chrono::Utc::now().timestamp_millis();
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(format!("{SCORER_SEEN}{model_id}"))
        .bind(now_ms.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        let (active, seen): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT a.value, (SELECT s.value FROM settings s WHERE s.key = $1 || a.value) \
             FROM (SELECT (SELECT value FROM settings WHERE key = 'active_model_id') AS value) a",
        )
        .bind(SCORER_SEEN)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        match active {
            Some(active) if active == model_id => return Ok(true),
            Some(_) => {
                let seen_ms = seen.and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
                if now_ms - seen_ms < ACTIVE_SCORER_TIMEOUT.as_millis() as i64 {
                    return Ok(false);
                }
            }
            None => {}
        }
        self.set_active_model(model_id).await.map(|()| true)
    }

    async fn set_active_model(&self, model_id: &str) -> Result<(), StoreError> {
        let active: Option<String> = sqlx::query_scalar(ACTIVE_MODEL)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        if active.as_deref() == Some(model_id) {
            return Ok(());
        }
        let (mut tx, revision) = self.write().await?;
        // Another process may have switched while this one waited for the revision row.
        let active: Option<String> = sqlx::query_scalar(ACTIVE_MODEL)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.error(e))?;
        if active.as_deref() == Some(model_id) {
            return tx.rollback().await.map_err(|e| self.error(e));
        }
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('active_model_id', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(model_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error(e))?;
        sqlx::query(
            "UPDATE feedback SET label = NULL, score = NULL, confidence = NULL, emotion = NULL, \
             revision = $1 WHERE label IS NOT NULL",
        )
        .bind(revision)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error(e))?;
        sqlx::query(&format!(
            "UPDATE feedback SET label = s.label, score = s.score, confidence = s.confidence, \
             emotion = {}, revision = $1 FROM scores s \
             WHERE s.model_id = $2 AND s.feedback_id = feedback.id",
            sql::dominant_emotion_of_scores(Dialect::Postgres)
        ))
        .bind(revision)
        .bind(model_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error(e))?;
        self.commit(tx).await
    }
}

#[async_trait]
impl FeedbackReader for PostgresStore {
    async fn timeseries(&self, query: &TimeseriesQuery) -> Result<Timeseries, StoreError> {
        let statement = sql::timeseries(Dialect::Postgres, query);
        let rows = self.fetch_as(&statement).await?;
        Ok(rows::timeseries(query, rows, statement.describe()))
    }

    async fn distribution(&self, query: &DistributionQuery) -> Result<Distribution, StoreError> {
        let statement = sql::distribution(Dialect::Postgres, query);
        let rows = self.fetch_as(&statement).await?;
        Ok(Distribution {
            rows: rows::distribution(query, rows),
            executed_sql: statement.describe(),
        })
    }

    async fn dimension_values(
        &self,
        query: &DimensionValuesQuery,
    ) -> Result<DimensionValues, StoreError> {
        if query.dimension.needs_scores() && query.filters.is_empty() {
            return Ok(DimensionValues::of_scores(query.dimension));
        }
        let statement = sql::dimension_values(Dialect::Postgres, query);
        let values: Vec<(String,)> = self.fetch_as(&statement).await?;
        Ok(DimensionValues {
            values: values.into_iter().map(|(v,)| v).collect(),
            executed_sql: statement.describe(),
        })
    }

    async fn aspect_counts(&self, scan: &AspectScan) -> Result<AspectCounts, StoreError> {
        let statement = sql::aspect_counts(Dialect::Postgres, scan);
        let rows = self.fetch_as(&statement).await?;
        Ok(AspectCounts {
            counts: rows::aspect_counts(rows),
            executed_sql: statement.describe(),
        })
    }

    async fn term_tallies(&self, scan: &TermScan) -> Result<TermTallies, StoreError> {
        let range = TimeRange {
            from_ms: scan.before.from_ms.min(scan.range.from_ms),
            to_ms: scan.range.to_ms.max(scan.before.to_ms),
        };
        let (rows, unindexed, executed_sql) =
            self.term_rows(range, &scan.filters, scan.group_by).await?;
        let (groups, tallies) = tally_term_rows(scan, &rows);
        Ok(TermTallies {
            groups,
            tallies,
            unindexed,
            executed_sql,
        })
    }

    async fn term_samples(&self, scan: &TermSampleScan) -> Result<Vec<Vec<i64>>, StoreError> {
        if scan.wanted.is_empty() {
            return Ok(Vec::new());
        }
        let (rows, _, _) = self
            .term_rows(scan.range, &scan.filters, scan.group_by)
            .await?;
        Ok(latest_rows_with_terms(&rows, &scan.wanted, scan.per_term))
    }

    async fn sample_ids_many(&self, scans: &[SampleScan]) -> Result<Vec<Vec<i64>>, StoreError> {
        let mut out = Vec::with_capacity(scans.len());
        for scan in scans {
            let ids: Vec<(i64,)> = self
                .fetch_as(&sql::sample_ids(Dialect::Postgres, scan))
                .await?;
            out.push(ids.into_iter().map(|(id,)| id).collect());
        }
        Ok(out)
    }

    async fn fingerprint(&self, range: TimeRange, filters: &Filters) -> Result<String, StoreError> {
        let rows: Vec<(String,)> = self
            .fetch_as(&sql::fingerprint(Dialect::Postgres, range, filters))
            .await?;
        Ok(rows.into_iter().next().map(|(f,)| f).unwrap_or_default())
    }

    async fn mentions(&self, query: &MentionsQuery) -> Result<Mentions, StoreError> {
        let statement = sql::mentions(Dialect::Postgres, query);
        let rows = self.fetch_mentions(&statement).await?;
        Ok(Mentions {
            rows,
            executed_sql: statement.describe(),
        })
    }

    async fn sample_mentions(&self, scan: &SampleScan) -> Result<Vec<MentionRow>, StoreError> {
        self.fetch_mentions(&sql::sample_mentions(Dialect::Postgres, scan))
            .await
    }

    async fn aspect_mentions(
        &self,
        range: TimeRange,
        filters: &Filters,
        aspect: Aspect,
        limit: u32,
    ) -> Result<Vec<MentionRow>, StoreError> {
        self.fetch_mentions(&sql::aspect_mentions(
            Dialect::Postgres,
            range,
            filters,
            aspect,
            limit,
        ))
        .await
    }

    async fn mentions_by_id(&self, ids: &[i64]) -> Result<Vec<MentionRow>, StoreError> {
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(5_000) {
            rows.extend(
                self.fetch_mentions(&sql::mentions_by_id(Dialect::Postgres, chunk))
                    .await?,
            );
        }
        Ok(rows)
    }

    async fn mentions_among(
        &self,
        ids: &[i64],
        query: &MentionsQuery,
    ) -> Result<Vec<MentionRow>, StoreError> {
        let mut rows = Vec::new();
        for chunk in ids.chunks(5_000) {
            rows.extend(
                self.fetch_mentions(&sql::mentions_among(Dialect::Postgres, chunk, query))
                    .await?,
            );
        }
        Ok(rows::newest_among(rows, query.limit))
    }
}

#[async_trait]
impl RecordStore for PostgresStore {
    async fn health(&self) -> Result<StoreHealth, StoreError> {
        // A write inside a rolled-back transaction proves the database takes writes (a
        // standby or a read-only default refuses it) without changing it.
        let mut tx = self.pool.begin().await.map_err(|e| self.error(e))?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('health_probe', '1') \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| self.error(e))?;
        tx.rollback().await.map_err(|e| self.error(e))?;
        if let Some((ago, message)) = self.disk_full.recent() {
            return Err(StoreError::PostgresDiskFull {
                location: self.location.clone(),
                source: format!(
                    "a write {} s ago failed ({message}), and none has succeeded since",
                    ago.as_secs()
                )
                .into(),
            });
        }
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        let schema_version: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        let total_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM feedback")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        let active_model: Option<String> = sqlx::query_scalar(ACTIVE_MODEL)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.error(e))?;
        let scored_rows: i64 = match &active_model {
            Some(model) => sqlx::query_scalar("SELECT COUNT(*) FROM scores WHERE model_id = $1")
                .bind(model)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| self.error(e))?,
            None => 0,
        };
        // The version's first word: "15.18 (Debian 15.18-0+deb12u1)" says 15.18.
        let version = version.split_whitespace().next().unwrap_or("").to_string();
        Ok(StoreHealth {
            location: format!("PostgreSQL {version} at {}", self.location),
            schema_version,
            expected_schema_version: MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0),
            total_rows,
            scored_rows,
            unscored_rows: total_rows - scored_rows,
            active_model,
            backlog: self.scoring_backlog().await?,
        })
    }

    async fn scoring_backlog(&self) -> Result<ScoringBacklog, StoreError> {
        let (rows, oldest_ingest_ms, clauses_pending): (i64, Option<i64>, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM feedback WHERE label IS NULL), \
             (SELECT ingest_time_ms FROM feedback WHERE label IS NULL ORDER BY id LIMIT 1), \
             (SELECT COUNT(*) FROM scores WHERE clauses_pending AND model_id = \
              (SELECT value FROM settings WHERE key = 'active_model_id'))",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(ScoringBacklog {
            rows,
            oldest_ingest_ms,
            clauses_pending,
        })
    }

    async fn feed_cursor(&self) -> Result<FeedCursor, StoreError> {
        let (revision, active_model): (i64, Option<String>) = sqlx::query_as(
            "SELECT (SELECT value FROM store_revision WHERE id = 1), \
             (SELECT value FROM settings WHERE key = 'active_model_id')",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.error(e))?;
        Ok(FeedCursor {
            revision,
            active_model,
        })
    }

    async fn read_feed(
        &self,
        since: Option<i64>,
        sink: &mut dyn FeedSink,
    ) -> Result<FeedCursor, StoreError> {
        feed::read(self, since, sink).await
    }
}

/// Runs `statement` on `executor`, for the feed reader.
async fn fetch_on<'e, T, E>(
    store: &PostgresStore,
    executor: E,
    statement: &Statement,
) -> Result<Vec<T>, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    E: Executor<'e, Database = Postgres>,
{
    sqlx::query_as_with(&statement.sql, arguments(statement)?)
        .fetch_all(executor)
        .await
        .map_err(|e| store.error(e))
}
