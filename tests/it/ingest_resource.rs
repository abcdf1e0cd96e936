//! `POST /feedback` over the real plugin protocol: the samples go in through CallResource the
//! way Grafana forwards them, with the role check, size limit, atomicity and dedup.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::common::{
    context, decode_frame, on_both_stores, query, PluginProcess, StoreKind, TestStore,
};
use grafana_plugin_sdk::pluginv2;
use serde_json::{json, Value};
use tonic::transport::Channel;

type Client = pluginv2::resource_client::ResourceClient<Channel>;

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("data/samples")
            .join(name),
    )
    .unwrap()
}

fn planted_pii() -> Vec<String> {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/samples/pii_planted.txt"),
    )
    .unwrap()
    .lines()
    .map(|l| l.trim().to_string())
    .filter(|l| !l.is_empty())
    .collect()
}

async fn post(
    client: &mut Client,
    store: &TestStore,
    role: &str,
    url: &str,
    body: Vec<u8>,
) -> (i32, Value) {
    post_as(client, store.context(role), url, body).await
}

async fn post_as(
    client: &mut Client,
    plugin_context: pluginv2::PluginContext,
    url: &str,
    body: Vec<u8>,
) -> (i32, Value) {
    let path = url.split('?').next().unwrap().to_string();
    let request = pluginv2::CallResourceRequest {
        plugin_context: Some(plugin_context),
        path,
        method: "POST".to_string(),
        url: url.to_string(),
        body: body.into(),
        ..Default::default()
    };
    let mut stream = client.call_resource(request).await.unwrap().into_inner();
    let response = stream.message().await.unwrap().unwrap();
    (
        response.code,
        serde_json::from_slice(&response.body).unwrap(),
    )
}

async fn mentions(plugin: &PluginProcess, store: &TestStore, search: &str) -> Value {
    let response = plugin
        .data()
        .await
        .query_data(pluginv2::QueryDataRequest {
            plugin_context: Some(store.context("Viewer")),
            headers: HashMap::new(),
            queries: vec![query(
                "A",
                json!({"queryType": "mentions", "search": search, "limit": 50}),
                0,
                chrono::Utc::now().timestamp_millis() + 3_600_000,
            )],
        })
        .await
        .unwrap()
        .into_inner();
    decode_frame(&response.responses["A"].frames[0])
}

async fn editors_push_samples_and_viewers_are_refused(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(
        kind,
        dir.path(),
        "editors_push_samples_and_viewers_are_refused",
    )
    .await;
    let mut plugin = PluginProcess::start();
    let mut client = plugin.resource().await;

    let (code, report) = post(
        &mut client,
        &store,
        "Editor",
        "feedback?source_type=review",
        sample("resenas.ndjson"),
    )
    .await;
    assert_eq!(code, 200, "{report}");
    assert_eq!(
        (
            report["read"].clone(),
            report["stored"].clone(),
            report["duplicates"].clone(),
            report["redactions"].clone()
        ),
        (json!(40), json!(40), json!(0), json!(8))
    );
    assert_eq!(report["committed"], json!(true));
    let (code, report) = post(
        &mut client,
        &store,
        "Admin",
        "feedback?source_type=social&redact_handles=true",
        sample("social.ndjson"),
    )
    .await;
    assert_eq!(code, 200, "{report}");
    assert_eq!(
        (report["stored"].clone(), report["duplicates"].clone()),
        (json!(39), json!(1))
    );

    // Sending the same body again stores nothing new.
    let (code, report) = post(
        &mut client,
        &store,
        "Editor",
        "feedback?source_type=review",
        sample("resenas.ndjson"),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        (report["stored"].clone(), report["duplicates"].clone()),
        (json!(0), json!(40))
    );

    // Viewers, users without a role and anonymous calls may not write.
    for role in ["Viewer", "None", ""] {
        let (code, body) = post(
            &mut client,
            &store,
            role,
            "feedback?source_type=review",
            sample("resenas.ndjson"),
        )
        .await;
        assert_eq!(code, 403, "{role}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains("Editor or Admin"),
            "{body}"
        );
    }

    // The pushed rows are queryable, redacted.
    let frame = mentions(&plugin, &store, "").await;
    let texts = frame["fields"][2]["values"].as_array().unwrap();
    assert_eq!(texts.len(), 50);
    let all_text = serde_json::to_string(&frame).unwrap();
    for literal in planted_pii() {
        assert!(
            !all_text.contains(&literal),
            "{literal} served in a mentions frame"
        );
    }
    // Nothing personal in any file SQLite wrote (database, WAL, shared memory); on PostgreSQL
    // the folder stays empty and the rows are checked in the database.
    if kind == StoreKind::Postgres {
        for literal in planted_pii() {
            let sql = format!(
                "SELECT COUNT(*) FROM feedback WHERE strpos(lower(text || ' ' || external_id), lower('{}')) > 0",
                literal.replace('\'', "''")
            );
            assert_eq!(
                store.count(&sql).await,
                0,
                "{literal:?} stored in PostgreSQL"
            );
        }
    }
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let haystack = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).to_lowercase();
        for literal in planted_pii() {
            assert!(
                !haystack.contains(&literal.to_lowercase()),
                "{literal:?} found in {}",
                path.display()
            );
        }
    }

    let metrics = plugin
        .diagnostics()
        .await
        .collect_metrics(pluginv2::CollectMetricsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let text = String::from_utf8(metrics.metrics.unwrap().prometheus).unwrap();
    for line in [
        "pulso_feedback_rows_total{outcome=\"stored\"} 79",
        "pulso_feedback_rows_total{outcome=\"duplicate\"} 41",
        "pulso_feedback_rows_total{outcome=\"rejected\"} 0",
        // No model runs here, so every stored row waits, and there is no scoring rate.
        "pulso_scoring_backlog_rows{datasource_uid=\"pulso-test\"} 79",
        "pulso_scoring_oldest_unscored_seconds{datasource_uid=\"pulso-test\"} ",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    assert!(!text.contains("pulso_scoring_texts_per_second{"), "{text}");
    assert!(plugin.is_alive());
}

async fn bad_requests_get_clear_errors_and_store_nothing(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(
        kind,
        dir.path(),
        "bad_requests_get_clear_errors_and_store_nothing",
    )
    .await;
    let mut plugin = PluginProcess::start();
    let mut client = plugin.resource().await;

    // Over 3 MiB: told to send smaller chunks.
    let big = vec![b' '; 3 * 1024 * 1024 + 1];
    let (code, body) = post(
        &mut client,
        &store,
        "Editor",
        "feedback?source_type=social&platform=x",
        big,
    )
    .await;
    assert_eq!(code, 413);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("send smaller chunks"),
        "{body}"
    );

    let (code, body) = post(
        &mut client,
        &store,
        "Editor",
        "feedback?source_type=social&platform=x",
        b"".to_vec(),
    )
    .await;
    assert_eq!(
        (code, body["error"].as_str().unwrap()),
        (400, "the input is empty: there are no rows to import")
    );

    let (code, body) = post(
        &mut client,
        &store,
        "Editor",
        "feedback?colour=blue",
        b"[]".to_vec(),
    )
    .await;
    assert_eq!(code, 400);
    assert!(
        body["error"].as_str().unwrap().contains("\"colour\""),
        "{body}"
    );

    // A syntax error in an array rejects the whole request.
    let body = br#"[{"text": "uno", "id": "1"}, {"text": "dos" "id": "2"}]"#.to_vec();
    let (code, answer) = post(
        &mut client,
        &store,
        "Editor",
        "feedback?source_type=social&platform=x",
        body,
    )
    .await;
    assert_eq!(code, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("JSON syntax error in row 2"),
        "{answer}"
    );

    // Strict: one bad row turns the whole body away, with the row named.
    let body = b"{\"id\": \"1\", \"text\": \"rico\"}\n{\"id\": \"2\", \"text\": \"feo\", \"created_at\": \"31/02/2025\"}\n".to_vec();
    let (code, report) = post(
        &mut client,
        &store,
        "Editor",
        "feedback?source_type=social&platform=x&strict=true",
        body.clone(),
    )
    .await;
    assert_eq!(code, 422, "{report}");
    assert_eq!(
        (
            report["stored"].clone(),
            report["rejected"].clone(),
            report["committed"].clone()
        ),
        (json!(0), json!(1), json!(false))
    );
    assert_eq!(report["issues"][0]["row"], json!(2));
    assert_eq!(report["issues"][0]["field"], json!("time"));
    assert_eq!(report["issues"][0]["value"], json!("31/02/2025"));
    assert_eq!(
        report["issues"][0]["reason"],
        json!("day 31 does not exist in 02/2025")
    );
    // Without strict the good row is stored and stamped with the time it arrived.
    let (code, report) = post(
        &mut client,
        &store,
        "Editor",
        "feedback?source_type=social&platform=x",
        body,
    )
    .await;
    assert_eq!(
        (code, report["stored"].clone(), report["rejected"].clone()),
        (200, json!(1), json!(1))
    );

    let (code, _) = post(
        &mut client,
        &store,
        "Editor",
        "dimensions/region",
        b"".to_vec(),
    )
    .await;
    assert_eq!(code, 405);
    assert!(plugin.is_alive());
}

async fn a_store_failure_mid_request_leaves_no_rows(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(
        kind,
        dir.path(),
        "a_store_failure_mid_request_leaves_no_rows",
    )
    .await;
    let plugin = PluginProcess::start();
    let mut client = plugin.resource().await;
    let (code, _) = post(
        &mut client,
        &store,
        "Editor",
        "feedback?source_type=social&platform=seed",
        b"{\"text\": \"hola\"}".to_vec(),
    )
    .await;
    assert_eq!(code, 200);
    store.fail_inserts_of("p-2500").await;
    let body: String = (1..=4_000)
        .map(|i| format!("{{\"id\": \"p-{i}\", \"text\": \"mensaje {i}\"}}\n"))
        .collect();
    let (code, answer) = post(
        &mut client,
        &store,
        "Editor",
        "feedback?source_type=social&platform=push",
        body.into_bytes(),
    )
    .await;
    assert_eq!(code, 500, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("nothing from this input was stored"),
        "{answer}"
    );
    let stored = store
        .count("SELECT COUNT(*) FROM feedback WHERE platform = 'push'")
        .await;
    assert_eq!(stored, 0);
}

/// Pushes `body` twice, a few milliseconds apart: stored the first time, a duplicate the second.
async fn push_twice(client: &mut Client, store: &TestStore, body: &[u8]) {
    for (stored, duplicates) in [(1, 0), (0, 1)] {
        let (code, report) = post(client, store, "Editor", "feedback", body.to_vec()).await;
        assert_eq!(code, 200, "{report}");
        assert_eq!(
            (report["stored"].clone(), report["duplicates"].clone()),
            (json!(stored), json!(duplicates)),
            "{report}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// A body written with the query API's names (`sourceType`, `externalId`) is understood, and its
/// id deduplicates a second push of the same mention.
async fn pushes_accept_the_query_api_camel_case_names(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(
        kind,
        dir.path(),
        "pushes_accept_the_query_api_camel_case_names",
    )
    .await;
    let plugin = PluginProcess::start();
    let mut client = plugin.resource().await;
    let body = serde_json::to_vec(&json!([{
        "externalId": "camel-1",
        "sourceType": "social",
        "platform": "instagram",
        "text": "El lomo saltado de anoche estuvo buenazo",
        "eventTime": "2026-12-01T20:00:00Z"
    }]))
    .unwrap();
    push_twice(&mut client, &store, &body).await;
    // Without an id or a time, the mention is stamped on arrival, but arriving again does not
    // make it another mention.
    let bare = serde_json::to_vec(&json!([{
        "sourceType": "review",
        "platform": "google_maps",
        "text": "Sin id ni fecha: el ají de gallina llegó tibio"
    }]))
    .unwrap();
    push_twice(&mut client, &store, &bare).await;
    let frame = mentions(&plugin, &store, "lomo saltado").await;
    let text = frame.to_string();
    assert!(text.contains("\"social\""), "{text}");
    assert!(text.contains("1796155200000"), "eventTime not read: {text}");
}

/// A data source of `org_id` named `uid`, with `json_data` as its settings.
fn org_context(org_id: i64, uid: &str, json_data: Value, role: &str) -> pluginv2::PluginContext {
    let mut context = context(Path::new("/unused"), role);
    context.org_id = org_id;
    let settings = context.data_source_instance_settings.as_mut().unwrap();
    settings.uid = uid.to_string();
    settings.id = org_id * 100;
    settings.json_data = serde_json::to_vec(&json_data).unwrap();
    context
}

/// Organisations never see each other's data: data sources without a sqlitePath each get a
/// database of their own, and a sqlitePath pointing at another organisation's is refused.
#[tokio::test]
async fn organisations_never_share_a_database() {
    let grafana_data = tempfile::tempdir().unwrap();
    let plugin = PluginProcess::start_with_env(&[("GF_PATHS_DATA", grafana_data.path())]);
    let mut client = plugin.resource().await;
    let no_model = json!({ "modelPath": crate::common::NO_MODEL });
    let body = serde_json::to_vec(&json!([{
        "externalId": "org1-only",
        "sourceType": "review",
        "platform": "google_maps",
        "text": "Secreto de la organización uno: el tacu tacu estuvo salado",
        "eventTime": "2026-12-01T20:00:00Z"
    }]))
    .unwrap();
    let editor = org_context(1, "pulso", no_model.clone(), "Editor");
    let (code, report) = post_as(&mut client, editor, "feedback", body).await;
    assert_eq!(code, 200, "{report}");

    let search = |org: i64, json_data: Value| {
        let plugin = &plugin;
        async move {
            let response = plugin
                .data()
                .await
                .query_data(pluginv2::QueryDataRequest {
                    plugin_context: Some(org_context(org, "pulso", json_data, "Viewer")),
                    headers: HashMap::new(),
                    queries: vec![query(
                        "A",
                        json!({"queryType": "mentions", "search": "tacu tacu"}),
                        0,
                        chrono::Utc::now().timestamp_millis() + 3_600_000,
                    )],
                })
                .await
                .unwrap()
                .into_inner();
            response.responses["A"].clone()
        }
    };
    let own = search(1, no_model.clone()).await;
    assert!(
        decode_frame(&own.frames[0]).to_string().contains("Secreto"),
        "{}",
        own.error
    );
    // The same uid in organisation 2 has a database of its own, without org 1's mention.
    let other = search(2, no_model.clone()).await;
    assert_eq!(other.status, 200, "{}", other.error);
    assert!(!decode_frame(&other.frames[0])
        .to_string()
        .contains("Secreto"));
    let org1_file = grafana_data.path().join("pulso/1/pulso.db");
    assert!(org1_file.exists());
    assert!(grafana_data.path().join("pulso/2/pulso.db").exists());

    // Pointing organisation 2 at organisation 1's file is refused.
    let mut stolen = no_model.clone();
    stolen["sqlitePath"] = json!(org1_file);
    let refused = search(2, stolen).await;
    assert_eq!(refused.status, 400, "{}", refused.error);
    assert!(
        refused.error.contains("belongs to another organisation"),
        "{}",
        refused.error
    );
    assert!(
        refused.frames.is_empty()
            || !refused
                .frames
                .iter()
                .any(|f| decode_frame(f).to_string().contains("Secreto"))
    );

    // A device is not a database.
    let mut device = no_model;
    device["sqlitePath"] = json!("/dev/null");
    let refused = search(1, device).await;
    assert_eq!(refused.status, 400, "{}", refused.error);
    assert!(
        refused.error.contains("jsonData.sqlitePath"),
        "{}",
        refused.error
    );
}

/// A consistent copy of the database at `from`, made while the plugin has it open.
async fn backup(from: &Path, to: &Path) {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", from.display()))
        .await
        .unwrap();
    sqlx::query(&format!("VACUUM INTO '{}'", to.display()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// A deleted database is never served from the plugin's open connections nor made again
/// empty; it is reopened when it comes back, and a replaced file is read at once.
#[tokio::test]
async fn a_deleted_or_replaced_database_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::empty(StoreKind::Sqlite, dir.path(), "pulso").await;
    let db = store.sqlite_path.clone();
    let plugin = PluginProcess::start();
    let mut client = plugin.resource().await;
    let (code, report) = post(
        &mut client,
        &store,
        "Editor",
        "feedback?source_type=review",
        sample("resenas.ndjson"),
    )
    .await;
    assert_eq!(code, 200, "{report}");
    let search = |frame: Value| frame.to_string();
    assert!(search(mentions(&plugin, &store, "").await).contains("\"review\""));
    let saved = dir.path().join("saved.db");
    backup(&db, &saved).await;

    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let response = plugin
        .data()
        .await
        .query_data(pluginv2::QueryDataRequest {
            plugin_context: Some(context(&db, "Viewer")),
            headers: HashMap::new(),
            queries: vec![query(
                "A",
                json!({"queryType": "distribution"}),
                0,
                chrono::Utc::now().timestamp_millis(),
            )],
        })
        .await
        .unwrap()
        .into_inner();
    let error = &response.responses["A"].error;
    assert!(error.contains("was deleted or moved"), "{error}");
    // A Viewer's panel names the file, not where the server keeps it.
    let folder = db.parent().unwrap().display().to_string();
    let file = db.file_name().unwrap().to_string_lossy();
    assert!(
        !error.contains(&folder) && error.contains(&format!("…/{file}")),
        "{error}"
    );
    assert!(
        !db.exists(),
        "an empty database was made in place of the deleted one"
    );

    // Put back: served again, with its rows.
    std::fs::copy(&saved, &db).unwrap();
    assert!(search(mentions(&plugin, &store, "").await).contains("\"review\""));

    // Replaced by another (empty) Pulso database: its content is what is served.
    let empty = dir.path().join("empty.db");
    pulso_sqlite::SqliteStore::open(&empty)
        .await
        .unwrap()
        .close()
        .await;
    std::fs::rename(&empty, &db).unwrap();
    assert!(!search(mentions(&plugin, &store, "").await).contains("\"review\""));
}

on_both_stores!(
    editors_push_samples_and_viewers_are_refused,
    bad_requests_get_clear_errors_and_store_nothing,
    a_store_failure_mid_request_leaves_no_rows,
    pushes_accept_the_query_api_camel_case_names,
);
