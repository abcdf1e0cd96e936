//! The one settings model of a Pulso data source: `jsonData` and the decrypted
//! `secureJsonData` are parsed and checked once (`pulso_core::settings`), given the service's
//! defaults, and shared by everything the instance runs.

use std::path::PathBuf;
use std::time::Duration;

use crate::DataSource;
pub use pulso_core::settings::SettingsError;
use pulso_core::settings::{DataSourceSettings, LlmSettings, StorageChoice};
use pulso_insights::llm::LlmConfig;
use pulso_nlp::files::default_model_dir;
use pulso_postgres::PostgresConfig;

const LLM_ATTEMPTS: u32 = 2;

/// Where the record store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageSettings {
    Sqlite {
        sqlite_path: PathBuf,
        /// Whether the path is Pulso's default, whose folder Pulso may create.
        is_default_path: bool,
    },
    Postgres(PostgresConfig),
}

/// A data source's settings. The LLM part fails on its own: a mistake there only affects
/// insights, which fall back to the offline summary and say why.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub storage: StorageSettings,
    /// The sentiment model folder.
    pub model_dir: PathBuf,
    pub llm: Result<Option<LlmConfig>, SettingsError>,
}

impl Settings {
    /// `LoadSettings` and `Validate` in one: every field is checked, once.
    pub fn load(source: &DataSource<'_>) -> Result<Self, SettingsError> {
        let parsed = DataSourceSettings::parse(source.json_data, source.secure)?;
        Ok(Self {
            storage: match parsed.storage {
                StorageChoice::Sqlite { path } => StorageSettings::Sqlite {
                    is_default_path: path.is_none(),
                    sqlite_path: path
                        .unwrap_or_else(|| default_sqlite_path(source.org_id, source.uid)),
                },
                StorageChoice::Postgres(postgres) => StorageSettings::Postgres(PostgresConfig {
                    url: postgres.url,
                    password: postgres.password,
                    ssl_mode: postgres.ssl_mode,
                    pool_size: postgres.pool_size,
                }),
            },
            model_dir: parsed.model_path.unwrap_or_else(default_model_dir),
            llm: parsed.llm.map(|llm| llm.map(llm_config)),
        })
    }
}

fn llm_config(settings: LlmSettings) -> LlmConfig {
    let mut config = LlmConfig::new(settings.url, settings.model, settings.api_key);
    config.timeout = Duration::from_secs(settings.timeout_seconds);
    config.max_attempts = LLM_ATTEMPTS;
    config
}

/// A data source's own database, `pulso/<org id>/<uid>.db` inside Grafana's data directory
/// when Grafana says where that is, else under `./data/`: data sources that leave sqlitePath
/// empty never share one, across organisations or within one.
pub fn default_sqlite_path(org_id: i64, uid: &str) -> PathBuf {
    let root = match std::env::var_os("GF_PATHS_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("data"),
    };
    // Grafana uids are letters, digits, - and _; anything else could leave the folder.
    let mut name: String = uid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        name.push_str("default");
    }
    root.join("pulso")
        .join(org_id.to_string())
        .join(format!("{name}.db"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn load_with(
        json: &[u8],
        secure: &HashMap<String, String>,
        org_id: i64,
    ) -> Result<Settings, SettingsError> {
        Settings::load(&DataSource {
            org_id,
            id: 7,
            uid: "sales-ds",
            updated_ms: 0,
            json_data: json,
            secure,
        })
    }

    fn load(json: &str) -> Result<Settings, SettingsError> {
        load_with(json.as_bytes(), &HashMap::new(), 1)
    }

    /// The SQLite path and whether it is the default.
    fn sqlite(settings: Settings) -> (PathBuf, bool) {
        match settings.storage {
            StorageSettings::Sqlite {
                sqlite_path,
                is_default_path,
            } => (sqlite_path, is_default_path),
            other => panic!("expected SQLite storage, got {other:?}"),
        }
    }

    #[test]
    fn storage_paths() {
        let s = load(r#"{"sqlitePath":" /tmp/a.db "}"#).unwrap();
        assert_eq!(sqlite(s), (PathBuf::from("/tmp/a.db"), false));
        assert!(sqlite(load_with(b"", &HashMap::new(), 1).unwrap()).1);
        assert!(sqlite(load(r#"{"sqlitePath":"","storage":"sqlite"}"#).unwrap()).1);
        // Each data source without a sqlitePath gets its own file, per organisation.
        let own = |org| sqlite(load_with(b"{}", &HashMap::new(), org).unwrap()).0;
        assert!(own(1).ends_with("pulso/1/sales-ds.db"), "{:?}", own(1));
        assert!(own(2).ends_with("pulso/2/sales-ds.db"), "{:?}", own(2));
        let folder = std::env::temp_dir();
        for (path, reason) in [
            ("/dev/null", "device"),
            ("relative/pulso.db", "relative path"),
            (":memory:", "not a file path"),
            ("file:x.db?mode=memory", "not a file path"),
            (folder.to_str().unwrap(), "is a folder"),
        ] {
            let e = load(&serde_json::json!({ "sqlitePath": path }).to_string()).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("jsonData.sqlitePath") && text.contains(reason),
                "{path}: {text}"
            );
        }
        let e = load(r#"{"sqlitePath":5}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "jsonData.sqlitePath must be a string, got 5: update the data source config"
        );
    }

    #[test]
    fn postgres_storage_is_checked_once_and_keeps_its_password_secret() {
        let secure = HashMap::from([("postgresPassword".to_string(), "pg-s3cret".to_string())]);
        let s = load_with(
            br#"{"storage":"postgres","postgresUrl":" postgres://pulso@db:5432/pulso ","postgresSslMode":"require"}"#,
            &secure,
            1,
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("pg-s3cret"), "{s:?}");
        assert_eq!(
            s.storage,
            StorageSettings::Postgres(PostgresConfig {
                url: "postgres://pulso@db:5432/pulso".to_string(),
                password: Some("pg-s3cret".to_string()),
                ssl_mode: Some("require".to_string()),
                pool_size: pulso_core::settings::DEFAULT_POSTGRES_POOL_SIZE,
            })
        );
        for (json, expected) in [
            (r#"{"storage":"mysql"}"#, "jsonData.storage \"mysql\""),
            (r#"{"storage":"postgres"}"#, "postgresUrl is empty"),
            (
                r#"{"storage":"postgres","postgresUrl":"mysql://db/pulso"}"#,
                "does not start with postgres://",
            ),
            (
                r#"{"storage":"postgres","postgresUrl":"postgres://pulso:hunter2@db/pulso"}"#,
                "Password field",
            ),
            (
                r#"{"storage":"postgres","postgresUrl":"postgres://db/p","postgresSslMode":"on"}"#,
                "postgresSslMode \"on\"",
            ),
            (
                r#"{"storage":"postgres","postgresUrl":"postgres://db/p","postgresPoolSize":500}"#,
                "postgresPoolSize 500",
            ),
        ] {
            let e = load(json).unwrap_err().to_string();
            assert!(e.contains(expected), "{json}: {e}");
            assert!(e.contains("Storage settings"), "{json}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn llm_settings_are_checked_once_and_fail_on_their_own() {
        assert_eq!(load("{}").unwrap().llm, Ok(None));
        for url in [
            "https://me:s3cret@api.example.com/v1",
            "http://key@127.0.0.1:9/v1",
        ] {
            let e = load(&format!(r#"{{"llmUrl":"{url}","llmModel":"m"}}"#))
                .unwrap()
                .llm
                .unwrap_err();
            assert_eq!(e, SettingsError::LlmUrlCredentials);
            assert!(!e.to_string().contains("s3cret"), "{e}");
            assert!(e.to_string().contains("API key field"), "{e}");
        }
        // An @ after the host (a path or query) is not a credential.
        assert!(load(r#"{"llmUrl":"http://h/v1?team=a@b","llmModel":"m"}"#)
            .unwrap()
            .llm
            .unwrap()
            .is_some());
        let s = load(r#"{"llmUrl":"http://127.0.0.1:9/v1"}"#).unwrap();
        assert_eq!(s.llm, Err(SettingsError::LlmModelMissing));
        let s = load(r#"{"llmUrl":"http://h/v1","llmModel":"m","llmTimeoutSeconds":301}"#).unwrap();
        assert_eq!(s.llm, Err(SettingsError::LlmTimeout(301)));
        let secure = HashMap::from([("llmApiKey".to_string(), "sk-test".to_string())]);
        let s = load_with(
            br#"{"llmUrl":"http://h/v1","llmModel":"m","llmTimeoutSeconds":30}"#,
            &secure,
            1,
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("sk-test"));
        let config = s.llm.unwrap().unwrap();
        assert_eq!(config.timeout, Duration::from_secs(30));
        assert_eq!(config.api_key.as_deref(), Some("sk-test"));
    }
}
