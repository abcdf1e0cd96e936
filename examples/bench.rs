//! The analytics engine through the plugin protocol, against DuckDB on the same rows.
//!
//! `cargo build --release && cargo run --release --example bench -- --rows 1000000`
//!
//! With `--postgres`, it compares the stores instead: the same rows also in a PostgreSQL
//! database (`PULSO_TEST_POSTGRES_URL` names the server), and each panel's p50/p95 and the main
//! dashboard's wall time measured with the data source on SQLite, then on PostgreSQL.
//!
//! Builds (or reuses) a demo database with fixture scores (`pulso demo --fixture-scores`
//! does the same), starts the release plugin the way Grafana does (go-plugin handshake,
//! pluginv2 gRPC, no sentiment model), and measures in one run:
//! - how long the analytics mirror takes to warm, and the plugin's memory;
//! - each aggregation panel's p50/p95 through gRPC, against DuckDB (Python, in memory, the
//!   same threads) running the same aggregation over the same rows, loaded from a CSV export;
//! - the main dashboard's panels sent at once, as Grafana sends them;
//! - offline insights and trending terms;
//! - 50 mixed queries at once against the same queries one at a time;
//! - how soon a row pushed through `POST /feedback`, or written by another process, is
//!   counted by a panel.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use grafana_plugin_sdk::pluginv2;
use pulso_demo::database::write_demo;
use pulso_demo::fixture::FIXTURE_MODEL_ID;
use pulso_demo::DemoOptions;
use pulso_postgres::{PostgresConfig, PostgresStore};
use pulso_sql::{Bind, Statement};
use pulso_sqlite::{OpenMode, SqliteStore};
use pulso_store::RecordStore;
use serde_json::{json, Value};
use tonic::transport::Channel;

#[derive(Parser)]
struct Args {
    /// Demo rows to generate.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Database file; reused when it already holds `rows` rows. Defaults to
    /// target/bench/pulso-<rows>.db.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Timed runs per query, after warm-up.
    #[arg(long, default_value_t = 30)]
    iterations: usize,
    /// Plugin binary; defaults to the `pulso` built beside this example, wherever the
    /// target directory is.
    #[arg(long, default_value_os_t = sibling_plugin())]
    plugin: PathBuf,
    /// Queries sent at once in the concurrency test.
    #[arg(long, default_value_t = 50)]
    concurrency: usize,
    /// Skip the DuckDB anchor (it needs `pip install duckdb`).
    #[arg(long)]
    no_duckdb: bool,
    /// Only build the database, then stop.
    #[arg(long)]
    prepare_only: bool,
    /// Compare the record stores instead: the same rows in a PostgreSQL database on the server
    /// `PULSO_TEST_POSTGRES_URL` names (`tools/postgres.sh start DIR durable` starts one), and
    /// each panel and the main dashboard measured on SQLite, then on PostgreSQL.
    #[arg(long)]
    postgres: bool,
}

/// Where a plugin reads: the data source's storage settings.
enum Storage {
    Sqlite(PathBuf),
    /// A superuser URL with its password, as `tools/postgres.sh` prints it.
    Postgres(String),
}

impl Storage {
    fn name(&self) -> &'static str {
        match self {
            Storage::Sqlite(_) => "SQLite",
            Storage::Postgres(_) => "PostgreSQL",
        }
    }

    /// jsonData, and the decrypted secureJsonData, as Grafana sends them.
    fn settings(&self) -> anyhow::Result<(Value, HashMap<String, String>)> {
        Ok(match self {
            Storage::Sqlite(db) => (
                json!({"sqlitePath": std::fs::canonicalize(db)?, "modelPath": "/nonexistent/no-model"}),
                HashMap::new(),
            ),
            Storage::Postgres(url) => {
                let (url, password) = pulso_testkit::postgres::split_password(url);
                (
                    json!({"storage": "postgres", "postgresUrl": url, "postgresSslMode": "disable", "modelPath": "/nonexistent/no-model"}),
                    [("postgresPassword".to_string(), password)].into(),
                )
            }
        })
    }
}

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// 2026-01-01T00:00:00Z: fixed, so reruns reuse the file.
const END_MS: i64 = 1_767_225_600_000;

/// The benchmark's rows: 180 days to [`END_MS`], seed 42, in either store.
fn bench_demo(rows: usize) -> DemoOptions {
    DemoOptions {
        rows,
        days: 180,
        seed: 42,
        end_time_ms: END_MS,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn prepare(args: &Args, db: &Path) -> anyhow::Result<()> {
    if let Some(folder) = db.parent() {
        std::fs::create_dir_all(folder)?;
    }
    // A new file is filled as `pulso demo` fills one: bulk-load mode, indexes built at the end.
    let mode = if db.exists() {
        OpenMode::Durable
    } else {
        OpenMode::BulkLoad
    };
    let store = SqliteStore::open_with(db, mode).await?;
    // Rows an earlier run's freshness test added.
    sqlx::query("DELETE FROM feedback WHERE platform = 'bench' OR external_id LIKE 'bench-%'")
        .execute(store.pool())
        .await?;
    let existing = store.health().await?.total_rows;
    if existing == args.rows as i64 {
        return Ok(());
    }
    if existing != 0 {
        bail!(
            "{} holds {existing} rows, not {}: delete it first",
            db.display(),
            args.rows
        );
    }
    let started = Instant::now();
    let report = write_demo(&store, &bench_demo(args.rows), true, |_| {}).await?;
    store.build_deferred_indexes().await?;
    store.close().await;
    eprintln!(
        "generated {} rows with fixture scores in {:.1} s",
        report.inserted,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct Plugin {
    child: Child,
    data: pluginv2::data_client::DataClient<Channel>,
    diagnostics: pluginv2::diagnostics_client::DiagnosticsClient<Channel>,
    resource: pluginv2::resource_client::ResourceClient<Channel>,
    context: pluginv2::PluginContext,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Plugin {
    async fn start(binary: &Path, storage: &Storage) -> anyhow::Result<Self> {
        let (json_data, secure) = storage.settings()?;
        let mut child = Command::new(binary)
            .env("grafana_plugin_type", "datasource")
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| {
                format!(
                    "start {} (build it with cargo build --release)",
                    binary.display()
                )
            })?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("plugin stdout")?).read_line(&mut line)?;
        let address = line
            .trim()
            .split('|')
            .nth(3)
            .context("handshake line")?
            .to_string();
        let channel = Channel::from_shared(format!("http://{address}"))?
            .connect()
            .await?;
        let context = pluginv2::PluginContext {
            org_id: 1,
            user: Some(pluginv2::User {
                login: "bench".into(),
                role: "Editor".into(),
                ..Default::default()
            }),
            data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
                id: 1,
                uid: "bench".to_string(),
                json_data: serde_json::to_vec(&json_data)?,
                decrypted_secure_json_data: secure,
                ..Default::default()
            }),
            ..Default::default()
        };
        Ok(Self {
            child,
            data: pluginv2::data_client::DataClient::new(channel.clone()),
            diagnostics: pluginv2::diagnostics_client::DiagnosticsClient::new(channel.clone()),
            resource: pluginv2::resource_client::ResourceClient::new(channel),
            context,
        })
    }

    /// Resident and peak memory of the plugin process, in MiB.
    fn memory_mib(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
                .map_or(f64::NAN, |kib| kib / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    async fn health(&mut self) -> anyhow::Result<Value> {
        let response = self
            .diagnostics
            .check_health(pluginv2::CheckHealthRequest {
                plugin_context: Some(self.context.clone()),
                ..Default::default()
            })
            .await?
            .into_inner();
        Ok(serde_json::from_slice(&response.json_details)?)
    }

    /// A request over `from..to`, moved back by a different few milliseconds each time, as
    /// Grafana's "now" moves between refreshes: no two requests are the same query, so none is
    /// answered from the plugin's per-revision memo and every timing is the engine's.
    fn request(&self, model: &Value, (from, to): (i64, i64)) -> pluginv2::QueryDataRequest {
        static SHIFT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
        let shift = SHIFT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 60_000;
        let (from, to) = (from - shift, to - shift);
        pluginv2::QueryDataRequest {
            plugin_context: Some(self.context.clone()),
            headers: HashMap::new(),
            queries: vec![pluginv2::DataQuery {
                ref_id: "A".to_string(),
                max_data_points: 1_000,
                interval_ms: 0,
                time_range: Some(pluginv2::TimeRange {
                    from_epoch_ms: from,
                    to_epoch_ms: to,
                }),
                json: model.to_string().into_bytes(),
                query_type: String::new(),
            }],
        }
    }
}

/// Runs one request and returns its time; a query error fails the benchmark.
async fn timed(
    client: &mut pluginv2::data_client::DataClient<Channel>,
    request: pluginv2::QueryDataRequest,
) -> anyhow::Result<(Duration, pluginv2::DataResponse)> {
    let started = Instant::now();
    let response = client.query_data(request).await?.into_inner();
    let elapsed = started.elapsed();
    let answer = response
        .responses
        .into_values()
        .next()
        .context("no response")?;
    if !answer.error.is_empty() {
        bail!("query failed: {}", answer.error);
    }
    Ok((elapsed, answer))
}

/// The notices of the first frame, to tell the engine's answers from the record store's.
fn executed(answer: &pluginv2::DataResponse) -> String {
    answer
        .frames
        .first()
        .map(|f| String::from_utf8_lossy(f).to_string())
        .unwrap_or_default()
}

struct Case {
    name: &'static str,
    model: Value,
    range: (i64, i64),
    /// The same aggregation in DuckDB's SQL, over `feedback` or `aspects`.
    duckdb: Option<String>,
}

fn cases() -> Vec<Case> {
    let last = |days: i64| (END_MS - days * DAY, END_MS - 1);
    let (from30, to) = last(30);
    let hour_origin = from30.div_euclid(HOUR) * HOUR;
    let day_origin = from30.div_euclid(DAY) * DAY;
    let sentiment = "COUNT(*) AS volume, COUNT(label) AS scored, \
        SUM(CASE WHEN label = 'positive' THEN 1 ELSE 0 END) AS positive, \
        SUM(CASE WHEN label = 'negative' THEN 1 ELSE 0 END) AS negative, SUM(score) AS score_sum";
    let in30 = format!("time >= {from30} AND time <= {to}");
    vec![
        Case {
            name: "timeseries volume, 30 d, hourly",
            model: json!({"queryType": "timeseries", "metric": "volume", "interval": "1h"}),
            range: last(30),
            duckdb: Some(format!(
                "SELECT (time - {hour_origin}) // {HOUR} AS bucket, COUNT(*) FROM feedback \
                 WHERE {in30} GROUP BY bucket"
            )),
        },
        Case {
            name: "timeseries net_sentiment by category, 30 d, hourly",
            model: json!({"queryType": "timeseries", "metric": "net_sentiment", "groupBy": "category", "interval": "1h"}),
            range: last(30),
            duckdb: Some(format!(
                "SELECT (time - {hour_origin}) // {HOUR} AS bucket, category, {sentiment} \
                 FROM feedback WHERE {in30} GROUP BY bucket, category"
            )),
        },
        Case {
            name: "distribution by region, 30 d",
            model: json!({"queryType": "distribution", "groupBy": "region"}),
            range: last(30),
            duckdb: Some(format!(
                "SELECT label, region, COUNT(*) FROM feedback WHERE {in30} GROUP BY label, region"
            )),
        },
        Case {
            name: "aspects distribution, 30 d",
            model: json!({"queryType": "aspects"}),
            range: last(30),
            duckdb: Some(format!(
                "SELECT aspect, COUNT(*), SUM(CASE WHEN label = 'positive' THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN label = 'negative' THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN label = 'neutral' THEN 1 ELSE 0 END), SUM(score) FROM aspects \
                 WHERE {in30} GROUP BY aspect"
            )),
        },
        Case {
            name: "anomalies share_negative by brand, 30 d daily + 14 d baseline",
            model: json!({"queryType": "anomalies", "groupBy": "brand"}),
            range: last(30),
            duckdb: Some(format!(
                "SELECT (time - {}) // {DAY} AS bucket, brand, {sentiment} FROM feedback \
                 WHERE time >= {} AND time <= {to} GROUP BY bucket, brand",
                day_origin - 14 * DAY,
                from30 - 14 * DAY
            )),
        },
        Case {
            name: "timeseries share_of_voice by brand, 30 d, daily",
            model: json!({"queryType": "timeseries", "metric": "share_of_voice", "groupBy": "brand", "interval": "1d"}),
            range: last(30),
            duckdb: None,
        },
        Case {
            name: "timeseries avg_score by brand, 180 d, daily",
            model: json!({"queryType": "timeseries", "metric": "avg_score", "groupBy": "brand", "interval": "1d"}),
            range: last(180),
            duckdb: None,
        },
        Case {
            name: "trending_terms, 30 d against the 30 d before",
            model: json!({"queryType": "trending_terms", "limit": 15, "minSupport": 5}),
            range: last(30),
            duckdb: None,
        },
        Case {
            name: "trending_terms by region, 7 d against 7 d",
            model: json!({"queryType": "trending_terms", "groupBy": "region", "limit": 5, "minSupport": 5}),
            range: last(7),
            duckdb: None,
        },
        Case {
            name: "anomalies volume by region, brand filter, 30 d",
            model: json!({"queryType": "anomalies", "metric": "volume", "groupBy": "region", "filters": {"brand": ["Qori Brasa"]}}),
            range: last(30),
            duckdb: None,
        },
        Case {
            name: "insights (offline), 30 d",
            model: json!({"queryType": "insights"}),
            range: last(30),
            duckdb: None,
        },
        Case {
            name: "mentions newest 100, 7 d",
            model: json!({"queryType": "mentions", "limit": 100}),
            range: last(7),
            duckdb: None,
        },
        // A rare combination over a long range: SQLite has no index per dimension (ADR 0008),
        // so the engine picks the rows.
        Case {
            name: "mentions newest 50, 180 d, product and region filters",
            model: json!({"queryType": "mentions", "limit": 50, "filters": {
                "product": ["pachamanca a la olla"], "region": ["Madre de Dios"]}}),
            range: last(180),
            duckdb: None,
        },
        Case {
            name: "mentions newest 50, 180 d, text search and a brand filter",
            model: json!({"queryType": "mentions", "limit": 50, "search": "helado",
                "filters": {"brand": ["Qori Brasa"]}}),
            range: last(180),
            duckdb: None,
        },
    ]
}

/// Every target of the main dashboard, its variables at "All" (which drops the filters).
fn dashboard_targets() -> anyhow::Result<Vec<(String, Value)>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("provisioning/dashboards/pulso/consumer-trends.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut targets = Vec::new();
    fn walk(panels: &[Value], out: &mut Vec<(String, Value)>) {
        for panel in panels {
            if let Some(inner) = panel["panels"].as_array() {
                walk(inner, out);
            }
            for target in panel["targets"].as_array().into_iter().flatten() {
                let mut target = target.clone();
                if let Some(object) = target.as_object_mut() {
                    object.remove("datasource");
                    object.remove("filters");
                }
                let title = panel["title"].as_str().unwrap_or_default().to_string();
                out.push((title, target));
            }
        }
    }
    walk(
        dashboard["panels"].as_array().context("panels")?,
        &mut targets,
    );
    Ok(targets)
}

/// Writes the rows the aggregations read as CSV, for DuckDB.
async fn export_csv(store: &SqliteStore, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let feedback = dir.join("feedback.csv");
    let aspects = dir.join("aspects.csv");
    if feedback.exists() && aspects.exists() {
        return Ok((feedback, aspects));
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(&feedback)?);
    writeln!(
        out,
        "id,time,source_type,platform,region,category,brand,product,language,label,score,confidence"
    )?;
    let rows = Statement::plain(
        "SELECT id, event_time_ms, source_type, platform, region, category, brand, product, \
         language, label, score, confidence FROM feedback",
    );
    let mut failed = None;
    store
        .for_each_row(&rows, |row| {
            let quoted = |i| {
                format!(
                    "\"{}\"",
                    row.text(i).unwrap_or_default().replace('"', "\"\"")
                )
            };
            let real = |i| row.real(i).map(|v| v.to_string()).unwrap_or_default();
            let line = format!(
                "{},{},{},{},{},{},{},{},{},{},{},{}",
                row.int(0),
                row.int(1),
                quoted(2),
                quoted(3),
                quoted(4),
                quoted(5),
                quoted(6),
                quoted(7),
                quoted(8),
                row.text(9).unwrap_or_default(),
                real(10),
                real(11)
            );
            if let Err(e) = writeln!(out, "{line}") {
                failed.get_or_insert(e);
            }
        })
        .await?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    out.flush()?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(&aspects)?);
    writeln!(out, "time,aspect,label,score")?;
    let rows = Statement {
        sql: "SELECT event_time_ms, aspect, label, score FROM aspect_scores WHERE model_id = ?"
            .to_string(),
        binds: vec![Bind::Text(FIXTURE_MODEL_ID.to_string())],
    };
    store
        .for_each_row(&rows, |row| {
            let _ = writeln!(
                out,
                "{},{},{},{}",
                row.int(0),
                row.text(1).unwrap_or_default(),
                row.text(2).unwrap_or_default(),
                row.real(3).unwrap_or_default()
            );
        })
        .await?;
    out.flush()?;
    Ok((feedback, aspects))
}

async fn duckdb_anchor(
    store: &SqliteStore,
    dir: &Path,
    cases: &[Case],
    iterations: usize,
) -> anyhow::Result<Value> {
    let (feedback, aspects) = export_csv(store, dir).await?;
    let queries: serde_json::Map<String, Value> = cases
        .iter()
        .filter_map(|c| {
            c.duckdb
                .as_ref()
                .map(|sql| (c.name.to_string(), json!(sql)))
        })
        .collect();
    let queries_file = dir.join("duckdb-queries.json");
    std::fs::write(&queries_file, serde_json::to_vec(&queries)?)?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/duckdb_anchor.py");
    let output = Command::new("python3")
        .arg(script)
        .arg("--feedback")
        .arg(&feedback)
        .arg("--aspects")
        .arg(&aspects)
        .arg("--queries")
        .arg(&queries_file)
        .args(["--iterations", &iterations.to_string(), "--threads", "2"])
        .output()
        .context("run python3 examples/duckdb_anchor.py")?;
    if !output.status.success() {
        bail!(
            "the DuckDB anchor failed (pip install duckdb?): {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// Counts the rows a volume panel sees over the last day (the pushed rows' time).
async fn counted(plugin: &mut Plugin, range: (i64, i64)) -> anyhow::Result<i64> {
    let request = plugin.request(&json!({"queryType": "distribution"}), range);
    let (_, answer) = timed(&mut plugin.data, request).await?;
    let frame = answer.frames.first().context("frame")?;
    Ok(count_column_sum(frame))
}

/// The sum of a distribution frame's `count` column.
fn count_column_sum(frame: &[u8]) -> i64 {
    use grafana_plugin_sdk::arrow2::array::PrimitiveArray;
    use grafana_plugin_sdk::arrow2::io::ipc::read::{read_file_metadata, FileReader};
    let mut cursor = std::io::Cursor::new(frame);
    let Ok(metadata) = read_file_metadata(&mut cursor) else {
        return -1;
    };
    let index = metadata
        .schema
        .fields
        .iter()
        .position(|f| f.name == "count");
    let mut total = 0;
    for chunk in FileReader::new(cursor, metadata, None, None).flatten() {
        if let Some(i) = index {
            if let Some(array) = chunk.arrays()[i]
                .as_any()
                .downcast_ref::<PrimitiveArray<i64>>()
            {
                total += array.values().iter().sum::<i64>();
            }
        }
    }
    total
}

async fn push(plugin: &mut Plugin, id: &str, time_ms: i64) -> anyhow::Result<()> {
    let body = json!({"id": id, "text": format!("El pollo llegó frío ({id})"), "time": time_ms, "region": "Lima", "brand": "Qori Brasa", "category": "delivery"}).to_string();
    let request = pluginv2::CallResourceRequest {
        plugin_context: Some(plugin.context.clone()),
        path: "feedback".into(),
        method: "POST".into(),
        url: "feedback?source_type=delivery&platform=bench".into(),
        body: body.into_bytes().into(),
        ..Default::default()
    };
    let mut stream = plugin.resource.call_resource(request).await?.into_inner();
    let response = stream.message().await?.context("no response")?;
    if response.code != 200 {
        bail!("POST failed: {}", String::from_utf8_lossy(&response.body));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("target/bench/pulso-{}.db", args.rows)));
    prepare(&args, &db).await?;
    if args.prepare_only {
        return Ok(());
    }
    if args.postgres {
        return compare_stores(&args, &db).await;
    }
    let work = db.with_extension("work");
    std::fs::create_dir_all(&work)?;

    println!(
        "Rows: {}; machine: {} cores; plugin {}",
        args.rows,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.plugin.display()
    );
    let mut plugin = Plugin::start(&args.plugin, &Storage::Sqlite(db.clone())).await?;
    let warm_up = warm_up(&mut plugin).await?;
    println!("\n{}\n", warm_up.describe());

    // Each panel on its own, then the DuckDB anchor (the plugin idle meanwhile).
    let cases = cases();
    let idle = panel_times(&mut plugin, &cases, args.iterations).await?;
    let anchor = if args.no_duckdb {
        Value::Null
    } else {
        let store = SqliteStore::open(&db).await?;
        duckdb_anchor(&store, &work, &cases, args.iterations).await?
    };
    println!("| query | plugin p50 ms | plugin p95 ms | DuckDB p50 ms | p50 ratio | goal (2× DuckDB + 2 ms) |");
    println!("| --- | ---: | ---: | ---: | ---: | --- |");
    for case in &cases {
        let times = &idle[case.name];
        let (p50, p95) = (ms(percentile(times, 0.5)), ms(percentile(times, 0.95)));
        match anchor["queries"][case.name]["p50_ms"].as_f64() {
            Some(duck) => println!(
                "| {} | {p50:.2} | {p95:.2} | {duck:.2} | {:.2}× | {} |",
                case.name,
                p50 / duck,
                if p50 <= 2.0 * duck + 2.0 {
                    "met"
                } else {
                    "not met"
                }
            ),
            None => println!("| {} | {p50:.2} | {p95:.2} | | | |", case.name),
        }
    }
    if !anchor.is_null() {
        println!(
            "\nDuckDB {} (Python, in memory, 2 threads) loaded the CSV export in {:.1} s.",
            anchor["duckdb"].as_str().unwrap_or("?"),
            anchor["load_seconds"].as_f64().unwrap_or(f64::NAN)
        );
    }

    let targets = dashboard_targets()?;
    let walls = dashboard_walls(&mut plugin, &targets, args.iterations).await?;
    println!(
        "\nMain dashboard, {} panel queries sent at once over 30 days: wall p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} runs)",
        targets.len(),
        ms(percentile(&walls, 0.5)),
        ms(percentile(&walls, 0.95)),
        ms(*walls.last().unwrap()),
        walls.len()
    );

    // Mixed queries, all at once, against the same mix one at a time.
    let mix: Vec<&Case> = cases.iter().cycle().take(args.concurrency).collect();
    let mut sequential = Vec::new();
    let mut concurrent = Vec::new();
    for _ in 0..3 {
        for case in &mix {
            let request = plugin.request(&case.model, case.range);
            let (elapsed, _) = timed(&mut plugin.data, request).await?;
            sequential.push(elapsed);
        }
        let mut tasks = Vec::new();
        for case in &mix {
            let mut client = plugin.data.clone();
            let request = plugin.request(&case.model, case.range);
            tasks.push(tokio::spawn(
                async move { timed(&mut client, request).await },
            ));
        }
        for task in tasks {
            concurrent.push(task.await??.0);
        }
    }
    sequential.sort();
    concurrent.sort();
    println!(
        "\n{} mixed queries at once (3 rounds): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; the same queries one at a time: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms; p95 ratio {:.2}×",
        args.concurrency,
        ms(percentile(&concurrent, 0.5)),
        ms(percentile(&concurrent, 0.95)),
        ms(*concurrent.last().unwrap()),
        ms(percentile(&sequential, 0.5)),
        ms(percentile(&sequential, 0.95)),
        ms(*sequential.last().unwrap()),
        ms(percentile(&concurrent, 0.95)) / ms(percentile(&sequential, 0.95)),
    );

    // Freshness: a pushed row, and a row another process writes, until a panel counts it.
    let now = chrono::Utc::now().timestamp_millis();
    let recent = (now - DAY, now + HOUR);
    let mut pushed = Vec::new();
    for i in 0..10 {
        let before = counted(&mut plugin, recent).await?;
        let started = Instant::now();
        push(&mut plugin, &format!("bench-push-{now}-{i}"), now - 60_000).await?;
        while counted(&mut plugin, recent).await? <= before {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("a pushed row was not counted within 10 s");
            }
        }
        pushed.push(started.elapsed());
    }
    pushed.sort();
    let writer = SqliteStore::open(&db).await?;
    let mut external = Vec::new();
    for i in 0..10 {
        let before = counted(&mut plugin, recent).await?;
        let started = Instant::now();
        let mut row = pulso_demo::generate(&DemoOptions {
            rows: 1,
            days: 1,
            seed: now as u64 + i,
            end_time_ms: now,
        })
        .next()
        .context("a row")?;
        row.external_id = format!("bench-external-{now}-{i}");
        pulso_store::FeedbackWriter::insert_feedback(&writer, &[row]).await?;
        while counted(&mut plugin, recent).await? <= before {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("an externally written row was not counted within 10 s");
            }
        }
        external.push(started.elapsed());
    }
    external.sort();
    println!(
        "\nFreshness, commit to counted by a panel: POST /feedback p50 {:.0} ms, max {:.0} ms (the push returns once the mirror holds it); another process's write p50 {:.0} ms, max {:.0} ms (10 each)",
        ms(percentile(&pushed, 0.5)),
        ms(*pushed.last().unwrap()),
        ms(percentile(&external, 0.5)),
        ms(*external.last().unwrap()),
    );

    let (rss, peak) = plugin.memory_mib();
    println!("\nPlugin memory after all of the above: RSS {rss:.0} MiB, peak {peak:.0} MiB (no sentiment model loaded)");
    Ok(())
}

/// How long a plugin took from its first request until its analytics mirror answered.
struct WarmUp {
    wall: Duration,
    details: Value,
    rss_mib: f64,
}

impl WarmUp {
    fn describe(&self) -> String {
        format!(
            "Mirror warm-up: {:.2} s from the first request ({:.2} s building, {} rows, {:.0} MB of Arrow buffers); plugin RSS {:.0} MiB",
            self.wall.as_secs_f64(),
            self.details["analytics"]["buildSeconds"]
                .as_f64()
                .unwrap_or(f64::NAN),
            self.details["analytics"]["rows"],
            self.details["analytics"]["memoryBytes"]
                .as_f64()
                .unwrap_or(f64::NAN)
                / 1e6,
            self.rss_mib
        )
    }
}

async fn warm_up(plugin: &mut Plugin) -> anyhow::Result<WarmUp> {
    let started = Instant::now();
    let mut details = plugin.health().await?;
    while details["analytics"]["state"] != "ready" {
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the mirror did not warm up in 10 minutes: {details}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        details = plugin.health().await?;
    }
    let wall = started.elapsed();
    Ok(WarmUp {
        wall,
        details,
        rss_mib: plugin.memory_mib().0,
    })
}

/// Each panel on its own, `iterations` timed runs after 3 warm-up runs; sorted times.
async fn panel_times<'a>(
    plugin: &mut Plugin,
    cases: &'a [Case],
    iterations: usize,
) -> anyhow::Result<HashMap<&'a str, Vec<Duration>>> {
    let mut idle = HashMap::new();
    for case in cases {
        let mut times = Vec::new();
        for i in 0..iterations + 3 {
            let request = plugin.request(&case.model, case.range);
            let (elapsed, answer) = timed(&mut plugin.data, request).await?;
            if i == 0 && executed(&answer).contains("answered by the record store") {
                bail!(
                    "{}: answered by the record store, not the engine",
                    case.name
                );
            }
            if i >= 3 {
                times.push(elapsed);
            }
        }
        times.sort();
        idle.insert(case.name, times);
    }
    Ok(idle)
}

/// The main dashboard: one QueryData request per panel, all at once, as Grafana sends them,
/// over the last 30 days; sorted wall times of up to 20 runs after 2 warm-up runs.
async fn dashboard_walls(
    plugin: &mut Plugin,
    targets: &[(String, Value)],
    iterations: usize,
) -> anyhow::Result<Vec<Duration>> {
    let range = (END_MS - 30 * DAY, END_MS - 1);
    let mut walls = Vec::new();
    for i in 0..iterations.min(20) + 2 {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (title, target) in targets {
            let mut client = plugin.data.clone();
            let request = plugin.request(target, range);
            let title = title.clone();
            tasks.push(tokio::spawn(async move {
                timed(&mut client, request).await.with_context(|| title)
            }));
        }
        for task in tasks {
            task.await??;
        }
        if i >= 2 {
            walls.push(started.elapsed());
        }
    }
    walls.sort();
    Ok(walls)
}

/// The rows of `db` in a PostgreSQL database of their own, `pulso_bench_<rows>` on the server
/// `PULSO_TEST_POSTGRES_URL` names: reused when it holds them, else generated as `prepare`
/// generates the SQLite file (same seed, end and fixture scores). Returns its URL.
async fn prepare_postgres(args: &Args) -> anyhow::Result<String> {
    use sqlx::Connection;
    let server = pulso_testkit::postgres::server_url();
    let name = format!("pulso_bench_{}", args.rows);
    let mut admin = sqlx::PgConnection::connect(&server).await?;
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut admin)
        .await?;
    if exists.is_none() {
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await?;
    }
    admin.close().await?;
    let url = pulso_testkit::postgres::with_database(&server, &name);
    let store = PostgresStore::connect(&PostgresConfig {
        url: url.clone(),
        password: None,
        ssl_mode: Some("disable".to_string()),
        pool_size: 4,
    })
    .await?;
    let existing = store.health().await?.total_rows;
    if existing == args.rows as i64 {
        store.close().await;
        return Ok(url);
    }
    if existing != 0 {
        bail!(
            "the PostgreSQL database {name} holds {existing} rows, not {}: drop it first",
            args.rows
        );
    }
    let started = Instant::now();
    let report = write_demo(&store, &bench_demo(args.rows), true, |_| {}).await?;
    // Fresh statistics, as autovacuum would gather them in time.
    sqlx::query("ANALYZE").execute(store.pool()).await?;
    store.close().await;
    eprintln!(
        "generated {} rows with fixture scores into PostgreSQL in {:.1} s",
        report.inserted,
        started.elapsed().as_secs_f64()
    );
    Ok(url)
}

/// Each store's warm-up, panels and main dashboard, one plugin at a time, in one run.
async fn compare_stores(args: &Args, db: &Path) -> anyhow::Result<()> {
    let url = prepare_postgres(args).await?;
    let version: (String,) = {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&url).await?;
        sqlx::query_as("SHOW server_version")
            .fetch_one(&mut connection)
            .await?
    };
    println!(
        "Rows: {}; machine: {} cores; plugin {}; PostgreSQL {} on the same machine (loopback)",
        args.rows,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.plugin.display(),
        version.0
    );
    let cases = cases();
    let targets = dashboard_targets()?;
    let mut measured = Vec::new();
    for storage in [Storage::Sqlite(db.to_path_buf()), Storage::Postgres(url)] {
        let mut plugin = Plugin::start(&args.plugin, &storage).await?;
        let warm = warm_up(&mut plugin).await?;
        println!("\n{}: {}", storage.name(), warm.describe());
        let panels = panel_times(&mut plugin, &cases, args.iterations).await?;
        let walls = dashboard_walls(&mut plugin, &targets, args.iterations).await?;
        measured.push((warm, panels, walls));
    }
    let [(_, sqlite, sqlite_walls), (_, postgres, postgres_walls)] = &measured[..] else {
        unreachable!("two stores")
    };
    println!("\n| query | SQLite p50 ms | SQLite p95 ms | PostgreSQL p50 ms | PostgreSQL p95 ms | p95 ratio |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let row = |name: &str, a: &[Duration], b: &[Duration]| {
        let (a50, a95) = (ms(percentile(a, 0.5)), ms(percentile(a, 0.95)));
        let (b50, b95) = (ms(percentile(b, 0.5)), ms(percentile(b, 0.95)));
        println!(
            "| {name} | {a50:.2} | {a95:.2} | {b50:.2} | {b95:.2} | {:.2}× |",
            b95 / a95
        );
    };
    for case in &cases {
        row(case.name, &sqlite[case.name], &postgres[case.name]);
    }
    row(
        &format!("main dashboard, {} panels at once, 30 d", targets.len()),
        sqlite_walls,
        postgres_walls,
    );
    Ok(())
}

/// `<target dir>/release/pulso`: examples are built into `<target dir>/release/examples/`.
fn sibling_plugin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("pulso")))
        .unwrap_or_else(|| PathBuf::from("target/release/pulso"))
}
