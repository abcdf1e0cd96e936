//! The plugin protocol end to end: the real binary, go-plugin's handshake, pluginv2 over gRPC,
//! and Arrow frames compared with golden files.

use std::collections::HashMap;

use crate::common::*;
use grafana_plugin_sdk::pluginv2::{self, check_health_response::HealthStatus};
use serde_json::{json, Value};

const FROM: i64 = FIXTURE_START_MS;
const TO: i64 = FIXTURE_START_MS + 48 * HOUR - 1;

async fn ask(
    plugin: &PluginProcess,
    context: pluginv2::PluginContext,
    queries: Vec<pluginv2::DataQuery>,
) -> HashMap<String, pluginv2::DataResponse> {
    plugin
        .data()
        .await
        .query_data(pluginv2::QueryDataRequest {
            plugin_context: Some(context),
            headers: HashMap::new(),
            queries,
        })
        .await
        .expect("QueryData must not fail as a whole")
        .into_inner()
        .responses
}

fn only_frame(response: &pluginv2::DataResponse) -> Value {
    assert_eq!(response.error, "", "unexpected error");
    assert_eq!(response.status, 200);
    assert_eq!(response.frames.len(), 1);
    decode_frame(&response.frames[0])
}

#[tokio::test]
async fn handshake_and_grpc_health() {
    let plugin = PluginProcess::start();
    let parts: Vec<&str> = plugin.handshake.split('|').collect();
    assert_eq!(&parts[..3], ["1", "2", "tcp"]);
    assert!(parts[3].starts_with("127.0.0.1:"), "{}", plugin.handshake);
    assert_eq!(parts[4], "grpc");
    let mut health = tonic_health::pb::health_client::HealthClient::new(plugin.channel().await);
    for service in [
        "plugin",
        "pluginv2.Data",
        "pluginv2.Diagnostics",
        "pluginv2.Resource",
    ] {
        let status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.to_string(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, 1, "{service} should be SERVING");
    }
}

async fn golden_frames_for_every_query_type(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::fixture(kind, dir.path(), "golden_frames_for_every_query_type").await;
    let plugin = PluginProcess::start();
    let cases = [
        (
            "timeseries_volume_by_region",
            json!({"queryType": "timeseries", "metric": "volume", "groupBy": "region", "interval": "6h"}),
        ),
        (
            "timeseries_net_sentiment",
            json!({"queryType": "timeseries", "metric": "net_sentiment", "interval": "12h"}),
        ),
        (
            "timeseries_avg_score_by_brand_filtered",
            json!({"queryType": "timeseries", "metric": "avg_score", "groupBy": "brand", "interval": "1d",
                   "filters": {"sourceType": ["social", "delivery"], "language": ["es"]}}),
        ),
        (
            "mentions_search",
            json!({"queryType": "mentions", "search": "POLLO LLEGO", "limit": 5}),
        ),
        (
            "mentions_min_confidence",
            json!({"queryType": "mentions", "minConfidence": 0.7, "filters": {"label": ["negative"]}}),
        ),
        (
            "distribution_by_brand",
            json!({"queryType": "distribution", "groupBy": "brand"}),
        ),
        ("distribution", json!({"queryType": "distribution"})),
        (
            "dimension_values_region",
            json!({"queryType": "dimension_values", "dimension": "region"}),
        ),
        (
            "dimension_values_product_in_cusco",
            json!({"queryType": "dimension_values", "dimension": "product", "filters": {"region": ["Cusco"]}}),
        ),
    ];
    let queries = cases
        .iter()
        .map(|(name, model)| query(name, model.clone(), FROM, TO))
        .collect();
    let responses = ask(&plugin, store.context("Admin"), queries).await;
    for (name, _) in &cases {
        let frame = only_frame(&responses[*name]);
        assert_eq!(frame["refId"], json!(name));
        assert!(
            frame["meta"]["executedQueryString"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{name}: executedQueryString"
        );
        store.assert_golden(name, &frame);
    }
}

async fn timeseries_shape_matches_the_dataplane_contract(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::fixture(
        kind,
        dir.path(),
        "timeseries_shape_matches_the_dataplane_contract",
    )
    .await;
    let plugin = PluginProcess::start();
    let responses = ask(
        &plugin,
        store.context("Viewer"),
        vec![
            query(
                "A",
                json!({"queryType": "timeseries", "metric": "share_negative", "groupBy": "brand"}),
                FROM,
                TO,
            ),
            query(
                "B",
                json!({"queryType": "timeseries", "metric": "volume"}),
                FROM - 24 * HOUR,
                TO,
            ),
        ],
    )
    .await;
    let frame = only_frame(&responses["A"]);
    let fields = frame["fields"].as_array().unwrap();
    assert_eq!(fields[0]["name"], "time");
    assert_eq!(fields[0]["nullable"], false);
    assert!(fields[0]["type"]
        .as_str()
        .unwrap()
        .starts_with("Timestamp(Nanosecond, None)"));
    let times: Vec<i64> = fields[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "time ascending");
    assert_eq!(times.len(), 48, "hourly buckets from intervalMs");
    assert_eq!(fields.len(), 3, "one value field per brand");
    for field in &fields[1..] {
        assert_eq!(field["labels"].as_object().unwrap().len(), 1);
        assert!(field["labels"]["brand"].is_string());
        assert_eq!(field["nullable"], true);
    }
    // Only half the rows are scored, so the frame says so.
    let notices = frame["meta"]["notices"].as_array().unwrap();
    assert!(notices[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("12 feedback rows behind this result are not scored"));

    // Volume: a day before the data gives zero buckets, not nulls, and the sum is every row.
    let frame = only_frame(&responses["B"]);
    let values = frame["fields"][1]["values"].as_array().unwrap();
    assert!(values.iter().take(24).all(|v| v == &json!(0)));
    assert_eq!(values.iter().map(|v| v.as_i64().unwrap()).sum::<i64>(), 24);
    assert!(frame["meta"]["notices"].is_null(), "volume needs no scores");
}

async fn bad_queries_fail_alone(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::fixture(kind, dir.path(), "bad_queries_fail_alone").await;
    let mut plugin = PluginProcess::start();
    let injection = "'; DROP TABLE feedback; --";
    let queries = vec![
        query(
            "good",
            json!({"queryType": "timeseries", "metric": "volume"}),
            FROM,
            TO,
        ),
        raw_query("malformed", br#"{"queryType":"#.to_vec(), FROM, TO),
        query("unknown_type", json!({"queryType": "foo"}), FROM, TO),
        query(
            "unknown_dimension",
            json!({"queryType": "timeseries", "groupBy": "colour"}),
            FROM,
            TO,
        ),
        query(
            "unknown_metric",
            json!({"queryType": "timeseries", "metric": "mood"}),
            FROM,
            TO,
        ),
        query(
            "reversed_range",
            json!({"queryType": "distribution"}),
            TO,
            FROM,
        ),
        query(
            "limit_out_of_range",
            json!({"queryType": "mentions", "limit": 100000}),
            FROM,
            TO,
        ),
        query(
            "filter_not_list",
            json!({"queryType": "distribution", "filters": {"region": 5}}),
            FROM,
            TO,
        ),
        query(
            "injection_search",
            json!({"queryType": "mentions", "search": injection}),
            FROM,
            TO,
        ),
        query(
            "injection_filter",
            json!({"queryType": "distribution", "filters": {"brand": [injection], "region": ["Lima' OR '1'='1"]}}),
            FROM,
            TO,
        ),
        pluginv2::DataQuery {
            time_range: None,
            ..query("no_time_range", json!({"queryType": "mentions"}), 0, 0)
        },
        query("absurd_time", json!({"queryType": "mentions"}), 0, i64::MAX),
    ];
    let responses = ask(&plugin, store.context("Editor"), queries).await;
    assert_eq!(responses.len(), 12);
    let expect_error = |ref_id: &str, needles: &[&str]| {
        let r = &responses[ref_id];
        assert_eq!(r.status, 400, "{ref_id}: {}", r.error);
        assert!(r.frames.is_empty(), "{ref_id}");
        for needle in needles {
            assert!(
                r.error.contains(needle),
                "{ref_id}: {:?} lacks {needle:?}",
                r.error
            );
        }
    };
    expect_error("malformed", &["not valid JSON"]);
    expect_error(
        "unknown_type",
        &[
            "\"foo\"",
            "timeseries, mentions, distribution, dimension_values",
        ],
    );
    expect_error(
        "unknown_dimension",
        &["groupBy", "\"colour\"", "sourceType"],
    );
    expect_error("unknown_metric", &["metric", "\"mood\"", "net_sentiment"]);
    expect_error(
        "reversed_range",
        &["from (2026-01-06T23:59:59Z) is after to (2026-01-05T00:00:00Z)"],
    );
    expect_error("limit_out_of_range", &["limit 100000", "1 to 5000"]);
    expect_error(
        "filter_not_list",
        &["filters.region", "list of strings", "5"],
    );
    expect_error("no_time_range", &["time range is missing"]);
    expect_error("absurd_time", &["timeRange.to"]);

    let good = only_frame(&responses["good"]);
    assert_eq!(
        good["fields"][1]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .sum::<i64>(),
        24
    );
    // Injection attempts are plain values: the first matches its row literally, the second nothing.
    let found = only_frame(&responses["injection_search"]);
    assert_eq!(found["fields"][2]["values"].as_array().unwrap().len(), 4);
    let none = only_frame(&responses["injection_filter"]);
    assert!(none["fields"][1]["values"].as_array().unwrap().is_empty());

    // The table is still there and the plugin still runs.
    let again = ask(
        &plugin,
        store.context("Editor"),
        vec![query(
            "again",
            json!({"queryType": "distribution"}),
            FROM,
            TO,
        )],
    )
    .await;
    let counts = only_frame(&again["again"])["fields"][1]["values"].clone();
    assert_eq!(
        counts
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .sum::<i64>(),
        24
    );
    assert!(plugin.is_alive());
}

async fn users_without_a_basic_role_and_missing_settings(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::fixture(
        kind,
        dir.path(),
        "users_without_a_basic_role_and_missing_settings",
    )
    .await;
    let plugin = PluginProcess::start();
    // Grafana's "No basic role" users reach the plugin only once Grafana has authorised them.
    let responses = ask(
        &plugin,
        store.context("None"),
        vec![query("A", json!({"queryType": "distribution"}), FROM, TO)],
    )
    .await;
    only_frame(&responses["A"]);

    let mut no_settings = store.context("Admin");
    no_settings.data_source_instance_settings = None;
    let responses = ask(
        &plugin,
        no_settings,
        vec![query("A", json!({"queryType": "distribution"}), FROM, TO)],
    )
    .await;
    assert_eq!(responses["A"].status, 400);
    assert!(responses["A"].error.contains("no data source settings"));

    let mut bad_path = store.context("Admin");
    bad_path
        .data_source_instance_settings
        .as_mut()
        .unwrap()
        .json_data = br#"{"sqlitePath": ["x"]}"#.to_vec();
    let responses = ask(
        &plugin,
        bad_path,
        vec![query("A", json!({"queryType": "distribution"}), FROM, TO)],
    )
    .await;
    assert!(
        responses["A"]
            .error
            .contains("jsonData.sqlitePath must be a string, got [\"x\"]"),
        "{}",
        responses["A"].error
    );
}

async fn check_health_reports_counts_and_says_what_to_fix(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::fixture(
        kind,
        dir.path(),
        "check_health_reports_counts_and_says_what_to_fix",
    )
    .await;
    let plugin = PluginProcess::start();
    let mut diagnostics = plugin.diagnostics().await;
    let ok = diagnostics
        .check_health(pluginv2::CheckHealthRequest {
            plugin_context: Some(store.context("Admin")),
            headers: HashMap::new(),
        })
        .await
        .unwrap()
        .into_inner();
    // The database is fine, but without a model sentiment cannot be filled: a health error that
    // names the missing file, while the counts still show.
    assert_eq!(ok.status, HealthStatus::Error as i32, "{}", ok.message);
    // An error never says "ready", and leads with what to fix.
    assert!(
        ok.message.starts_with("The sentiment model cannot load")
            && !ok.message.contains("Pulso is ready"),
        "{}",
        ok.message
    );
    assert!(ok.message.contains("24 feedback rows"), "{}", ok.message);
    assert!(
        ok.message
            .contains(&format!("{NO_MODEL}/config.json is missing")),
        "{}",
        ok.message
    );
    assert!(
        ok.message.contains("queries without it still work"),
        "{}",
        ok.message
    );
    assert!(
        ok.message.contains("12 scored, 12 unscored"),
        "{}",
        ok.message
    );
    let details: Value = serde_json::from_slice(&ok.json_details).unwrap();
    assert_eq!(details["feedbackRows"], 24);
    assert_eq!(details["activeModel"], "fixture-model");

    let missing = dir.path().join("no-such-folder").join("pulso.db");
    let error = diagnostics
        .check_health(pluginv2::CheckHealthRequest {
            plugin_context: Some(context(&missing, "Admin")),
            headers: HashMap::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(error.status, HealthStatus::Error as i32);
    assert!(
        error.message.contains(&missing.display().to_string()),
        "{}",
        error.message
    );
    assert!(
        error
            .message
            .contains("create the folder, or change sqlitePath"),
        "{}",
        error.message
    );

    let metrics = diagnostics
        .collect_metrics(pluginv2::CollectMetricsRequest {
            plugin_context: None,
        })
        .await
        .unwrap()
        .into_inner();
    let text = String::from_utf8(metrics.metrics.unwrap().prometheus).unwrap();
    assert!(
        text.contains("# TYPE pulso_queries_total counter"),
        "{text}"
    );
}

async fn call(
    client: &mut pluginv2::resource_client::ResourceClient<tonic::transport::Channel>,
    store: &TestStore,
    path: &str,
    method: &str,
) -> (i32, Value) {
    let request = pluginv2::CallResourceRequest {
        plugin_context: Some(store.context("Viewer")),
        path: path.to_string(),
        method: method.to_string(),
        url: path.to_string(),
        ..Default::default()
    };
    let mut stream = client.call_resource(request).await.unwrap().into_inner();
    let response = stream.message().await.unwrap().unwrap();
    (
        response.code,
        serde_json::from_slice::<Value>(&response.body).unwrap(),
    )
}

async fn resources_serve_dimension_values(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::fixture(kind, dir.path(), "resources_serve_dimension_values").await;
    let plugin = PluginProcess::start();
    let mut resource = plugin.resource().await;
    let (code, body) = call(&mut resource, &store, "dimensions/region", "GET").await;
    assert_eq!(code, 200);
    assert_eq!(
        body,
        json!([{"text": "Arequipa", "value": "Arequipa"}, {"text": "Cusco", "value": "Cusco"}, {"text": "Lima", "value": "Lima"}])
    );
    let (code, body) = call(&mut resource, &store, "dimensions", "GET").await;
    assert_eq!((code, body[0].clone()), (200, json!("sourceType")));
    let (code, body) = call(&mut resource, &store, "dimensions/colour", "GET").await;
    assert_eq!(code, 404);
    assert!(body["error"].as_str().unwrap().contains("\"colour\""));
    let (code, _) = call(&mut resource, &store, "dimensions/region", "POST").await;
    assert_eq!(code, 405);
}

/// go-plugin's `plugin.Empty`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
struct Empty {}

#[tokio::test]
async fn grafana_shutdown_request_stops_the_plugin_promptly() {
    let mut plugin = PluginProcess::start();
    let mut grpc = tonic::client::Grpc::new(plugin.channel().await);
    grpc.ready().await.unwrap();
    let _: tonic::Response<Empty> = grpc
        .unary(
            tonic::Request::new(Empty {}),
            http::uri::PathAndQuery::from_static("/plugin.GRPCController/Shutdown"),
            tonic::codec::ProstCodec::default(),
        )
        .await
        .expect("Shutdown RPC");
    drop(grpc);
    // go-plugin kills the process 2 s after asking; a clean exit must come well before.
    for _ in 0..30 {
        if !plugin.is_alive() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the plugin was still running 1.5 s after Shutdown");
}

/// A request over gRPC's default 4 MiB still reaches the plugin: an oversized query gets its
/// own 400 while the others are answered, and an oversized push its 413.
async fn oversized_queries_and_bodies_fail_alone(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store =
        TestStore::fixture(kind, dir.path(), "oversized_queries_and_bodies_fail_alone").await;
    let plugin = PluginProcess::start();
    let huge = format!(
        r#"{{"queryType":"mentions","search":"x","padding":"{}"}}"#,
        "p".repeat(5 * 1024 * 1024)
    );
    let responses = ask(
        &plugin,
        store.context("Viewer"),
        vec![
            query("good", json!({"queryType": "distribution"}), FROM, TO),
            raw_query("huge", huge.into_bytes(), FROM, TO),
        ],
    )
    .await;
    assert_eq!(responses["good"].status, 200, "{}", responses["good"].error);
    assert_eq!(responses["huge"].status, 400);
    assert!(
        responses["huge"]
            .error
            .contains("more than 1048576 (1 MiB)"),
        "{}",
        responses["huge"].error
    );

    let (code, body) = {
        let mut client = plugin.resource().await;
        let request = pluginv2::CallResourceRequest {
            plugin_context: Some(store.context("Editor")),
            path: "feedback".to_string(),
            method: "POST".to_string(),
            url: "feedback".to_string(),
            body: vec![b' '; 20 * 1024 * 1024].into(),
            ..Default::default()
        };
        let mut stream = client.call_resource(request).await.unwrap().into_inner();
        let response = stream.message().await.unwrap().unwrap();
        (
            response.code,
            String::from_utf8_lossy(&response.body).to_string(),
        )
    };
    assert_eq!(code, 413, "{body}");
}

on_both_stores!(
    golden_frames_for_every_query_type,
    timeseries_shape_matches_the_dataplane_contract,
    bad_queries_fail_alone,
    users_without_a_basic_role_and_missing_settings,
    check_health_reports_counts_and_says_what_to_fix,
    resources_serve_dimension_values,
    oversized_queries_and_bodies_fail_alone,
);
