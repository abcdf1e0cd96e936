//! Data source instances: each configured Pulso data source gets its own open store, reopened
//! when its settings change.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use grafana_plugin_sdk::pluginv2;
use serde_json::Value;
use thiserror::Error;
use tokio::sync::Mutex;

use crate::nlp::files::default_model_dir;
use crate::nlp::onnx::OnnxSentimentModel;
use crate::nlp::queue::ScoringQueue;
use crate::scoring::{self, ScoringStats};
use crate::store::{FeedbackStore, SqliteStore, StoreError};

/// Requests that may wait for the model before callers are held back.
const QUEUE_CAPACITY: usize = 64;
const MAX_BATCH_TEXTS: usize = 256;

#[derive(Debug, Error)]
pub enum InstanceError {
    #[error(
        "the request carries no data source settings: call Pulso through a configured data source"
    )]
    MissingSettings,
    #[error("the data source's JSON settings are not valid JSON ({0}): save the data source settings again")]
    InvalidJsonData(String),
    #[error("jsonData.{field} must be a string, got {value}: update the data source config")]
    InvalidPath { field: &'static str, value: String },
    #[error("cannot create the default database folder {folder}: {source}. Set sqlitePath in the data source settings to a writable location")]
    DefaultFolder {
        folder: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The settings Pulso reads from a data source's `jsonData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasourceSettings {
    pub sqlite_path: PathBuf,
    /// The sentiment model folder.
    pub model_dir: PathBuf,
    /// Whether the path is Pulso's default, whose folder Pulso may create.
    pub is_default_path: bool,
}

impl DatasourceSettings {
    pub fn from_json_data(json_data: &[u8]) -> Result<Self, InstanceError> {
        let value: Value = if json_data.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(json_data)
                .map_err(|e| InstanceError::InvalidJsonData(e.to_string()))?
        };
        let path = |field: &'static str| match value.get(field) {
            Some(Value::String(path)) if !path.trim().is_empty() => {
                Ok(Some(PathBuf::from(path.trim())))
            }
            None | Some(Value::Null) | Some(Value::String(_)) => Ok(None),
            Some(other) => Err(InstanceError::InvalidPath {
                field,
                value: other.to_string(),
            }),
        };
        let sqlite_path = path("sqlitePath")?;
        let model_dir = path("modelPath")?.unwrap_or_else(default_model_dir);
        Ok(Self {
            is_default_path: sqlite_path.is_none(),
            sqlite_path: sqlite_path.unwrap_or_else(default_sqlite_path),
            model_dir,
        })
    }
}

/// Inside Grafana's data directory when Grafana says where that is, else `./data/`.
pub fn default_sqlite_path() -> PathBuf {
    match std::env::var_os("GF_PATHS_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("pulso").join("pulso.db"),
        _ => PathBuf::from("data").join("pulso.db"),
    }
}

/// The model behind an instance, or why there is none.
pub type ModelState = Result<(ScoringQueue, Arc<ScoringStats>), String>;

struct Instance {
    updated_ms: i64,
    settings: DatasourceSettings,
    store: Arc<dyn FeedbackStore>,
    model: ModelState,
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

#[derive(Default)]
pub struct Instances {
    by_datasource: Mutex<HashMap<(i64, String), Instance>>,
    /// Models are shared by every data source that uses the same folder.
    models: Mutex<HashMap<PathBuf, ScoringQueue>>,
}

impl Instances {
    /// The store for the request's data source, opened on first use. Failures are not cached,
    /// so fixing the settings or the folder takes effect on the next request.
    pub async fn store(
        &self,
        context: Option<&pluginv2::PluginContext>,
    ) -> Result<Arc<dyn FeedbackStore>, InstanceError> {
        Ok(self.instance(context).await?.0)
    }

    /// The store and the sentiment model state for the request's data source.
    pub async fn instance(
        &self,
        context: Option<&pluginv2::PluginContext>,
    ) -> Result<(Arc<dyn FeedbackStore>, ModelState), InstanceError> {
        let settings = context
            .and_then(|c| c.data_source_instance_settings.as_ref())
            .ok_or(InstanceError::MissingSettings)?;
        let parsed = DatasourceSettings::from_json_data(&settings.json_data)?;
        let key = (settings.id, settings.uid.clone());
        let mut instances = self.by_datasource.lock().await;
        if let Some(instance) = instances.get(&key) {
            if instance.updated_ms == settings.last_updated_ms && instance.settings == parsed {
                return Ok((instance.store.clone(), instance.model.clone()));
            }
        }
        if parsed.is_default_path {
            if let Some(folder) = parsed.sqlite_path.parent() {
                std::fs::create_dir_all(folder).map_err(|source| InstanceError::DefaultFolder {
                    folder: folder.to_path_buf(),
                    source,
                })?;
            }
        }
        let store: Arc<dyn FeedbackStore> = Arc::new(SqliteStore::open(&parsed.sqlite_path).await?);
        let model: ModelState = self
            .model(&parsed.model_dir)
            .await
            .map(|queue| (queue, Arc::new(ScoringStats::default())));
        let scorer = match &model {
            Ok((queue, stats)) => Some(scoring::spawn(store.clone(), queue.clone(), stats.clone())),
            Err(reason) => {
                tracing::warn!(%reason, "sentiment model unavailable; queries without sentiment still work");
                None
            }
        };
        let term_indexer = spawn_term_indexer(store.clone());
        instances.insert(
            key,
            Instance {
                updated_ms: settings.last_updated_ms,
                settings: parsed,
                store: store.clone(),
                model: model.clone(),
                scorer,
                term_indexer,
            },
        );
        Ok((store, model))
    }

    async fn model(&self, dir: &std::path::Path) -> Result<ScoringQueue, String> {
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
                use crate::nlp::SentimentModel;
                if model.labels().is_empty() {
                    Err(crate::nlp::NlpError::NoHead {
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

/// Computes terms for rows stored before term indexing existed; new rows get theirs on insert,
/// so this finishes and stops.
fn spawn_term_indexer(store: Arc<dyn FeedbackStore>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match store.index_terms(2_000).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse() {
        let s = DatasourceSettings::from_json_data(br#"{"sqlitePath":" /tmp/a.db "}"#).unwrap();
        assert_eq!(s.sqlite_path, PathBuf::from("/tmp/a.db"));
        assert!(!s.is_default_path);
        assert!(
            DatasourceSettings::from_json_data(b"")
                .unwrap()
                .is_default_path
        );
        assert!(
            DatasourceSettings::from_json_data(br#"{"sqlitePath":""}"#)
                .unwrap()
                .is_default_path
        );
        let e = DatasourceSettings::from_json_data(br#"{"sqlitePath":5}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "jsonData.sqlitePath must be a string, got 5: update the data source config"
        );
    }
}
