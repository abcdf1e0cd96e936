//! The whole sentiment path with the real model: `pulso demo` scores its rows, the plugin
//! serves real net sentiment, `pulso score` scores a CSV, and health names the model.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;

use crate::common::*;
use grafana_plugin_sdk::pluginv2::{self, check_health_response::HealthStatus};
use pulso_nlp::onnx::OnnxSentimentModel;
use pulso_nlp::queue::ScoringQueue;
use pulso_scoring::{score_next_batch, BatchScored, ScoringStats};
use pulso_sqlite::SqliteStore;
use pulso_store::{FeedbackWriter, NewFeedback, RecordStore};
use serde_json::json;

#[tokio::test]
async fn demo_rows_are_scored_and_served_as_real_net_sentiment() {
    let model = model_dir();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let output = Command::new(env!("CARGO_BIN_EXE_pulso"))
        .args([
            "demo", "--rows", "120", "--days", "3", "--seed", "5", "--db",
        ])
        .arg(&db)
        .args(["--end", &crate::common::demo_end_arg()])
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("scored 120 rows"), "{stderr}");
    // Everything is in the database file: copying the .db alone copies every row and score.
    let wal = dir.path().join("demo.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "pulso demo left rows in {}",
        wal.display()
    );
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("copy.db");
    std::fs::copy(&db, &copy).unwrap();
    let copied = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}?mode=ro", copy.display()))
        .await
        .unwrap();
    let (rows, scored): (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM feedback), (SELECT COUNT(*) FROM scores)")
            .fetch_one(&copied)
            .await
            .unwrap();
    assert_eq!((rows, scored), (120, 120), "the copied .db lacks rows");
    copied.close().await;
    // The model's emotion head: six confidences stored with each row's sentiment.
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let with_emotions: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM scores WHERE p_joy BETWEEN 0 AND 1 AND p_anger BETWEEN 0 AND 1 \
         AND p_sadness BETWEEN 0 AND 1 AND p_fear BETWEEN 0 AND 1 \
         AND p_surprise BETWEEN 0 AND 1 AND p_disgust BETWEEN 0 AND 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        with_emotions, 120,
        "every scored row has its emotion confidences"
    );
    pool.close().await;

    let plugin = PluginProcess::start();
    let context = context_with_model(&db, "Viewer", &model);
    let now = crate::common::demo_end_ms();
    let response = plugin
        .data()
        .await
        .query_data(pluginv2::QueryDataRequest {
            plugin_context: Some(context.clone()),
            headers: HashMap::new(),
            queries: vec![query(
                "A",
                json!({"queryType": "timeseries", "metric": "net_sentiment", "interval": "1d"}),
                now - 4 * 24 * HOUR,
                now,
            )],
        })
        .await
        .unwrap()
        .into_inner();
    let frame = decode_frame(&response.responses["A"].frames[0]);
    assert!(
        frame["meta"]["notices"].is_null(),
        "every row is scored: {}",
        frame["meta"]
    );
    let values: Vec<f64> = frame["fields"][1]["values"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    assert!(!values.is_empty(), "net sentiment has real values");
    assert!(values.iter().all(|v| (-100.0..=100.0).contains(v)));
    assert!(values.iter().any(|v| *v != 0.0));

    let health = plugin
        .diagnostics()
        .await
        .check_health(pluginv2::CheckHealthRequest {
            plugin_context: Some(context),
            headers: HashMap::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, HealthStatus::Ok as i32, "{}", health.message);
    assert!(
        health.message.contains("120 scored, 0 unscored"),
        "{}",
        health.message
    );
    assert!(
        health
            .message
            .contains("labels negative, neutral, positive"),
        "{}",
        health.message
    );
    assert!(
        health.message.contains("ONNX Runtime 1.32.0"),
        "{}",
        health.message
    );
}

#[test]
fn score_command_scores_a_csv_row_by_row() {
    let model = model_dir();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let mut bytes =
        b"id,comentario\n1,\"La comida llego fria y tarde, pesimo servicio\"\n2,\n3,".to_vec();
    bytes.extend_from_slice(b"\xff\xfe roto\n4,Riquisimo todo\n");
    std::fs::write(&input, bytes).unwrap();
    let output = dir.path().join("out.csv");
    let run = Command::new(env!("CARGO_BIN_EXE_pulso"))
        .args(["score", "--text-column", "comentario", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut reader = csv::Reader::from_path(&output).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "id",
            "comentario",
            "label",
            "score",
            "p_negative",
            "p_neutral",
            "p_positive",
            "truncated",
            "error",
            "p_joy",
            "p_anger",
            "p_sadness",
            "p_fear",
            "p_surprise",
            "p_disgust"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[0][2], "negative");
    assert_eq!(&rows[1][8], "text is empty: there is nothing to score");
    assert_eq!(&rows[2][8], "comentario is not valid UTF-8");
    assert_eq!(&rows[3][2], "positive");
    for column in 9..15 {
        let confidence: f64 = rows[3][column].parse().unwrap();
        assert!((0.0..=1.0).contains(&confidence), "{:?}", rows[3]);
        assert_eq!(&rows[1][column], "", "a row that failed has no emotions");
    }
    let p: f64 = rows[3][6].parse().unwrap();
    assert!(p > 0.5);
}

/// A mention pushed through `POST /feedback` is scored by the background worker and shows up
/// with its sentiment in a mentions query, without any restart or manual step.
#[tokio::test]
async fn pushed_mentions_are_scored_by_the_background_worker() {
    let model = model_dir();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("push.db");
    let plugin = PluginProcess::start();
    let mut editor = context_with_model(&db, "Editor", &model);
    plugin
        .push_lines(
            &editor,
            &[
                json!({"id": "push-1", "text": "Pésimo, el pollo llegó frío y crudo, nunca más"}),
                json!({"id": "push-2", "text": "Bacán la atención, el ceviche buenazo, volveré"}),
            ],
        )
        .await;

    editor.user.as_mut().unwrap().role = "Viewer".into();
    let now = chrono::Utc::now().timestamp_millis();
    let mut labels = Vec::new();
    // The model loads on the first request; after that scoring takes milliseconds.
    for _ in 0..600 {
        let response = plugin
            .data()
            .await
            .query_data(pluginv2::QueryDataRequest {
                plugin_context: Some(editor.clone()),
                headers: HashMap::new(),
                queries: vec![query(
                    "A",
                    json!({"queryType": "mentions", "limit": 10}),
                    now - HOUR,
                    now + HOUR,
                )],
            })
            .await
            .unwrap()
            .into_inner();
        let frame = decode_frame(&response.responses["A"].frames[0]);
        let ids: Vec<String> = frame["fields"][1]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.to_string())
            .collect();
        labels = frame["fields"][8]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect();
        if ids.len() == 2 && labels.iter().all(|l| l != "unscored" && !l.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    labels.sort();
    assert_eq!(labels, ["negative", "positive"]);
}

async fn aspect_labels(store: &SqliteStore, model_id: &str) -> Vec<(i64, String, String)> {
    sqlx::query_as(
        "SELECT feedback_id, aspect, label FROM aspect_scores WHERE model_id = ? \
         ORDER BY feedback_id, aspect",
    )
    .bind(model_id)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// A scorer that is behind labels mentions before their clauses, then scores the clauses in
/// the room later batches leave: a mixed review ends with praise for the taste and a
/// complaint about the service, as when its clauses are scored with it.
#[tokio::test]
async fn a_scorer_behind_labels_mentions_first_and_their_clauses_after() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("behind.db"))
        .await
        .unwrap();
    let model = OnnxSentimentModel::load(&model_dir(), 2).unwrap();
    let queue = ScoringQueue::start(Arc::new(model), 8, 256);
    let model_id = queue.model().model_id().to_string();
    store.set_active_model(&model_id).await.unwrap();
    // More mixed reviews than one batch takes: a backlog.
    let text = "La comida rica pero la atención pésima";
    let rows: Vec<NewFeedback> = (0..200)
        .map(|i| feedback_row(&format!("mixed-{i}"), text, i))
        .collect();
    store.insert_feedback(&rows).await.unwrap();
    let stats = ScoringStats::default();

    let first = score_next_batch(&store, &queue, &stats).await.unwrap();
    assert_eq!(
        first,
        BatchScored {
            rows: 128,
            clauses_of_rows: 0
        },
        "a full batch of mentions"
    );
    let backlog = store.scoring_backlog().await.unwrap();
    assert_eq!(
        (backlog.rows, backlog.clauses_pending),
        (72, 128),
        "128 mentions leave no room for their 256 clauses"
    );
    // Meanwhile a deferred row's aspects carry the mention's own label.
    let interim = aspect_labels(&store, &model_id).await;
    assert_eq!(interim.len(), 256, "taste and service for each scored row");
    for pair in interim.chunks(2) {
        assert_eq!(
            pair[0].2, pair[1].2,
            "interim aspects share the mention's label"
        );
    }

    let mut batches = 1;
    while !score_next_batch(&store, &queue, &stats)
        .await
        .unwrap()
        .is_empty()
    {
        batches += 1;
        assert!(batches < 50, "the scorer never caught up");
    }
    let backlog = store.scoring_backlog().await.unwrap();
    assert_eq!((backlog.rows, backlog.clauses_pending), (0, 0));
    let aspects = aspect_labels(&store, &model_id).await;
    assert_eq!(aspects.len(), 400);
    for (id, aspect, label) in &aspects {
        let expected = if aspect == "taste" {
            "positive"
        } else {
            "negative"
        };
        assert_eq!(
            (aspect.as_str(), label.as_str()),
            (aspect.as_str(), expected),
            "row {id}"
        );
    }
}
