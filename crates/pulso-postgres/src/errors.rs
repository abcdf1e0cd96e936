//! PostgreSQL's failures, named for the person who can fix them.

use pulso_store::StoreError;

/// The store error for a failure talking to PostgreSQL at `location`. `database` names the
/// database for "does not exist" (empty when it is not known here).
pub fn classify(location: &str, database: &str, error: sqlx::Error) -> StoreError {
    let location = location.to_string();
    let code = error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.to_string());
    let message = error.to_string();
    match code.as_deref() {
        // invalid_password, invalid_authorization_specification. A server that takes only
        // encrypted connections answers a plain one with 28000 "... no encryption".
        Some("28000") if message.contains("no encryption") || message.contains("SSL off") => {
            StoreError::PostgresTlsRequired {
                location,
                source: error.into(),
            }
        }
        Some("28P01" | "28000") => StoreError::PostgresAuth {
            location,
            source: error.into(),
        },
        // invalid_catalog_name
        Some("3D000") => StoreError::PostgresDatabaseMissing {
            location,
            database: if database.is_empty() {
                database_in(&message).unwrap_or_default()
            } else {
                database.to_string()
            },
        },
        // read_only_sql_transaction
        Some("25006") => StoreError::PostgresReadOnly {
            location,
            source: error.into(),
        },
        // disk_full, insufficient_resources' out-of-space cousins
        Some("53100") => StoreError::PostgresDiskFull {
            location,
            source: error.into(),
        },
        // admin_shutdown, crash_shutdown, cannot_connect_now: the server is going down or
        // starting up.
        Some("57P01" | "57P02" | "57P03") => StoreError::PostgresUnreachable {
            location,
            source: error.into(),
        },
        _ => match error {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                StoreError::PostgresUnreachable {
                    location,
                    source: error.into(),
                }
            }
            sqlx::Error::Tls(_) => StoreError::PostgresTlsRequired {
                location,
                source: error.into(),
            },
            other => StoreError::query(other),
        },
    }
}

/// The database name in `database "x" does not exist`.
fn database_in(message: &str) -> Option<String> {
    let start = message.find("database \"")? + "database \"".len();
    let end = message[start..].find('"')?;
    Some(message[start..start + end].to_string())
}
