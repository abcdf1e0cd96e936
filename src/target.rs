//! The store a command writes to: a SQLite file (`--db`) or a PostgreSQL database
//! (`--postgres-url`), shared by `pulso demo` and `pulso ingest`.

use std::path::PathBuf;

use anyhow::Context;
use pulso_postgres::{PostgresConfig, PostgresStore};
use pulso_sqlite::{OpenMode, SqliteStore};
use pulso_store::RecordStore;

#[derive(clap::Args)]
pub struct StoreArgs {
    /// SQLite file to create or extend.
    #[arg(
        long,
        required_unless_present = "postgres_url",
        conflicts_with = "postgres_url"
    )]
    pub db: Option<PathBuf>,
    /// PostgreSQL database to write to instead, while plugins may be using it:
    /// postgres://user@host:5432/database. The password comes from $PGPASSWORD.
    #[arg(long)]
    pub postgres_url: Option<String>,
    /// SSL mode for --postgres-url: disable, allow, prefer, require, verify-ca or verify-full
    /// [default: the URL's sslmode, else prefer].
    #[arg(long, requires = "postgres_url")]
    pub postgres_ssl_mode: Option<String>,
}

/// An open store, either kind.
pub enum Target {
    Sqlite(Box<SqliteStore>),
    Postgres(PostgresStore),
}

impl Target {
    /// Opens the store `args` names. With `bulk_load_new_file`, a SQLite file that does not
    /// exist yet is filled without a journal or syncs (if interrupted, it is simply made
    /// again) and its secondary indexes wait for [`Target::finish_bulk_load`].
    pub async fn open(args: &StoreArgs, bulk_load_new_file: bool) -> anyhow::Result<Self> {
        if let Some(url) = &args.postgres_url {
            let config = PostgresConfig {
                url: url.clone(),
                password: std::env::var("PGPASSWORD").ok(),
                ssl_mode: args.postgres_ssl_mode.clone(),
                pool_size: 2,
            };
            return Ok(Self::Postgres(PostgresStore::connect(&config).await?));
        }
        let db = args
            .db
            .as_ref()
            .context("--db or --postgres-url is required")?;
        if let Some(folder) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create the folder {}", folder.display()))?;
        }
        let mode = if bulk_load_new_file && !db.exists() {
            OpenMode::BulkLoad
        } else {
            OpenMode::Durable
        };
        Ok(Self::Sqlite(Box::new(
            SqliteStore::open_with(db, mode).await?,
        )))
    }

    pub fn store(&self) -> &dyn RecordStore {
        match self {
            Self::Sqlite(store) => store.as_ref(),
            Self::Postgres(store) => store,
        }
    }

    /// Builds what a bulk load deferred (SQLite's secondary indexes); nothing on PostgreSQL,
    /// whose indexes are kept as rows arrive.
    pub async fn finish_bulk_load(&self) -> anyhow::Result<()> {
        if let Self::Sqlite(store) = self {
            store.build_deferred_indexes().await?;
        }
        Ok(())
    }

    /// Says where the rows went, without the URL (it may carry a user name or options).
    pub fn describe(&self, args: &StoreArgs) -> String {
        match (self, &args.db) {
            (Self::Sqlite(_), Some(db)) => db.display().to_string(),
            _ => "in PostgreSQL".to_string(),
        }
    }

    /// Closes the connections; a SQLite file then holds everything, none of it in the WAL.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(store) => store.close().await,
            Self::Postgres(store) => store.close().await,
        }
    }
}
