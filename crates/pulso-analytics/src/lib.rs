//! The analytics path: a columnar mirror of the record store in memory, queried with Apache
//! DataFusion (see docs/adr/0001-analytics-engine.md for why this engine).
//!
//! The record store stays the system of record. A background task builds the mirror from the
//! store's change feed, then keeps it fresh by reading only the rows whose revision moved
//! (new rows, rescored rows, rows whose terms were indexed), a few times a second and at once
//! when this process writes. While the mirror is being built, or rebuilt after the active
//! model changed, queries are answered by the record store and say so.

pub mod engine;
mod memo;
pub mod mirror;
mod reader;
mod sql;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};

use engine::Engine;
use mirror::{FullBuild, Mirror, MirrorError, Snapshot};
use pulso_store::{FeedCursor, FeedRow, FeedSink, FeedbackReader, RecordStore, StoreError};
pub use reader::SnapshotReader;

/// How often the mirror looks for writes made by other processes (`pulso ingest`, another
/// Grafana's plugin); writes made here wake it at once.
const POLL: Duration = Duration::from_millis(200);
/// First wait after a failed build or refresh; it doubles up to [`MAX_RETRY`].
const RETRY: Duration = Duration::from_secs(5);
const MAX_RETRY: Duration = Duration::from_secs(600);

/// Where the mirror stands, for health checks and notices.
#[derive(Debug, Clone, PartialEq)]
pub enum MirrorStatus {
    /// Loading rows from the record store.
    Warming { rows_loaded: usize },
    Ready {
        rows: usize,
        revision: i64,
        memory_bytes: usize,
        /// How long the last full build took.
        build_seconds: f64,
    },
    /// The mirror cannot hold this data or the store failed; queries use the record store.
    Unavailable { reason: String },
}

/// Which reader answers a query, and what the panel should be told about it.
pub struct Source {
    pub reader: Arc<dyn FeedbackReader>,
    /// Set when the record store answers because the mirror is not ready.
    pub notice: Option<String>,
}

struct Shared {
    store: Arc<dyn RecordStore>,
    engine: Arc<Engine>,
    /// The snapshot queries read; `None` while warming.
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    status: RwLock<MirrorStatus>,
    loaded: Arc<AtomicUsize>,
    wake: Notify,
    /// The revision the published snapshot holds.
    applied: watch::Sender<i64>,
    memo: Arc<memo::Memo>,
}

/// The analytics mirror of one data source's record store, and its refresh task.
pub struct Analytics {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Analytics {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Analytics {
    /// Starts building the mirror of `store` in the background.
    pub fn start(store: Arc<dyn RecordStore>) -> Self {
        let shared = Arc::new(Shared {
            store,
            engine: Arc::new(Engine::new()),
            snapshot: RwLock::new(None),
            status: RwLock::new(MirrorStatus::Warming { rows_loaded: 0 }),
            loaded: Arc::new(AtomicUsize::new(0)),
            wake: Notify::new(),
            applied: watch::channel(i64::MIN).0,
            memo: Arc::default(),
        });
        let task = tokio::spawn(refresh(shared.clone()));
        Self { shared, task }
    }

    pub fn status(&self) -> MirrorStatus {
        let status = self.shared.status.read().expect("status lock").clone();
        match status {
            MirrorStatus::Warming { .. } => MirrorStatus::Warming {
                rows_loaded: self.shared.loaded.load(Ordering::Relaxed),
            },
            other => other,
        }
    }

    /// The reader for one query: the engine over the current snapshot, or the record store
    /// with a notice while the mirror warms. Waits up to `warm_up` for a first snapshot, so a
    /// small database never answers from the slow path.
    pub async fn source(&self, warm_up: Duration) -> Source {
        let started = Instant::now();
        // Subscribed before looking, so a snapshot published in between still wakes us.
        let mut applied = self.shared.applied.subscribe();
        loop {
            if let Some(snapshot) = self.shared.snapshot.read().expect("snapshot lock").clone() {
                return Source {
                    reader: Arc::new(SnapshotReader {
                        snapshot,
                        engine: self.shared.engine.clone(),
                        store: self.shared.store.clone(),
                        memo: self.shared.memo.clone(),
                    }),
                    notice: None,
                };
            }
            let waited = started.elapsed();
            if waited >= warm_up {
                break;
            }
            if tokio::time::timeout(warm_up - waited, applied.changed())
                .await
                .is_err()
            {
                break;
            }
        }
        let notice = match self.status() {
            MirrorStatus::Warming { rows_loaded } => format!(
                "Pulso's analytics engine is still loading ({rows_loaded} rows so far), so this \
                 panel was answered by the record store, which is slower at scale. It switches \
                 over by itself in a few seconds."
            ),
            MirrorStatus::Unavailable { reason } => format!(
                "Pulso's analytics engine is unavailable ({reason}), so this panel was answered \
                 by the record store, which is slower at scale."
            ),
            MirrorStatus::Ready { .. } => "answered by the record store".to_string(),
        };
        Source {
            reader: self.shared.store.clone(),
            notice: Some(notice),
        }
    }

    /// The snapshot queries read now, if the mirror is ready.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.shared.snapshot.read().expect("snapshot lock").clone()
    }

    /// Tells the mirror that this process just wrote.
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    /// Waits until the mirror holds everything committed so far (or `timeout` passes), so a
    /// writer can read its own writes. Returns whether it caught up.
    pub async fn catch_up(&self, timeout: Duration) -> bool {
        let Ok(cursor) = self.shared.store.feed_cursor().await else {
            return false;
        };
        let mut applied = self.shared.applied.subscribe();
        self.wake();
        tokio::time::timeout(timeout, applied.wait_for(|r| *r >= cursor.revision))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// Counts rows as a full build streams them in, for the warm-up notice.
struct Progress<'a> {
    build: &'a mut FullBuild,
    loaded: &'a AtomicUsize,
}

impl FeedSink for Progress<'_> {
    fn row(&mut self, row: FeedRow<'_>) {
        self.build.row(row);
        let rows = self.build.rows();
        if rows.is_multiple_of(16_384) {
            self.loaded.store(rows, Ordering::Relaxed);
        }
    }
}

enum Step {
    Built(Mirror, FeedCursor),
    Failed(String),
}

async fn build(shared: &Shared) -> Step {
    shared.loaded.store(0, Ordering::Relaxed);
    *shared.status.write().expect("status lock") = MirrorStatus::Warming { rows_loaded: 0 };
    let started = Instant::now();
    let mut full = FullBuild::new();
    let cursor = {
        let mut progress = Progress {
            build: &mut full,
            loaded: &shared.loaded,
        };
        shared.store.read_feed(None, &mut progress).await
    };
    match (cursor, full.finish()) {
        (Ok(cursor), Ok(mirror)) => {
            let snapshot = mirror.snapshot(cursor.revision);
            tracing::info!(
                rows = snapshot.rows,
                partitions = snapshot.partitions.len(),
                memory_mb = snapshot.memory_bytes() / (1 << 20),
                seconds = started.elapsed().as_secs_f64(),
                "analytics mirror built"
            );
            publish(shared, snapshot, Some(started.elapsed()));
            Step::Built(mirror, cursor)
        }
        (Err(error), _) => Step::Failed(error.to_string()),
        (_, Err(error)) => Step::Failed(error.to_string()),
    }
}

fn publish(shared: &Shared, snapshot: Snapshot, build_time: Option<Duration>) {
    let revision = snapshot.revision;
    let build_seconds = match (build_time, &*shared.status.read().expect("status lock")) {
        (Some(time), _) => time.as_secs_f64(),
        (None, MirrorStatus::Ready { build_seconds, .. }) => *build_seconds,
        (None, _) => 0.0,
    };
    *shared.status.write().expect("status lock") = MirrorStatus::Ready {
        rows: snapshot.rows,
        revision,
        memory_bytes: snapshot.memory_bytes(),
        build_seconds,
    };
    *shared.snapshot.write().expect("snapshot lock") = Some(Arc::new(snapshot));
    shared.applied.send_replace(revision);
}

fn unpublish(shared: &Shared) {
    *shared.snapshot.write().expect("snapshot lock") = None;
}

/// Applies what changed since `cursor`; `Ok(false)` when the mirror must be rebuilt.
async fn catch_up(
    shared: &Shared,
    mirror: &mut Mirror,
    cursor: &mut FeedCursor,
) -> Result<bool, StoreError> {
    let latest = shared.store.feed_cursor().await?;
    if latest.active_model != cursor.active_model {
        // Every score changes with the model: serve the record store until rebuilt, never a
        // mix of two models.
        return Ok(false);
    }
    if latest.revision == cursor.revision {
        return Ok(true);
    }
    let mut changes = mirror.changes();
    let read = shared
        .store
        .read_feed(Some(cursor.revision), &mut changes)
        .await?;
    if read.active_model != cursor.active_model {
        return Ok(false);
    }
    let changed = changes.len();
    match mirror.apply(changes) {
        Ok(()) => {}
        Err(MirrorError::RowMoved) => return Ok(false),
        Err(error) => {
            tracing::warn!(%error, "analytics mirror cannot take these rows");
            return Ok(false);
        }
    }
    *cursor = read;
    publish(shared, mirror.snapshot(cursor.revision), None);
    tracing::debug!(
        changed,
        revision = cursor.revision,
        "analytics mirror refreshed"
    );
    Ok(true)
}

async fn refresh(shared: Arc<Shared>) {
    let mut retry = RETRY;
    loop {
        let (mut mirror, mut cursor) = match build(&shared).await {
            Step::Built(mirror, cursor) => {
                retry = RETRY;
                (mirror, cursor)
            }
            Step::Failed(reason) => {
                tracing::warn!(%reason, "analytics mirror unavailable; queries use the record store");
                *shared.status.write().expect("status lock") = MirrorStatus::Unavailable { reason };
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(MAX_RETRY);
                continue;
            }
        };
        loop {
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = shared.wake.notified() => {}
            }
            match catch_up(&shared, &mut mirror, &mut cursor).await {
                Ok(true) => {}
                Ok(false) => {
                    unpublish(&shared);
                    break;
                }
                Err(error) => {
                    // The snapshot stays: it is at most this stale, and the store may be back soon.
                    tracing::warn!(%error, "analytics mirror refresh failed; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    }
}
