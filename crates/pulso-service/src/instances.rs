//! Data source instances: each configured Pulso data source gets its own record store,
//! analytics mirror, scorer and term indexer, made again when its settings change.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;
use tokio::sync::Mutex;

use super::settings::{Settings, SettingsError, StorageSettings};
use super::DataSource;
use pulso_analytics::Analytics;
use pulso_ingest::backfill::index_missing_terms;
use pulso_nlp::onnx::OnnxSentimentModel;
use pulso_nlp::queue::ScoringQueue;
use pulso_nlp::SentimentModel;
use pulso_postgres::PostgresStore;
use pulso_scoring::{self as scoring, ScoringStats};
use pulso_sqlite::SqliteStore;
use pulso_store::{RecordStore, StoreError};

/// Requests that may wait for the model before callers are held back.
const QUEUE_CAPACITY: usize = 64;
const MAX_BATCH_TEXTS: usize = 256;
const TERM_INDEX_BATCH: u32 = 2_000;

#[derive(Debug, Error)]
pub enum InstanceError {
    #[error(
        "the request carries no data source settings: call Pulso through a configured data source"
    )]
    MissingSettings,
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("cannot create the default database folder {folder}: {source}. Set sqlitePath in the data source settings to a writable location")]
    DefaultFolder {
        folder: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the database file {path} was deleted or moved while Pulso used it, so nothing is served from it: put it back (Pulso reopens it by itself), or point sqlitePath at another file")]
    DatabaseGone { path: PathBuf },
    #[error("this data source's sqlitePath is a database that belongs to another organisation (org {owner}; this is org {org_id}), and organisations never share data: leave sqlitePath empty to give this data source a database of its own, or set it to another file")]
    OtherOrganisation { owner: i64, org_id: i64 },
    #[error("this data source's PostgreSQL database belongs to another organisation (org {owner}; this is org {org_id}), and organisations never share data: point postgresUrl at a database of this organisation's own in the data source's Storage settings")]
    OtherOrganisationPostgres { owner: i64, org_id: i64 },
}

/// The model behind an instance, or why there is none.
pub type ModelState = Result<(ScoringQueue, Arc<ScoringStats>), String>;

/// One data source's running parts.
pub struct Instance {
    pub settings: Settings,
    /// The database file it opened, to notice it deleted or replaced.
    file: Option<FileIdentity>,
    pub store: Arc<dyn RecordStore>,
    pub analytics: Analytics,
    pub model: ModelState,
    updated_ms: i64,
    scorer: Option<tokio::task::JoinHandle<()>>,
    term_indexer: tokio::task::JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(scorer) = &self.scorer {
            scorer.abort();
        }
        self.term_indexer.abort();
    }
}

impl Instance {
    /// Tells the scorer and the mirror that rows were written here.
    pub fn rows_written(&self) {
        if let Ok((_, stats)) = &self.model {
            stats.wake();
        }
        self.analytics.wake();
    }
}

/// A file's device and inode: a file deleted, or replaced by another, no longer has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    device: u64,
    inode: u64,
}

fn file_identity(path: &Path) -> Option<FileIdentity> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| FileIdentity {
        device: m.dev(),
        inode: m.ino(),
    })
}

#[derive(Default)]
pub struct Instances {
    by_datasource: Mutex<HashMap<(i64, String), Arc<Instance>>>,
    /// Database files that were deleted while in use: not made again empty, but reopened
    /// when they come back.
    gone: Mutex<HashSet<PathBuf>>,
    /// Models are shared by every data source that uses the same folder.
    models: Mutex<HashMap<PathBuf, ScoringQueue>>,
}

impl Instances {
    /// Every open instance with its data source's uid, for metrics.
    pub async fn all(&self) -> Vec<(String, Arc<Instance>)> {
        let instances = self.by_datasource.lock().await;
        let mut all: Vec<_> = instances
            .iter()
            .map(|((_, uid), instance)| (uid.clone(), instance.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// The instance for a data source, made on first use. Failures are not cached, so fixing
    /// the settings or the folder takes effect on the next request.
    pub async fn get(&self, source: &DataSource<'_>) -> Result<Arc<Instance>, InstanceError> {
        let settings = Settings::load(source)?;
        let key = (source.id, source.uid.to_string());
        let mut instances = self.by_datasource.lock().await;
        let (store, file): (Arc<dyn RecordStore>, _) = match &settings.storage {
            StorageSettings::Sqlite {
                sqlite_path,
                is_default_path,
            } => {
                let now = file_identity(sqlite_path);
                if let Some(instance) = instances.get(&key) {
                    if instance.updated_ms == source.updated_ms && instance.settings == settings {
                        if now.is_some() && now == instance.file {
                            return Ok(instance.clone());
                        }
                        // Deleted or replaced: the open connections would go on serving the
                        // old file.
                        instances.remove(&key);
                        if now.is_none() {
                            self.gone.lock().await.insert(sqlite_path.clone());
                        }
                    }
                }
                let sqlite = self
                    .open_sqlite(sqlite_path, *is_default_path, now, source.org_id)
                    .await?;
                (Arc::new(sqlite), file_identity(sqlite_path))
            }
            StorageSettings::Postgres(config) => {
                if let Some(instance) = instances.get(&key) {
                    if instance.updated_ms == source.updated_ms && instance.settings == settings {
                        return Ok(instance.clone());
                    }
                }
                let postgres = PostgresStore::connect(config).await?;
                // A database serves one organisation, as a SQLite file does.
                if let Some(owner) = postgres.claim_organisation(source.org_id).await? {
                    postgres.close().await;
                    return Err(InstanceError::OtherOrganisationPostgres {
                        owner,
                        org_id: source.org_id,
                    });
                }
                (Arc::new(postgres), None)
            }
        };
        let model: ModelState = self
            .model(&settings.model_dir)
            .await
            .map(|queue| (queue, Arc::new(ScoringStats::default())));
        let analytics = Analytics::start(store.clone());
        let scorer = match &model {
            Ok((queue, stats)) => Some(scoring::spawn(store.clone(), queue.clone(), stats.clone())),
            Err(reason) => {
                tracing::warn!(%reason, "sentiment model unavailable; queries without sentiment still work");
                None
            }
        };
        let instance = Arc::new(Instance {
            file,
            term_indexer: spawn_term_indexer(store.clone()),
            settings,
            store,
            analytics,
            model,
            updated_ms: source.updated_ms,
            scorer,
        });
        instances.insert(key, instance.clone());
        Ok(instance)
    }

    /// Opens a data source's SQLite file, which must not have been deleted while in use, and
    /// claims it for the organisation.
    async fn open_sqlite(
        &self,
        path: &Path,
        is_default_path: bool,
        now: Option<FileIdentity>,
        org_id: i64,
    ) -> Result<SqliteStore, InstanceError> {
        {
            let mut gone = self.gone.lock().await;
            if gone.contains(path) {
                if now.is_none() {
                    return Err(InstanceError::DatabaseGone {
                        path: path.to_path_buf(),
                    });
                }
                gone.remove(path);
            }
        }
        if is_default_path && !path.exists() {
            // Before per-organisation files every data source without a sqlitePath shared this
            // one; it is left alone, since nothing says which organisation its rows belong to.
            if let Some(legacy) = path
                .parent()
                .and_then(Path::parent)
                .map(|pulso| pulso.join("pulso.db"))
                .filter(|legacy| legacy.exists())
            {
                tracing::warn!(
                    legacy = %legacy.display(),
                    "an earlier Pulso kept the mentions of every data source without a sqlitePath in one shared file; this data source now starts a database of its own. To keep using the old file, set sqlitePath to it on the one data source whose data it holds"
                );
            }
        }
        if is_default_path {
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder).map_err(|source| InstanceError::DefaultFolder {
                    folder: folder.to_path_buf(),
                    source,
                })?;
            }
        }
        let sqlite = SqliteStore::open(path).await?;
        // A database serves one organisation: the first data source to open it claims it.
        if let Some(owner) = sqlite.claim_organisation(org_id).await? {
            sqlite.close().await;
            return Err(InstanceError::OtherOrganisation { owner, org_id });
        }
        Ok(sqlite)
    }

    async fn model(&self, dir: &Path) -> Result<ScoringQueue, String> {
        let mut models = self.models.lock().await;
        if let Some(queue) = models.get(dir) {
            return Ok(queue.clone());
        }
        let owned = dir.to_path_buf();
        // Loading reads ~120 MB and builds the graph: keep it off the async threads.
        let loaded = tokio::task::spawn_blocking(move || OnnxSentimentModel::load(&owned, 2))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()))
            .and_then(|model| {
                if model.labels().is_empty() {
                    Err(pulso_nlp::NlpError::NoHead {
                        path: model.files().dir.clone(),
                    }
                    .to_string())
                } else {
                    Ok(ScoringQueue::start(
                        Arc::new(model),
                        QUEUE_CAPACITY,
                        MAX_BATCH_TEXTS,
                    ))
                }
            });
        if let Ok(queue) = &loaded {
            models.insert(dir.to_path_buf(), queue.clone());
        }
        loaded
    }
}

/// Computes terms for rows stored before term indexing existed; new rows get theirs when
/// they are ingested, so this finishes and stops.
fn spawn_term_indexer(store: Arc<dyn RecordStore>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match index_missing_terms(store.as_ref(), TERM_INDEX_BATCH).await {
                Ok(0) => break,
                Ok(rows) => tracing::debug!(rows, "indexed terms"),
                Err(error) => {
                    tracing::warn!(%error, "term indexing failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
                }
            }
        }
    })
}
