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

/// How much lower the engine's threads run than the plugin's others, as a nice value (Linux).
/// At 5, a query thread gets about a third of what a scoring thread gets of a contended core
/// (CFS weights 335 and 1,024); an idle core it still gets whole.
pub const QUERY_NICE: i32 = 5;

/// The runtime the engine's queries execute on: threads of their own, one per core, at
/// [`QUERY_NICE`]. Fifty panels in flight otherwise take as much of the cores as the scorer's
/// threads do, and the model fell behind 100 mentions/s (BENCHMARKS.md, "50 panels at once").
/// Built once and kept for the life of the process; None when its threads cannot be started,
/// and queries then run on the caller's runtime.
fn query_runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RUNTIME: std::sync::OnceLock<Option<tokio::runtime::Runtime>> =
        std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
            // Relative to the thread that builds it (the plugin's), and the same for every
            // thread, including those the runtime starts later from its own (niced) threads.
            let nice = this_threads_nice().map(|base| (base + QUERY_NICE).min(19));
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("pulso-query")
                .on_thread_start(move || {
                    if let Some(nice) = nice {
                        set_this_threads_nice(nice);
                    }
                })
                .enable_all()
                .build()
                .inspect_err(|error| {
                    tracing::warn!(%error, "no query threads of their own; queries share the plugin's");
                })
                .ok()
        })
        .as_ref()
}

/// The calling thread's nice value (Linux, where each thread has its own, inherited from the
/// thread that started it); None elsewhere.
fn this_threads_nice() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and getpriority take plain integers; errno is cleared first, since
        // -1 is also a valid nice value.
        unsafe {
            *libc::__errno_location() = 0;
            let nice = libc::getpriority(libc::PRIO_PROCESS as _, libc::gettid() as libc::id_t);
            (*libc::__errno_location() == 0).then_some(nice)
        }
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Sets the calling thread's nice value; anyone may lower their own priority. A failure
/// leaves it as it was.
fn set_this_threads_nice(nice: i32) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain integer arguments; no memory of ours is touched.
        let failed = unsafe {
            libc::setpriority(libc::PRIO_PROCESS as _, libc::gettid() as libc::id_t, nice) != 0
        };
        if failed {
            tracing::debug!(
                error = %std::io::Error::last_os_error(),
                "query thread keeps its priority"
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

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
        let sql = sql.to_string();
        let work = async move {
            let started = std::time::Instant::now();
            let frame = context.sql(&sql).await.map_err(engine_error)?;
            let planned = started.elapsed();
            let batches = frame.collect().await.map_err(engine_error)?;
            tracing::trace!(
                plan_ms = planned.as_secs_f64() * 1e3,
                run_ms = (started.elapsed() - planned).as_secs_f64() * 1e3,
                sql_bytes = sql.len(),
                "engine query"
            );
            Ok(batches)
        };
        match query_runtime() {
            // The tasks the plan spawns (one per stream) land on the same runtime. A query
            // whose panel was cancelled stops there too, as it did on the caller's runtime.
            Some(runtime) => {
                let mut running = AbortOnDrop(runtime.spawn(work));
                (&mut running.0).await.map_err(engine_error)?
            }
            None => work.await,
        }
    }
}

/// Aborts the task when dropped: when the query's caller goes, so does its work.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn queries_run_on_threads_of_lower_priority() {
        let runtime = query_runtime().expect("the query runtime starts");
        let (nice, name) = runtime
            .block_on(runtime.spawn(async {
                (
                    this_threads_nice(),
                    std::thread::current().name().map(str::to_string),
                )
            }))
            .unwrap();
        assert_eq!(name.as_deref(), Some("pulso-query"));
        let (nice, own) = (nice.unwrap(), this_threads_nice().unwrap());
        // The test thread, which the runtime did not lower, is where the runtime was built
        // (or at the same nice as that thread).
        assert_eq!(
            nice,
            (own + QUERY_NICE).min(19),
            "the test thread is at {own}"
        );
    }

    #[tokio::test]
    async fn a_query_answers_through_the_query_runtime() {
        let engine = Engine::new();
        let batches = engine
            .run_tables(Vec::new(), "SELECT 40 + 2 AS answer")
            .await
            .unwrap();
        assert_eq!(ints(&batches[0], 0).unwrap(), [Some(42)]);
    }
}
