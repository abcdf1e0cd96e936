//! Several plugin processes on one PostgreSQL database, driven as Grafana drives them: pushes
//! through any reach all, every row is scored exactly once, and the rows a killed process had
//! claimed are scored by the others; restarts and a full disk under a running plugin.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::*;
use grafana_plugin_sdk::pluginv2::{self, check_health_response::HealthStatus};
use pulso_postgres::{PostgresConfig, PostgresStore};
use pulso_testkit::postgres::{fresh_database, split_password};
use serde_json::{json, Value};

/// A scorer's claim on its rows expires this soon here (30 s by default), so the rows of the
/// killed process come back quickly.
const CLAIM_SECONDS: &str = "3";

/// `postgres://user:password@host/db` as Grafana would hold it: the URL without the password
/// in jsonData, the password in the decrypted secure settings.
fn postgres_context(url: &str, model: &Path) -> pluginv2::PluginContext {
    let store = TestStore {
        kind: StoreKind::Postgres,
        sqlite_path: "/unused.db".into(),
        postgres_url: Some(url.to_string()),
    };
    store.context_with_model("Editor", model)
}

async fn health(plugin: &PluginProcess, context: &pluginv2::PluginContext) -> (i32, String, Value) {
    let response = plugin
        .diagnostics()
        .await
        .check_health(pluginv2::CheckHealthRequest {
            plugin_context: Some(context.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    (
        response.status,
        response.message,
        serde_json::from_slice(&response.json_details).unwrap_or(Value::Null),
    )
}

fn mention(prefix: &str, i: usize) -> Value {
    let texts = [
        "El pollo a la brasa estaba buenazo pero la atención lentísima",
        "Pésimo delivery, llegó frío y tarde",
        "Bacán el ceviche, fresquito y barato",
        "La hamburguesa normal, nada especial",
    ];
    json!({ "id": format!("{prefix}-{i}"), "text": format!("{} ({i})", texts[i % texts.len()]) })
}

async fn push(plugin: &PluginProcess, context: &pluginv2::PluginContext, prefix: &str, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let lines: Vec<Value> = chunk.iter().map(|i| mention(prefix, *i)).collect();
        plugin.push_lines(context, &lines).await;
    }
}

/// Rows the active model scored, and rows it scored more than once.
async fn scored(store: &PostgresStore) -> (i64, i64) {
    sqlx::query_as(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE s.scored_count > 1) FROM scores s \
         WHERE s.model_id = (SELECT value FROM settings WHERE key = 'active_model_id')",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
}

async fn wait_until_scored(store: &PostgresStore, rows: i64, limit: Duration) {
    let started = Instant::now();
    loop {
        let (done, _) = scored(store).await;
        if done >= rows {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "{done} of {rows} rows scored after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Volume over the last hour as one process's analytics engine answers it.
async fn volume(plugin: &PluginProcess, context: &pluginv2::PluginContext) -> f64 {
    let now = chrono::Utc::now().timestamp_millis();
    let responses = query_data(
        plugin,
        context.clone(),
        vec![query(
            "V",
            json!({"queryType": "timeseries", "metric": "volume", "interval": "1h"}),
            now - 2 * HOUR,
            now + HOUR,
        )],
    )
    .await;
    let frame = decode_frame(&responses["V"].frames[0]);
    frame["fields"][1]["values"]
        .as_array()
        .map_or(0.0, |values| values.iter().filter_map(Value::as_f64).sum())
}

#[tokio::test]
async fn two_plugin_processes_sharing_postgres_score_each_row_once_even_when_one_dies() {
    processes_share_one_database(2).await;
}

#[tokio::test]
async fn three_plugin_processes_sharing_postgres_score_each_row_once_even_when_one_dies() {
    processes_share_one_database(3).await;
}

/// `count` plugin processes with the real model on one database: pushes through each reach
/// every panel, each row is scored once, and when the last process dies mid-run the others
/// score the rows it had claimed.
async fn processes_share_one_database(count: usize) {
    let model = model_dir();
    let url = fresh_database(&format!("plugins_{count}")).await;
    let env = [("PULSO_SCORING_CLAIM_SECONDS", Path::new(CLAIM_SECONDS))];
    let mut plugins: Vec<PluginProcess> = (0..count)
        .map(|_| PluginProcess::start_with_env(&env))
        .collect();
    let context = postgres_context(&url, &model);
    for plugin in &plugins {
        let (status, message, details) = health(plugin, &context).await;
        assert_eq!(status, HealthStatus::Ok as i32, "{message}");
        assert!(message.contains("PostgreSQL 1"), "{message}");
        assert!(details["database"].as_str().unwrap().contains("127.0.0.1:"));
    }
    let store = PostgresStore::connect(&PostgresConfig {
        url: url.clone(),
        password: None,
        ssl_mode: Some("disable".to_string()),
        pool_size: 2,
    })
    .await
    .unwrap();

    // Pushes through any process reach every process's panels.
    let first_pushes = 100 * count as i64;
    for (plugin, prefix) in plugins.iter().zip(["a", "b", "c"]) {
        push(plugin, &context, prefix, 100).await;
    }
    let started = Instant::now();
    for plugin in &plugins {
        while volume(plugin, &context).await < first_pushes as f64 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "a process's panel never saw the others' pushes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    wait_until_scored(&store, first_pushes, Duration::from_secs(120)).await;
    let mut by_process = Vec::new();
    for plugin in &plugins {
        let details = health(plugin, &context).await.2;
        by_process.push(details["model"]["rowsScoredSinceStart"].as_i64().unwrap());
    }
    assert_eq!(
        by_process.iter().sum::<i64>(),
        first_pushes,
        "rows scored per process {by_process:?}: a row scored twice"
    );
    assert_eq!(scored(&store).await, (first_pushes, 0));

    // The last process dies mid-run: the rows it had claimed are scored by the others, once.
    let total = first_pushes + 600;
    push(plugins.last().unwrap(), &context, "d", 600).await;
    let started = Instant::now();
    while scored(&store).await.0 < first_pushes + 60 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "scoring stalled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(plugins.pop());
    wait_until_scored(&store, total, Duration::from_secs(180)).await;
    assert_eq!(
        scored(&store).await,
        (total, 0),
        "rows lost or scored twice"
    );
    let first = &plugins[0];
    let (status, message, details) = health(first, &context).await;
    assert_eq!(status, HealthStatus::Ok as i32, "{message}");
    assert_eq!(details["feedbackRows"], total);
    assert_eq!(details["scoringBacklog"]["rows"], 0);

    // `pulso ingest` writes to the same database while the plugin runs, which scores the rows.
    let (without_password, password) = split_password(&url);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pulso"))
        .args(["ingest", "--postgres-url", &without_password])
        .args(["--postgres-ssl-mode", "disable"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/samples/social.ndjson"))
        .args(["--source-type", "social"])
        .env("PGPASSWORD", &password)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run pulso ingest");
    let printed = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{printed}");
    assert!(!printed.contains(&password), "{printed}");
    let (imported,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM feedback WHERE external_id NOT LIKE '_-%'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(imported >= 30, "{imported} rows imported: {printed}");
    wait_until_scored(&store, total + imported, Duration::from_secs(120)).await;
    assert_eq!(scored(&store).await, (total + imported, 0));
    let (_, _, details) = health(first, &context).await;
    assert_eq!(details["feedbackRows"], total + imported);
}

/// PostgreSQL restarted under a running plugin: queries answer again without the settings being
/// saved again, and a push afterwards is stored whole.
#[tokio::test]
async fn after_a_postgres_restart_queries_and_pushes_succeed_without_new_settings() {
    let cluster = pulso_testkit::postgres::Cluster::start("plugin_restart");
    let plugin = PluginProcess::start();
    let context = postgres_context(&cluster.url, Path::new(NO_MODEL));
    push(&plugin, &context, "r", 20).await;
    let now = chrono::Utc::now().timestamp_millis();
    let mentions = || {
        vec![query(
            "M",
            json!({"queryType": "mentions", "limit": 100}),
            now - HOUR,
            now + HOUR,
        )]
    };
    let rows = |response: &pluginv2::DataResponse| {
        decode_frame(&response.frames[0])["fields"][1]["values"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let before = query_data(&plugin, context.clone(), mentions()).await;
    assert_eq!(rows(&before["M"]), 20, "{}", before["M"].error);
    cluster.restart();
    // The pool checks a connection before lending it, so the restart costs at most the query
    // that was running when it happened; none was here.
    let after = query_data(&plugin, context.clone(), mentions()).await;
    assert!(after["M"].error.is_empty(), "{}", after["M"].error);
    assert_eq!(rows(&after["M"]), 20);
    push(&plugin, &context, "s", 10).await;
    let later = query_data(&plugin, context.clone(), mentions()).await;
    assert_eq!(rows(&later["M"]), 30, "{}", later["M"].error);
}

/// Text that does not compress, so each row takes its own room on disk.
fn noise(seed: u64, words: usize) -> String {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..words)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            format!("{:x}", state >> 20)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// PostgreSQL's data volume fills up under a running plugin: the push that meets it is refused
/// whole with 503, health names the full disk and says what to do, and once space is freed
/// pushes are stored and health no longer names it.
#[tokio::test]
async fn a_full_disk_is_named_in_health_and_refuses_pushes_whole() {
    let disk = pulso_testkit::postgres::SmallDisk::create("full_disk", 16).await;
    let plugin = PluginProcess::start();
    let context = postgres_context(&disk.url, Path::new(NO_MODEL));
    let store = PostgresStore::connect(&PostgresConfig {
        url: disk.url.clone(),
        password: None,
        ssl_mode: Some("disable".to_string()),
        pool_size: 2,
    })
    .await
    .unwrap();
    let rows = || async {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM feedback")
            .fetch_one(store.pool())
            .await
            .unwrap();
        count
    };
    let mut stored = 0;
    let mut refused = None;
    for round in 0..200u64 {
        let lines: Vec<Value> = (0..200u64)
            .map(|i| json!({"id": format!("fill-{round}-{i}"), "text": noise(round * 1_000 + i, 300)}))
            .collect();
        let (code, body) = plugin.try_push_lines(&context, &lines).await;
        if code != 200 {
            refused = Some((code, body));
            break;
        }
        stored += body["stored"].as_i64().unwrap();
    }
    let (code, body) = refused.expect("16 MB never filled up");
    assert_eq!(code, 503, "{body}");
    assert!(body.to_string().contains("out of disk space"), "{body}");
    assert_eq!(rows().await, stored, "the refused push left rows behind");

    let (status, message, _) = health(&plugin, &context).await;
    assert_eq!(status, HealthStatus::Error as i32, "{message}");
    assert!(
        message.contains("out of disk space") && message.contains("Free space"),
        "{message}"
    );

    disk.resize(64);
    let lines: Vec<Value> = (0..20).map(|i| mention("after", i)).collect();
    plugin.push_lines(&context, &lines).await;
    assert_eq!(rows().await, stored + 20);
    let (_, message, details) = health(&plugin, &context).await;
    assert!(!message.contains("disk space"), "{message}");
    assert_eq!(details["feedbackRows"], stored + 20, "{message}");
    store.close().await;
    drop(plugin);
    disk.remove().await;
}
