//! Data source instances: each configured Pulso data source gets its own open store, reopened
//! when its settings change.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use grafana_plugin_sdk::pluginv2;
use serde_json::Value;
use thiserror::Error;
use tokio::sync::Mutex;

use crate::store::{FeedbackStore, SqliteStore, StoreError};

#[derive(Debug, Error)]
pub enum InstanceError {
    #[error(
        "the request carries no data source settings: call Pulso through a configured data source"
    )]
    MissingSettings,
    #[error("the data source's JSON settings are not valid JSON ({0}): save the data source settings again")]
    InvalidJsonData(String),
    #[error("jsonData.sqlitePath must be a string, got {0}: update the data source config")]
    InvalidSqlitePath(String),
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
        match value.get("sqlitePath") {
            Some(Value::String(path)) if !path.trim().is_empty() => Ok(Self {
                sqlite_path: PathBuf::from(path.trim()),
                is_default_path: false,
            }),
            None | Some(Value::Null) | Some(Value::String(_)) => Ok(Self {
                sqlite_path: default_sqlite_path(),
                is_default_path: true,
            }),
            Some(other) => Err(InstanceError::InvalidSqlitePath(other.to_string())),
        }
    }
}

/// Inside Grafana's data directory when Grafana says where that is, else `./data/`.
pub fn default_sqlite_path() -> PathBuf {
    match std::env::var_os("GF_PATHS_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("pulso").join("pulso.db"),
        _ => PathBuf::from("data").join("pulso.db"),
    }
}

struct Instance {
    updated_ms: i64,
    settings: DatasourceSettings,
    store: Arc<dyn FeedbackStore>,
}

#[derive(Default)]
pub struct Instances {
    by_datasource: Mutex<HashMap<(i64, String), Instance>>,
}

impl Instances {
    /// The store for the request's data source, opened on first use. Failures are not cached,
    /// so fixing the settings or the folder takes effect on the next request.
    pub async fn store(
        &self,
        context: Option<&pluginv2::PluginContext>,
    ) -> Result<Arc<dyn FeedbackStore>, InstanceError> {
        let settings = context
            .and_then(|c| c.data_source_instance_settings.as_ref())
            .ok_or(InstanceError::MissingSettings)?;
        let parsed = DatasourceSettings::from_json_data(&settings.json_data)?;
        let key = (settings.id, settings.uid.clone());
        let mut instances = self.by_datasource.lock().await;
        if let Some(instance) = instances.get(&key) {
            if instance.updated_ms == settings.last_updated_ms && instance.settings == parsed {
                return Ok(instance.store.clone());
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
        instances.insert(
            key,
            Instance {
                updated_ms: settings.last_updated_ms,
                settings: parsed,
                store: store.clone(),
            },
        );
        Ok(store)
    }
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
