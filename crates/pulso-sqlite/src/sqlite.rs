//! The embedded SQLite store (WAL, migrations embedded in the binary).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{
    Arguments, ConnectOptions, Connection, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool,
};

use crate::raw::{self, Cursor, RawDb, RawRow};
use pulso_core::analysis::{terms, text::fold_for_search, Aspect, Emotion, Label};
use pulso_core::query::{
    Dimension, DimensionValues, DimensionValuesQuery, Distribution, DistributionQuery, Filters,
    MentionRow, Mentions, MentionsQuery, TimeRange, Timeseries, TimeseriesQuery,
};
use pulso_sql::rows::{self, dominant_emotion_name, validate_row};
use pulso_sql::terms::{latest_rows_with_terms, tally_term_rows, TermRow};
use pulso_sql::{self as sql, Bind, Dialect, Statement};
use pulso_store::{
    AnalyseNewRows, Analysis, AspectCounts, AspectScan, FeedAspect, FeedCursor, FeedRow, FeedSink,
    FeedbackBatch, FeedbackReader, FeedbackWriter, InsertReport, NewFeedback, NewScore,
    RecordStore, SampleScan, ScoringBacklog, StoreError, StoreHealth, TermSampleScan, TermScan,
    TermTallies,
};

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the health check's write probe waits for it: a locked file is reported quickly.
const HEALTH_BUSY_TIMEOUT_MS: u64 = 1_500;
/// How long a write waits for its turn behind this process's other writes.
const WRITE_TURN_TIMEOUT: Duration = Duration::from_secs(30);

/// SQLITE_BUSY or SQLITE_LOCKED, in any of their extended forms.
fn is_locked(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.code())
        .and_then(|code| code.parse::<i64>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// SQLite allows 32,766 bound values per statement; 17 columns a row keeps well under it.
const INSERT_ROWS_PER_STATEMENT: usize = 500;
/// Takes the next revision; being a write, it also takes the write lock at once, so a
/// transaction that starts with it never fails to upgrade from a stale read.
const NEXT_REVISION: &str =
    "UPDATE store_revision SET value = value + 1 WHERE id = 1 RETURNING value";
const ACTIVE_MODEL: &str = "SELECT value FROM settings WHERE key = 'active_model_id'";
/// The settings key under which a bulk load keeps the statements it deferred (the terms
/// table's fill and trigger, the secondary indexes it dropped) until it runs them; an
/// interrupted load gets them run at the next open.
const DEFERRED_INDEXES: &str = "deferred_indexes";
/// Separates the statements in [`DEFERRED_INDEXES`].
const STATEMENT_SEPARATOR: &str = "\n;\n";
/// Indexes that migration 0009 dropped: a bulk load interrupted before it may still hold
/// their definitions among its deferred statements, which must not bring them back.
const RETIRED_INDEXES: [&str; 7] = [
    "feedback_source_time",
    "feedback_platform_time",
    "feedback_region_time",
    "feedback_category_time",
    "feedback_brand_time",
    "feedback_product",
    "feedback_language",
];

pub struct SqliteStore {
    pool: SqlitePool,
    /// For the writer connection.
    options: SqliteConnectOptions,
    /// The connection every write of this process runs on, one write at a time, in the order
    /// they asked. SQLite lets one connection write at a time, and its busy handler retries
    /// with sleeps in no order: under steady pushes plus the scorer and the term indexer, a
    /// write could wait past the busy timeout and fail with "database is locked". A tokio
    /// mutex queues them first come, first served. Kept open between writes, so a push opens
    /// no connection; empty until the first write, and after a large batch or a failed one.
    writer: Arc<tokio::sync::Mutex<Option<SqliteConnection>>>,
    /// [`WRITE_TURN_TIMEOUT`]; tests shorten it.
    write_turn_timeout: Duration,
    path: PathBuf,
    mode: OpenMode,
}

/// How a database file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// What the plugin and `pulso ingest` use: a write-ahead log, synced at checkpoints, so a
    /// crash or a kill loses no committed batch.
    Durable,
    /// For filling a new file that can simply be made again (`pulso demo`, test and benchmark
    /// fixtures): the rollback journal in memory, no syncs and a large page cache. A crash
    /// mid-write can leave the file corrupt; nothing else may use it until it is closed.
    BulkLoad,
}

/// Helper threads SQLite may use to sort when it builds an index: one per core.
fn sorter_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    /// The folder must already exist, so a typo in `sqlitePath` is reported, not papered over.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, OpenMode::Durable).await
    }

    /// [`SqliteStore::open`], in the given mode.
    pub async fn open_with(path: &Path, mode: OpenMode) -> Result<Self, StoreError> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !folder.is_dir() {
                return Err(StoreError::FolderMissing {
                    path: path.to_path_buf(),
                    folder: folder.to_path_buf(),
                });
            }
        }
        let open_error = |source: sqlx::Error| StoreError::Open {
            path: path.to_path_buf(),
            source: source.into(),
        };
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(open_error)?
            .filename(path)
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("temp_store", "memory");
        let options = match mode {
            // Panels read the analytics mirror, so the record store's pooled connections keep
            // small caches: 16 MiB each, and no memory map that would count in the plugin's RSS.
            OpenMode::Durable => options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .pragma("cache_size", "-16384"),
            // Index pages of millions of rows stay cached (1 GiB); the deferred indexes are
            // sorted on every core; their builds take seconds each, which is expected here.
            OpenMode::BulkLoad => options
                .journal_mode(SqliteJournalMode::Memory)
                .synchronous(SqliteSynchronous::Off)
                .pragma("cache_size", format!("-{BULK_LOAD_CACHE_KIB}"))
                .pragma("threads", sorter_threads().to_string())
                .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1)),
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(open_error)?;
        // Migrating another program's database would add Pulso's tables to it: refuse one that
        // has tables but no migration history.
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&pool)
                .await
                .map_err(open_error)?;
        if !tables.is_empty() && !tables.iter().any(|t| t == "_sqlx_migrations") {
            pool.close().await;
            return Err(StoreError::Foreign {
                path: path.to_path_buf(),
            });
        }
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.to_path_buf(),
                source: source.into(),
            })?;
        let store = Self {
            pool,
            options,
            writer: Arc::default(),
            write_turn_timeout: WRITE_TURN_TIMEOUT,
            path: path.to_path_buf(),
            mode,
        };
        store.expire_stale_terms().await?;
        store.build_deferred_indexes().await?;
        if mode == OpenMode::BulkLoad {
            store.defer_indexes().await?;
        }
        Ok(store)
    }

    /// Into an empty database, rows go in several times faster without the secondary indexes,
    /// which are then built once from sorted data: drops them, keeping their definitions.
    async fn defer_indexes(&self) -> Result<(), StoreError> {
        let has_rows: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM feedback)")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::query)?;
        if has_rows {
            return Ok(());
        }
        // Unique indexes stay: they are how duplicates are found. So do those whose keys
        // arrive in insert order (appending to them costs little, building one is a full
        // scan), and partial ones, which a bulk load's rows mostly do not enter.
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND sql NOT LIKE 'CREATE UNIQUE%' AND sql NOT LIKE '% WHERE %' ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query)?;
        let indexes: Vec<(String, String)> = indexes
            .into_iter()
            .filter(|(name, _)| !INSERT_ORDER_INDEXES.contains(&name.as_str()))
            .collect();
        // The terms table is ordered by time, and rows arrive in any time order: kept by its
        // trigger it takes a random insert per row; filled once at the end, sorted, it is
        // appended to. So the trigger goes too, and comes back after that fill.
        let terms_trigger: Option<String> =
            sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?")
                .bind(TERMS_INSERT_TRIGGER)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::query)?;
        let mut definitions: Vec<&str> = Vec::new();
        if let Some(trigger) = &terms_trigger {
            definitions.extend([FILL_TERMS_TABLE, trigger.as_str()]);
        }
        definitions.extend(indexes.iter().map(|(_, sql)| sql.as_str()));
        if definitions.is_empty() {
            return Ok(());
        }
        let mut writer = self.writer().await?;
        let mut tx = writer.connection.begin().await.map_err(StoreError::query)?;
        if terms_trigger.is_some() {
            sqlx::query(&format!("DROP TRIGGER \"{TERMS_INSERT_TRIGGER}\""))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query)?;
        }
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?)")
            .bind(DEFERRED_INDEXES)
            .bind(definitions.join(STATEMENT_SEPARATOR))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query)?;
        for (name, _) in &indexes {
            sqlx::query(&format!("DROP INDEX \"{name}\""))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query)?;
        }
        tx.commit().await.map_err(StoreError::query)?;
        writer.done().await
    }

    /// Does the work a bulk load deferred (see [`OpenMode::BulkLoad`]): fills the terms table
    /// and restores its trigger, builds the secondary indexes; does nothing when none is
    /// pending. Every open runs it too.
    pub async fn build_deferred_indexes(&self) -> Result<(), StoreError> {
        // The write lock first, so the definitions read are the ones this transaction removes.
        let mut writer = self.writer().await?;
        let mut tx = writer
            .connection
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::query)?;
        let deferred: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(DEFERRED_INDEXES)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::query)?;
        let Some(definitions) = deferred else {
            tx.rollback().await.map_err(StoreError::query)?;
            return writer.done().await;
        };
        for definition in definitions.split(STATEMENT_SEPARATOR) {
            let definition = definition.trim();
            if RETIRED_INDEXES
                .iter()
                .any(|name| definition.starts_with(&format!("CREATE INDEX {name} ")))
            {
                continue;
            }
            // Idempotent, should an index or the trigger exist already.
            let definition = definition
                .replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
                .replacen("CREATE TRIGGER ", "CREATE TRIGGER IF NOT EXISTS ", 1);
            sqlx::query(&definition)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query)?;
        }
        sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(DEFERRED_INDEXES)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query)?;
        tx.commit().await.map_err(StoreError::query)?;
        writer.done().await
    }

    /// Term hashes made by another tokeniser version would count the wrong terms: drop them,
    /// and the background indexer recomputes them.
    async fn expire_stale_terms(&self) -> Result<(), StoreError> {
        let version: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'terms_version'")
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::query)?;
        if version.as_deref() == Some(terms::TERMS_VERSION) {
            return Ok(());
        }
        let mut writer = self.writer().await?;
        let mut tx = writer.connection.begin().await.map_err(StoreError::query)?;
        let revision: i64 = sqlx::query_scalar(NEXT_REVISION)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query)?;
        sqlx::query("UPDATE feedback SET terms = NULL, revision = ? WHERE terms IS NOT NULL")
            .bind(revision)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query)?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('terms_version', ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(terms::TERMS_VERSION)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query)?;
        tx.commit().await.map_err(StoreError::query)?;
        writer.done().await?;
        Ok(())
    }

    /// Claims the database for organisation `org_id` if no organisation has it yet. Returns
    /// the owner when it is another organisation, so that its data is never served here.
    pub async fn claim_organisation(&self, org_id: i64) -> Result<Option<i64>, StoreError> {
        let owner = || async {
            sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = 'owner_org_id'")
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::query)
        };
        let mut found = owner().await?;
        if found.is_none() {
            // One statement, so that two openers racing agree on the first; a read-only file
            // stays unclaimed.
            let mut writer = self.writer().await?;
            let _ = sqlx::query(
                "INSERT INTO settings (key, value) VALUES ('owner_org_id', ?) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(org_id.to_string())
            .execute(&mut writer.connection)
            .await;
            writer.done().await?;
            found = owner().await?;
        }
        Ok(found
            .and_then(|owner| owner.parse::<i64>().ok())
            .filter(|owner| *owner != org_id))
    }

    /// Closes every connection; the last one checkpoints the WAL into the database file, so a
    /// finished import leaves no large `-wal` file behind.
    pub async fn close(&self) {
        // A failure leaves the definitions stored: the next open builds them.
        let _ = self.build_deferred_indexes().await;
        if self.mode == OpenMode::BulkLoad {
            // A bulk load's journal is in memory, so the file is left in rollback mode, and
            // the first processes to open it (several data sources, parallel tests) would race
            // to switch it to WAL, which takes an exclusive lock: "database is locked". It is
            // switched here, while this process is its only user. A failure leaves that to
            // the next open.
            let _ = sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&self.pool)
                .await;
        }
        if let Some(writer) = self.writer.lock().await.take() {
            let _ = writer.close().await;
        }
        self.pool.close().await;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pool, for benchmarks that run the same SQL without the plugin around it.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Runs a generated statement and returns its rows.
    pub async fn fetch(&self, statement: &Statement) -> Result<Vec<SqliteRow>, StoreError> {
        sqlx::query_with(&statement.sql, arguments(statement)?)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query)
    }

    /// Runs a generated statement and decodes its rows as `T` (a tuple of its columns).
    async fn fetch_as<T>(&self, statement: &Statement) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + Send + Unpin,
    {
        sqlx::query_as_with(&statement.sql, arguments(statement)?)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::query)
    }

    async fn count(&self, sql: &str) -> Result<i64, StoreError> {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::query)
    }

    /// Runs `work` on one pooled connection's raw handle.
    async fn with_raw<T>(
        &self,
        work: impl FnOnce(RawDb) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut connection = self.pool.acquire().await.map_err(StoreError::query)?;
        let mut handle = connection.lock_handle().await.map_err(StoreError::query)?;
        let db = RawDb(handle.as_raw_handle().as_ptr());
        let run = move || work(db);
        // The C calls block; tell a multi-threaded runtime so it moves other tasks away.
        match tokio::runtime::Handle::current().runtime_flavor() {
            tokio::runtime::RuntimeFlavor::CurrentThread => run(),
            _ => tokio::task::block_in_place(run),
        }
    }

    /// Runs a statement through SQLite's C API and calls `each` per row.
    pub async fn for_each_row(
        &self,
        statement: &Statement,
        each: impl FnMut(&RawRow<'_>),
    ) -> Result<(), StoreError> {
        self.with_raw(|db| raw::query(db, statement, each)).await
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
    /// how many matching rows have none yet. Two sequential reads instead of one scattered
    /// one: the matching rows from the covering index, then the range's hashes from the
    /// time-clustered terms table.
    async fn term_rows(
        &self,
        range: TimeRange,
        filters: &Filters,
        group_by: Option<Dimension>,
    ) -> Result<(Vec<TermRow>, u64, String), StoreError> {
        let matching = sql::term_rows(Dialect::Sqlite, range, filters, group_by);
        let slices = sql::term_slices(Dialect::Sqlite, range);
        let (rows, wanted) = self
            .with_raw(|db| {
                let mut wanted: std::collections::HashMap<i64, (Option<String>, Option<f64>)> =
                    std::collections::HashMap::new();
                raw::query(db, &matching, |row| {
                    wanted.insert(row.int(0), (row.text(1).map(str::to_string), row.real(2)));
                })?;
                let mut rows = Vec::with_capacity(wanted.len());
                if !wanted.is_empty() {
                    raw::query(db, &slices, |row| {
                        let id = row.int(0);
                        if let Some((group, score)) = wanted.get(&id) {
                            rows.push(TermRow {
                                id,
                                time_ms: row.int(1),
                                group: group.clone(),
                                hashes: terms::decode(row.bytes(2)).collect(),
                                score: *score,
                            });
                        }
                    })?;
                }
                Ok((rows, wanted.len()))
            })
            .await?;
        let unindexed = (wanted - rows.len()) as u64;
        Ok((
            rows,
            unindexed,
            format!("{}\n{}", matching.describe(), slices.describe()),
        ))
    }
}

/// A statement's bound values, in placeholder order.
fn arguments(statement: &Statement) -> Result<SqliteArguments<'_>, StoreError> {
    let mut args = SqliteArguments::default();
    for bind in &statement.binds {
        let added = match bind {
            Bind::Int(v) => args.add(*v),
            Bind::Real(v) => args.add(*v),
            Bind::Text(v) => args.add(v.as_str()),
        };
        added
            .map_err(sqlx::Error::Encode)
            .map_err(StoreError::query)?;
    }
    Ok(args)
}

/// Page cache of a large write batch's connection, in KiB; pages are allocated only as used.
const BATCH_CACHE_KIB: u32 = 256 * 1024;
/// A batch past this many rows gets [`BATCH_CACHE_KIB`]; smaller ones (pushes, most
/// imports' first chunk) run with the pooled connections' small cache.
const LARGE_BATCH_ROWS: usize = 2_000;
/// The page cache of a bulk load's connections: at 10M rows the B-trees that take rows in
/// random order (the time-ordered terms table, the unique external ids) outgrow 256 MiB, and
/// every commit then writes back pages it will dirty again in the next batch.
const BULK_LOAD_CACHE_KIB: u32 = 1024 * 1024;
/// Secondary indexes whose keys grow with the insert order (ids, revisions).
const INSERT_ORDER_INDEXES: [&str; 1] = ["feedback_revision"];
/// The trigger that copies each new row's terms into `feedback_terms`.
const TERMS_INSERT_TRIGGER: &str = "feedback_terms_on_insert";
/// What that trigger would have written for a bulk load's rows, in the table's order.
const FILL_TERMS_TABLE: &str = "INSERT OR REPLACE INTO feedback_terms (event_time_ms, \
     feedback_id, terms) SELECT event_time_ms, id, terms FROM feedback \
     WHERE terms IS NOT NULL ORDER BY event_time_ms, id";

/// One open write transaction; dropping it without `commit` rolls everything back.
struct SqliteBatch {
    writer: Writer,
    ingest_time_ms: i64,
    /// The revision every row of this batch is tagged with.
    revision: i64,
    /// Rows offered so far, so validation errors carry the row's place in the whole batch.
    rows_seen: usize,
}

#[async_trait]
impl FeedbackBatch for SqliteBatch {
    async fn insert(&mut self, rows: &[NewFeedback]) -> Result<InsertReport, StoreError> {
        self.insert_rows(rows, &[]).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        (*self).commit_batch().await
    }

    async fn rollback(mut self: Box<Self>) -> Result<(), StoreError> {
        sqlx::query("ROLLBACK")
            .execute(&mut self.writer.connection)
            .await
            .map_err(StoreError::query)?;
        self.writer.done().await
    }
}

/// A write's turn on the writer connection (see [`SqliteStore::writer`]). [`Writer::done`]
/// hands the connection back for the next write; dropped without it (an error, a batch
/// dropped uncommitted), the connection closes, which rolls back what it had not committed,
/// and the next write opens a fresh one.
struct Writer {
    turn: tokio::sync::OwnedMutexGuard<Option<SqliteConnection>>,
    connection: SqliteConnection,
    /// Set once the connection's page cache has been made large for a big batch: such a
    /// connection is closed after it, so its cache is not kept.
    large_cache: bool,
}

impl Writer {
    async fn done(mut self) -> Result<(), StoreError> {
        if self.large_cache {
            self.connection.close().await.map_err(StoreError::query)
        } else {
            *self.turn = Some(self.connection);
            Ok(())
        }
    }

    /// Gives the connection a large page cache, for a batch too big for the small one: with
    /// a small cache, SQLite spills the open transaction to the WAL and reads it back over
    /// and over.
    async fn grow_cache(&mut self) -> Result<(), StoreError> {
        if !self.large_cache {
            sqlx::query(&format!("PRAGMA cache_size = -{BATCH_CACHE_KIB}"))
                .execute(&mut self.connection)
                .await
                .map_err(StoreError::query)?;
            self.large_cache = true;
        }
        Ok(())
    }
}

impl SqliteStore {
    /// Waits for this write's turn (first come, first served) and returns the writer
    /// connection, opening it if needed.
    async fn writer(&self) -> Result<Writer, StoreError> {
        let asked = Instant::now();
        let mut turn =
            tokio::time::timeout(self.write_turn_timeout, self.writer.clone().lock_owned())
                .await
                .map_err(|_| StoreError::WriteQueueTimeout {
                    path: self.path.clone(),
                    waited_ms: asked.elapsed().as_millis() as u64,
                })?;
        let connection = match turn.take() {
            Some(connection) => connection,
            None => self
                .options
                .clone()
                .connect()
                .await
                .map_err(StoreError::query)?,
        };
        Ok(Writer {
            turn,
            connection,
            large_cache: false,
        })
    }

    /// A write transaction on the writer connection.
    async fn open_batch(&self) -> Result<SqliteBatch, StoreError> {
        let mut writer = self.writer().await?;
        // A bulk load's options already give every connection its large cache; like any
        // large cache, it is not kept after the batch.
        writer.large_cache = self.mode == OpenMode::BulkLoad;
        // IMMEDIATE takes the write lock now rather than failing to upgrade mid-batch.
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut writer.connection)
            .await
            .map_err(StoreError::query)?;
        let revision: i64 = sqlx::query_scalar(NEXT_REVISION)
            .fetch_one(&mut writer.connection)
            .await
            .map_err(StoreError::query)?;
        Ok(SqliteBatch {
            writer,
            ingest_time_ms: chrono::Utc::now().timestamp_millis(),
            revision,
            rows_seen: 0,
        })
    }
}

/// `head`, one bound `value`, `tail`, then `ids` bound one by one and a closing parenthesis:
/// "... WHERE model_id = ? AND feedback_id IN (?, ?, ...)".
fn statement_over_ids<'a, T>(
    head: &str,
    value: T,
    tail: &str,
    ids: &[i64],
) -> QueryBuilder<'a, Sqlite>
where
    T: 'a + sqlx::Encode<'a, Sqlite> + sqlx::Type<Sqlite>,
{
    let mut builder = QueryBuilder::new(head);
    builder.push_bind(value).push(tail);
    let mut separated = builder.separated(", ");
    for id in ids {
        separated.push_bind(*id);
    }
    builder.push(")");
    builder
}

/// One multi-row statement of `model_id`'s scores (at most [`INSERT_ROWS_PER_STATEMENT`]).
async fn insert_score_rows(
    connection: &mut SqliteConnection,
    model_id: &str,
    scores: &[NewScore],
    scored_at_ms: i64,
    clauses_deferred: &HashSet<i64>,
) -> Result<(), StoreError> {
    // The emotion columns are named only when a score has them: a model without an emotion
    // head (and the demo's fixture scores) binds six fewer values per row.
    let with_emotions = scores.iter().any(|s| s.emotions.is_some());
    let mut sql = String::from(
        "INSERT OR REPLACE INTO scores (model_id, feedback_id, label, score, p_negative, \
         p_neutral, p_positive, confidence, scored_at_ms, clauses_pending",
    );
    if with_emotions {
        for emotion in Emotion::ALL {
            sql.push_str(", p_");
            sql.push_str(emotion.name());
        }
    }
    sql.push_str(") ");
    let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(sql);
    builder.push_values(scores, |mut b, s| {
        b.push_bind(model_id)
            .push_bind(s.feedback_id)
            .push_bind(s.label.name())
            .push_bind(s.score)
            .push_bind(s.p_negative)
            .push_bind(s.p_neutral)
            .push_bind(s.p_positive)
            .push_bind(s.confidence())
            .push_bind(scored_at_ms)
            .push_bind(clauses_deferred.contains(&s.feedback_id));
        if with_emotions {
            for emotion in Emotion::ALL {
                b.push_bind(s.emotions.map(|e| e[emotion.index()]));
            }
        }
    });
    builder
        .build()
        .execute(connection)
        .await
        .map_err(StoreError::query)?;
    Ok(())
}

impl SqliteBatch {
    /// Inserts `rows`; `labels[i]`, where given, is the active model's score of `rows[i]`,
    /// written into the row's label columns.
    async fn insert_rows(
        &mut self,
        rows: &[NewFeedback],
        labels: &[Option<&NewScore>],
    ) -> Result<InsertReport, StoreError> {
        for (index, row) in rows.iter().enumerate() {
            validate_row(self.rows_seen + index, row)?;
        }
        self.rows_seen += rows.len();
        if self.rows_seen > LARGE_BATCH_ROWS {
            self.writer.grow_cache().await?;
        }
        let mut inserted = 0u64;
        let mut last_id = None;
        for (number, chunk) in rows.chunks(INSERT_ROWS_PER_STATEMENT).enumerate() {
            let chunk_labels = labels
                .get(number * INSERT_ROWS_PER_STATEMENT..)
                .unwrap_or_default();
            // OR IGNORE rather than ON CONFLICT DO NOTHING: a multi-row statement that may
            // abort makes SQLite copy every page it touches into a statement journal, which
            // cost more than the inserts. Rows are validated above, so the only constraint
            // left to ignore is the duplicate (platform, external_id); a trigger's RAISE(ABORT)
            // still aborts.
            let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT OR IGNORE INTO feedback (source_type, platform, region, city, category, \
                 brand, product, language, text, text_folded, rating, rating_raw, redactions, \
                 event_time_ms, ingest_time_ms, external_id, terms, revision, label, score, \
                 confidence, emotion) ",
            );
            builder.push_values(chunk.iter().enumerate(), |mut b, (index, row)| {
                let label = chunk_labels.get(index).copied().flatten();
                b.push_bind(row.source_type.as_str())
                    .push_bind(&row.platform)
                    .push_bind(&row.region)
                    .push_bind(&row.city)
                    .push_bind(&row.category)
                    .push_bind(&row.brand)
                    .push_bind(&row.product)
                    .push_bind(&row.language)
                    .push_bind(&row.text)
                    .push_bind(fold_for_search(&row.text))
                    .push_bind(row.rating)
                    .push_bind(&row.rating_raw)
                    .push_bind(i64::from(row.redactions))
                    .push_bind(row.event_time_ms)
                    .push_bind(self.ingest_time_ms)
                    .push_bind(&row.external_id)
                    .push_bind(terms::encode(&row.terms))
                    .push_bind(self.revision)
                    .push_bind(label.map(|s| s.label.name()))
                    .push_bind(label.map(|s| s.score))
                    .push_bind(label.map(NewScore::confidence))
                    .push_bind(label.and_then(dominant_emotion_name));
            });
            let done = builder
                .build()
                .execute(&mut self.writer.connection)
                .await
                .map_err(StoreError::query)?;
            inserted += done.rows_affected();
            last_id = Some(done.last_insert_rowid());
        }
        let duplicates = rows.len() as u64 - inserted;
        Ok(InsertReport {
            inserted,
            duplicates,
            // This transaction holds the write lock and skipped no row, so the ids it gave
            // are consecutive, in row order.
            first_id: last_id
                .filter(|_| duplicates == 0 && inserted > 0)
                .map(|last| last - inserted as i64 + 1),
        })
    }

    async fn commit_batch(mut self) -> Result<(), StoreError> {
        sqlx::query("COMMIT")
            .execute(&mut self.writer.connection)
            .await
            .map_err(StoreError::query)?;
        self.writer.done().await
    }
}

#[async_trait]
impl FeedbackWriter for SqliteStore {
    async fn begin_batch(&self) -> Result<Box<dyn FeedbackBatch>, StoreError> {
        Ok(Box::new(self.open_batch().await?))
    }

    async fn insert_analysed_feedback(
        &self,
        rows: &[NewFeedback],
        model_id: &str,
        analyse: AnalyseNewRows<'_>,
    ) -> Result<InsertReport, StoreError> {
        // Dropped on an error: the connection closes without COMMIT, so nothing is stored.
        let mut batch = self.open_batch().await?;
        // `id` is an INTEGER PRIMARY KEY without AUTOINCREMENT: a new row gets the largest id
        // plus one, and this transaction holds the write lock.
        let first_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM feedback")
            .fetch_one(&mut batch.writer.connection)
            .await
            .map_err(StoreError::query)?;
        let active: Option<String> = sqlx::query_scalar(ACTIVE_MODEL)
            .fetch_optional(&mut batch.writer.connection)
            .await
            .map_err(StoreError::query)?;
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
        let mut labels: Vec<Option<&NewScore>> = vec![None; rows.len()];
        if active.as_deref() == Some(model_id) {
            for score in &scores {
                labels[row_of(score.feedback_id)?] = Some(score);
            }
        }
        let report = batch.insert_rows(rows, &labels).await?;
        if report.duplicates > 0 {
            return Err(StoreError::AlreadyStored {
                duplicates: report.duplicates,
            });
        }
        let scored_at_ms = chrono::Utc::now().timestamp_millis();
        for chunk in scores.chunks(INSERT_ROWS_PER_STATEMENT) {
            insert_score_rows(
                &mut batch.writer.connection,
                model_id,
                chunk,
                scored_at_ms,
                &HashSet::new(),
            )
            .await?;
        }
        for chunk in aspects.chunks(INSERT_ROWS_PER_STATEMENT) {
            let times = chunk
                .iter()
                .map(|a| Ok(rows[row_of(a.feedback_id)?].event_time_ms))
                .collect::<Result<Vec<i64>, StoreError>>()?;
            let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO aspect_scores (model_id, feedback_id, aspect, label, score, \
                 event_time_ms) ",
            );
            builder.push_values(chunk.iter().zip(times), |mut b, (a, time)| {
                b.push_bind(model_id)
                    .push_bind(a.feedback_id)
                    .push_bind(a.aspect.name())
                    .push_bind(a.label.name())
                    .push_bind(a.score.clamp(-1.0, 1.0))
                    .push_bind(time);
            });
            builder
                .build()
                .execute(&mut batch.writer.connection)
                .await
                .map_err(StoreError::query)?;
        }
        batch.commit_batch().await?;
        Ok(report)
    }

    async fn unscored_feedback(&self, limit: u32) -> Result<Vec<(i64, String)>, StoreError> {
        // Newest first: a mention pushed now is scored in the next batch, not after a backlog
        // (an import, a model switch) that may take minutes; the backlog drains with what is
        // left.
        Ok(sqlx::query_as(
            "SELECT id, text FROM feedback WHERE label IS NULL ORDER BY id DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query)?)
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
        let scored_at_ms = chrono::Utc::now().timestamp_millis();
        let mut writer = self.writer().await?;
        let mut tx = writer.connection.begin().await.map_err(StoreError::query)?;
        let revision: i64 = sqlx::query_scalar(NEXT_REVISION)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query)?;
        let active: Option<String> = sqlx::query_scalar(ACTIVE_MODEL)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::query)?;
        for chunk in scores.chunks(INSERT_ROWS_PER_STATEMENT) {
            insert_score_rows(&mut tx, model_id, chunk, scored_at_ms, &clauses_deferred).await?;
            if active.as_deref() == Some(model_id) {
                // Queries read the copy in `feedback`: one statement per chunk, not per row.
                let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(
                    "UPDATE feedback SET label = v.column2, score = v.column3, \
                     confidence = v.column4, emotion = v.column5, revision = ",
                );
                builder.push_bind(revision).push(" FROM (");
                builder.push_values(chunk, |mut b, s| {
                    b.push_bind(s.feedback_id)
                        .push_bind(s.label.name())
                        .push_bind(s.score)
                        .push_bind(s.confidence())
                        .push_bind(dominant_emotion_name(s));
                });
                builder.push(") AS v WHERE feedback.id = v.column1");
                builder
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query)?;
            }
            // A rescored row's earlier aspects go, so a changed text or lexicon leaves no
            // stale ones.
            let ids: Vec<i64> = chunk.iter().map(|s| s.feedback_id).collect();
            statement_over_ids(
                "DELETE FROM aspect_scores WHERE model_id = ",
                model_id,
                " AND feedback_id IN (",
                &ids,
            )
            .build()
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query)?;
        }
        for chunk in clauses_scored.chunks(INSERT_ROWS_PER_STATEMENT) {
            // The mention-level aspects these rows had meanwhile go; the new revision makes
            // the analytics mirror reread them.
            let mut statements = vec![
                statement_over_ids(
                    "DELETE FROM aspect_scores WHERE model_id = ",
                    model_id,
                    " AND feedback_id IN (",
                    chunk,
                ),
                statement_over_ids(
                    "UPDATE scores SET clauses_pending = 0 WHERE model_id = ",
                    model_id,
                    " AND feedback_id IN (",
                    chunk,
                ),
            ];
            if active.as_deref() == Some(model_id) {
                statements.push(statement_over_ids(
                    "UPDATE feedback SET revision = ",
                    revision,
                    " WHERE id IN (",
                    chunk,
                ));
            }
            for mut statement in statements {
                statement
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::query)?;
            }
        }
        for chunk in aspects.chunks(INSERT_ROWS_PER_STATEMENT) {
            // The row's time is copied from feedback, so time-range scans need no join.
            let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT OR REPLACE INTO aspect_scores (model_id, feedback_id, aspect, label, \
                 score, event_time_ms) SELECT ",
            );
            builder
                .push_bind(model_id)
                .push(", f.id, v.column2, v.column3, v.column4, f.event_time_ms FROM (");
            builder.push_values(chunk, |mut b, a| {
                b.push_bind(a.feedback_id)
                    .push_bind(a.aspect.name())
                    .push_bind(a.label.name())
                    .push_bind(a.score.clamp(-1.0, 1.0));
            });
            builder.push(") AS v JOIN feedback f ON f.id = v.column1");
            builder
                .build()
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query)?;
        }
        tx.commit().await.map_err(StoreError::query)?;
        writer.done().await?;
        Ok(())
    }

    async fn rows_awaiting_clauses(
        &self,
        model_id: &str,
        limit: u32,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT f.id, f.text FROM scores s JOIN feedback f ON f.id = s.feedback_id \
             WHERE s.model_id = ? AND s.clauses_pending = 1 ORDER BY s.feedback_id DESC LIMIT ?",
        )
        .bind(model_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query)?)
    }

    async fn rows_without_terms(
        &self,
        limit: u32,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, text, language FROM feedback WHERE terms IS NULL ORDER BY id LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::query)?)
    }

    async fn store_terms(&self, rows: &[(i64, Vec<u32>)]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut writer = self.writer().await?;
        let mut tx = writer.connection.begin().await.map_err(StoreError::query)?;
        let revision: i64 = sqlx::query_scalar(NEXT_REVISION)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query)?;
        for (id, hashes) in rows {
            sqlx::query("UPDATE feedback SET terms = ?, revision = ? WHERE id = ?")
                .bind(terms::encode(hashes))
                .bind(revision)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query)?;
        }
        tx.commit().await.map_err(StoreError::query)?;
        writer.done().await?;
        Ok(())
    }

    async fn set_active_model(&self, model_id: &str) -> Result<(), StoreError> {
        let active: Option<String> = sqlx::query_scalar(ACTIVE_MODEL)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::query)?;
        if active.as_deref() == Some(model_id) {
            return Ok(());
        }
        let mut writer = self.writer().await?;
        let mut tx = writer.connection.begin().await.map_err(StoreError::query)?;
        let revision: i64 = sqlx::query_scalar(NEXT_REVISION)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query)?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('active_model_id', ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(model_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query)?;
        // Queries read the copy in `feedback`; refresh it from the new model's scores.
        sqlx::query(
            "UPDATE feedback SET label = NULL, score = NULL, confidence = NULL, emotion = NULL, \
             revision = ? WHERE label IS NOT NULL",
        )
        .bind(revision)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query)?;
        sqlx::query(&format!(
            "UPDATE feedback SET label = s.label, score = s.score, confidence = s.confidence, \
             emotion = {}, revision = ? FROM scores s \
             WHERE s.model_id = ? AND s.feedback_id = feedback.id",
            sql::dominant_emotion_of_scores(Dialect::Sqlite)
        ))
        .bind(revision)
        .bind(model_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::query)?;
        tx.commit().await.map_err(StoreError::query)?;
        writer.done().await?;
        Ok(())
    }
}

#[async_trait]
impl FeedbackReader for SqliteStore {
    async fn timeseries(&self, query: &TimeseriesQuery) -> Result<Timeseries, StoreError> {
        let statement = sql::timeseries(Dialect::Sqlite, query);
        let rows = self.fetch_as(&statement).await?;
        Ok(rows::timeseries(query, rows, statement.describe()))
    }

    async fn distribution(&self, query: &DistributionQuery) -> Result<Distribution, StoreError> {
        let statement = sql::distribution(Dialect::Sqlite, query);
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
        let statement = sql::dimension_values(Dialect::Sqlite, query);
        let values = self
            .fetch(&statement)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>(0))
            .collect::<Result<_, _>>()
            .map_err(StoreError::query)?;
        Ok(DimensionValues {
            values,
            executed_sql: statement.describe(),
        })
    }

    async fn aspect_counts(&self, scan: &AspectScan) -> Result<AspectCounts, StoreError> {
        let statement = sql::aspect_counts(Dialect::Sqlite, scan);
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
            let statement = sql::sample_ids(Dialect::Sqlite, scan);
            out.push(
                self.fetch(&statement)
                    .await?
                    .iter()
                    .map(|row| row.try_get::<i64, _>(0))
                    .collect::<Result<_, _>>()
                    .map_err(StoreError::query)?,
            );
        }
        Ok(out)
    }

    async fn fingerprint(&self, range: TimeRange, filters: &Filters) -> Result<String, StoreError> {
        let statement = sql::fingerprint(Dialect::Sqlite, range, filters);
        let row = self.fetch(&statement).await?;
        Ok(row
            .first()
            .map(|r| r.try_get::<String, _>(0))
            .transpose()
            .map_err(StoreError::query)?
            .unwrap_or_default())
    }

    async fn mentions(&self, query: &MentionsQuery) -> Result<Mentions, StoreError> {
        let statement = sql::mentions(Dialect::Sqlite, query);
        let rows = self.fetch_mentions(&statement).await?;
        Ok(Mentions {
            rows,
            executed_sql: statement.describe(),
        })
    }

    async fn sample_mentions(&self, scan: &SampleScan) -> Result<Vec<MentionRow>, StoreError> {
        self.fetch_mentions(&sql::sample_mentions(Dialect::Sqlite, scan))
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
            Dialect::Sqlite,
            range,
            filters,
            aspect,
            limit,
        ))
        .await
    }

    async fn mentions_by_id(&self, ids: &[i64]) -> Result<Vec<MentionRow>, StoreError> {
        let mut rows = Vec::with_capacity(ids.len());
        // Bound values per statement are limited; 500 ids a statement stays well within.
        for chunk in ids.chunks(500) {
            rows.extend(
                self.fetch_mentions(&sql::mentions_by_id(Dialect::Sqlite, chunk))
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
        for chunk in ids.chunks(500) {
            rows.extend(
                self.fetch_mentions(&sql::mentions_among(Dialect::Sqlite, chunk, query))
                    .await?,
            );
        }
        Ok(rows::newest_among(rows, query.limit))
    }
}

#[async_trait]
impl RecordStore for SqliteStore {
    async fn health(&self) -> Result<StoreHealth, StoreError> {
        // A write inside a rolled-back transaction proves the file is writable without changing it.
        let read_only = |source: sqlx::Error| StoreError::ReadOnly {
            path: self.path.clone(),
            source: source.into(),
        };
        let mut connection = self.pool.acquire().await.map_err(read_only)?;
        // A file locked by another process makes the probe wait: briefly, then say so.
        sqlx::query(&format!("PRAGMA busy_timeout = {HEALTH_BUSY_TIMEOUT_MS}"))
            .execute(&mut *connection)
            .await
            .map_err(StoreError::query)?;
        let probe = async {
            let mut tx = sqlx::Connection::begin(&mut *connection).await?;
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ('health_probe', '1') \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .execute(&mut *tx)
            .await?;
            tx.rollback().await
        }
        .await;
        let restored = sqlx::query(&format!(
            "PRAGMA busy_timeout = {}",
            BUSY_TIMEOUT.as_millis()
        ))
        .execute(&mut *connection)
        .await;
        match probe {
            Err(error) if is_locked(&error) => {
                return Err(StoreError::Locked {
                    path: self.path.clone(),
                    waited_ms: HEALTH_BUSY_TIMEOUT_MS,
                })
            }
            Err(error) => return Err(read_only(error)),
            Ok(()) => {}
        }
        restored.map_err(StoreError::query)?;
        drop(connection);

        let schema_version = self
            .count("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .await?;
        let expected_schema_version = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let total_rows = self.count("SELECT COUNT(*) FROM feedback").await?;
        let active_model: Option<String> = sqlx::query_scalar(ACTIVE_MODEL)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::query)?;
        let scored_rows = match &active_model {
            Some(model) => sqlx::query_scalar("SELECT COUNT(*) FROM scores WHERE model_id = ?")
                .bind(model)
                .fetch_one(&self.pool)
                .await
                .map_err(StoreError::query)?,
            None => 0,
        };
        Ok(StoreHealth {
            location: self.path.display().to_string(),
            schema_version,
            expected_schema_version,
            total_rows,
            scored_rows,
            unscored_rows: total_rows - scored_rows,
            active_model,
            backlog: self.scoring_backlog().await?,
        })
    }

    async fn scoring_backlog(&self) -> Result<ScoringBacklog, StoreError> {
        // Both read the partial index feedback_unscored (ids of rows without the active
        // model's label), so neither visits the scored rows; ids grow with arrival.
        let rows = self
            .count("SELECT COUNT(*) FROM feedback WHERE label IS NULL")
            .await?;
        let oldest_ingest_ms: Option<i64> = sqlx::query_scalar(
            "SELECT ingest_time_ms FROM feedback WHERE label IS NULL ORDER BY id LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::query)?;
        // The partial index scores_clauses_pending holds exactly these rows.
        let clauses_pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM scores WHERE clauses_pending = 1 AND model_id = \
             (SELECT value FROM settings WHERE key = 'active_model_id')",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::query)?;
        Ok(ScoringBacklog {
            rows,
            oldest_ingest_ms,
            clauses_pending,
        })
    }

    async fn feed_cursor(&self) -> Result<FeedCursor, StoreError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::query)?;
        let revision: i64 = sqlx::query_scalar("SELECT value FROM store_revision WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::query)?;
        let active_model: Option<String> = sqlx::query_scalar(ACTIVE_MODEL)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::query)?;
        tx.commit().await.map_err(StoreError::query)?;
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
        self.with_raw(|db| {
            // One read transaction: the cursor, the rows and their aspects are one snapshot.
            raw::execute(db, "BEGIN")?;
            let result = read_feed_snapshot(db, since, sink);
            let end = raw::execute(db, if result.is_ok() { "COMMIT" } else { "ROLLBACK" });
            let cursor = result?;
            end?;
            Ok(cursor)
        })
        .await
    }
}

fn read_feed_snapshot(
    db: RawDb,
    since: Option<i64>,
    sink: &mut dyn FeedSink,
) -> Result<FeedCursor, StoreError> {
    let mut revision = 0;
    raw::query(
        db,
        &Statement::plain("SELECT value FROM store_revision WHERE id = 1"),
        |row| revision = row.int(0),
    )?;
    let mut active_model = None;
    raw::query(db, &Statement::plain(ACTIVE_MODEL), |row| {
        active_model = row.text(0).map(str::to_string)
    })?;
    // Rows and their aspect results, both in id order, merged as they are read, so a full
    // read holds one row's aspects at a time, never the table's.
    let mut rows = Cursor::prepare(db, &sql::feed_rows(Dialect::Sqlite, since))?;
    let mut aspect_cursor = match &active_model {
        Some(model) => Some(Cursor::prepare(
            db,
            &sql::feed_aspects(Dialect::Sqlite, since, model),
        )?),
        None => None,
    };
    let next_aspect =
        |cursor: &mut Option<Cursor>| -> Result<Option<(i64, FeedAspect)>, StoreError> {
            let Some(cursor) = cursor else {
                return Ok(None);
            };
            while let Some(row) = cursor.step()? {
                let aspect = row.text(1).and_then(Aspect::from_name);
                let label = row.text(2).and_then(Label::from_name);
                if let (Some(aspect), Some(label)) = (aspect, label) {
                    return Ok(Some((
                        row.int(0),
                        FeedAspect {
                            aspect,
                            label,
                            score: row.real(3).unwrap_or(0.0),
                        },
                    )));
                }
            }
            Ok(None)
        };
    let mut pending = next_aspect(&mut aspect_cursor)?;
    let mut aspects = Vec::new();
    while let Some(row) = rows.step()? {
        let id = row.int(0);
        aspects.clear();
        while let Some((feedback_id, aspect)) = pending {
            if feedback_id > id {
                break;
            }
            if feedback_id == id {
                aspects.push(aspect);
            }
            pending = next_aspect(&mut aspect_cursor)?;
        }
        let text = |i| row.text(i).unwrap_or_default();
        sink.row(FeedRow {
            id,
            time_ms: row.int(1),
            dimensions: [
                text(2),
                text(3),
                text(4),
                text(5),
                text(6),
                text(7),
                text(8),
            ],
            label: row.text(9).and_then(Label::from_name),
            score: row.real(10),
            confidence: row.real(11),
            emotion: row.text(13).and_then(Emotion::from_name),
            terms: (!row.is_null(12)).then(|| terms::decode(row.bytes(12)).collect()),
            aspects: &aspects,
        });
    }
    Ok(FeedCursor {
        revision,
        active_model,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use pulso_core::query::{Dimension, Filters, Metric, SeriesValues, TimeRange};
    use pulso_store::{NewAspectScore, SourceType};

    const HOUR: i64 = 3_600_000;

    fn row(external_id: &str, brand: &str, region: &str, text: &str, hour: i64) -> NewFeedback {
        NewFeedback {
            source_type: SourceType::Delivery,
            platform: "rappi".to_string(),
            region: region.to_string(),
            city: "Lima".to_string(),
            category: "delivery".to_string(),
            brand: brand.to_string(),
            product: "pollo a la brasa".to_string(),
            language: "es".to_string(),
            text: text.to_string(),
            rating: Some(4.0),
            rating_raw: Some("4".to_string()),
            redactions: 0,
            event_time_ms: hour * HOUR,
            external_id: external_id.to_string(),
            terms: terms::term_hashes(text, "es"),
        }
    }

    async fn store_with_rows() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        let rows = vec![
            row(
                "1",
                "Brasa Norte",
                "Lima",
                "La Pollería estaba RIQUÍSIMA",
                1,
            ),
            row("2", "Brasa Norte", "Arequipa", "Llegó frío, pésimo", 1),
            row("3", "Mar Azul", "Lima", "Ceviche normal", 3),
        ];
        assert_eq!(
            store.insert_feedback(&rows).await.unwrap(),
            InsertReport {
                inserted: 3,
                duplicates: 0,
                first_id: Some(1),
            }
        );
        (dir, store)
    }

    async fn external_ids(store: &SqliteStore) -> Vec<String> {
        sqlx::query_scalar("SELECT external_id FROM feedback ORDER BY id")
            .fetch_all(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn writes_take_turns_in_the_order_they_asked() {
        let (_dir, store) = store_with_rows().await;
        let store = Arc::new(store);
        // A batch holds the turn; a dropped one stores nothing and leaves the queue working.
        let mut dropped = store.begin_batch().await.unwrap();
        dropped
            .insert(&[row("dropped", "Mar Azul", "Lima", "no", 2)])
            .await
            .unwrap();
        drop(dropped);
        let holder = store.begin_batch().await.unwrap();
        let mut waiting = Vec::new();
        for n in 0..20 {
            let store = Arc::clone(&store);
            waiting.push(tokio::spawn(async move {
                let id = format!("queued-{n:02}");
                store
                    .insert_feedback(&[row(&id, "Mar Azul", "Lima", "bien", 2)])
                    .await
                    .map(|_| ())
            }));
            // Each asks after the one before it.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        holder.commit().await.unwrap();
        for write in waiting {
            write.await.unwrap().unwrap();
        }
        let ids = external_ids(&store).await;
        let expected: Vec<String> = ["1", "2", "3"]
            .into_iter()
            .map(String::from)
            .chain((0..20).map(|n| format!("queued-{n:02}")))
            .collect();
        assert_eq!(ids, expected, "writes committed out of turn");
    }

    #[tokio::test]
    async fn a_write_kept_waiting_too_long_fails_with_what_to_do() {
        let (dir, mut store) = store_with_rows().await;
        store.write_turn_timeout = Duration::from_millis(200);
        let holder = store.begin_batch().await.unwrap();
        let error = store
            .insert_feedback(&[row("late", "Mar Azul", "Lima", "bien", 2)])
            .await
            .unwrap_err();
        assert!(
            matches!(error, StoreError::WriteQueueTimeout { waited_ms, .. } if waited_ms >= 200),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(&dir.path().join("t.db").display().to_string()));
        assert!(message.contains("Retry it"), "{message}");
        holder.rollback().await.unwrap();
        store
            .insert_feedback(&[row("late", "Mar Azul", "Lima", "bien", 2)])
            .await
            .unwrap();
        assert_eq!(external_ids(&store).await, ["1", "2", "3", "late"]);
    }

    #[tokio::test]
    async fn a_locked_database_is_reported_as_locked_quickly() {
        let (dir, store) = store_with_rows().await;
        let options = SqliteConnectOptions::from_str("sqlite://")
            .unwrap()
            .filename(dir.path().join("t.db"));
        let other = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        let mut holder = other.acquire().await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *holder)
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let Err(error) = store.health().await else {
            panic!("health passed while another process held the write lock");
        };
        assert!(matches!(error, StoreError::Locked { .. }), "{error}");
        assert!(error.to_string().contains("is locked"), "{error}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        sqlx::query("ROLLBACK").execute(&mut *holder).await.unwrap();
        assert!(store.health().await.is_ok());
    }

    #[tokio::test]
    async fn another_programs_database_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crm.db");
        let options = SqliteConnectOptions::from_str("sqlite://")
            .unwrap()
            .filename(&path)
            .create_if_missing(true);
        let foreign = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
            .execute(&foreign)
            .await
            .unwrap();
        foreign.close().await;
        let Err(error) = SqliteStore::open(&path).await else {
            panic!("another program's database was opened");
        };
        assert!(matches!(error, StoreError::Foreign { .. }), "{error}");
        assert!(error.to_string().contains("another program"), "{error}");
        let options = SqliteConnectOptions::from_str("sqlite://")
            .unwrap()
            .filename(&path);
        let foreign = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&foreign)
                .await
                .unwrap();
        assert_eq!(tables, ["customers"]);
        // An organisation claims a Pulso database; another is told who owns it.
        let store = SqliteStore::open(&dir.path().join("pulso.db"))
            .await
            .unwrap();
        assert_eq!(store.claim_organisation(3).await.unwrap(), None);
        assert_eq!(store.claim_organisation(3).await.unwrap(), None);
        assert_eq!(store.claim_organisation(4).await.unwrap(), Some(3));
    }

    #[tokio::test]
    async fn reingesting_is_idempotent_and_bad_rows_store_nothing() {
        let (_dir, store) = store_with_rows().await;
        let again = vec![
            row("1", "Brasa Norte", "Lima", "otra vez", 1),
            row("9", "X", "Lima", "nuevo", 2),
        ];
        assert_eq!(
            store.insert_feedback(&again).await.unwrap(),
            InsertReport {
                inserted: 1,
                duplicates: 1,
                first_id: None,
            }
        );
        let bad = vec![
            row("10", "X", "Lima", "bien", 2),
            row("11", "X", "Lima", "   ", 2),
        ];
        let err = store.insert_feedback(&bad).await.unwrap_err();
        assert_eq!(err.to_string(), "row 1 field text is invalid: it is empty");
        assert_eq!(store.health().await.unwrap().total_rows, 4);
    }

    /// Scores and aspects for rows whose ids start at `first_id`: one label per row in turn.
    fn analysis_from(first_id: i64, count: usize) -> (Vec<NewScore>, Vec<NewAspectScore>) {
        let labels = [Label::Positive, Label::Negative, Label::Neutral];
        let scores: Vec<NewScore> = (0..count)
            .map(|i| NewScore {
                feedback_id: first_id + i as i64,
                label: labels[i % 3],
                score: [0.8, -0.6, 0.1][i % 3],
                p_negative: [0.05, 0.75, 0.2][i % 3],
                p_neutral: [0.1, 0.15, 0.6][i % 3],
                p_positive: [0.85, 0.1, 0.2][i % 3],
                emotions: None,
            })
            .collect();
        let aspects = scores
            .iter()
            .map(|s| NewAspectScore {
                feedback_id: s.feedback_id,
                aspect: Aspect::Delivery,
                label: s.label,
                score: s.score,
            })
            .collect();
        (scores, aspects)
    }

    /// Everything a query may read about the rows and their analysis (not the times of
    /// writing), in a stable order.
    async fn stored_state(store: &SqliteStore) -> Vec<String> {
        let mut state: Vec<String> = Vec::new();
        for sql in [
            "SELECT id || ' ' || external_id || ' ' || event_time_ms || ' ' || \
             COALESCE(label, '-') || ' ' || COALESCE(score, '-') || ' ' || \
             COALESCE(confidence, '-') || ' ' || hex(terms) FROM feedback ORDER BY id",
            "SELECT model_id || ' ' || feedback_id || ' ' || label || ' ' || score || ' ' || \
             p_negative || ' ' || p_neutral || ' ' || p_positive || ' ' || confidence \
             FROM scores ORDER BY model_id, feedback_id",
            "SELECT model_id || ' ' || feedback_id || ' ' || aspect || ' ' || label || ' ' || \
             score || ' ' || event_time_ms FROM aspect_scores ORDER BY 1",
            "SELECT event_time_ms || ' ' || feedback_id || ' ' || hex(terms) FROM feedback_terms \
             ORDER BY 1",
        ] {
            let rows: Vec<String> = sqlx::query_scalar(sql)
                .fetch_all(&store.pool)
                .await
                .unwrap();
            state.extend(rows);
        }
        state
    }

    #[tokio::test]
    async fn an_analysed_insert_stores_what_an_insert_then_its_analysis_store() {
        let rows = |prefix: &str| -> Vec<NewFeedback> {
            (0..7)
                .map(|i| {
                    row(
                        &format!("{prefix}{i}"),
                        "Brasa Norte",
                        "Lima",
                        "Llegó frío",
                        i,
                    )
                })
                .collect()
        };
        let mut states = Vec::new();
        for active in ["fixture", "other"] {
            for folded in [false, true] {
                let dir = tempfile::tempdir().unwrap();
                let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
                store.set_active_model(active).await.unwrap();
                // Ids that do not start at 1.
                store.insert_feedback(&rows("old-")).await.unwrap();
                let new_rows = rows("new-");
                let report = if folded {
                    store
                        .insert_analysed_feedback(&new_rows, "fixture", &|first| {
                            analysis_from(first, 7)
                        })
                        .await
                        .unwrap()
                } else {
                    let report = store.insert_feedback(&new_rows).await.unwrap();
                    let (scores, aspects) = analysis_from(report.first_id.unwrap(), 7);
                    store
                        .insert_analysis("fixture", &scores, &aspects)
                        .await
                        .unwrap();
                    report
                };
                assert_eq!(report.first_id, Some(8));
                states.push(stored_state(&store).await);
            }
        }
        assert_eq!(states[0], states[1], "fixture model active");
        assert_eq!(states[2], states[3], "another model active");
        assert!(states[0]
            .iter()
            .any(|row| row.contains(" positive 0.8 0.85 ")));
        assert_ne!(
            states[0], states[2],
            "labels are copied only for the active model"
        );
    }

    #[tokio::test]
    async fn an_analysed_insert_that_fails_stores_nothing() {
        let (_dir, store) = store_with_rows().await;
        let before = stored_state(&store).await;
        // Row "2" is stored already.
        let rows = vec![
            row("20", "X", "Lima", "bien", 2),
            row("2", "X", "Lima", "otra vez", 2),
        ];
        let err = store
            .insert_analysed_feedback(&rows, "fixture", &|first| analysis_from(first, 2))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::AlreadyStored { duplicates: 1 }),
            "{err}"
        );
        // Analysis for an id these rows do not get.
        let rows = vec![row("21", "X", "Lima", "bien", 2)];
        store.set_active_model("fixture").await.unwrap();
        let err = store
            .insert_analysed_feedback(&rows, "fixture", &|first| analysis_from(first + 1, 1))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 0 field feedback_id is invalid: analysis for id 5, outside the ids 4 to 4 of these rows"
        );
        assert_eq!(stored_state(&store).await, before);
    }

    /// The schema's objects: tables, indexes and triggers with their definitions.
    async fn schema(store: &SqliteStore) -> Vec<(String, String, String)> {
        sqlx::query_as(
            "SELECT type, name, COALESCE(sql, '') FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_bulk_load_ends_as_a_durable_load_does_even_when_interrupted() {
        let texts = [
            "Llegó frío, pésimo",
            "Riquísimo el ceviche",
            "Normal, nada especial",
        ];
        // Times out of order, as real and demo rows come.
        let rows: Vec<NewFeedback> = (0..60)
            .map(|i| {
                row(
                    &format!("b{i}"),
                    "Brasa Norte",
                    "Lima",
                    texts[i % 3],
                    (i as i64 * 37) % 61,
                )
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let durable = SqliteStore::open(&dir.path().join("durable.db"))
            .await
            .unwrap();
        durable.insert_feedback(&rows).await.unwrap();
        let expected = (schema(&durable).await, stored_state(&durable).await);
        assert_eq!(expected.1.len(), 2 * rows.len(), "feedback and terms rows");

        for interrupted in [false, true] {
            let path = dir.path().join(format!("bulk-{interrupted}.db"));
            let bulk = SqliteStore::open_with(&path, OpenMode::BulkLoad)
                .await
                .unwrap();
            assert_ne!(schema(&bulk).await, expected.0, "the work is deferred");
            bulk.insert_feedback(&rows[..30]).await.unwrap();
            bulk.insert_feedback(&rows[30..]).await.unwrap();
            if interrupted {
                // As a killed process leaves it: connections gone, nothing built.
                bulk.pool.close().await;
            } else {
                bulk.close().await;
                // The file header's format bytes say WAL (2), not rollback (1).
                let header = std::fs::read(&path).unwrap();
                assert_eq!(header[18..20], [2, 2], "write-ahead log mode after close");
            }
            let reopened = SqliteStore::open(&path).await.unwrap();
            assert_eq!(
                schema(&reopened).await,
                expected.0,
                "interrupted: {interrupted}"
            );
            assert_eq!(
                stored_state(&reopened).await,
                expected.1,
                "interrupted: {interrupted}"
            );
            // The trigger is back: a later row reaches the terms table as it is inserted.
            reopened
                .insert_feedback(&[row("late", "X", "Lima", "Bravazo", 70)])
                .await
                .unwrap();
            let terms_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM feedback_terms")
                .fetch_one(&reopened.pool)
                .await
                .unwrap();
            assert_eq!(terms_rows, rows.len() as i64 + 1);
        }
    }

    #[tokio::test]
    async fn a_load_interrupted_before_migration_9_does_not_bring_back_its_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("old-load.db"))
            .await
            .unwrap();
        let indexes = |store: &SqliteStore| {
            let pool = store.pool.clone();
            async move {
                sqlx::query_scalar::<_, String>(
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'feedback' \
                     AND sql IS NOT NULL ORDER BY name",
                )
                .fetch_all(&pool)
                .await
                .unwrap()
            }
        };
        let before = indexes(&store).await;
        for retired in RETIRED_INDEXES {
            assert!(
                !before.iter().any(|name| name == retired),
                "{retired} is dropped"
            );
        }
        assert!(before.iter().any(|name| name == "feedback_time_facts"));
        // What an interrupted bulk load made by an older version leaves behind: its
        // covering index and a retired one, both still to build.
        sqlx::query("DROP INDEX feedback_time_facts")
            .execute(&store.pool)
            .await
            .unwrap();
        let deferred = [
            "CREATE INDEX feedback_time_facts ON feedback (\n    event_time_ms, source_type, \
             platform, region, category, brand, product, language,\n    label, score, confidence\n)",
            "CREATE INDEX feedback_brand_time  ON feedback (brand, event_time_ms)",
            "CREATE INDEX feedback_language    ON feedback (language)",
        ]
        .join(STATEMENT_SEPARATOR);
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?)")
            .bind(DEFERRED_INDEXES)
            .bind(deferred)
            .execute(&store.pool)
            .await
            .unwrap();
        store.close().await;
        let reopened = SqliteStore::open(&dir.path().join("old-load.db"))
            .await
            .unwrap();
        assert_eq!(indexes(&reopened).await, before);
    }

    #[tokio::test]
    async fn timeseries_pivots_groups_and_fills_gaps() {
        let (_dir, store) = store_with_rows().await;
        let query = TimeseriesQuery {
            range: TimeRange {
                from_ms: 0,
                to_ms: 4 * HOUR,
            },
            metric: Metric::Volume,
            group_by: Some(Dimension::Region),
            bucket_ms: HOUR,
            filters: Filters::default(),
        };
        let ts = store.timeseries(&query).await.unwrap();
        assert_eq!(
            ts.bucket_starts_ms,
            vec![0, HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR]
        );
        assert_eq!(ts.series.len(), 2);
        assert_eq!(ts.series[0].group.as_deref(), Some("Arequipa"));
        assert_eq!(
            ts.series[0].values,
            SeriesValues::Counts(vec![0, 1, 0, 0, 0])
        );
        assert_eq!(
            ts.series[1].values,
            SeriesValues::Counts(vec![0, 1, 0, 1, 0])
        );
    }

    /// A positive score of row `id`, with or without emotion confidences.
    fn score(id: i64, emotions: Option<pulso_core::analysis::EmotionConfidences>) -> NewScore {
        NewScore {
            feedback_id: id,
            label: Label::Positive,
            score: 0.7,
            p_negative: 0.1,
            p_neutral: 0.1,
            p_positive: 0.8,
            emotions,
        }
    }

    #[tokio::test]
    async fn emotion_confidences_are_stored_with_the_score_that_has_them() {
        let (_dir, store) = store_with_rows().await;
        let joyful = [0.9, 0.05, 0.1, 0.0, 0.4, 0.02];
        // One statement with and without emotions, then one without any.
        store
            .insert_scores("m", &[score(1, Some(joyful)), score(2, None)])
            .await
            .unwrap();
        store.insert_scores("m", &[score(3, None)]).await.unwrap();
        type JoySurpriseDisgust = (i64, Option<f64>, Option<f64>, Option<f64>);
        let stored: Vec<JoySurpriseDisgust> = sqlx::query_as(
            "SELECT feedback_id, p_joy, p_surprise, p_disgust FROM scores ORDER BY feedback_id",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        assert_eq!(
            stored,
            [
                (1, Some(0.9), Some(0.4), Some(0.02)),
                (2, None, None, None),
                (3, None, None, None)
            ]
        );
    }

    /// Distribution counts by emotion, as (group, count) pairs summed over labels.
    async fn emotion_counts(store: &SqliteStore, filters: Filters) -> Vec<(String, i64)> {
        let query = DistributionQuery {
            range: TimeRange {
                from_ms: 0,
                to_ms: 4 * HOUR,
            },
            group_by: Some(Dimension::Emotion),
            filters,
        };
        let mut counts: BTreeMap<String, i64> = BTreeMap::new();
        for row in store.distribution(&query).await.unwrap().rows {
            *counts.entry(row.group.unwrap()).or_default() += row.count;
        }
        counts.into_iter().collect()
    }

    #[tokio::test]
    async fn rows_group_and_filter_by_the_active_models_dominant_emotion() {
        let (_dir, store) = store_with_rows().await;
        // Row 1 joyful, row 2 below the threshold everywhere; row 3 unscored.
        store
            .insert_scores(
                "first",
                &[
                    score(1, Some([0.9, 0.05, 0.1, 0.0, 0.4, 0.02])),
                    score(2, Some([0.3, 0.45, 0.1, 0.0, 0.2, 0.49])),
                ],
            )
            .await
            .unwrap();
        // Another model sees anger in row 1 (a tie with disgust: the first in stored order)
        // and has no emotion head for row 2.
        store
            .insert_scores(
                "second",
                &[
                    score(1, Some([0.1, 0.8, 0.1, 0.0, 0.0, 0.8])),
                    score(2, None),
                ],
            )
            .await
            .unwrap();
        let pairs = |v: &[(&str, i64)]| -> Vec<(String, i64)> {
            v.iter().map(|(g, c)| (g.to_string(), *c)).collect()
        };
        store.set_active_model("first").await.unwrap();
        let first = pairs(&[("joy", 1), ("none", 1), ("unscored", 1)]);
        assert_eq!(emotion_counts(&store, Filters::default()).await, first);
        // Switching copies each model's dominant emotion (computed in SQL) into the rows.
        store.set_active_model("second").await.unwrap();
        assert_eq!(
            emotion_counts(&store, Filters::default()).await,
            pairs(&[("anger", 1), ("none", 1), ("unscored", 1)])
        );
        store.set_active_model("first").await.unwrap();
        assert_eq!(emotion_counts(&store, Filters::default()).await, first);
        // Scores of the active model write the emotion directly (computed in Rust).
        store
            .insert_scores("first", &[score(3, Some([0.0, 0.0, 0.7, 0.6, 0.0, 0.0]))])
            .await
            .unwrap();
        assert_eq!(
            emotion_counts(&store, Filters::default()).await,
            pairs(&[("joy", 1), ("none", 1), ("sadness", 1)])
        );
        let only = |values: &[&str]| Filters {
            values: vec![(
                Dimension::Emotion,
                values.iter().map(|v| v.to_string()).collect(),
            )],
            min_confidence: None,
        };
        assert_eq!(
            emotion_counts(&store, only(&["sadness", "none"])).await,
            pairs(&[("none", 1), ("sadness", 1)])
        );
        assert_eq!(emotion_counts(&store, only(&["fear"])).await, pairs(&[]));
        let values = store
            .dimension_values(&DimensionValuesQuery {
                dimension: Dimension::Emotion,
                filters: Filters::default(),
            })
            .await
            .unwrap();
        assert_eq!(
            values.values,
            ["joy", "anger", "sadness", "fear", "surprise", "disgust", "none"]
        );
        let values = store
            .dimension_values(&DimensionValuesQuery {
                dimension: Dimension::Emotion,
                filters: Filters {
                    values: vec![(Dimension::Region, vec!["Lima".to_string()])],
                    min_confidence: None,
                },
            })
            .await
            .unwrap();
        assert_eq!(values.values, ["joy", "sadness"]);
    }

    fn score_of(feedback_id: i64, label: Label) -> NewScore {
        let p = |l: Label| if l == label { 0.8 } else { 0.1 };
        NewScore {
            feedback_id,
            label,
            score: p(Label::Positive) - p(Label::Negative),
            p_negative: p(Label::Negative),
            p_neutral: p(Label::Neutral),
            p_positive: p(Label::Positive),
            emotions: None,
        }
    }

    async fn aspects_of_row(store: &SqliteStore, id: i64) -> Vec<(String, String)> {
        sqlx::query_as(
            "SELECT aspect, label FROM aspect_scores WHERE model_id = 'm' AND feedback_id = ? \
             ORDER BY aspect",
        )
        .bind(id)
        .fetch_all(&store.pool)
        .await
        .unwrap()
    }

    async fn revision_of(store: &SqliteStore, id: i64) -> i64 {
        sqlx::query_scalar("SELECT revision FROM feedback WHERE id = ?")
            .bind(id)
            .fetch_one(&store.pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn deferred_clauses_wait_in_the_backlog_until_scored() {
        let (_dir, store) = store_with_rows().await;
        store.set_active_model("m").await.unwrap();
        let aspect = |feedback_id, aspect, label| NewAspectScore {
            feedback_id,
            aspect,
            label,
            score: 0.0,
        };
        // Rows 1 and 2 are scored without their clauses: their aspects are the mention's.
        store
            .store_analysis(
                "m",
                &Analysis {
                    scores: &[
                        score_of(1, Label::Positive),
                        score_of(2, Label::Negative),
                        score_of(3, Label::Neutral),
                    ],
                    aspects: &[
                        aspect(1, Aspect::Taste, Label::Positive),
                        aspect(1, Aspect::Service, Label::Positive),
                    ],
                    clauses_deferred: &[1, 2],
                    clauses_scored: &[],
                },
            )
            .await
            .unwrap();
        assert_eq!(store.scoring_backlog().await.unwrap().clauses_pending, 2);
        let waiting = |model: &'static str| {
            let store = &store;
            async move {
                let rows = store.rows_awaiting_clauses(model, 10).await.unwrap();
                rows.into_iter().map(|(id, _)| id).collect::<Vec<i64>>()
            }
        };
        assert_eq!(waiting("m").await, [2, 1], "newest first");
        assert!(waiting("other").await.is_empty());
        // Row 1's clauses: praise for the taste, a complaint about the service.
        let before = revision_of(&store, 1).await;
        store
            .store_analysis(
                "m",
                &Analysis {
                    scores: &[],
                    aspects: &[
                        aspect(1, Aspect::Taste, Label::Positive),
                        aspect(1, Aspect::Service, Label::Negative),
                    ],
                    clauses_deferred: &[],
                    clauses_scored: &[1],
                },
            )
            .await
            .unwrap();
        assert_eq!(
            aspects_of_row(&store, 1).await,
            [
                ("service".to_string(), "negative".to_string()),
                ("taste".to_string(), "positive".to_string())
            ]
        );
        assert!(
            revision_of(&store, 1).await > before,
            "the mirror rereads the row"
        );
        assert_eq!(waiting("m").await, [2]);
        // Rescoring a row whole (its clauses with it) ends its wait too.
        store
            .insert_analysis("m", &[score_of(2, Label::Negative)], &[])
            .await
            .unwrap();
        assert_eq!(store.scoring_backlog().await.unwrap().clauses_pending, 0);
        assert!(waiting("m").await.is_empty());
    }

    #[tokio::test]
    async fn the_scorer_gets_the_newest_unscored_rows_first() {
        let (_dir, store) = store_with_rows().await;
        let ids: Vec<i64> = store
            .unscored_feedback(2)
            .await
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, [3, 2], "a fresh mention waits behind no backlog");
    }

    #[tokio::test]
    async fn sentiment_reads_the_active_model_only() {
        let (_dir, store) = store_with_rows().await;
        let score = |id, label, s| NewScore {
            feedback_id: id,
            label,
            score: s,
            p_negative: 0.1,
            p_neutral: 0.1,
            p_positive: 0.8,
            emotions: None,
        };
        store
            .insert_scores(
                "old",
                &[
                    score(1, Label::Negative, -0.9),
                    score(2, Label::Negative, -0.9),
                ],
            )
            .await
            .unwrap();
        store
            .insert_scores(
                "new",
                &[
                    score(1, Label::Positive, 0.7),
                    score(2, Label::Negative, -0.7),
                ],
            )
            .await
            .unwrap();
        store.set_active_model("new").await.unwrap();
        let query = TimeseriesQuery {
            range: TimeRange {
                from_ms: 0,
                to_ms: 4 * HOUR,
            },
            metric: Metric::NetSentiment,
            group_by: None,
            bucket_ms: 2 * HOUR,
            filters: Filters::default(),
        };
        let ts = store.timeseries(&query).await.unwrap();
        assert_eq!(
            ts.series[0].values,
            SeriesValues::Ratios(vec![Some(0.0), None, None])
        );
        assert_eq!(ts.unscored_rows, 1);
        let health = store.health().await.unwrap();
        assert_eq!((health.scored_rows, health.unscored_rows), (2, 1));
        assert_eq!(health.active_model.as_deref(), Some("new"));
        let third_arrived: i64 =
            sqlx::query_scalar("SELECT ingest_time_ms FROM feedback ORDER BY id LIMIT 1 OFFSET 2")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(
            health.backlog,
            ScoringBacklog {
                rows: 1,
                oldest_ingest_ms: Some(third_arrived),
                clauses_pending: 0,
            }
        );

        // Scores of the active model reach queries at once; switching back restores the old view.
        store
            .insert_scores("new", &[score(3, Label::Positive, 0.7)])
            .await
            .unwrap();
        let ts = store.timeseries(&query).await.unwrap();
        assert_eq!(
            ts.series[0].values,
            SeriesValues::Ratios(vec![Some(0.0), Some(100.0), None])
        );
        assert_eq!(ts.unscored_rows, 0);
        assert_eq!(
            store.scoring_backlog().await.unwrap(),
            ScoringBacklog::default()
        );
        store.set_active_model("old").await.unwrap();
        let ts = store.timeseries(&query).await.unwrap();
        assert_eq!(
            ts.series[0].values,
            SeriesValues::Ratios(vec![Some(-100.0), None, None])
        );
        assert_eq!(ts.unscored_rows, 1);
    }

    #[tokio::test]
    async fn search_ignores_case_and_accents() {
        let (_dir, store) = store_with_rows().await;
        let query = MentionsQuery {
            range: TimeRange {
                from_ms: 0,
                to_ms: 4 * HOUR,
            },
            limit: 10,
            search: Some(fold_for_search("POLLERÍA estaba riquisima")),
            filters: Filters::default(),
        };
        let found = store.mentions(&query).await.unwrap();
        assert_eq!(found.rows.len(), 1);
        assert_eq!(found.rows[0].text, "La Pollería estaba RIQUÍSIMA");
    }

    #[tokio::test]
    async fn dimension_values_all_and_filtered() {
        let (_dir, store) = store_with_rows().await;
        let all = DimensionValuesQuery {
            dimension: Dimension::Brand,
            filters: Filters::default(),
        };
        let found = store.dimension_values(&all).await.unwrap();
        assert_eq!(found.values, vec!["Brasa Norte", "Mar Azul"]);
        let in_arequipa = DimensionValuesQuery {
            dimension: Dimension::Brand,
            filters: Filters {
                values: vec![(Dimension::Region, vec!["Arequipa".to_string()])],
                min_confidence: None,
            },
        };
        let found = store.dimension_values(&in_arequipa).await.unwrap();
        assert_eq!(found.values, vec!["Brasa Norte"]);
    }

    #[tokio::test]
    async fn missing_folder_is_named() {
        let err = SqliteStore::open(Path::new("/nonexistent-pulso/sub/x.db"))
            .await
            .err()
            .unwrap();
        let message = err.to_string();
        assert!(message.contains("/nonexistent-pulso/sub"), "{message}");
        assert!(
            message.contains("create the folder, or change sqlitePath"),
            "{message}"
        );
    }
}
