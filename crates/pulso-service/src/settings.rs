//! The one settings model of a Pulso data source: parsed and validated once from Grafana's
//! `jsonData` and decrypted `secureJsonData`, then shared by everything the instance runs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

use crate::DataSource;
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
    #[error("jsonData.sqlitePath {value:?} {reason}: set it to the absolute path of a database file, such as /var/lib/grafana/pulso/sales.db, or leave it empty to give this data source a database of its own")]
    SqlitePath { value: String, reason: &'static str },
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
    pub fn load(source: &DataSource<'_>) -> Result<Self, SettingsError> {
        let json: Value = if source.json_data.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(source.json_data)
                .map_err(|e| SettingsError::InvalidJsonData(e.to_string()))?
        };
        let fields = Fields(&json);
        let sqlite_path = fields
            .text("sqlitePath")?
            .map(|text| checked_sqlite_path(&text))
            .transpose()?;
        let model_dir = fields
            .text("modelPath")?
            .map(PathBuf::from)
            .unwrap_or_else(default_model_dir);
        Ok(Self {
            storage: StorageSettings {
                is_default_path: sqlite_path.is_none(),
                sqlite_path: sqlite_path
                    .unwrap_or_else(|| default_sqlite_path(source.org_id, source.uid)),
            },
            model_dir,
            llm: llm_settings(&fields, source.secure),
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

/// A configured sqlitePath, refused when it cannot be a database file of its own.
fn checked_sqlite_path(text: &str) -> Result<PathBuf, SettingsError> {
    let refuse = |reason| SettingsError::SqlitePath {
        value: text.to_string(),
        reason,
    };
    let trimmed = text.trim();
    if trimmed == ":memory:" || trimmed.starts_with("file:") {
        return Err(refuse(
            "is not a file path (an in-memory database would lose everything)",
        ));
    }
    let path = PathBuf::from(trimmed);
    if !path.is_absolute() {
        return Err(refuse(
            "is a relative path, which would depend on where Grafana was started",
        ));
    }
    if ["/dev", "/proc", "/sys"]
        .iter()
        .any(|system| path.starts_with(system))
    {
        return Err(refuse("is a device or system file"));
    }
    if path.is_dir() {
        return Err(refuse("is a folder"));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
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
