//! Query latency through the plugin protocol against the same SQL run directly.
//!
//! `cargo run --release --example bench -- --rows 1000000`
//!
//! Builds (or reuses) a demo database, fills scores with a deterministic fixture, starts the
//! release plugin binary as Grafana would, and times each query type both ways in one run.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use grafana_plugin_sdk::pluginv2;
use pulso::demo::{generate, DemoOptions};
use pulso::query::{parse_query, Query, QueryInput};
use pulso::store::sql;
use pulso::store::{AspectScan, FeedbackStore, NewAspectScore, NewScore, SqliteStore, TermScan};
use pulso::trends::aspects::aspects_of;
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// Demo rows to generate.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Database file; reused when it already holds `rows` rows.
    #[arg(long, default_value = "target/bench/pulso-bench.db")]
    db: PathBuf,
    /// Timed runs per query and path, after warm-up.
    #[arg(long, default_value_t = 30)]
    iterations: usize,
    /// Plugin binary to drive.
    #[arg(long, default_value = "target/release/pulso")]
    plugin: PathBuf,
}

const DAY: i64 = 86_400_000;
const BENCH_MODEL: &str = "bench-fixture";

async fn prepare(args: &Args) -> anyhow::Result<(SqliteStore, i64)> {
    if let Some(folder) = args.db.parent() {
        std::fs::create_dir_all(folder)?;
    }
    let store = SqliteStore::open(&args.db).await?;
    let existing = store.health().await?.total_rows;
    let end_time_ms = 1_767_225_600_000; // 2026-01-01: fixed, so reruns reuse the file.
    if existing != args.rows as i64 {
        if existing != 0 {
            bail!(
                "{} holds {existing} rows, not {}: delete it first",
                args.db.display(),
                args.rows
            );
        }
        let started = Instant::now();
        let options = DemoOptions {
            rows: args.rows,
            days: 180,
            seed: 42,
            end_time_ms,
        };
        let mut batch = Vec::with_capacity(20_000);
        for row in generate(&options) {
            batch.push(row);
            if batch.len() == batch.capacity() {
                store.insert_feedback(&batch).await?;
                batch.clear();
            }
        }
        store.insert_feedback(&batch).await?;
        eprintln!(
            "generated {} rows in {:.1} s",
            args.rows,
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let mut scores = Vec::with_capacity(20_000);
        for id in 1..=args.rows as i64 {
            scores.push(fixture_score(id));
            if scores.len() == scores.capacity() {
                store.insert_scores(BENCH_MODEL, &scores).await?;
                scores.clear();
            }
        }
        store.insert_scores(BENCH_MODEL, &scores).await?;
        store.set_active_model(BENCH_MODEL).await?;
        eprintln!(
            "scored {} rows in {:.1} s",
            args.rows,
            started.elapsed().as_secs_f64()
        );
    }
    prepare_trends(&store).await?;
    Ok((store, end_time_ms))
}

/// A fixed pseudo-random label per row; the model is not under test here.
fn fixture_score(id: i64) -> NewScore {
    let h = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    let p = [
        (h % 97) as f64 / 97.0,
        ((h / 97) % 89) as f64 / 89.0,
        ((h / 8633) % 83) as f64 / 83.0,
    ];
    let total = p.iter().sum::<f64>().max(1e-9);
    let [n, u, q] = p.map(|x| x / total);
    let label = if n >= u && n >= q {
        "negative"
    } else if q >= u {
        "positive"
    } else {
        "neutral"
    };
    NewScore {
        feedback_id: id,
        label: label.to_string(),
        score: q - n,
        p_negative: n,
        p_neutral: u,
        p_positive: q,
    }
}

/// Terms for rows stored before term indexing, and fixture aspect results (each aspect a row
/// names gets the row's fixture label), so the trend queries have data to read.
async fn prepare_trends(store: &SqliteStore) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut indexed = 0;
    loop {
        let n = store.index_terms(20_000).await?;
        if n == 0 {
            break;
        }
        indexed += n;
    }
    if indexed > 0 {
        eprintln!(
            "indexed terms of {indexed} rows in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let aspects: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM aspect_scores WHERE model_id = ?")
        .bind(BENCH_MODEL)
        .fetch_one(store.pool())
        .await?;
    if aspects > 0 {
        return Ok(());
    }
    let started = Instant::now();
    let mut last_id = 0i64;
    let mut stored = 0usize;
    loop {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, text FROM feedback WHERE id > ? ORDER BY id LIMIT 20000")
                .bind(last_id)
                .fetch_all(store.pool())
                .await?;
        let Some(last) = rows.last() else {
            break;
        };
        last_id = last.0;
        let scores: Vec<NewScore> = rows.iter().map(|(id, _)| fixture_score(*id)).collect();
        let aspects: Vec<NewAspectScore> = rows
            .iter()
            .zip(&scores)
            .flat_map(|((id, text), score)| {
                aspects_of(text)
                    .into_iter()
                    .map(move |aspect| NewAspectScore {
                        feedback_id: *id,
                        aspect,
                        label: score.label.clone(),
                        score: score.score,
                    })
            })
            .collect();
        stored += aspects.len();
        store
            .insert_analysis(BENCH_MODEL, &scores, &aspects)
            .await?;
    }
    eprintln!(
        "stored {stored} fixture aspect results in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (store, end_ms) = prepare(&args).await?;

    let mut child = Command::new(&args.plugin)
        .env("grafana_plugin_type", "datasource")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!(
                "start {} (build it with cargo build --release)",
                args.plugin.display()
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
    let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))?
        .connect()
        .await?;
    let mut client = pluginv2::data_client::DataClient::new(channel);
    let context = pluginv2::PluginContext {
        data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
            id: 1,
            uid: "bench".to_string(),
            json_data: serde_json::to_vec(
                &json!({ "sqlitePath": std::fs::canonicalize(&args.db)? }),
            )?,
            ..Default::default()
        }),
        ..Default::default()
    };

    let last_7d = (end_ms - 7 * DAY, end_ms);
    let last_30d = (end_ms - 30 * DAY, end_ms);
    let all_180d = (end_ms - 180 * DAY, end_ms);
    let last_hour = (end_ms - DAY / 24, end_ms);
    let cases = [
        (
            "timeseries volume, 30 d, 1 h buckets",
            json!({"queryType": "timeseries", "metric": "volume"}),
            last_30d,
            3_600_000,
        ),
        (
            "timeseries net_sentiment by region, 30 d",
            json!({"queryType": "timeseries", "metric": "net_sentiment", "groupBy": "region"}),
            last_30d,
            3_600_000,
        ),
        (
            "timeseries avg_score by brand, 180 d, 1 d",
            json!({"queryType": "timeseries", "metric": "avg_score", "groupBy": "brand", "interval": "1d"}),
            all_180d,
            0,
        ),
        (
            "timeseries share_negative, delivery filter, 7 d",
            json!({"queryType": "timeseries", "metric": "share_negative", "filters": {"sourceType": ["delivery"]}}),
            last_7d,
            900_000,
        ),
        (
            "mentions newest 100, 7 d",
            json!({"queryType": "mentions", "limit": 100}),
            last_7d,
            0,
        ),
        (
            "mentions search \"frío\", 30 d",
            json!({"queryType": "mentions", "search": "frío", "limit": 100}),
            last_30d,
            0,
        ),
        (
            "distribution by brand, 30 d",
            json!({"queryType": "distribution", "groupBy": "brand"}),
            last_30d,
            0,
        ),
        (
            "dimension_values brand",
            json!({"queryType": "dimension_values", "dimension": "brand"}),
            last_30d,
            0,
        ),
        (
            "trending_terms, 30 d vs 30 d before",
            json!({"queryType": "trending_terms", "limit": 20}),
            last_30d,
            0,
        ),
        (
            "trending_terms by region, 7 d vs 7 d before",
            json!({"queryType": "trending_terms", "groupBy": "region", "limit": 10}),
            last_7d,
            0,
        ),
        (
            "aspects distribution, 30 d",
            json!({"queryType": "aspects"}),
            last_30d,
            0,
        ),
        (
            "aspects timeseries share_negative, 30 d, 1 d",
            json!({"queryType": "aspects", "view": "timeseries", "interval": "1d"}),
            last_30d,
            0,
        ),
        (
            "anomalies share_negative by brand, 30 d, 1 d",
            json!({"queryType": "anomalies", "groupBy": "brand"}),
            last_30d,
            0,
        ),
        (
            "anomalies volume by region, brand filter, 30 d",
            json!({"queryType": "anomalies", "metric": "volume", "groupBy": "region", "filters": {"brand": ["Qori Brasa"]}}),
            last_30d,
            0,
        ),
        (
            "mentions newest 10, last hour (small frame)",
            json!({"queryType": "mentions", "limit": 10}),
            last_hour,
            0,
        ),
    ];

    println!("| query | raw SQL p50 ms | raw SQL p95 ms | plugin gRPC p50 ms | plugin gRPC p95 ms | p95 ratio |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, model, (from, to), interval_ms) in cases {
        let data_query = pluginv2::DataQuery {
            ref_id: "A".to_string(),
            max_data_points: 1_000,
            interval_ms,
            time_range: Some(pluginv2::TimeRange {
                from_epoch_ms: from,
                to_epoch_ms: to,
            }),
            json: model.to_string().into_bytes(),
            query_type: String::new(),
        };
        let parsed = parse_query(QueryInput {
            json: &data_query.json,
            query_type: "",
            interval_ms,
            max_data_points: 1_000,
            time_range: Some((from, to)),
        })?;
        let statement = match &parsed {
            Query::Timeseries(q) => sql::timeseries(q),
            Query::Mentions(q) => sql::mentions(q),
            Query::Distribution(q) => sql::distribution(q),
            Query::DimensionValues(q) => sql::dimension_values(q),
            // The new types run Rust over rows; the baseline is the SQL that reads those rows.
            Query::TrendingTerms(q) => sql::term_rows(&TermScan {
                range: pulso::query::TimeRange {
                    from_ms: q.previous_range().from_ms,
                    to_ms: q.range.to_ms,
                },
                filters: q.filters.clone(),
                group_by: q.group_by,
            }),
            Query::Aspects(q) => sql::aspect_counts(&AspectScan {
                range: q.range,
                filters: q.filters.clone(),
                aspects: q.aspects.clone(),
                buckets: (q.view == pulso::query::AspectView::Timeseries)
                    .then_some((q.range.from_ms, q.bucket_ms)),
            }),
            Query::Anomalies(q) => sql::timeseries(&pulso::query::TimeseriesQuery {
                range: q.extended_range(),
                metric: q.metric,
                group_by: q.group_by,
                bucket_ms: q.bucket_ms,
                filters: q.filters.clone(),
            }),
            Query::Insights(_) => bail!("insights are not benchmarked here"),
        };
        let request = pluginv2::QueryDataRequest {
            plugin_context: Some(context.clone()),
            headers: HashMap::new(),
            queries: vec![data_query],
        };
        let (mut raw, mut plugin) = (Vec::new(), Vec::new());
        // Alternate the two paths so cache state and machine noise hit both alike.
        for i in 0..args.iterations + 3 {
            let started = Instant::now();
            let rows = store.fetch(&statement).await?;
            let raw_elapsed = started.elapsed();
            std::hint::black_box(rows);
            let started = Instant::now();
            let response = client.query_data(request.clone()).await?.into_inner();
            let plugin_elapsed = started.elapsed();
            if let Some(r) = response.responses.get("A") {
                if !r.error.is_empty() {
                    bail!("{name}: {}", r.error);
                }
            }
            if i >= 3 {
                raw.push(raw_elapsed);
                plugin.push(plugin_elapsed);
            }
        }
        raw.sort();
        plugin.sort();
        let ratio = percentile(&plugin, 0.95).as_secs_f64() / percentile(&raw, 0.95).as_secs_f64();
        println!(
            "| {name} | {} | {} | {} | {} | {ratio:.2}× |",
            ms(percentile(&raw, 0.5)),
            ms(percentile(&raw, 0.95)),
            ms(percentile(&plugin, 0.5)),
            ms(percentile(&plugin, 0.95)),
        );
    }
    let _ = child.kill();
    compare_term_sources(&store, last_30d).await?;
    Ok(())
}

/// Why term hashes are stored at ingest: counting the stored hashes of the 60 days a 30-day
/// trending query reads, against tokenising and stemming the same rows' text at query time.
/// Both read through the same raw SQLite path the plugin uses.
async fn compare_term_sources(store: &SqliteStore, (from, to): (i64, i64)) -> anyhow::Result<()> {
    let range = pulso::query::TimeRange {
        from_ms: from - (to - from) - 1,
        to_ms: to,
    };
    let started = Instant::now();
    let mut counts: HashMap<u32, u32> = HashMap::new();
    let mut rows = 0;
    store
        .for_each_row(&sql::term_slices(range), |row| {
            rows += 1;
            for hash in pulso::trends::terms::decode(row.bytes(2)) {
                *counts.entry(hash).or_default() += 1;
            }
        })
        .await?;
    let stored = started.elapsed();
    let started = Instant::now();
    let mut counts_from_text: HashMap<u32, u32> = HashMap::new();
    let texts = sql::Statement {
        sql: "SELECT text, language FROM feedback WHERE event_time_ms >= ? AND event_time_ms <= ?"
            .to_string(),
        binds: vec![sql::Bind::Int(range.from_ms), sql::Bind::Int(range.to_ms)],
    };
    store
        .for_each_row(&texts, |row| {
            let text = row.text(0).unwrap_or_default();
            let language = row.text(1).unwrap_or_default();
            for hash in pulso::trends::terms::term_hashes(text, language) {
                *counts_from_text.entry(hash).or_default() += 1;
            }
        })
        .await?;
    let tokenised = started.elapsed();
    anyhow::ensure!(
        counts == counts_from_text,
        "stored terms differ from the text's"
    );
    println!(
        "\nterm counts over {rows} rows (60 d): stored hashes {} ms, tokenising text at query time {} ms ({:.1}× slower)",
        ms(stored),
        ms(tokenised),
        tokenised.as_secs_f64() / stored.as_secs_f64()
    );
    Ok(())
}
