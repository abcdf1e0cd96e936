//! The one settings model of a Pulso data source: parsed and validated once from Grafana's
//! `jsonData` and decrypted `secureJsonData`, then shared by everything the instance runs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

use pulso_insights::llm::LlmConfig;
use pulso_nlp::files::default_model_dir;

/// Grafana gives up on a query after about 30 s, so two 10 s attempts leave room for the
/// offline fallback; slow local models can raise it with `llmTimeoutSeconds`.
const DEFAULT_LLM_TIMEOUT_SECONDS: u64 = 10;
const LLM_ATTEMPTS: u32 = 2;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SettingsError {
    #[error("the data source's JSON settings are not valid JSON ({0}): save the data source settings again")]
    InvalidJsonData(String),
    #[error("jsonData.{field} must be {expected}, got {value}: update the data source config")]
    WrongType {
        field: &'static str,
        expected: &'static str,
        value: String,
    },
    #[error("jsonData.llmTimeoutSeconds {0} is out of range: use 1 to 300 seconds in the language model section of the data source config")]
    LlmTimeout(u64),
    #[error("llmUrl is set but llmModel is empty: update the language model section of the data source config")]
    LlmModelMissing,
    #[error("llmUrl carries a user name or password (user:password@), which would be sent beside the API key and could be echoed back: remove it from the URL and put the key in the API key field of the language model section (stored encrypted)")]
    LlmUrlCredentials,
}

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
    /// `LoadSettings` and `Validate` in one: every field is checked here, once.
    pub fn load(json_data: &[u8], secure: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let json: Value = if json_data.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(json_data)
                .map_err(|e| SettingsError::InvalidJsonData(e.to_string()))?
        };
        let fields = Fields(&json);
        let sqlite_path = fields.text("sqlitePath")?.map(PathBuf::from);
        let model_dir = fields
            .text("modelPath")?
            .map(PathBuf::from)
            .unwrap_or_else(default_model_dir);
        Ok(Self {
            storage: StorageSettings {
                is_default_path: sqlite_path.is_none(),
                sqlite_path: sqlite_path.unwrap_or_else(default_sqlite_path),
            },
            model_dir,
            llm: llm_settings(&fields, secure),
        })
    }
}

/// Whether a URL's authority has a `user@` or `user:password@` part.
fn has_credentials(url: &str) -> bool {
    let rest = url.trim().split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.contains('@')
}

fn llm_settings(
    fields: &Fields<'_>,
    secure: &HashMap<String, String>,
) -> Result<Option<LlmConfig>, SettingsError> {
    let Some(url) = fields.text("llmUrl")? else {
        return Ok(None);
    };
    if has_credentials(&url) {
        return Err(SettingsError::LlmUrlCredentials);
    }
    let model = fields
        .text("llmModel")?
        .ok_or(SettingsError::LlmModelMissing)?;
    let key = secure
        .get("llmApiKey")
        .filter(|k| !k.trim().is_empty())
        .cloned();
    let mut config = LlmConfig::new(url, model, key);
    let timeout = match fields.0.get("llmTimeoutSeconds") {
        None | Some(Value::Null) => DEFAULT_LLM_TIMEOUT_SECONDS,
        Some(value) => match value.as_u64() {
            Some(seconds) if (1..=300).contains(&seconds) => seconds,
            Some(seconds) => return Err(SettingsError::LlmTimeout(seconds)),
            None => {
                return Err(SettingsError::WrongType {
                    field: "llmTimeoutSeconds",
                    expected: "a whole number of seconds",
                    value: value.to_string(),
                })
            }
        },
    };
    config.timeout = Duration::from_secs(timeout);
    config.max_attempts = LLM_ATTEMPTS;
    Ok(Some(config))
}

struct Fields<'a>(&'a Value);

impl Fields<'_> {
    /// A trimmed, non-empty string field, or `None` when absent, null or blank.
    fn text(&self, field: &'static str) -> Result<Option<String>, SettingsError> {
        match self.0.get(field) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            None | Some(Value::Null) | Some(Value::String(_)) => Ok(None),
            Some(other) => Err(SettingsError::WrongType {
                field,
                expected: "a string",
                value: other.to_string(),
            }),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(json: &str) -> Result<Settings, SettingsError> {
        Settings::load(json.as_bytes(), &HashMap::new())
    }

    #[test]
    fn storage_paths() {
        let s = load(r#"{"sqlitePath":" /tmp/a.db "}"#).unwrap();
        assert_eq!(s.storage.sqlite_path, PathBuf::from("/tmp/a.db"));
        assert!(!s.storage.is_default_path);
        assert!(
            Settings::load(b"", &HashMap::new())
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
        let s = Settings::load(
            br#"{"llmUrl":"http://h/v1","llmModel":"m","llmTimeoutSeconds":30}"#,
            &secure,
        )
        .unwrap();
        assert!(!format!("{s:?}").contains("sk-test"));
        let config = s.llm.unwrap().unwrap();
        assert_eq!(config.timeout, Duration::from_secs(30));
        assert_eq!(config.api_key.as_deref(), Some("sk-test"));
    }
}
