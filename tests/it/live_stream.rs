//! Grafana Live through the real binary: a live query names its channel, SubscribeStream and
//! PublishStream answer as Grafana expects, and RunStream sends newly scored rows as frame JSON
//! packets, one producer per channel, with nothing left running once Grafana cancels.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::*;
use grafana_plugin_sdk::pluginv2::{
    self, publish_stream_response, stream_client::StreamClient, subscribe_stream_response,
};
use serde_json::{json, Value};
use tonic::transport::Channel;

const MODEL_LOAD: Duration = Duration::from_secs(120);

/// A plugin with the model and an empty database, and a Viewer's and an Editor's context.
fn start_with_model() -> (
    tempfile::TempDir,
    PluginProcess,
    pluginv2::PluginContext,
    pluginv2::PluginContext,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let viewer = context_with_model(&db, "Viewer", &model_dir());
    let editor = as_role(&viewer, "Editor");
    (dir, PluginProcess::start(), viewer, editor)
}

fn as_role(context: &pluginv2::PluginContext, role: &str) -> pluginv2::PluginContext {
    let mut context = context.clone();
    context.user.as_mut().expect("a user").role = role.to_string();
    context
}

/// Runs a live query and returns its first frame (decoded) and its channel's path.
async fn live_query(
    plugin: &PluginProcess,
    context: &pluginv2::PluginContext,
    model: Value,
) -> (Value, String) {
    let now = chrono::Utc::now().timestamp_millis();
    let response = plugin
        .data()
        .await
        .query_data(pluginv2::QueryDataRequest {
            plugin_context: Some(context.clone()),
            headers: HashMap::new(),
            queries: vec![query("A", model, now - HOUR, now)],
        })
        .await
        .unwrap()
        .into_inner();
    let answer = &response.responses["A"];
    assert_eq!(answer.error, "", "the live query failed");
    let frame = decode_frame(&answer.frames[0]);
    let channel = frame["meta"]["channel"]
        .as_str()
        .unwrap_or_else(|| panic!("a live query's frame names its channel: {}", frame["meta"]))
        .to_string();
    let path = channel
        .strip_prefix("ds/pulso-test/")
        .unwrap_or_else(|| panic!("channel {channel:?} is ds/<uid>/<path>"))
        .to_string();
    (frame, path)
}

async fn run_stream(
    client: &mut StreamClient<Channel>,
    context: &pluginv2::PluginContext,
    path: &str,
) -> tonic::Streaming<pluginv2::StreamPacket> {
    client
        .run_stream(pluginv2::RunStreamRequest {
            plugin_context: Some(context.clone()),
            path: path.to_string(),
            data: Default::default(),
        })
        .await
        .expect("RunStream")
        .into_inner()
}

/// The next packet as frame JSON, within `wait`.
async fn next_packet(
    stream: &mut tonic::Streaming<pluginv2::StreamPacket>,
    wait: Duration,
) -> Option<Value> {
    let packet = tokio::time::timeout(wait, stream.message())
        .await
        .ok()?
        .expect("the stream failed")?;
    Some(serde_json::from_slice(&packet.data).expect("a packet is frame JSON"))
}

/// A packet's column by field name.
fn column<'a>(packet: &'a Value, name: &str) -> &'a Vec<Value> {
    let fields = packet["schema"]["fields"]
        .as_array()
        .expect("schema fields");
    let index = fields
        .iter()
        .position(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {fields:?}"));
    packet["data"]["values"][index].as_array().unwrap()
}

#[tokio::test]
async fn a_live_mentions_panel_receives_newly_scored_rows_that_match_its_filters() {
    let (_dir, plugin, viewer, editor) = start_with_model();
    let (frame, path) = live_query(
        &plugin,
        &viewer,
        json!({"queryType": "mentions", "live": true, "limit": 20,
               "filters": {"brand": ["Brasa Norte"]}}),
    )
    .await;
    let names: Vec<&Value> = frame["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["name"])
        .collect();

    // Any role may watch; nobody may publish; another organisation may not even watch.
    let mut client = plugin.stream().await;
    let subscribe = |context: pluginv2::PluginContext, path: &str| {
        let mut client = client.clone();
        let request = pluginv2::SubscribeStreamRequest {
            plugin_context: Some(context),
            path: path.to_string(),
            data: Default::default(),
        };
        async move {
            client
                .subscribe_stream(request)
                .await
                .unwrap()
                .into_inner()
                .status
        }
    };
    use subscribe_stream_response::Status;
    assert_eq!(subscribe(viewer.clone(), &path).await, Status::Ok as i32);
    let mut other_org = viewer.clone();
    other_org.org_id = 2;
    assert_eq!(
        subscribe(other_org, &path).await,
        Status::PermissionDenied as i32
    );
    assert_eq!(
        subscribe(viewer.clone(), "v1/o1/mentions/bm9wZQ").await,
        Status::NotFound as i32
    );
    for role in ["Viewer", "Admin"] {
        let response = client
            .publish_stream(pluginv2::PublishStreamRequest {
                plugin_context: Some(as_role(&viewer, role)),
                path: path.clone(),
                data: br#"{"text":"forged"}"#.to_vec(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            response.status,
            publish_stream_response::Status::PermissionDenied as i32,
            "{role} published"
        );
    }

    let mut stream = run_stream(&mut client, &viewer, &path).await;
    plugin
        .push_lines(
            &editor,
            &[
                json!({"id": "live-1", "brand": "Brasa Norte",
                   "text": "Pésimo, el pollo llegó frío y crudo, nunca más"}),
                json!({"id": "live-2", "brand": "Mar Azul",
                   "text": "Bacán la atención, el ceviche buenazo, volveré"}),
            ],
        )
        .await;
    let packet = next_packet(&mut stream, MODEL_LOAD)
        .await
        .expect("a packet once the pushed mention is scored");
    let packet_names: Vec<&Value> = packet["schema"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["name"])
        .collect();
    assert_eq!(packet_names, names, "packets have the query's fields");
    assert_eq!(column(&packet, "brand"), &[json!("Brasa Norte")]);
    assert_eq!(column(&packet, "label"), &[json!("negative")]);
    let time = column(&packet, "time")[0].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    assert!((now - time).abs() < 600_000, "time {time} is epoch ms");
    assert_eq!(packet["schema"]["fields"][0]["type"], "time");
    // The other brand's mention was scored in the same batch but is not this panel's.
    assert_eq!(next_packet(&mut stream, Duration::from_secs(2)).await, None);
}

#[tokio::test]
async fn live_aggregates_replace_their_window_as_rows_are_scored() {
    let (_dir, plugin, viewer, editor) = start_with_model();
    let (frame, path) = live_query(
        &plugin,
        &viewer,
        json!({"queryType": "distribution", "live": true}),
    )
    .await;
    assert!(path.starts_with("v1/o1/distribution/"), "{path}");
    let counted: i64 = frame["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "count")
        .map_or(0, |f| {
            f["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .sum()
        });
    assert_eq!(counted, 0, "the database starts empty");
    let mut client = plugin.stream().await;
    let mut stream = run_stream(&mut client, &viewer, &path).await;
    plugin
        .push_lines(
            &editor,
            &[
                json!({"id": "agg-1", "text": "Pésimo, el pollo llegó frío y crudo, nunca más"}),
                json!({"id": "agg-2", "text": "Bacán la atención, el ceviche buenazo, volveré"}),
            ],
        )
        .await;
    // Each packet is the whole distribution over the last hour, so the last one counts both.
    let mut by_label = HashMap::new();
    while by_label.values().sum::<i64>() < 2 {
        let packet = next_packet(&mut stream, MODEL_LOAD)
            .await
            .expect("a packet once the pushed mentions are scored");
        by_label = column(&packet, "label")
            .iter()
            .zip(column(&packet, "count"))
            .map(|(l, c)| (l.as_str().unwrap().to_string(), c.as_i64().unwrap()))
            .collect();
    }
    assert_eq!(by_label.get("negative"), Some(&1), "{by_label:?}");
    assert_eq!(by_label.get("positive"), Some(&1), "{by_label:?}");
}

async fn no_streams_left(plugin: &PluginProcess) {
    for _ in 0..100 {
        if plugin.metric("pulso_live_streams").await == 0.0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("RunStream calls are still counted long after they were cancelled");
}

#[tokio::test]
async fn one_producer_serves_every_stream_and_cancelled_streams_free_their_tasks() {
    let (_dir, plugin, viewer, editor) = start_with_model();
    let (_, path) = live_query(
        &plugin,
        &viewer,
        json!({"queryType": "mentions", "live": true}),
    )
    .await;
    // Warm up: the model loads and the first row is scored before anything is counted.
    let mut client = plugin.stream().await;
    let mut first = run_stream(&mut client, &viewer, &path).await;
    plugin
        .push_lines(
            &editor,
            &[json!({"id": "warm", "text": "Rico el lomo saltado"})],
        )
        .await;
    next_packet(&mut first, MODEL_LOAD)
        .await
        .expect("the warm-up row streamed");
    drop(first);
    no_streams_left(&plugin).await;
    assert_eq!(plugin.metric("pulso_live_channels").await, 0.0);
    let tasks_before = plugin.metric("pulso_runtime_alive_tasks").await;

    let mut streams = Vec::new();
    for _ in 0..100 {
        streams.push(run_stream(&mut client, &viewer, &path).await);
    }
    assert_eq!(plugin.metric("pulso_live_streams").await, 100.0);
    assert_eq!(
        plugin.metric("pulso_live_channels").await,
        1.0,
        "100 streams on one channel share one producer"
    );
    plugin
        .push_lines(
            &editor,
            &[json!({"id": "fan-out", "text": "La chicha morada estaba aguada"})],
        )
        .await;
    for stream in &mut streams {
        let packet = next_packet(stream, Duration::from_secs(60))
            .await
            .expect("every stream gets the packet");
        assert_eq!(
            column(&packet, "text"),
            &[json!("La chicha morada estaba aguada")]
        );
    }
    let tasks_streaming = plugin.metric("pulso_runtime_alive_tasks").await;

    // Grafana cancels: the calls end, and their tasks and the producer with them.
    drop(streams);
    no_streams_left(&plugin).await;
    assert_eq!(plugin.metric("pulso_live_channels").await, 0.0);
    let mut tasks_after = f64::MAX;
    for _ in 0..100 {
        tasks_after = plugin.metric("pulso_runtime_alive_tasks").await;
        if tasks_after <= tasks_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        tasks_after <= tasks_before,
        "tasks: {tasks_before} before, {tasks_streaming} while streaming, {tasks_after} after"
    );
    assert!(
        tasks_streaming >= tasks_before + 100.0,
        "each open stream is a task ({tasks_before} before, {tasks_streaming} streaming)"
    );
}
