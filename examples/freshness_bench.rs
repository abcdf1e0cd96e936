//! Freshness: how long from `POST /feedback` until the mention appears, scored, in a mentions
//! query, while mentions arrive at a steady rate. Runs the release plugin binary the way
//! Grafana does (handshake, pluginv2 gRPC) with the real model.
//!
//! Baseline, measured in the same run: the POST round trip itself, and the time until the
//! mention is visible at all (stored, maybe not yet scored).
//!
//! `cargo build --release && cargo run --release --example freshness_bench -- --rate 100 --seconds 20`
//! (`--backlog 3000` first pushes 3,000 older rows in bulk, so the scorer has a backlog).

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
    /// How often the "panel" asks for the newest mentions.
    #[arg(long, default_value_t = 100)]
    poll_ms: u64,
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

/// (text, label) of the newest mentions.
async fn newest(
    client: &mut pluginv2::data_client::DataClient<Channel>,
    context: &pluginv2::PluginContext,
) -> anyhow::Result<Vec<(String, String)>> {
    let now = chrono::Utc::now().timestamp_millis();
    let response = client
        .query_data(pluginv2::QueryDataRequest {
            plugin_context: Some(context.clone()),
            headers: HashMap::new(),
            queries: vec![pluginv2::DataQuery {
                ref_id: "A".into(),
                json: json!({"queryType": "mentions", "limit": 5000})
                    .to_string()
                    .into_bytes(),
                time_range: Some(pluginv2::TimeRange {
                    from_epoch_ms: now - 3_600_000,
                    to_epoch_ms: now + 3_600_000,
                }),
                ..Default::default()
            }],
        })
        .await?
        .into_inner();
    let frame = &response.responses["A"].frames[0];
    let decoded = pulso_frame::decode(frame)?;
    Ok(decoded)
}

/// Reads the text and label columns of a mentions frame.
mod pulso_frame {
    use grafana_plugin_sdk::arrow2::array::Utf8Array;
    use grafana_plugin_sdk::arrow2::io::ipc::read::{read_file_metadata, FileReader};

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

    let texts: Vec<String> = generate(&DemoOptions {
        rows: (args.rate * args.seconds) as usize,
        days: 30,
        seed: 11,
        end_time_ms: 1_764_000_000_000,
    })
    .enumerate()
    .map(|(i, row)| format!("{} (pedido {i})", row.text))
    .collect();
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

    let sender = {
        let timeline = timeline.clone();
        let context = context.clone();
        let mut resource = resource.clone();
        let texts = texts.clone();
        let period = Duration::from_secs_f64(1.0 / f64::from(args.rate));
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            for (i, text) in texts.iter().enumerate() {
                ticker.tick().await;
                let sent = Instant::now();
                timeline.lock().unwrap().sent.insert(text.clone(), sent);
                post(&mut resource, &context, &format!("f-{i}"), text).await?;
                timeline.lock().unwrap().round_trip.push(sent.elapsed());
            }
            anyhow::Ok(())
        })
    };

    anyhow::ensure!(
        texts.len() <= 5_000,
        "rate × seconds must stay within one 5,000-mention query"
    );
    let deadline = Instant::now() + Duration::from_secs(u64::from(args.seconds) + 60);
    loop {
        let rows = newest(&mut data, &context).await?;
        let now = Instant::now();
        let done = {
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
            t.scored.len() == texts.len()
        };
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(args.poll_ms)).await;
    }
    sender.await??;
    let _ = child.kill();

    let mut t = timeline.lock().unwrap();
    let count = texts.len();
    println!(
        "{count} mentions at {} per second for {} s; {} visible, {} scored",
        args.rate,
        args.seconds,
        t.visible.len(),
        t.scored.len()
    );
    let mut round_trip = t.round_trip.clone();
    let mut visible: Vec<Duration> = t.visible.values().copied().collect();
    let mut scored: Vec<Duration> = t.scored.drain().map(|(_, d)| d).collect();
    let visible_p95 = percentile(&mut visible, 0.95);
    println!();
    println!("| measure | p50 ms | p95 ms | max ms | p95 vs visible |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, values) in [
        ("POST round trip", &mut round_trip),
        ("POST to visible in a mentions query", &mut visible),
        ("POST to visible **and scored**", &mut scored),
    ] {
        let p50 = percentile(values, 0.5);
        let p95 = percentile(values, 0.95);
        let max = percentile(values, 1.0);
        println!(
            "| {name} | {p50:.0} | {p95:.0} | {max:.0} | {:.2}× |",
            p95 / visible_p95
        );
    }
    println!(
        "\n(the panel polls every {} ms for the newest 5,000 mentions; that adds up to one poll interval plus one query to the visible and scored times)",
        args.poll_ms
    );
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
