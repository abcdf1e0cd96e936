//! The `insights` query with an LLM, through the real plugin protocol: the plugin binary is
//! driven over gRPC the way Grafana drives it, and the "LLM" is a fake OpenAI-compatible server
//! in this test (HTTP/1.1 on a loopback port) that records every request and answers from a
//! script: a grounded answer, garbage, an HTML page, 429s, 500s, a dropped connection, silence.
//!
//! Every test also checks that the API key never shows: not in the plugin's debug logs, not in
//! a frame, not in an error, and not in the prompt (where it would reach the model provider).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::common::{
    context, decode_frame, demo_db, feedback_row, query, query_data, PluginProcess, HOUR, NO_MODEL,
};
use grafana_plugin_sdk::pluginv2;
use pulso_sqlite::SqliteStore;
use pulso_store::{FeedbackWriter, NewFeedback};
use pulso_testkit::{FakeLlm, Reply, Seen};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const DAY: i64 = 24 * HOUR;
const API_KEY: &str = "sk-test-SECRET-1234567890";
const MODEL: &str = "test-model";
/// Rows in the demo database; about a sixth of them fall in the 30-day query range.
const DEMO_ROWS: usize = 3_000;
const FIELDS: [&str; 5] = [
    "kind",
    "finding",
    "evidenceIds",
    "suggestedAction",
    "generatedBy",
];
/// What the fake model answers in the happy path, besides the evidence it cites.
const SUMMARY_TEXT: &str = "Las quejas por demoras del delivery suben en Lima.";
const DRIVER_TEXT: &str = "El pollo llega frío en pedidos por aplicación.";
const UNGROUNDED_TEXT: &str = "ungrounded";
const SUGGESTION_TEXT: &str = "Revisar el empaque térmico con el operador.";
const SUGGESTION_ACTION: &str = "Auditar el empaque térmico esta semana.";
/// Ids no mention has: the plugin must not pass them on as evidence.
const UNKNOWN_ID: i64 = 999_999_999;
const OTHER_UNKNOWN_ID: i64 = 424_242_424;

// ---------------------------------------------------------------------------------------------
// What the fake OpenAI-compatible server (pulso-testkit) is sent and answers.

/// The user message: statistics, then one sample mention per line.
fn user_message(seen: &Seen) -> String {
    seen.json()["messages"]
        .as_array()
        .and_then(|messages| messages.iter().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// The sample mentions in the prompt, in order, as the JSON objects they are sent as.
fn sample_mentions(seen: &Seen) -> Vec<Value> {
    let user = user_message(seen);
    let Some((_, sample)) = user.split_once("Sample mentions") else {
        return Vec::new();
    };
    sample
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
        .filter(|mention| mention["id"].is_i64())
        .collect()
}

fn sample_ids(seen: &Seen) -> Vec<i64> {
    sample_mentions(seen)
        .iter()
        .filter_map(|m| m["id"].as_i64())
        .collect()
}

/// A chat-completions response whose message content is `content`.
fn completion(content: &str) -> String {
    json!({
        "id": "chatcmpl-pulso-test",
        "object": "chat.completion",
        "created": 1_767_571_200,
        "model": MODEL,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop",
        }],
        "usage": {"prompt_tokens": 1500, "completion_tokens": 120, "total_tokens": 1620},
    })
    .to_string()
}

fn json_reply(status: u16, body: String) -> Reply {
    Reply::json(status, body)
}

/// The happy-path answer: claims citing the first three sample ids, one also citing an id
/// that was never shown, and one claim citing only an unknown id.
fn grounded_reply(seen: &Seen) -> Reply {
    let ids = sample_ids(seen);
    if ids.is_empty() {
        return json_reply(
            400,
            r#"{"error":{"message":"no sample in the prompt"}}"#.into(),
        );
    }
    let id = |i: usize| ids[i % ids.len()];
    let content = json!({
        "summary": [{"text": SUMMARY_TEXT, "evidence": [id(0)]}],
        "drivers": [
            {"text": DRIVER_TEXT, "evidence": [id(1), UNKNOWN_ID]},
            {"text": UNGROUNDED_TEXT, "evidence": [OTHER_UNKNOWN_ID]},
        ],
        "suggestions": [{"text": SUGGESTION_TEXT, "action": SUGGESTION_ACTION, "evidence": [id(2)]}],
    });
    json_reply(200, completion(&content.to_string()))
}

// ---------------------------------------------------------------------------------------------
// The plugin, its data and its answers.

/// A plugin logging at debug into a file, over a fresh demo database.
struct Harness {
    _dir: tempfile::TempDir,
    db: PathBuf,
    log: PathBuf,
    plugin: PluginProcess,
    from: i64,
    to: i64,
}

impl Harness {
    /// `extra` rows go into the database before the plugin starts, stored as given: without
    /// the redaction `POST /feedback` applies.
    async fn start(extra: Vec<NewFeedback>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = demo_db(dir.path(), DEMO_ROWS);
        if !extra.is_empty() {
            let store = SqliteStore::open(&db).await.expect("open demo db");
            let report = store.insert_feedback(&extra).await.expect("insert rows");
            assert_eq!(report.inserted, extra.len() as u64);
        }
        let log = dir.path().join("plugin.log");
        let plugin = PluginProcess::start_logging_to("debug", &log);
        let to = (now_ms() / HOUR + 1) * HOUR;
        Harness {
            _dir: dir,
            db,
            log,
            plugin,
            from: to - 30 * DAY,
            to,
        }
    }

    /// A Viewer's context whose jsonData has `llm` merged in, with the decrypted API key.
    fn context(&self, llm: Value) -> pluginv2::PluginContext {
        let mut context = context(&self.db, "Viewer");
        let settings = context.data_source_instance_settings.as_mut().unwrap();
        let mut json_data = json!({"sqlitePath": self.db, "modelPath": NO_MODEL});
        if let Value::Object(llm) = llm {
            json_data.as_object_mut().unwrap().extend(llm);
        }
        settings.json_data = serde_json::to_vec(&json_data).unwrap();
        settings.decrypted_secure_json_data =
            HashMap::from([("llmApiKey".to_string(), API_KEY.to_string())]);
        context
    }

    /// A context whose llmUrl is `fake_url` and llmModel is test-model, with `extra` merged in.
    fn llm_context(&self, fake_url: &str, extra: Value) -> pluginv2::PluginContext {
        let mut llm = json!({"llmUrl": fake_url, "llmModel": MODEL});
        if let Value::Object(extra) = extra {
            llm.as_object_mut().unwrap().extend(extra);
        }
        self.context(llm)
    }

    /// [`Harness::llm_context`] for `url` with another decrypted `llmApiKey`.
    fn context_with_key(&self, url: &str, key: &str) -> pluginv2::PluginContext {
        let mut context = self.llm_context(url, json!({}));
        context
            .data_source_instance_settings
            .as_mut()
            .unwrap()
            .decrypted_secure_json_data
            .insert("llmApiKey".to_string(), key.to_string());
        context
    }

    fn query(&self, ref_id: &str, json: Value) -> pluginv2::DataQuery {
        query(ref_id, json, self.from, self.to)
    }

    /// One QueryData call; no error and no frame may contain the API key.
    async fn ask(
        &self,
        context: pluginv2::PluginContext,
        queries: Vec<pluginv2::DataQuery>,
    ) -> HashMap<String, pluginv2::DataResponse> {
        let responses = query_data(&self.plugin, context, queries).await;
        for (ref_id, response) in &responses {
            assert_no_secret(&response.error, &format!("the error of query {ref_id}"));
            for frame in &response.frames {
                assert_no_secret(
                    &String::from_utf8_lossy(frame),
                    &format!("a frame of query {ref_id}"),
                );
            }
        }
        responses
    }

    /// One insights query (refId A) against the fake LLM.
    async fn insights(&self, fake_url: &str, query_json: Value) -> pluginv2::DataResponse {
        let mut responses = self
            .ask(
                self.llm_context(fake_url, json!({})),
                vec![self.query("A", query_json)],
            )
            .await;
        responses.remove("A").unwrap()
    }

    fn log_text(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap()).into_owned()
    }

    /// The log at debug level has no API key, and the plugin survived.
    fn finish(mut self, expect_in_log: &[&str]) {
        assert!(self.plugin.is_alive(), "the plugin died");
        let log = self.log_text();
        assert!(
            log.contains("\"@level\":\"DEBUG\""),
            "RUST_LOG=debug had no effect; log:\n{log}"
        );
        for expected in expect_in_log {
            assert!(log.contains(expected), "{expected:?} not logged:\n{log}");
        }
        assert_no_secret(&log, "the plugin's log");
    }
}

/// The tests' "now": the end of the demo database, so the same rows fall in range on any day.
fn now_ms() -> i64 {
    crate::common::demo_end_ms()
}

fn assert_no_secret(haystack: &str, what: &str) {
    // The distinctive middle of the key too, in case something cuts or masks its ends.
    for needle in [API_KEY, "SECRET-1234567890", "1234567890"] {
        assert!(
            !haystack.contains(needle),
            "{what} contains the API key ({needle:?}):\n{haystack}"
        );
    }
}

/// The one insights frame of a response, with the contract's fields in order.
fn insights_frame(response: &pluginv2::DataResponse) -> Value {
    assert_eq!(response.frames.len(), 1, "error: {}", response.error);
    let frame = decode_frame(&response.frames[0]);
    assert_eq!(frame["name"], "insights", "{frame}");
    let names: Vec<&str> = frame["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, FIELDS, "{frame}");
    frame
}

fn column(frame: &Value, name: &str) -> Vec<String> {
    frame["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {frame}"))["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().expect("string cell").to_string())
        .collect()
}

/// (severity, text) of every notice on the frame.
fn notices(frame: &Value) -> Vec<(String, String)> {
    frame["meta"]["notices"]
        .as_array()
        .map(|notices| {
            notices
                .iter()
                .map(|n| {
                    (
                        n["severity"].as_str().unwrap_or_default().to_string(),
                        n["text"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn has_notice(frame: &Value, severity: &str, text: &str) -> bool {
    notices(frame)
        .iter()
        .any(|(s, t)| s == severity && t.contains(text))
}

/// Rows as (kind, finding, evidenceIds, suggestedAction), for comparing two frames.
fn rows(frame: &Value) -> Vec<[String; 4]> {
    let columns: Vec<Vec<String>> = FIELDS[..4].iter().map(|f| column(frame, f)).collect();
    (0..columns[0].len())
        .map(|i| std::array::from_fn(|c| columns[c][i].clone()))
        .collect()
}

/// The deterministic offline summary: at least a summary row, every row marked offline, the
/// Info notice saying so, and evidence ids that are numbers.
fn assert_offline(frame: &Value) {
    let kinds = column(frame, "kind");
    assert!(!kinds.is_empty(), "offline summary is empty: {frame}");
    assert_eq!(kinds[0], "summary", "{frame}");
    assert!(
        column(frame, "generatedBy").iter().all(|g| g == "offline"),
        "{frame}"
    );
    assert!(
        has_notice(frame, "info", "Generated without an LLM"),
        "no offline notice: {frame}"
    );
    for ids in column(frame, "evidenceIds") {
        assert!(
            ids.split(", ")
                .filter(|s| !s.is_empty())
                .all(|id| id.parse::<i64>().is_ok()),
            "evidenceIds {ids:?}"
        );
    }
}

/// A response that failed over to the offline summary: the query's error (with `status`,
/// mentioning `error_part` and the fallback), the offline frame, and a Warning saying why.
fn assert_fallback(response: &pluginv2::DataResponse, status: i32, error_part: &str) -> Value {
    assert_eq!(response.status, status, "error: {}", response.error);
    assert!(
        response.error.contains(error_part),
        "error {:?} should mention {error_part:?}",
        response.error
    );
    assert!(
        response
            .error
            .ends_with("(the offline summary is shown instead)"),
        "{}",
        response.error
    );
    let frame = insights_frame(response);
    assert_offline(&frame);
    assert!(
        has_notice(&frame, "warning", "The LLM failed"),
        "no warning notice: {frame}"
    );
    assert!(
        has_notice(&frame, "warning", error_part),
        "the warning does not say why: {frame}"
    );
    frame
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[tokio::test]
async fn grounded_llm_findings_replace_the_offline_summary() {
    let harness = Harness::start(Vec::new()).await;
    let fake = FakeLlm::start(grounded_reply).await;

    let response = harness
        .insights(&fake.url(), json!({"queryType": "insights"}))
        .await;
    assert_eq!(response.status, 200, "error: {}", response.error);
    assert_eq!(response.error, "");
    let frame = insights_frame(&response);

    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "one request, no retry");
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v1/chat/completions");
    assert!(
        request
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        request.headers
    );
    let body = request.json();
    assert_eq!(body["model"], MODEL);
    assert_eq!(body["response_format"]["type"], "json_object");
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["role"], "user");
    // The prompt carries statistics and a sample of mentions from the query's range.
    let user = user_message(request);
    assert!(user.contains("Statistics (JSON):"), "{user}");
    let sample = sample_mentions(request);
    assert!(sample.len() >= 3, "only {} sample mentions", sample.len());
    let first_day = day(harness.from);
    let last_day = day(harness.to);
    for mention in &sample {
        let time = mention["time"].as_str().unwrap();
        assert!(
            first_day.as_str() <= time && time <= last_day.as_str(),
            "{mention} is outside {first_day}..{last_day}"
        );
    }
    let ids = sample_ids(request);

    // Exactly the grounded claims, in order, with only known ids as evidence.
    assert_eq!(
        rows(&frame),
        vec![
            [
                "summary".to_string(),
                SUMMARY_TEXT.to_string(),
                ids[0].to_string(),
                String::new()
            ],
            [
                "driver".to_string(),
                DRIVER_TEXT.to_string(),
                ids[1].to_string(),
                String::new()
            ],
            [
                "suggestion".to_string(),
                SUGGESTION_TEXT.to_string(),
                ids[2].to_string(),
                SUGGESTION_ACTION.to_string()
            ],
        ],
        "{frame}"
    );
    assert!(column(&frame, "generatedBy")
        .iter()
        .all(|g| g == "llm:test-model"));
    let text = frame.to_string();
    assert!(!text.contains(UNGROUNDED_TEXT), "{text}");
    assert!(!text.contains(&UNKNOWN_ID.to_string()), "{text}");
    assert!(!text.contains(&OTHER_UNKNOWN_ID.to_string()), "{text}");
    // Written by the LLM: neither the offline notice nor a warning.
    assert!(
        notices(&frame)
            .iter()
            .all(|(_, text)| !text.contains("Generated without an LLM")),
        "{frame}"
    );
    assert!(
        notices(&frame).iter().all(|(s, _)| s != "warning"),
        "{frame}"
    );

    for request in &requests {
        assert_no_secret(&request.body, "the prompt");
    }
    harness.finish(&["asking the LLM for insights", "LLM answered"]);
}

fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn the_prompt_carries_no_personal_data_and_no_key() {
    // Stored raw, as if they had come in without redaction: the insights code must redact
    // them itself before anything leaves for the model.
    let planted = [
        (
            "pii-email",
            "Pedí pollo a la brasa y llegó frío, escríbanme a juan.perez88@gmail.com por favor",
            "juan.perez88@gmail.com",
        ),
        (
            "pii-phone",
            "El delivery nunca llegó, llámenme al 987 654 321 para el reembolso",
            "987 654 321",
        ),
        (
            "pii-dni",
            "Me cobraron dos veces el pedido, mi DNI 45678912, quiero mi devolución",
            "45678912",
        ),
        (
            "pii-handle",
            "@mafer_rv el ceviche de hoy llegó tibio y tarde, pésimo servicio",
            "mafer_rv",
        ),
    ];
    let extra = planted
        .iter()
        .enumerate()
        .map(|(i, (id, text, _))| feedback_row(id, text, 5 + i as i64))
        .collect();
    let harness = Harness::start(extra).await;
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect(&format!("sqlite://{}", harness.db.display()))
        .await
        .unwrap();
    let planted_ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM feedback WHERE external_id LIKE 'pii-%' ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(planted_ids.len(), planted.len());

    let fake = FakeLlm::start(grounded_reply).await;
    let response = harness
        .insights(&fake.url(), json!({"queryType": "insights"}))
        .await;
    assert_eq!(response.status, 200, "error: {}", response.error);
    insights_frame(&response);

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str()),
        "{:?}",
        request.headers
    );
    // The planted mentions are the newest, so they are in the sample, redacted.
    let sample = sample_mentions(request);
    for id in &planted_ids {
        assert!(
            sample.iter().any(|m| m["id"] == *id),
            "planted mention {id} not in the prompt: {}",
            user_message(request)
        );
    }
    let planted_texts: Vec<&str> = sample
        .iter()
        .filter(|m| planted_ids.contains(&m["id"].as_i64().unwrap()))
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    let joined = planted_texts.join("\n");
    for placeholder in ["[email]", "[telefono]", "[dni]", "[usuario]"] {
        assert!(joined.contains(placeholder), "{placeholder} in {joined}");
    }
    for request in &requests {
        assert_no_secret(&request.body, "the prompt");
        for (_, _, literal) in &planted {
            assert!(
                !request.body.contains(literal),
                "{literal:?} sent to the LLM:\n{}",
                request.body
            );
        }
        for literal in ["juan.perez88", "987654321", "@mafer_rv"] {
            assert!(!request.body.contains(literal), "{literal:?} sent");
        }
        // The key travels only in the Authorization header.
        for (name, value) in &request.headers {
            if name != "authorization" {
                assert_no_secret(value, &format!("header {name}"));
            }
        }
    }
    let log = harness.log_text();
    for (_, _, literal) in &planted {
        assert!(!log.contains(literal), "{literal:?} logged");
    }
    harness.finish(&["asking the LLM for insights"]);
}

#[tokio::test]
async fn answers_are_cached_until_the_data_changes() {
    let harness = Harness::start(Vec::new()).await;
    let fake = FakeLlm::start(grounded_reply).await;
    let insights = json!({"queryType": "insights"});

    let first = harness.insights(&fake.url(), insights.clone()).await;
    assert_eq!(first.status, 200, "error: {}", first.error);
    let first_frame = insights_frame(&first);
    assert_eq!(fake.requests().len(), 1);

    // The same query over the same data: answered from the cache.
    let second = harness.insights(&fake.url(), insights.clone()).await;
    assert_eq!(second.status, 200, "error: {}", second.error);
    assert_eq!(
        fake.requests().len(),
        1,
        "the second query asked the LLM again"
    );
    assert_eq!(rows(&insights_frame(&second)), rows(&first_frame));
    assert!(column(&insights_frame(&second), "generatedBy")
        .iter()
        .all(|g| g == "llm:test-model"));

    // Another query (other filters) is another question.
    let filtered = harness
        .insights(
            &fake.url(),
            json!({"queryType": "insights", "filters": {"region": ["Lima"]}}),
        )
        .await;
    assert_eq!(filtered.status, 200, "error: {}", filtered.error);
    assert_eq!(fake.requests().len(), 2);

    // New data in the range: asked again, and the new mention can be in the sample.
    let mut client = harness.plugin.resource().await;
    let mut editor = context(&harness.db, "Editor");
    editor.data_source_instance_settings = harness
        .llm_context(&fake.url(), json!({}))
        .data_source_instance_settings;
    let line = json!({"id": "cache-1", "text": "Pedí un lomo saltado y llegó completo y caliente", "created_at": (now_ms() - 60_000).to_string()});
    let mut stream = client
        .call_resource(pluginv2::CallResourceRequest {
            plugin_context: Some(editor),
            path: "feedback".to_string(),
            method: "POST".to_string(),
            url: "feedback?source_type=social&platform=x".to_string(),
            body: format!("{line}\n").into_bytes().into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let posted = stream.message().await.unwrap().unwrap();
    assert_eq!(
        posted.code,
        200,
        "{}",
        String::from_utf8_lossy(&posted.body)
    );
    let report: Value = serde_json::from_slice(&posted.body).unwrap();
    assert_eq!(report["stored"], 1, "{report}");

    let third = harness.insights(&fake.url(), insights.clone()).await;
    assert_eq!(third.status, 200, "error: {}", third.error);
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "new data did not reach the LLM");
    assert_ne!(
        user_message(&requests[0]),
        user_message(&requests[2]),
        "the prompt after the change is the same as before it"
    );
    // And that answer is cached in turn.
    harness.insights(&fake.url(), insights).await;
    assert_eq!(fake.requests().len(), 3);
    harness.finish(&[]);
}

/// One failure mode of the LLM: what the fake does, what the query must say.
struct Failure {
    name: &'static str,
    script: Box<dyn Fn(&Seen) -> Reply + Send + Sync>,
    /// Extra data source settings, e.g. a shorter timeout.
    settings: Value,
    status: i32,
    error_part: &'static str,
    requests: usize,
    /// The whole QueryData call must take at most this long.
    max_duration: Duration,
    min_duration: Duration,
}

fn failure(
    name: &'static str,
    script: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    status: i32,
    error_part: &'static str,
    requests: usize,
) -> Failure {
    Failure {
        name,
        script: Box::new(script),
        settings: json!({}),
        status,
        error_part,
        requests,
        max_duration: Duration::from_secs(10),
        min_duration: Duration::ZERO,
    }
}

#[tokio::test]
async fn llm_failures_fall_back_to_the_offline_summary() {
    let harness = Harness::start(Vec::new()).await;
    let echo_key = format!(r#"{{"error":{{"message":"upstream failed for key {API_KEY}"}}}}"#);
    let rejected_key =
        format!(r#"{{"error":{{"message":"Incorrect API key provided: {API_KEY}"}}}}"#);
    let mut failures = vec![
        failure(
            "garbage",
            |_| {
                Reply::with_content_type(
                    200,
                    "text/plain",
                    "Hola, soy un servidor cualquiera y esto no es JSON",
                )
            },
            502,
            "the response is not JSON",
            1,
        ),
        failure(
            "HTML page with 200",
            |_| {
                Reply::with_content_type(
                    200,
                    "text/html",
                    "<!DOCTYPE html><html><head><title>Sign in - Corporate Proxy</title></head>\
                     <body><form>password</form></body></html>",
                )
            },
            502,
            "an HTML page titled \"Sign in - Corporate Proxy\"",
            1,
        ),
        failure(
            "429 on every attempt",
            |_| json_reply(429, r#"{"error":{"message":"Rate limit reached"}}"#.into()),
            502,
            "HTTP 429 on all 2 attempt(s)",
            2,
        ),
        failure(
            "500 on every attempt, echoing the key",
            move |_| json_reply(500, echo_key.clone()),
            502,
            "answered HTTP 500",
            2,
        ),
        failure(
            "401 echoing the key",
            move |_| json_reply(401, rejected_key.clone()),
            502,
            "answered HTTP 401",
            1,
        ),
        failure(
            "connection closed without an answer",
            |_| Reply::Close,
            502,
            "cannot reach the LLM",
            2,
        ),
        failure(
            "valid JSON citing no known id",
            |_| {
                let content = json!({
                    "summary": [{"text": "Todo mal.", "evidence": [UNKNOWN_ID]}],
                    "drivers": [{"text": "Demoras.", "evidence": [OTHER_UNKNOWN_ID, "#123456789"]}],
                    "suggestions": [{"text": "Mejorar.", "action": "Mejorar", "evidence": []}],
                });
                json_reply(200, completion(&content.to_string()))
            },
            502,
            "no finding backed by a sample mention (3 claim(s)",
            1,
        ),
        Failure {
            settings: json!({"llmTimeoutSeconds": 1}),
            min_duration: Duration::from_secs(2),
            ..failure(
                "hung server, llmTimeoutSeconds 1",
                |_| Reply::Hang,
                504,
                "did not answer within 1.0 s on any of 2 attempt(s)",
                2,
            )
        },
    ];
    // Last, because it is slow: the default timeout, which must leave Grafana's 30 s to spare.
    failures.push(Failure {
        min_duration: Duration::from_secs(20),
        max_duration: Duration::from_secs(28),
        ..failure(
            "hung server, default timeout",
            |_| Reply::Hang,
            504,
            "did not answer within 10.0 s on any of 2 attempt(s)",
            2,
        )
    });

    // The same request also carries a mentions query and an offline insights query, which
    // must not notice the failure.
    // Without llmUrl: the offline summary every fallback must equal.
    let responses = harness
        .ask(
            harness.context(json!({})),
            vec![harness.query("C", json!({"queryType": "insights"}))],
        )
        .await;
    assert_eq!(responses["C"].status, 200, "{}", responses["C"].error);
    let offline_frame = insights_frame(&responses["C"]);
    assert_offline(&offline_frame);
    let offline = rows(&offline_frame);

    for case in failures {
        let fake = FakeLlm::start(case.script).await;
        let started = Instant::now();
        let responses = harness
            .ask(
                harness.llm_context(&fake.url(), case.settings.clone()),
                vec![
                    harness.query("A", json!({"queryType": "insights"})),
                    harness.query("B", json!({"queryType": "mentions", "limit": 5})),
                    harness.query("C", json!({"queryType": "insights", "llm": false})),
                ],
            )
            .await;
        let elapsed = started.elapsed();
        let name = case.name;
        println!("{name}: {elapsed:?}: {}", responses["A"].error);
        let frame = assert_fallback(&responses["A"], case.status, case.error_part);
        assert_eq!(
            rows(&frame),
            offline,
            "{name}: the fallback is not the offline summary"
        );
        assert_eq!(fake.requests().len(), case.requests, "{name}: requests");
        assert!(
            elapsed <= case.max_duration && elapsed >= case.min_duration,
            "{name}: took {elapsed:?}"
        );

        let mentions = &responses["B"];
        assert_eq!(
            (mentions.status, mentions.error.as_str()),
            (200, ""),
            "{name}"
        );
        assert_eq!(
            decode_frame(&mentions.frames[0])["fields"][0]["values"]
                .as_array()
                .unwrap()
                .len(),
            5,
            "{name}"
        );
        let offline_query = &responses["C"];
        assert_eq!(
            (offline_query.status, offline_query.error.as_str()),
            (200, ""),
            "{name}"
        );
        let offline_frame = insights_frame(offline_query);
        assert_offline(&offline_frame);
        assert!(
            notices(&offline_frame).iter().all(|(s, _)| s != "warning"),
            "{name}: {offline_frame}"
        );
        for request in fake.requests() {
            assert_no_secret(&request.body, "the prompt");
        }
    }

    // A port nobody listens on.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let response = harness
        .insights(
            &format!("http://127.0.0.1:{port}/v1"),
            json!({"queryType": "insights"}),
        )
        .await;
    let frame = assert_fallback(&response, 502, "cannot reach the LLM at http://127.0.0.1");
    assert!(
        response.error.contains("after 2 attempt(s)"),
        "{}",
        response.error
    );
    assert_eq!(rows(&frame), offline);
    assert!(started.elapsed() < Duration::from_secs(10));

    // user:password in llmUrl is refused before anything is sent (it would travel as a second
    // Authorization header that a server can echo), and never shown or logged.
    let fake = FakeLlm::start(|_| json_reply(500, "{}".to_string())).await;
    let url = format!("http://pulso:URLPASSWORD-77@127.0.0.1:{}/v1", fake.port());
    let response = harness
        .insights(&url, json!({"queryType": "insights"}))
        .await;
    assert_eq!(response.status, 400, "{}", response.error);
    assert!(
        response.error.contains("put the key in the API key field"),
        "{}",
        response.error
    );
    assert_eq!(rows(&insights_frame(&response)), offline);
    assert!(fake.requests().is_empty());
    assert!(
        !response.error.contains("URLPASSWORD-77"),
        "{}",
        response.error
    );

    // A key in the URL's query is a secret too: never in the error or the log, though the
    // request still carries it to the server.
    let url = format!("http://127.0.0.1:{}/v1?api-key=URLQUERYKEY-88", fake.port());
    let response = harness
        .insights(&url, json!({"queryType": "insights"}))
        .await;
    let frame = assert_fallback(&response, 502, "answered HTTP 500");
    assert_eq!(rows(&frame), offline);
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].path,
        "/v1/chat/completions?api-key=URLQUERYKEY-88"
    );
    let log = harness.log_text();
    for secret in ["URLPASSWORD-77", "URLQUERYKEY-88"] {
        assert!(!response.error.contains(secret), "{}", response.error);
        assert!(!frame.to_string().contains(secret), "{frame}");
        assert!(!log.contains(secret), "{secret} logged");
    }

    harness.finish(&[
        "LLM attempt failed, retrying",
        "query answered with a fallback",
    ]);
}

#[tokio::test]
async fn llm_false_never_contacts_the_server() {
    let harness = Harness::start(Vec::new()).await;
    let fake = FakeLlm::start(grounded_reply).await;
    let response = harness
        .insights(&fake.url(), json!({"queryType": "insights", "llm": false}))
        .await;
    assert_eq!(
        (response.status, response.error.as_str()),
        (200, ""),
        "{}",
        response.error
    );
    let frame = insights_frame(&response);
    assert_offline(&frame);
    assert!(
        notices(&frame).iter().all(|(s, _)| s != "warning"),
        "{frame}"
    );
    // A wrong type for llm is the query's own 400, naming the field.
    let response = harness
        .insights(&fake.url(), json!({"queryType": "insights", "llm": "no"}))
        .await;
    assert_eq!(response.status, 400, "{}", response.error);
    assert!(response.error.contains("llm"), "{}", response.error);
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    harness.finish(&[]);
}

#[tokio::test]
async fn incomplete_llm_settings_are_a_settings_error_with_the_offline_summary() {
    let harness = Harness::start(Vec::new()).await;
    let fake = FakeLlm::start(grounded_reply).await;
    for model in [json!(""), json!("   "), Value::Null] {
        let mut llm = json!({"llmUrl": fake.url()});
        if !model.is_null() {
            llm["llmModel"] = model.clone();
        }
        let responses = harness
            .ask(
                harness.context(llm),
                vec![harness.query("A", json!({"queryType": "insights"}))],
            )
            .await;
        let response = &responses["A"];
        assert_eq!(response.status, 400, "llmModel {model}: {}", response.error);
        assert!(
            response.error.contains("llmModel"),
            "llmModel {model}: {}",
            response.error
        );
        assert!(
            response
                .error
                .contains("(the offline summary is shown instead)"),
            "{}",
            response.error
        );
        assert_offline(&insights_frame(response));
    }
    // A URL that is not http(s) and a key that cannot go in a header fail before any request,
    // naming the setting to fix.
    for (url, key, setting) in [
        ("127.0.0.1:8080/v1".to_string(), API_KEY, "llmUrl"),
        ("ftp://models/v1".to_string(), API_KEY, "llmUrl"),
        (fake.url(), "sk-bad\nkey", "llmApiKey"),
    ] {
        let responses = harness
            .ask(
                harness.context_with_key(&url, key),
                vec![harness.query("A", json!({"queryType": "insights"}))],
            )
            .await;
        let response = &responses["A"];
        assert_ne!(response.status, 200, "{url}");
        assert!(
            response.error.contains(setting),
            "{url}: {}",
            response.error
        );
        assert!(!response.error.contains("sk-bad"), "{}", response.error);
        assert!(
            response
                .error
                .contains("(the offline summary is shown instead)"),
            "{}",
            response.error
        );
        assert_offline(&insights_frame(response));
    }
    assert!(fake.requests().is_empty());
    harness.finish(&[]);
}

/// Bad llmUrl or llmApiKey values are settings errors like an empty llmModel: 400, not a 502
/// that would blame the LLM server.
#[tokio::test]
async fn bad_llm_url_or_key_is_a_400() {
    let harness = Harness::start(Vec::new()).await;
    let fake = FakeLlm::start(grounded_reply).await;
    for (url, key) in [
        ("127.0.0.1:8080/v1".to_string(), API_KEY),
        (fake.url(), "sk-bad\nkey"),
    ] {
        let responses = harness
            .ask(
                harness.context_with_key(&url, key),
                vec![harness.query("A", json!({"queryType": "insights"}))],
            )
            .await;
        assert_eq!(responses["A"].status, 400, "{}", responses["A"].error);
    }
    harness.finish(&[]);
}

/// A range that ends later, past the newest row, has the same rows but another previous period
/// (other growth figures, other dates in the prompt), so it must not get the first range's
/// cached answer: the range is part of the cache key.
#[tokio::test]
async fn the_cache_key_covers_the_time_range() {
    let harness = Harness::start(Vec::new()).await;
    let fake = FakeLlm::start(grounded_reply).await;
    let insights = json!({"queryType": "insights"});
    for to in [harness.to, harness.to + 2 * DAY] {
        let responses = harness
            .ask(
                harness.llm_context(&fake.url(), json!({})),
                vec![query("A", insights.clone(), harness.from, to)],
            )
            .await;
        assert_eq!(responses["A"].status, 200, "{}", responses["A"].error);
    }
    assert_eq!(
        fake.requests().len(),
        2,
        "another range was answered from the cache"
    );
    harness.finish(&[]);
}
