//! The one settings model of a Pulso data source: `jsonData` and the decrypted
//! `secureJsonData` are parsed and checked once (`pulso_core::settings`), given the service's
//! defaults, and shared by everything the instance runs.

use std::path::PathBuf;
use std::time::Duration;

use crate::DataSource;
pub use pulso_core::settings::SettingsError;
use pulso_core::settings::{DataSourceSettings, LlmSettings};
use pulso_insights::llm::LlmConfig;
use pulso_nlp::files::default_model_dir;

const LLM_ATTEMPTS: u32 = 2;

/// Where the record store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSettings {
    pub sqlite_path: PathBuf,
    /// Whether the path is Pulso's default, whose folder Pulso may create.
    pub is_default_path: bool,
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
            storage: StorageSettings {
                is_default_path: parsed.sqlite_path.is_none(),
                sqlite_path: parsed
                    .sqlite_path
                    .unwrap_or_else(|| default_sqlite_path(source.org_id, source.uid)),
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

    #[test]
    fn storage_paths() {
        let s = load(r#"{"sqlitePath":" /tmp/a.db "}"#).unwrap();
        assert_eq!(s.storage.sqlite_path, PathBuf::from("/tmp/a.db"));
        assert!(!s.storage.is_default_path);
        assert!(
            load_with(b"", &HashMap::new(), 1)
                .unwrap()
                .storage
                .is_default_path
        );
        assert!(
            load(r#"{"sqlitePath":""}"#)
                .unwrap()
                .storage
                .is_default_path
        );
        // Each data source without a sqlitePath gets its own file, per organisation.
        let own = |org| {
            load_with(b"{}", &HashMap::new(), org)
                .unwrap()
                .storage
                .sqlite_path
        };
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
