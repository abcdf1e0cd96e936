//! The SQLite record store: the system of record behind the `pulso-store` traits, embedded in
//! the plugin. It knows SQL and nothing about text analysis.

mod raw;
mod sqlite;

pub use raw::RawRow;
pub use sqlite::{OpenMode, SqliteStore};
