//! Apache DataFusion over a mirror snapshot: each query gets a session whose `feedback` table
//! is the snapshot's partitions that overlap the query's time range, split into one stream
//! per core.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Float64Array, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList,
    MemorySchemaProvider, SchemaProvider,
};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::mirror::{schema, Snapshot};
use pulso_store::StoreError;

/// Streams per query: this machine kind has two cores, and Grafana sends many queries at once.
const STREAMS: usize = 2;

/// Queries that execute at once; the rest wait their turn, first come first served. Two
/// streams each keep both cores busy, and a cap bounds the hash tables held at the same time:
/// 50 queries sent at once otherwise took RSS from 340 to 810 MiB at 1M rows.
const RUNNING_QUERIES: usize = 2 * STREAMS;

pub struct Engine {
    state: SessionState,
    running: tokio::sync::Semaphore,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    pub fn new() -> Self {
        let config = SessionConfig::new()
            .with_target_partitions(STREAMS)
            // Results are small; big batches only add copying.
            .with_batch_size(8_192)
            .with_information_schema(false);
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .build();
        Self {
            state,
            running: tokio::sync::Semaphore::new(RUNNING_QUERIES),
        }
    }

    /// Runs `sql` over the partitions of `snapshot` that overlap `from_ms..=to_ms`.
    pub async fn run(
        &self,
        snapshot: &Snapshot,
        (from_ms, to_ms): (i64, i64),
        sql: &str,
    ) -> Result<Vec<RecordBatch>, StoreError> {
        let batches = snapshot
            .partitions
            .iter()
            .filter(|p| p.overlaps(from_ms, to_ms))
            .map(|p| p.batch.clone())
            .collect();
        self.run_tables(vec![Table::new("feedback", schema(), batches)], sql)
            .await
    }

    /// Runs `sql` over `feedback_0`, `feedback_1`, ...: the partitions of `snapshot` that
    /// overlap each of `spans`, so each branch of a batched query reads only its own days.
    pub async fn run_branches(
        &self,
        snapshot: &Snapshot,
        spans: &[(i64, i64)],
        sql: &str,
    ) -> Result<Vec<RecordBatch>, StoreError> {
        let tables = spans
            .iter()
            .enumerate()
            .map(|(w, (from_ms, to_ms))| {
                let batches = snapshot
                    .partitions
                    .iter()
                    .filter(|p| p.overlaps(*from_ms, *to_ms))
                    .map(|p| p.batch.clone())
                    .collect();
                Table::new(format!("feedback_{w}"), schema(), batches)
            })
            .collect();
        self.run_tables(tables, sql).await
    }

    /// Runs `sql` over the given tables.
    pub async fn run_tables(
        &self,
        tables: Vec<Table>,
        sql: &str,
    ) -> Result<Vec<RecordBatch>, StoreError> {
        // A catalog of its own per query: the shared state's would see every query's tables.
        let schema = MemorySchemaProvider::new();
        for table in tables {
            let mut streams: Vec<Vec<RecordBatch>> = vec![Vec::new(); STREAMS];
            for (i, batch) in table.batches.into_iter().enumerate() {
                streams[i % STREAMS].push(batch);
            }
            streams.retain(|s| !s.is_empty());
            if streams.is_empty() {
                streams.push(Vec::new());
            }
            let provider = MemTable::try_new(table.schema, streams).map_err(engine_error)?;
            schema
                .register_table(table.name, Arc::new(provider))
                .map_err(engine_error)?;
        }
        let catalog = MemoryCatalogProvider::new();
        catalog
            .register_schema("public", Arc::new(schema))
            .map_err(engine_error)?;
        let catalogs = MemoryCatalogProviderList::new();
        catalogs.register_catalog("datafusion".to_string(), Arc::new(catalog));
        let state = SessionStateBuilder::new_from_existing(self.state.clone())
            .with_catalog_list(Arc::new(catalogs))
            .build();
        let context = SessionContext::new_with_state(state);
        let _turn = self
            .running
            .acquire()
            .await
            .expect("the engine's semaphore is never closed");
        let started = std::time::Instant::now();
        let frame = context.sql(sql).await.map_err(engine_error)?;
        let planned = started.elapsed();
        let batches = frame.collect().await.map_err(engine_error)?;
        tracing::trace!(
            plan_ms = planned.as_secs_f64() * 1e3,
            run_ms = (started.elapsed() - planned).as_secs_f64() * 1e3,
            sql_bytes = sql.len(),
            "engine query"
        );
        Ok(batches)
    }
}

/// A table for one query: its name in the SQL, and its batches.
pub struct Table {
    name: String,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl Table {
    pub fn new(name: impl Into<String>, schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Self {
            name: name.into(),
            schema,
            batches,
        }
    }
}

fn engine_error(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::engine(error)
}

/// A result column as 64-bit integers, whatever integer type the engine chose.
pub fn ints(batch: &RecordBatch, column: usize) -> Result<Vec<Option<i64>>, StoreError> {
    let array = as_type(batch.column(column), &DataType::Int64)?;
    let array = array
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| StoreError::engine("integer column expected"))?;
    Ok(array.iter().collect())
}

/// A result column as 64-bit floats.
pub fn floats(batch: &RecordBatch, column: usize) -> Result<Vec<Option<f64>>, StoreError> {
    let array = as_type(batch.column(column), &DataType::Float64)?;
    let array = array
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| StoreError::engine("float column expected"))?;
    Ok(array.iter().collect())
}

fn as_type(array: &ArrayRef, to: &DataType) -> Result<ArrayRef, StoreError> {
    if array.data_type() == to {
        Ok(array.clone())
    } else {
        cast(array, to).map_err(engine_error)
    }
}
