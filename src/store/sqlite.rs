//! The embedded SQLite store (WAL, migrations embedded in the binary).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{
    Arguments, ConnectOptions, Connection, QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool,
};

use super::sql::{self, Bind, Statement};
use super::{
    AspectCount, AspectCounts, AspectScan, FeedbackBatch, FeedbackStore, InsertReport,
    NewAspectScore, NewFeedback, NewScore, SampleOrder, StoreError, StoreHealth, TermRow, TermRows,
    TermScan,
};
use crate::query::{
    DimensionValues, DimensionValuesQuery, Distribution, DistributionQuery, DistributionRow,
    Filters, MentionRow, Mentions, MentionsQuery, Series, SeriesValues, TimeRange, Timeseries,
    TimeseriesQuery, UNSCORED_LABEL,
};
use crate::text::fold_for_search;
use crate::trends::aspects::Aspect;
use crate::trends::terms;

static MIGRATOR: Migrator = sqlx::migrate!("src/store/migrations");

/// SQLite allows 32,766 bound values per statement; 16 columns a row keeps well under it.
const INSERT_ROWS_PER_STATEMENT: usize = 500;
const MAX_TEXT_BYTES: usize = 100_000;
const SENTIMENT_LABELS: [&str; 3] = ["negative", "neutral", "positive"];

pub struct SqliteStore {
    pool: SqlitePool,
    /// For the dedicated connection each write batch opens.
    options: SqliteConnectOptions,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    /// The folder must already exist, so a typo in `sqlitePath` is reported, not papered over.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !folder.is_dir() {
                return Err(StoreError::FolderMissing {
                    path: path.to_path_buf(),
                    folder: folder.to_path_buf(),
                });
            }
        }
        let open_error = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(open_error)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory")
            .pragma("mmap_size", "268435456");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(open_error)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.to_path_buf(),
                source,
            })?;
        let store = Self {
            pool,
            options,
            path: path.to_path_buf(),
        };
        store.expire_stale_terms().await?;
        Ok(store)
    }

    /// Term hashes made by another tokeniser version would count the wrong terms: drop them,
    /// and the background indexer recomputes them.
    async fn expire_stale_terms(&self) -> Result<(), StoreError> {
        let version: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'terms_version'")
                .fetch_optional(&self.pool)
                .await?;
        if version.as_deref() == Some(terms::TERMS_VERSION) {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE feedback SET terms = NULL WHERE terms IS NOT NULL")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('terms_version', ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(terms::TERMS_VERSION)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Closes every connection; the last one checkpoints the WAL into the database file, so a
    /// finished import leaves no large `-wal` file behind.
    pub async fn close(&self) {
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
        let mut args = SqliteArguments::default();
        for bind in &statement.binds {
            let added = match bind {
                Bind::Int(v) => args.add(*v),
                Bind::Real(v) => args.add(*v),
                Bind::Text(v) => args.add(v.clone()),
            };
            added.map_err(sqlx::Error::Encode)?;
        }
        Ok(sqlx::query_with(&statement.sql, args)
            .fetch_all(&self.pool)
            .await?)
    }

    async fn count(&self, sql: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql).fetch_one(&self.pool).await?)
    }

    /// Runs a statement through SQLite's C API and calls `each` per row. sqlx spends about
    /// 2.5 µs a row; a trending query reads hundreds of thousands, where that dominated.
    pub async fn for_each_row(
        &self,
        statement: &Statement,
        mut each: impl FnMut(&RawRow),
    ) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        let mut handle = connection.lock_handle().await?;
        let db = handle.as_raw_handle().as_ptr();
        let sql = std::ffi::CString::new(statement.sql.as_str())
            .map_err(|e| StoreError::Query(sqlx::Error::Protocol(e.to_string())))?;
        let mut run = || {
            let mut raw: *mut libsqlite3_sys::sqlite3_stmt = std::ptr::null_mut();
            // SAFETY: `db` is a live connection we hold the lock of; `raw` is finalized below on
            // every path after a successful prepare.
            unsafe {
                if libsqlite3_sys::sqlite3_prepare_v2(
                    db,
                    sql.as_ptr(),
                    -1,
                    &mut raw,
                    std::ptr::null_mut(),
                ) != libsqlite3_sys::SQLITE_OK
                {
                    return Err(raw_error(db, "prepare"));
                }
                let result = (|| {
                    for (i, bind) in statement.binds.iter().enumerate() {
                        let index = i as i32 + 1;
                        let rc = match bind {
                            Bind::Int(v) => libsqlite3_sys::sqlite3_bind_int64(raw, index, *v),
                            Bind::Real(v) => libsqlite3_sys::sqlite3_bind_double(raw, index, *v),
                            Bind::Text(v) => libsqlite3_sys::sqlite3_bind_text(
                                raw,
                                index,
                                v.as_ptr().cast(),
                                v.len() as i32,
                                libsqlite3_sys::SQLITE_TRANSIENT(),
                            ),
                        };
                        if rc != libsqlite3_sys::SQLITE_OK {
                            return Err(raw_error(db, "bind"));
                        }
                    }
                    let row = RawRow { statement: raw };
                    loop {
                        match libsqlite3_sys::sqlite3_step(raw) {
                            libsqlite3_sys::SQLITE_ROW => each(&row),
                            libsqlite3_sys::SQLITE_DONE => return Ok(()),
                            _ => return Err(raw_error(db, "step")),
                        }
                    }
                })();
                libsqlite3_sys::sqlite3_finalize(raw);
                result
            }
        };
        // The C calls block; tell a multi-threaded runtime so it moves other tasks away.
        match tokio::runtime::Handle::current().runtime_flavor() {
            tokio::runtime::RuntimeFlavor::CurrentThread => run(),
            _ => tokio::task::block_in_place(run),
        }
    }

    async fn fetch_mentions(&self, statement: &Statement) -> Result<Vec<MentionRow>, StoreError> {
        Ok(self
            .fetch(statement)
            .await?
            .iter()
            .map(mention_row)
            .collect::<Result<_, sqlx::Error>>()?)
    }
}

/// One row as SQLite's C API returns it, read only inside [`SqliteStore::for_each_row`].
pub struct RawRow {
    statement: *mut libsqlite3_sys::sqlite3_stmt,
}

impl RawRow {
    pub fn int(&self, column: i32) -> i64 {
        // SAFETY: the statement is live and positioned on a row while the callback runs.
        unsafe { libsqlite3_sys::sqlite3_column_int64(self.statement, column) }
    }

    pub fn is_null(&self, column: i32) -> bool {
        // SAFETY: as above.
        unsafe {
            libsqlite3_sys::sqlite3_column_type(self.statement, column)
                == libsqlite3_sys::SQLITE_NULL
        }
    }

    pub fn real(&self, column: i32) -> Option<f64> {
        // SAFETY: as above.
        (!self.is_null(column))
            .then(|| unsafe { libsqlite3_sys::sqlite3_column_double(self.statement, column) })
    }

    /// Text or blob bytes; valid until the next row.
    pub fn bytes(&self, column: i32) -> &[u8] {
        // SAFETY: as above; SQLite keeps the buffer until the statement steps again, and the
        // returned slice cannot outlive `self`, which lives for one callback.
        unsafe {
            let data = libsqlite3_sys::sqlite3_column_blob(self.statement, column);
            let len = libsqlite3_sys::sqlite3_column_bytes(self.statement, column);
            if data.is_null() || len <= 0 {
                &[]
            } else {
                std::slice::from_raw_parts(data.cast::<u8>(), len as usize)
            }
        }
    }

    pub fn text(&self, column: i32) -> Option<&str> {
        (!self.is_null(column)).then(|| std::str::from_utf8(self.bytes(column)).unwrap_or(""))
    }
}

fn raw_error(db: *mut libsqlite3_sys::sqlite3, what: &str) -> StoreError {
    // SAFETY: `db` is the live connection the failing call used.
    let message = unsafe {
        std::ffi::CStr::from_ptr(libsqlite3_sys::sqlite3_errmsg(db))
            .to_string_lossy()
            .into_owned()
    };
    StoreError::Query(sqlx::Error::Protocol(format!("{what}: {message}")))
}

fn mention_row(row: &SqliteRow) -> Result<MentionRow, sqlx::Error> {
    Ok(MentionRow {
        time_ms: row.try_get(0)?,
        id: row.try_get(1)?,
        text: row.try_get(2)?,
        source_type: row.try_get(3)?,
        platform: row.try_get(4)?,
        region: row.try_get(5)?,
        category: row.try_get(6)?,
        brand: row.try_get(7)?,
        label: row.try_get(8)?,
        score: row.try_get(9)?,
        confidence: row.try_get(10)?,
        language: row.try_get(11)?,
    })
}

fn validate_row(index: usize, row: &NewFeedback) -> Result<(), StoreError> {
    let invalid = |field, reason: String| StoreError::InvalidRow {
        row: index,
        field,
        reason,
    };
    if row.text.trim().is_empty() {
        return Err(invalid("text", "it is empty".to_string()));
    }
    if row.text.len() > MAX_TEXT_BYTES {
        return Err(invalid(
            "text",
            format!(
                "it has {} bytes, more than {MAX_TEXT_BYTES}",
                row.text.len()
            ),
        ));
    }
    for (field, value) in [
        ("platform", &row.platform),
        ("region", &row.region),
        ("category", &row.category),
        ("brand", &row.brand),
        ("language", &row.language),
        ("external_id", &row.external_id),
    ] {
        if value.trim().is_empty() {
            return Err(invalid(field, "it is empty".to_string()));
        }
    }
    if let Some(rating) = row.rating {
        if !(0.0..=10.0).contains(&rating) {
            return Err(invalid("rating", format!("{rating} is outside 0 to 10")));
        }
    }
    if chrono::DateTime::from_timestamp_millis(row.event_time_ms).is_none() {
        return Err(invalid(
            "event_time",
            format!("{} is not a valid time", row.event_time_ms),
        ));
    }
    Ok(())
}

/// Page cache of a write batch's connection, in KiB; pages are allocated only as used.
const BATCH_CACHE_KIB: u32 = 256 * 1024;

/// One open write transaction; dropping it without `commit` rolls everything back.
struct SqliteBatch {
    connection: SqliteConnection,
    ingest_time_ms: i64,
    /// Rows offered so far, so validation errors carry the row's place in the whole batch.
    rows_seen: usize,
}

#[async_trait]
impl FeedbackBatch for SqliteBatch {
    async fn insert(&mut self, rows: &[NewFeedback]) -> Result<InsertReport, StoreError> {
        for (index, row) in rows.iter().enumerate() {
            validate_row(self.rows_seen + index, row)?;
        }
        self.rows_seen += rows.len();
        let mut inserted = 0u64;
        for chunk in rows.chunks(INSERT_ROWS_PER_STATEMENT) {
            // OR IGNORE rather than ON CONFLICT DO NOTHING: a multi-row statement that may
            // abort makes SQLite copy every page it touches into a statement journal, which
            // cost more than the inserts. Rows are validated above, so the only constraint
            // left to ignore is the duplicate (platform, external_id); a trigger's RAISE(ABORT)
            // still aborts.
            let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT OR IGNORE INTO feedback (source_type, platform, region, city, category, \
                 brand, product, language, text, text_folded, rating, rating_raw, redactions, \
                 event_time_ms, ingest_time_ms, external_id, terms) ",
            );
            builder.push_values(chunk, |mut b, row| {
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
                    .push_bind(terms::encode(&terms::term_hashes(&row.text, &row.language)));
            });
            inserted += builder
                .build()
                .execute(&mut self.connection)
                .await?
                .rows_affected();
        }
        Ok(InsertReport {
            inserted,
            duplicates: rows.len() as u64 - inserted,
        })
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        sqlx::query("COMMIT").execute(&mut self.connection).await?;
        Ok(self.connection.close().await?)
    }

    async fn rollback(mut self: Box<Self>) -> Result<(), StoreError> {
        sqlx::query("ROLLBACK")
            .execute(&mut self.connection)
            .await?;
        Ok(self.connection.close().await?)
    }
}

#[async_trait]
impl FeedbackStore for SqliteStore {
    async fn timeseries(&self, query: &TimeseriesQuery) -> Result<Timeseries, StoreError> {
        let statement = sql::timeseries(query);
        let rows = self.fetch(&statement).await?;
        let origin = sql::bucket_origin(query);
        let buckets = ((query.range.to_ms - origin) / query.bucket_ms + 1) as usize;
        let bucket_starts_ms = (0..buckets as i64)
            .map(|i| origin + i * query.bucket_ms)
            .collect();
        let unscored_label = UNSCORED_LABEL.to_string();
        // BTreeMap keeps groups in a stable, sorted order for legends and golden files.
        let mut groups: BTreeMap<Option<String>, Vec<(usize, [i64; 4], Option<f64>)>> =
            BTreeMap::new();
        let mut unscored_rows = 0u64;
        for row in &rows {
            let bucket: i64 = row.try_get("bucket")?;
            let group: Option<String> = row.try_get("grp")?;
            let group = match (query.group_by, group) {
                (None, _) => None,
                (Some(_), None) => Some(unscored_label.clone()),
                (Some(_), Some(g)) => Some(g),
            };
            let counts: [i64; 4] = [
                row.try_get("volume")?,
                row.try_get("scored")?,
                row.try_get("positive")?,
                row.try_get("negative")?,
            ];
            unscored_rows += (counts[0] - counts[1]).max(0) as u64;
            let index = usize::try_from(bucket)
                .unwrap_or(usize::MAX)
                .min(buckets - 1);
            groups
                .entry(group)
                .or_default()
                .push((index, counts, row.try_get("score_sum")?));
        }
        if query.group_by.is_none() && groups.is_empty() {
            groups.insert(None, Vec::new());
        }
        let series = groups
            .into_iter()
            .map(|(group, cells)| {
                let mut volumes = vec![0i64; buckets];
                for (index, c, _) in &cells {
                    volumes[*index] += c[0];
                }
                let values = if query.metric == crate::query::Metric::Volume {
                    let mut counts = vec![0i64; buckets];
                    for (index, c, _) in cells {
                        counts[index] += c[0];
                    }
                    SeriesValues::Counts(counts)
                } else {
                    let mut ratios = vec![None; buckets];
                    for (index, c, sum) in cells {
                        ratios[index] = sql::metric_value(query.metric, c[1], c[2], c[3], sum);
                    }
                    SeriesValues::Ratios(ratios)
                };
                Series {
                    group,
                    values,
                    volumes,
                }
            })
            .collect();
        Ok(Timeseries {
            bucket_starts_ms,
            series,
            unscored_rows: if sql::timeseries_needs_scores(query) {
                unscored_rows
            } else {
                0
            },
            executed_sql: statement.describe(),
        })
    }

    async fn mentions(&self, query: &MentionsQuery) -> Result<Mentions, StoreError> {
        let statement = sql::mentions(query);
        let rows = self.fetch_mentions(&statement).await?;
        Ok(Mentions {
            rows,
            executed_sql: statement.describe(),
        })
    }

    async fn distribution(&self, query: &DistributionQuery) -> Result<Distribution, StoreError> {
        let statement = sql::distribution(query);
        let rows = self
            .fetch(&statement)
            .await?
            .iter()
            .map(|row| {
                Ok(DistributionRow {
                    label: row.try_get("label")?,
                    group: match query.group_by {
                        Some(_) => Some(
                            row.try_get::<Option<String>, _>("grp")?
                                .unwrap_or_else(|| UNSCORED_LABEL.to_string()),
                        ),
                        None => None,
                    },
                    count: row.try_get("count")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(Distribution {
            rows,
            executed_sql: statement.describe(),
        })
    }

    async fn dimension_values(
        &self,
        query: &DimensionValuesQuery,
    ) -> Result<DimensionValues, StoreError> {
        if query.dimension.needs_scores() && query.filters.is_empty() {
            // Labels are a fixed set, enforced by the schema.
            return Ok(DimensionValues {
                values: SENTIMENT_LABELS.map(String::from).to_vec(),
                executed_sql: "-- sentiment labels are fixed: negative, neutral, positive"
                    .to_string(),
            });
        }
        let statement = sql::dimension_values(query);
        let values = self
            .fetch(&statement)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        Ok(DimensionValues {
            values,
            executed_sql: statement.describe(),
        })
    }

    async fn insert_feedback(&self, rows: &[NewFeedback]) -> Result<InsertReport, StoreError> {
        let mut batch = self.begin_batch().await?;
        let report = batch.insert(rows).await?;
        batch.commit().await?;
        Ok(report)
    }

    async fn begin_batch(&self) -> Result<Box<dyn FeedbackBatch>, StoreError> {
        // Its own connection, so a large import gets a large page cache without the pooled
        // connections keeping it: with the everyday 64 MiB, SQLite spills the open transaction
        // to the WAL and reads it back over and over. Closing the connection without COMMIT
        // (a dropped batch, a crash) rolls everything back.
        let mut connection = self
            .options
            .clone()
            .pragma("cache_size", format!("-{BATCH_CACHE_KIB}"))
            .connect()
            .await?;
        // IMMEDIATE takes the write lock now rather than failing to upgrade mid-batch.
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut connection)
            .await?;
        Ok(Box::new(SqliteBatch {
            connection,
            ingest_time_ms: chrono::Utc::now().timestamp_millis(),
            rows_seen: 0,
        }))
    }

    async fn unscored_feedback(&self, limit: u32) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, text FROM feedback WHERE label IS NULL ORDER BY id LIMIT ?")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn insert_analysis(
        &self,
        model_id: &str,
        scores: &[NewScore],
        aspects: &[NewAspectScore],
    ) -> Result<(), StoreError> {
        let scored_at_ms = chrono::Utc::now().timestamp_millis();
        let mut tx = self.pool.begin().await?;
        let active: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'active_model_id'")
                .fetch_optional(&mut *tx)
                .await?;
        for chunk in scores.chunks(INSERT_ROWS_PER_STATEMENT) {
            let mut builder: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT OR REPLACE INTO scores (model_id, feedback_id, label, score, p_negative, \
                 p_neutral, p_positive, confidence, scored_at_ms) ",
            );
            builder.push_values(chunk, |mut b, s| {
                b.push_bind(model_id)
                    .push_bind(s.feedback_id)
                    .push_bind(&s.label)
                    .push_bind(s.score)
                    .push_bind(s.p_negative)
                    .push_bind(s.p_neutral)
                    .push_bind(s.p_positive)
                    .push_bind(s.confidence())
                    .push_bind(scored_at_ms);
            });
            builder.build().execute(&mut *tx).await?;
        }
        if active.as_deref() == Some(model_id) {
            for score in scores {
                sqlx::query(
                    "UPDATE feedback SET label = ?, score = ?, confidence = ? WHERE id = ?",
                )
                .bind(&score.label)
                .bind(score.score)
                .bind(score.confidence())
                .bind(score.feedback_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        // A rescored row's earlier aspects go, so a changed text or lexicon leaves no stale ones.
        for chunk in scores.chunks(INSERT_ROWS_PER_STATEMENT) {
            let mut builder: QueryBuilder<Sqlite> =
                QueryBuilder::new("DELETE FROM aspect_scores WHERE model_id = ");
            builder.push_bind(model_id).push(" AND feedback_id IN (");
            let mut ids = builder.separated(", ");
            for score in chunk {
                ids.push_bind(score.feedback_id);
            }
            builder.push(")");
            builder.build().execute(&mut *tx).await?;
        }
        for aspect in aspects {
            sqlx::query(
                "INSERT OR REPLACE INTO aspect_scores (model_id, feedback_id, aspect, label, \
                 score, event_time_ms) SELECT ?, id, ?, ?, ?, event_time_ms FROM feedback \
                 WHERE id = ?",
            )
            .bind(model_id)
            .bind(aspect.aspect.name())
            .bind(&aspect.label)
            .bind(aspect.score.clamp(-1.0, 1.0))
            .bind(aspect.feedback_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn term_rows(&self, scan: &TermScan) -> Result<TermRows, StoreError> {
        // Two sequential reads instead of one scattered one: the rows that match from the
        // covering index, then the range's hashes from the time-clustered terms table.
        let matching = sql::term_rows(scan);
        let mut wanted: std::collections::HashMap<i64, (Option<String>, Option<f64>)> =
            std::collections::HashMap::new();
        self.for_each_row(&matching, |row| {
            wanted.insert(row.int(0), (row.text(1).map(str::to_string), row.real(2)));
        })
        .await?;
        let slices = sql::term_slices(scan.range);
        let mut rows = Vec::with_capacity(wanted.len());
        if !wanted.is_empty() {
            self.for_each_row(&slices, |row| {
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
            })
            .await?;
        }
        Ok(TermRows {
            unindexed: (wanted.len() - rows.len()) as u64,
            rows,
            executed_sql: format!("{}\n{}", matching.describe(), slices.describe()),
        })
    }

    async fn index_terms(&self, limit: u32) -> Result<u64, StoreError> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, text, language FROM feedback WHERE terms IS NULL ORDER BY id LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let encoded: Vec<(i64, Vec<u8>)> = rows
            .iter()
            .map(|(id, text, language)| (*id, terms::encode(&terms::term_hashes(text, language))))
            .collect();
        let mut tx = self.pool.begin().await?;
        for (id, blob) in &encoded {
            sqlx::query("UPDATE feedback SET terms = ? WHERE id = ?")
                .bind(blob)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(encoded.len() as u64)
    }

    async fn aspect_counts(&self, scan: &AspectScan) -> Result<AspectCounts, StoreError> {
        let statement = sql::aspect_counts(scan);
        let mut counts = Vec::new();
        for row in self.fetch(&statement).await? {
            let name: String = row.try_get(1)?;
            // The table's CHECK allows only known names; skip rather than fail if one is new.
            let Some(aspect) = Aspect::from_name(&name) else {
                continue;
            };
            counts.push(AspectCount {
                bucket: row.try_get(0)?,
                aspect,
                mentions: row.try_get(2)?,
                positive: row.try_get(3)?,
                negative: row.try_get(4)?,
                neutral: row.try_get(5)?,
                score_sum: row.try_get::<Option<f64>, _>(6)?.unwrap_or(0.0),
            });
        }
        Ok(AspectCounts {
            counts,
            executed_sql: statement.describe(),
        })
    }

    async fn sample_mentions(
        &self,
        range: TimeRange,
        filters: &Filters,
        order: SampleOrder,
        limit: u32,
    ) -> Result<Vec<MentionRow>, StoreError> {
        self.fetch_mentions(&sql::sample_mentions(range, filters, order, limit))
            .await
    }

    async fn aspect_mentions(
        &self,
        range: TimeRange,
        filters: &Filters,
        aspect: Aspect,
        limit: u32,
    ) -> Result<Vec<MentionRow>, StoreError> {
        self.fetch_mentions(&sql::aspect_mentions(range, filters, aspect, limit))
            .await
    }

    async fn mentions_by_id(&self, ids: &[i64]) -> Result<Vec<MentionRow>, StoreError> {
        let mut rows = Vec::with_capacity(ids.len());
        // Bound values per statement are limited; 500 ids a statement stays well within.
        for chunk in ids.chunks(500) {
            rows.extend(self.fetch_mentions(&sql::mentions_by_id(chunk)).await?);
        }
        Ok(rows)
    }

    async fn fingerprint(&self, range: TimeRange, filters: &Filters) -> Result<String, StoreError> {
        let statement = sql::fingerprint(range, filters);
        let row = self.fetch(&statement).await?;
        Ok(row
            .first()
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?
            .unwrap_or_default())
    }

    async fn set_active_model(&self, model_id: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let active: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'active_model_id'")
                .fetch_optional(&mut *tx)
                .await?;
        if active.as_deref() == Some(model_id) {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('active_model_id', ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(model_id)
        .execute(&mut *tx)
        .await?;
        // Queries read the copy in `feedback`; refresh it from the new model's scores.
        sqlx::query(
            "UPDATE feedback SET label = NULL, score = NULL, confidence = NULL \
             WHERE label IS NOT NULL",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE feedback SET label = s.label, score = s.score, confidence = s.confidence \
             FROM scores s WHERE s.model_id = ? AND s.feedback_id = feedback.id",
        )
        .bind(model_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn health(&self) -> Result<StoreHealth, StoreError> {
        // A write inside a rolled-back transaction proves the file is writable without changing it.
        let read_only = |source| StoreError::ReadOnly {
            path: self.path.clone(),
            source,
        };
        let mut tx = self.pool.begin().await.map_err(read_only)?;
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('health_probe', '1') \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .execute(&mut *tx)
        .await
        .map_err(read_only)?;
        tx.rollback().await.map_err(read_only)?;

        let schema_version = self
            .count("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .await?;
        let expected_schema_version = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let total_rows = self.count("SELECT COUNT(*) FROM feedback").await?;
        let active_model: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = 'active_model_id'")
                .fetch_optional(&self.pool)
                .await?;
        let scored_rows = match &active_model {
            Some(model) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM scores WHERE model_id = ?")
                    .bind(model)
                    .fetch_one(&self.pool)
                    .await?
            }
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{Dimension, Filters, Metric, TimeRange};
    use crate::store::SourceType;

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
                duplicates: 0
            }
        );
        (dir, store)
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
                duplicates: 1
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

    #[tokio::test]
    async fn sentiment_reads_the_active_model_only() {
        let (_dir, store) = store_with_rows().await;
        let score = |id, label: &str, s| NewScore {
            feedback_id: id,
            label: label.to_string(),
            score: s,
            p_negative: 0.1,
            p_neutral: 0.1,
            p_positive: 0.8,
        };
        store
            .insert_scores(
                "old",
                &[score(1, "negative", -0.9), score(2, "negative", -0.9)],
            )
            .await
            .unwrap();
        store
            .insert_scores(
                "new",
                &[score(1, "positive", 0.7), score(2, "negative", -0.7)],
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

        // Scores of the active model reach queries at once; switching back restores the old view.
        store
            .insert_scores("new", &[score(3, "positive", 0.7)])
            .await
            .unwrap();
        let ts = store.timeseries(&query).await.unwrap();
        assert_eq!(
            ts.series[0].values,
            SeriesValues::Ratios(vec![Some(0.0), Some(100.0), None])
        );
        assert_eq!(ts.unscored_rows, 0);
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
    async fn dimension_values_by_loose_index_scan_and_filtered() {
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
