//! A data source's settings as Grafana stores them, `jsonData` and the decrypted
//! `secureJsonData`, parsed and checked here once; the service adds its defaults (the
//! per-organisation database path, the model beside the executable) and builds from them the
//! one `Settings` everything shares. Here, so that the parser can be fuzzed without the engine.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use serde_json::Value;
use thiserror::Error;

/// Grafana gives up on a query after about 30 s, so two 10 s attempts leave room for the
/// offline fallback; slow local models can raise it with `llmTimeoutSeconds`.
pub const DEFAULT_LLM_TIMEOUT_SECONDS: u64 = 10;

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
    #[error("jsonData.storage {0:?} is not a storage Pulso knows: choose sqlite or postgres in the data source's Storage settings")]
    StorageKind(String),
    #[error("storage is postgres but postgresUrl is empty: set it, such as postgres://pulso@db:5432/pulso, in the data source's Storage settings")]
    PostgresUrlMissing,
    #[error("jsonData.postgresUrl {value:?} {reason}: set it to a URL such as postgres://pulso@db:5432/pulso in the data source's Storage settings")]
    PostgresUrl { value: String, reason: &'static str },
    #[error("postgresUrl carries a password (user:password@), which Grafana keeps unencrypted in jsonData: remove it from the URL and put it in the Password field of the data source's Storage settings (stored encrypted)")]
    PostgresUrlPassword,
    #[error("jsonData.postgresSslMode {0:?} is not an SSL mode: use disable, allow, prefer, require, verify-ca or verify-full in the data source's Storage settings")]
    PostgresSslMode(String),
    #[error("jsonData.postgresPoolSize {0} is out of range: use 2 to 100 connections in the data source's Storage settings")]
    PostgresPoolSize(String),
}

/// Connections a PostgreSQL data source's pool opens at most, unless its settings say.
pub const DEFAULT_POSTGRES_POOL_SIZE: u32 = 10;
const SSL_MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// Where a data source keeps its mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageChoice {
    /// A SQLite file inside the plugin: `sqlitePath`, or Pulso's default path when `None`.
    Sqlite { path: Option<PathBuf> },
    /// A PostgreSQL database shared by every Grafana instance.
    Postgres(PostgresSettings),
}

/// The PostgreSQL database a data source uses.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresSettings {
    /// Without a password: that is in `password`, from `secureJsonData.postgresPassword`.
    pub url: String,
    pub password: Option<String>,
    /// One of the SSL modes; `None` keeps the URL's `sslmode`, else `prefer`.
    pub ssl_mode: Option<String>,
    pub pool_size: u32,
}

impl fmt::Debug for PostgresSettings {
    // The password never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresSettings")
            .field("url", &self.url)
            .field("password", &self.password.as_ref().map(|_| "[configured]"))
            .field("ssl_mode", &self.ssl_mode)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

/// What the data source's settings say, checked; absent fields are None.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSourceSettings {
    pub storage: StorageChoice,
    pub model_path: Option<PathBuf>,
    /// The LLM part fails on its own: a mistake there only affects insights.
    pub llm: Result<Option<LlmSettings>, SettingsError>,
}

/// The language model to ask for insights.
#[derive(Clone, PartialEq, Eq)]
pub struct LlmSettings {
    pub url: String,
    pub model: String,
    pub api_key: Option<String>,
    pub timeout_seconds: u64,
}

impl fmt::Debug for LlmSettings {
    // The key never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmSettings")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[configured]"))
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

impl DataSourceSettings {
    /// Parses `jsonData` (empty means no settings) and the decrypted secure fields.
    pub fn parse(
        json_data: &[u8],
        secure: &HashMap<String, String>,
    ) -> Result<DataSourceSettings, SettingsError> {
        let json: Value = if json_data.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(json_data)
                .map_err(|e| SettingsError::InvalidJsonData(e.to_string()))?
        };
        let fields = Fields(&json);
        let storage = match fields.text("storage")?.as_deref() {
            None | Some("sqlite") => StorageChoice::Sqlite {
                path: fields
                    .text("sqlitePath")?
                    .map(|text| checked_sqlite_path(&text))
                    .transpose()?,
            },
            Some("postgres") => StorageChoice::Postgres(postgres_settings(&fields, secure)?),
            Some(other) => return Err(SettingsError::StorageKind(other.to_string())),
        };
        let model_path = fields.text("modelPath")?.map(PathBuf::from);
        Ok(DataSourceSettings {
            storage,
            model_path,
            llm: llm_settings(&fields, secure),
        })
    }
}

fn postgres_settings(
    fields: &Fields<'_>,
    secure: &HashMap<String, String>,
) -> Result<PostgresSettings, SettingsError> {
    let url = fields
        .text("postgresUrl")?
        .ok_or(SettingsError::PostgresUrlMissing)?;
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(SettingsError::PostgresUrl {
            value: url,
            reason: "is not a URL",
        });
    };
    if scheme != "postgres" && scheme != "postgresql" {
        return Err(SettingsError::PostgresUrl {
            value: url,
            reason: "does not start with postgres://",
        });
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if let Some((user_info, _)) = authority.rsplit_once('@') {
        if user_info.contains(':') {
            return Err(SettingsError::PostgresUrlPassword);
        }
    }
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host.is_empty() {
        return Err(SettingsError::PostgresUrl {
            value: url,
            reason: "names no host",
        });
    }
    let ssl_mode = fields
        .text("postgresSslMode")?
        .map(|mode| {
            if SSL_MODES.contains(&mode.as_str()) {
                Ok(mode)
            } else {
                Err(SettingsError::PostgresSslMode(mode))
            }
        })
        .transpose()?;
    let pool_size = match fields.0.get("postgresPoolSize") {
        None | Some(Value::Null) => DEFAULT_POSTGRES_POOL_SIZE,
        Some(value) => match value.as_u64() {
            Some(size) if (2..=100).contains(&size) => size as u32,
            _ => return Err(SettingsError::PostgresPoolSize(value.to_string())),
        },
    };
    let password = secure
        .get("postgresPassword")
        .filter(|p| !p.is_empty())
        .cloned();
    Ok(PostgresSettings {
        url,
        password,
        ssl_mode,
        pool_size,
    })
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
) -> Result<Option<LlmSettings>, SettingsError> {
    let Some(url) = fields.text("llmUrl")? else {
        return Ok(None);
    };
    if has_credentials(&url) {
        return Err(SettingsError::LlmUrlCredentials);
    }
    let model = fields
        .text("llmModel")?
        .ok_or(SettingsError::LlmModelMissing)?;
    let api_key = secure
        .get("llmApiKey")
        .filter(|k| !k.trim().is_empty())
        .cloned();
    let timeout_seconds = match fields.0.get("llmTimeoutSeconds") {
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
    Ok(Some(LlmSettings {
        url,
        model,
        api_key,
        timeout_seconds,
    }))
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
