//! Freshness: how long from `POST /feedback` until the mention reaches a panel, scored, while
//! mentions arrive at a steady rate. Runs the release plugin binary the way Grafana does
//! (handshake, pluginv2 gRPC) with the real model. A panel sees it two ways: a live mentions
//! query subscribed through RunStream, as Grafana Live does, and (unless `--poll-ms 0`) a
//! mentions query polled like a refreshing dashboard.
//!
//! Baseline, measured in the same run: the POST round trip itself, and (when polling) the time
//! until the mention is visible at all (stored, maybe not yet scored).
//!
//! `cargo build --release && cargo run --release --example freshness_bench -- --rate 100 --seconds 60 --poll-ms 0`
//! (`--backlog 3000` first pushes 3,000 older rows in bulk, so the scorer has a backlog;
//! `--panels 50` keeps 50 dashboard queries running at once). After the pushes stop it reports
//! how long the scoring backlog takes to empty, and the clauses a scorer that was behind
//! deferred.

#[path = "support/pushed_mentions.rs"]
mod pushed_mentions;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use grafana_plugin_sdk::pluginv2;
use pulso_demo::{generate, DemoOptions};
use pulso_nlp::files::default_model_dir;
use pushed_mentions::pushed_mentions;
use serde_json::json;
use tonic::transport::Channel;

#[derive(Parser)]
struct Args {
    /// Mentions pushed per second, one per request.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    #[arg(long, default_value_t = 20)]
    seconds: u32,
    /// Plugin binary; defaults to the `pulso` built beside this example, wherever the
    /// target directory is.
    #[arg(long, default_value_os_t = sibling_plugin())]
    plugin: PathBuf,
    /// How often the polling "panel" asks for the newest mentions; 0: no polling panel.
    #[arg(long, default_value_t = 100)]
    poll_ms: u64,
    /// Subscribe a live mentions panel through RunStream (true), or measure by polling only.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    live: bool,
    /// Dashboard queries kept running at once (timeseries, distribution, mentions in turn)
    /// while mentions are pushed, and until the scoring backlog is empty.
    #[arg(long, default_value_t = 0)]
    panels: usize,
    /// The plugin's RUST_LOG (its log goes to this program's stderr), e.g. pulso_scoring=debug.
    #[arg(long, default_value = "error")]
    rust_log: String,
    /// Model folder; defaults to the newest build.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Rows pushed in bulk just before the steady pushes start, an hour in the past, so that the
    /// scorer has a backlog (an import, a connector catching up) while mentions keep arriving.
    #[arg(long, default_value_t = 0)]
    backlog: usize,
}

#[derive(Default)]
struct Timeline {
    sent: HashMap<String, Instant>,
    round_trip: Vec<Duration>,
    visible: HashMap<String, Duration>,
    scored: HashMap<String, Duration>,
    /// Delivered with a label by the live stream.
    delivered: HashMap<String, Duration>,
}

fn percentile(values: &mut [Duration], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort();
    let index = ((values.len() as f64 - 1.0) * p).round() as usize;
    values[index].as_secs_f64() * 1e3
}

/// One `POST /feedback` with `body` (a JSON object or NDJSON); fails unless it answers 200.
async fn push(
    client: &mut pluginv2::resource_client::ResourceClient<Channel>,
    context: &pluginv2::PluginContext,
    body: String,
) -> anyhow::Result<()> {
    let request = pluginv2::CallResourceRequest {
        plugin_context: Some(context.clone()),
        path: "feedback".into(),
        method: "POST".into(),
        url: "feedback?source_type=social&platform=bench".into(),
        body: body.into_bytes().into(),
        ..Default::default()
    };
    let mut stream = client.call_resource(request).await?.into_inner();
    let response = stream.message().await?.context("no response")?;
    anyhow::ensure!(
        response.code == 200,
        "POST failed: {}",
        String::from_utf8_lossy(&response.body)
    );
    Ok(())
}

/// Pushes `texts` as NDJSON in requests of 1,000 rows, with times an hour ago.
async fn post_backlog(
    client: &mut pluginv2::resource_client::ResourceClient<Channel>,
    context: &pluginv2::PluginContext,
    texts: &[String],
) -> anyhow::Result<()> {
    let hour_ago = chrono::Utc::now().timestamp_millis() - 3_600_000;
    for (chunk_index, chunk) in texts.chunks(1_000).enumerate() {
        let body: String = chunk
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let n = chunk_index * 1_000 + i;
                format!(
                    "{}\n",
                    json!({"id": format!("b-{n}"), "text": text, "time": hour_ago - n as i64})
                )
            })
            .collect();
        push(client, context, body).await?;
    }
    Ok(())
}

async fn post(
    client: &mut pluginv2::resource_client::ResourceClient<Channel>,
    context: &pluginv2::PluginContext,
    id: &str,
    text: &str,
) -> anyhow::Result<()> {
    push(client, context, json!({"id": id, "text": text}).to_string()).await
}

/// One query, as a panel over `range` (epoch ms) with hourly buckets sends it; its answer,
/// which must not be an error.
async fn query_one(
    client: &mut pluginv2::data_client::DataClient<Channel>,
    context: &pluginv2::PluginContext,
    model: &serde_json::Value,
    (from_epoch_ms, to_epoch_ms): (i64, i64),
) -> anyhow::Result<pluginv2::DataResponse> {
    let response = client
        .query_data(pluginv2::QueryDataRequest {
            plugin_context: Some(context.clone()),
            headers: HashMap::new(),
            queries: vec![pluginv2::DataQuery {
                ref_id: "A".into(),
                json: model.to_string().into_bytes(),
                interval_ms: 3_600_000,
                max_data_points: 1_000,
                time_range: Some(pluginv2::TimeRange {
                    from_epoch_ms,
                    to_epoch_ms,
                }),
                ..Default::default()
            }],
        })
        .await?
        .into_inner();
    let answer = response
        .responses
        .into_values()
        .next()
        .context("no answer")?;
    anyhow::ensure!(
        answer.error.is_empty(),
        "the query failed: {}",
        answer.error
    );
    Ok(answer)
}

/// The first frame of a mentions query for the newest 5,000 over `range` (epoch ms).
async fn mentions_frame(
    client: &mut pluginv2::data_client::DataClient<Channel>,
    context: &pluginv2::PluginContext,
    live: bool,
    range: (i64, i64),
) -> anyhow::Result<Vec<u8>> {
    let model = json!({"queryType": "mentions", "limit": 5000, "live": live});
    let mut answer = query_one(client, context, &model, range).await?;
    anyhow::ensure!(!answer.frames.is_empty(), "the query returned no frame");
    Ok(answer.frames.swap_remove(0))
}

/// (text, label) of the newest mentions.
async fn newest(
    client: &mut pluginv2::data_client::DataClient<Channel>,
    context: &pluginv2::PluginContext,
) -> anyhow::Result<Vec<(String, String)>> {
    let now = chrono::Utc::now().timestamp_millis();
    let frame = mentions_frame(client, context, false, (now - 3_600_000, now + 3_600_000)).await?;
    pulso_frame::decode(&frame)
}

/// Runs a live mentions query for the newest 5,000 and returns its channel's path.
async fn live_path(
    client: &mut pluginv2::data_client::DataClient<Channel>,
    context: &pluginv2::PluginContext,
) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp_millis();
    let frame = mentions_frame(client, context, true, (now - 3_600_000, now)).await?;
    Ok(pulso_frame::channel(&frame)?
        .strip_prefix("ds/freshness/")
        .context("a channel of this data source")?
        .to_string())
}

/// (text, label) of each row of a live packet (Grafana frame JSON).
fn packet_rows(packet: &[u8]) -> anyhow::Result<Vec<(String, String)>> {
    let frame: serde_json::Value = serde_json::from_slice(packet)?;
    let fields = frame["schema"]["fields"]
        .as_array()
        .context("packet schema")?;
    let column = |name: &str| -> anyhow::Result<&Vec<serde_json::Value>> {
        let index = fields
            .iter()
            .position(|f| f["name"] == name)
            .with_context(|| format!("no {name} field in the packet"))?;
        frame["data"]["values"][index]
            .as_array()
            .context("packet values")
    };
    Ok(column("text")?
        .iter()
        .zip(column("label")?)
        .map(|(t, l)| {
            let text = t.as_str().unwrap_or_default().to_string();
            (text, l.as_str().unwrap_or_default().to_string())
        })
        .collect())
}

/// Keeps `count` dashboard queries running until `stop`; returns each query's latency.
fn run_panels(
    count: usize,
    channel: &Channel,
    context: &pluginv2::PluginContext,
    stop: &Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<anyhow::Result<Vec<Duration>>>> {
    let models = [
        json!({"queryType": "timeseries", "metric": "net_sentiment", "groupBy": "brand", "interval": "1h"}),
        json!({"queryType": "distribution", "groupBy": "region"}),
        json!({"queryType": "mentions", "limit": 100}),
    ];
    (0..count)
        .map(|panel| {
            let mut client = pluginv2::data_client::DataClient::new(channel.clone());
            let context = context.clone();
            let stop = stop.clone();
            let models = models.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut turn = panel;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let now = chrono::Utc::now().timestamp_millis();
                    let started = Instant::now();
                    let model = &models[turn % models.len()];
                    query_one(&mut client, &context, model, (now - 86_400_000, now)).await?;
                    latencies.push(started.elapsed());
                    turn += 1;
                }
                Ok(latencies)
            })
        })
        .collect()
}

/// The scoring backlog CollectMetrics reports for this data source: rows waiting for the
/// model, and scored rows whose clauses wait.
async fn backlog(
    client: &mut pluginv2::diagnostics_client::DiagnosticsClient<Channel>,
) -> anyhow::Result<(u64, u64)> {
    let response = client
        .collect_metrics(pluginv2::CollectMetricsRequest::default())
        .await?
        .into_inner();
    let text = String::from_utf8(response.metrics.context("metrics")?.prometheus)?;
    let gauge = |name: &str| {
        let prefix = format!("{name}{{datasource_uid=\"freshness\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix)?.parse().ok())
            .with_context(|| format!("no {name} in the metrics"))
    };
    Ok((
        gauge("pulso_scoring_backlog_rows")?,
        gauge("pulso_scoring_clauses_pending_rows")?,
    ))
}

/// Reads the text and label columns of a mentions frame.
mod pulso_frame {
    use grafana_plugin_sdk::arrow2::array::Utf8Array;
    use grafana_plugin_sdk::arrow2::io::ipc::read::{read_file_metadata, FileReader};

    /// The frame's `meta.channel`.
    pub fn channel(bytes: &[u8]) -> anyhow::Result<String> {
        let metadata = read_file_metadata(&mut std::io::Cursor::new(bytes))?;
        let meta: serde_json::Value = serde_json::from_str(
            metadata
                .schema
                .metadata
                .get("meta")
                .map_or("{}", String::as_str),
        )?;
        meta["channel"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("the live query named no channel"))
    }

    pub fn decode(bytes: &[u8]) -> anyhow::Result<Vec<(String, String)>> {
        let mut cursor = std::io::Cursor::new(bytes);
        let metadata = read_file_metadata(&mut cursor)?;
        let names: Vec<String> = metadata
            .schema
            .fields
            .iter()
            .map(|f| f.name.clone())
            .collect();
        let column = |name: &str| names.iter().position(|n| n == name);
        let (Some(text), Some(label)) = (column("text"), column("label")) else {
            anyhow::bail!("no text/label columns in {names:?}");
        };
        let mut out = Vec::new();
        for chunk in FileReader::new(cursor, metadata, None, None) {
            let chunk = chunk?;
            let texts = chunk.arrays()[text]
                .as_any()
                .downcast_ref::<Utf8Array<i32>>()
                .unwrap();
            let labels = chunk.arrays()[label]
                .as_any()
                .downcast_ref::<Utf8Array<i32>>()
                .unwrap();
            for (t, l) in texts.iter().zip(labels.iter()) {
                out.push((t.unwrap_or("").to_string(), l.unwrap_or("").to_string()));
            }
        }
        Ok(out)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let model = std::fs::canonicalize(args.model.clone().unwrap_or_else(default_model_dir))?;
    let mut child = Command::new(&args.plugin)
        .env("grafana_plugin_type", "datasource")
        .env("RUST_LOG", &args.rust_log)
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
    let channel = Channel::from_shared(format!("http://{address}"))?
        .connect()
        .await?;
    let context = pluginv2::PluginContext {
        user: Some(pluginv2::User {
            role: "Editor".into(),
            ..Default::default()
        }),
        data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
            id: 1,
            uid: "freshness".into(),
            json_data: serde_json::to_vec(
                &json!({ "sqlitePath": dir.path().join("fresh.db"), "modelPath": model }),
            )?,
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut resource = pluginv2::resource_client::ResourceClient::new(channel.clone());
    let mut data = pluginv2::data_client::DataClient::new(channel.clone());

    // Warm up: the model loads on first use.
    post(
        &mut resource,
        &context,
        "warm-up",
        "Todo bien con el pedido",
    )
    .await?;
    let warm = Instant::now();
    while !newest(&mut data, &context)
        .await?
        .iter()
        .any(|(_, l)| l != "unscored" && !l.is_empty())
    {
        anyhow::ensure!(
            warm.elapsed() < Duration::from_secs(120),
            "the warm-up mention was never scored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let texts = pushed_mentions((args.rate * args.seconds) as usize);
    let timeline = Arc::new(Mutex::new(Timeline::default()));
    if args.backlog > 0 {
        let backlog: Vec<String> = generate(&DemoOptions {
            rows: args.backlog,
            days: 30,
            seed: 12,
            end_time_ms: 1_764_000_000_000,
        })
        .enumerate()
        .map(|(i, row)| format!("{} (atrasado {i})", row.text))
        .collect();
        let pushed = Instant::now();
        post_backlog(&mut resource, &context, &backlog).await?;
        println!(
            "backlog: {} rows pushed in {:.1} s, unscored when the steady pushes start",
            backlog.len(),
            pushed.elapsed().as_secs_f64()
        );
    }

    let live = if args.live {
        let path = live_path(&mut data, &context).await?;
        let mut packets = pluginv2::stream_client::StreamClient::new(channel.clone())
            .run_stream(pluginv2::RunStreamRequest {
                plugin_context: Some(context.clone()),
                path,
                data: Default::default(),
            })
            .await?
            .into_inner();
        let timeline = timeline.clone();
        Some(tokio::spawn(async move {
            while let Some(packet) = packets.message().await? {
                let now = Instant::now();
                let mut t = timeline.lock().unwrap();
                for (text, label) in packet_rows(&packet.data)? {
                    let Some(sent) = t.sent.get(&text).copied() else {
                        continue;
                    };
                    if label != "unscored" && !label.is_empty() {
                        t.delivered.entry(text).or_insert(now - sent);
                    }
                }
            }
            anyhow::Ok(())
        }))
    } else {
        None
    };
    let stop_panels = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let panels = run_panels(args.panels, &channel, &context, &stop_panels);

    let pushes_began = Instant::now();
    let sender = {
        let timeline = timeline.clone();
        let context = context.clone();
        let resource = resource.clone();
        let texts = texts.clone();
        let period = Duration::from_secs_f64(1.0 / f64::from(args.rate));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            // Open loop: each push leaves on its tick whether or not earlier ones were answered,
            // as independent clients would send them (a slow plugin does not slow the rate).
            let mut in_flight = Vec::with_capacity(texts.len());
            for (i, text) in texts.iter().enumerate() {
                ticker.tick().await;
                let sent = Instant::now();
                timeline.lock().unwrap().sent.insert(text.clone(), sent);
                let (timeline, context, text) = (timeline.clone(), context.clone(), text.clone());
                let mut resource = resource.clone();
                in_flight.push(tokio::spawn(async move {
                    post(&mut resource, &context, &format!("f-{i}"), &text).await?;
                    timeline.lock().unwrap().round_trip.push(sent.elapsed());
                    anyhow::Ok(())
                }));
            }
            for push in in_flight {
                push.await??;
            }
            // When the last push was answered.
            anyhow::Ok(Instant::now())
        })
    };

    anyhow::ensure!(
        args.poll_ms == 0 || texts.len() <= 5_000,
        "rate × seconds must stay within one 5,000-mention query when polling (or --poll-ms 0)"
    );
    anyhow::ensure!(
        args.live || args.poll_ms > 0,
        "nothing would watch: keep --live or poll"
    );
    // How long after the pushes stop until nothing waits for the model (panels still
    // running): first the rows, then the clauses deferred while the scorer was behind. It runs
    // beside the polling panel below, which times mentions as they arrive.
    let mut diagnostics = pluginv2::diagnostics_client::DiagnosticsClient::new(channel.clone());
    let drain = tokio::spawn(async move {
        let pushes_stopped = sender.await??;
        let (rows_at_stop, clauses_at_stop) = backlog(&mut diagnostics).await?;
        println!(
            "pushes stopped {:.0} s after they began; {rows_at_stop} rows wait for the model, \
             {clauses_at_stop} scored rows for their clauses",
            (pushes_stopped - pushes_began).as_secs_f64()
        );
        let (mut rows_drained, mut clauses_drained) = (None, None);
        let mut reported = Instant::now();
        while pushes_stopped.elapsed() < Duration::from_secs(300) {
            let (rows, clauses) = backlog(&mut diagnostics).await?;
            if rows == 0 && rows_drained.is_none() {
                rows_drained = Some(pushes_stopped.elapsed());
            }
            if rows == 0 && clauses == 0 {
                clauses_drained = Some(pushes_stopped.elapsed());
                break;
            }
            if reported.elapsed() >= Duration::from_secs(10) {
                println!(
                    "  {rows} rows and the clauses of {clauses} wait {:.0} s after the pushes stopped",
                    pushes_stopped.elapsed().as_secs_f64()
                );
                reported = Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let after_stop = |drained: Option<Duration>| {
            drained.map_or("not within 300 s".to_string(), |d| {
                format!("{:.1} s after the pushes stopped", d.as_secs_f64())
            })
        };
        println!(
            "backlog empty {}; deferred clauses all scored {}",
            after_stop(rows_drained),
            after_stop(clauses_drained)
        );
        anyhow::Ok(())
    });
    // Until every mention is seen scored and the drain is timed; at most 5 s past the drain,
    // which waited for the scorer: what is left then is the last packets' delivery.
    let mut drain_ended: Option<Instant> = None;
    loop {
        if args.poll_ms > 0 {
            let rows = newest(&mut data, &context).await?;
            let now = Instant::now();
            let mut t = timeline.lock().unwrap();
            for (text, label) in rows {
                let Some(sent) = t.sent.get(&text).copied() else {
                    continue;
                };
                t.visible.entry(text.clone()).or_insert(now - sent);
                if label != "unscored" && !label.is_empty() {
                    t.scored.entry(text).or_insert(now - sent);
                }
            }
        }
        let done = {
            let t = timeline.lock().unwrap();
            (!args.live || t.delivered.len() == texts.len())
                && (args.poll_ms == 0 || t.scored.len() == texts.len())
        };
        if drain.is_finished() {
            let ended = *drain_ended.get_or_insert_with(Instant::now);
            if done || ended.elapsed() > Duration::from_secs(5) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(args.poll_ms.max(100))).await;
    }
    drain.await??;
    if args.panels > 0 {
        stop_panels.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut latencies = Vec::new();
        for panel in panels {
            latencies.extend(panel.await??);
        }
        let queries = latencies.len();
        println!(
            "{} panels ran {queries} queries (p50 {:.0} ms, p95 {:.0} ms)",
            args.panels,
            percentile(&mut latencies, 0.5),
            percentile(&mut latencies, 0.95),
        );
    }
    if let Some(live) = live {
        live.abort();
    }
    let _ = child.kill();

    let mut t = timeline.lock().unwrap();
    let count = texts.len();
    println!(
        "{count} mentions at {} per second for {} s; {} visible, {} scored (polling), {} delivered scored (live)",
        args.rate,
        args.seconds,
        t.visible.len(),
        t.scored.len(),
        t.delivered.len(),
    );
    let mut round_trip = t.round_trip.clone();
    let mut visible: Vec<Duration> = t.visible.values().copied().collect();
    let mut scored: Vec<Duration> = t.scored.drain().map(|(_, d)| d).collect();
    let mut delivered: Vec<Duration> = t.delivered.drain().map(|(_, d)| d).collect();
    println!();
    println!("| measure | count | p50 ms | p95 ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, values) in [
        ("POST round trip", &mut round_trip),
        ("POST to visible in a polled mentions query", &mut visible),
        ("POST to visible **and scored** (polled)", &mut scored),
        (
            "POST to **scored and delivered** by Grafana Live",
            &mut delivered,
        ),
    ] {
        if values.is_empty() {
            continue;
        }
        let p50 = percentile(values, 0.5);
        let p95 = percentile(values, 0.95);
        let max = percentile(values, 1.0);
        println!(
            "| {name} | {} | {p50:.0} | {p95:.0} | {max:.0} |",
            values.len()
        );
    }
    if args.poll_ms > 0 {
        println!(
            "\n(the polling panel asks every {} ms for the newest 5,000 mentions; that adds up to one poll interval plus one query to the polled times)",
            args.poll_ms
        );
    }
    anyhow::ensure!(t.sent.len() == count, "not every mention was sent");
    Ok(())
}

/// `<target dir>/release/pulso`: examples are built into `<target dir>/release/examples/`.
fn sibling_plugin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("pulso")))
        .unwrap_or_else(|| PathBuf::from("target/release/pulso"))
}
