//! Trending terms, aspects, anomalies and insights through the real plugin protocol, over a
//! demo database scored by the real sentiment model (`pulso demo`, which runs the same
//! background scoring code as the plugin, clause aspects included).
//!
//! The demo plants stories (crates/pulso-demo/src/trends.rs); these tests check the new query types find
//! them: Qori Brasa's delivery slump in Arequipa over the last 30 days (cold, late chicken),
//! and it shows as an anomaly in that brand's region.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::{
    context, decode_frame, demo_end_arg, demo_end_ms, on_both_stores, query, query_data,
    PluginProcess, StoreKind, TestStore,
};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
/// Rows and days of the scored demo: enough for the planted slump to show in one brand's
/// region, few enough to score with the real model in a few minutes on two cores.
const ROWS: usize = 10_000;
const DAYS: u32 = 60;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What the scored demo is made from: the code and data that generate its rows, score them
/// and store them. A change to any of these files builds it again.
const SCORED_DEMO_SOURCES: [&str; 10] = [
    "src/main.rs",
    "crates/pulso-demo/src",
    "data/demo",
    "crates/pulso-scoring/src",
    "crates/pulso-nlp/src",
    "crates/pulso-core/src/analysis",
    "data/lexicon",
    "crates/pulso-sqlite/src",
    "crates/pulso-sqlite/migrations",
    "crates/pulso-store/src",
];

/// The scored demo database, ending at [`demo_end_ms`]: scoring 10,000 rows with the real
/// model takes minutes, so it is built once per model and per version of the code that makes
/// it, kept in `$PULSO_CACHE_DIR/test-fixtures/` (default `~/.cache/pulso`; the four newest
/// stay), and each run reads a copy. `PULSO_TRENDS_DB` names a database to use instead.
fn scored_demo() -> &'static (PathBuf, i64) {
    static DB: OnceLock<(PathBuf, i64)> = OnceLock::new();
    DB.get_or_init(|| {
        if let Some(path) = std::env::var_os("PULSO_TRENDS_DB") {
            return (PathBuf::from(path), demo_end_ms());
        }
        let model = crate::common::model_dir();
        let cached = fixture_cache().join(format!("scored-demo-{}.db", scored_demo_key(&model)));
        if !cached.is_file() {
            build_scored_demo(&model, &cached);
        }
        // A copy: the plugin may write to the file it serves.
        let dir = tempfile::tempdir().expect("temp dir").keep();
        let path = dir.join("scored-demo.db");
        std::fs::copy(&cached, &path).expect("copy the cached scored demo");
        (path, demo_end_ms())
    })
}

/// `$PULSO_CACHE_DIR/test-fixtures`, else `${XDG_CACHE_HOME:-~/.cache}/pulso/test-fixtures`.
fn fixture_cache() -> PathBuf {
    let cache = std::env::var_os("PULSO_CACHE_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .filter(|dir| !dir.is_empty())
                .map(|dir| PathBuf::from(dir).join("pulso"))
        })
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/pulso")))
        .unwrap_or_else(std::env::temp_dir);
    cache.join("test-fixtures")
}

/// The model id, the demo's parameters and a hash of [`SCORED_DEMO_SOURCES`].
fn scored_demo_key(model: &Path) -> String {
    use sha2::{Digest, Sha256};
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(model.join("config.json")).expect("the model's config.json"),
    )
    .expect("config.json is JSON");
    let mut hash = Sha256::new();
    hash.update(format!("{ROWS} {DAYS} {} ", demo_end_arg()));
    for source in SCORED_DEMO_SOURCES {
        let mut files = Vec::new();
        collect_files(&repo().join(source), &mut files);
        files.sort();
        for file in files {
            hash.update(
                file.strip_prefix(repo())
                    .unwrap()
                    .to_string_lossy()
                    .as_bytes(),
            );
            hash.update(std::fs::read(&file).expect("read a source file"));
        }
    }
    let digest: String = hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{digest}",
        config["model_id"].as_str().expect("model_id")
    )
}

/// `dir`'s files, recursively; a file names itself.
fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    if dir.is_file() {
        files.push(dir.to_path_buf());
        return;
    }
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// `pulso demo` scored by `model`, written beside `target` and renamed into place whole, so a
/// test run that is killed leaves no half-built cache entry.
fn build_scored_demo(model: &Path, target: &Path) {
    let folder = target.parent().expect("a cache folder");
    std::fs::create_dir_all(folder).expect("create the fixture cache folder");
    let building = tempfile::tempdir_in(folder).expect("a temp dir in the fixture cache");
    let path = building.path().join("scored-demo.db");
    let model = model.to_str().expect("a UTF-8 model path");
    let (rows, days) = (ROWS.to_string(), DAYS.to_string());
    crate::common::run_demo(&path, &["--rows", &rows, "--days", &days, "--model", model]);
    std::fs::rename(&path, target).expect("move the scored demo into the cache");
    prune_scored_demos(folder);
}

/// Scored demos cached for older code or models: the newest few stay (another checkout may
/// still use them), the rest go, so the cache does not grow by one file per change.
fn prune_scored_demos(folder: &Path) {
    const KEEP: usize = 4;
    let mut cached: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(folder)
        .expect("read the fixture cache")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_name()?.to_str()?;
            let is_scored_demo = name.starts_with("scored-demo-") && name.ends_with(".db");
            let modified = path.metadata().ok()?.modified().ok()?;
            is_scored_demo.then_some((modified, path))
        })
        .collect();
    cached.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    for (_, stale) in cached.into_iter().skip(KEEP) {
        // Another test run may be reading it: a failure to remove is not this run's concern.
        let _ = std::fs::remove_file(stale);
    }
}

async fn frames_of(
    plugin: &PluginProcess,
    db: &Path,
    json: Value,
    from: i64,
    to: i64,
) -> Vec<Value> {
    frames_in(plugin, context(db, "Viewer"), json, from, to).await
}

/// One query's frames, through the data source `context` names.
async fn frames_in(
    plugin: &PluginProcess,
    context: grafana_plugin_sdk::pluginv2::PluginContext,
    json: Value,
    from: i64,
    to: i64,
) -> Vec<Value> {
    let responses = query_data(plugin, context, vec![query("A", json.clone(), from, to)]).await;
    let response = &responses["A"];
    assert!(response.error.is_empty(), "{json}: {}", response.error);
    response.frames.iter().map(|f| decode_frame(f)).collect()
}

fn column<'a>(frame: &'a Value, name: &str) -> &'a Vec<Value> {
    frame["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {frame}"))["values"]
        .as_array()
        .unwrap()
}

fn strings(frame: &Value, name: &str) -> Vec<String> {
    column(frame, name)
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .collect()
}

fn notices(frame: &Value) -> Vec<String> {
    frame["meta"]["notices"]
        .as_array()
        .map(|n| {
            n.iter()
                .map(|x| x["text"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Words of the planted delivery complaints (data/demo/corpus_es.json, `delivery_slump`).
const COMPLAINT_STEMS: [&str; 7] = ["frí", "fri", "demor", "tard", "tibi", "helad", "refri"];

#[tokio::test]
async fn the_planted_delivery_slump_is_found() {
    let (db, end) = scored_demo().clone();
    let plugin = PluginProcess::start();
    let from = end - 30 * DAY;

    // The rising complaint: among Qori Brasa's top terms of the last 30 days against the 30
    // before, a negative one about cold or late chicken.
    let frame = &frames_of(
        &plugin,
        &db,
        json!({"queryType": "trending_terms", "filters": {"brand": ["Qori Brasa"]}, "minSupport": 3, "limit": 5}),
        from,
        end,
    )
    .await[0];
    let terms = strings(frame, "term");
    let scores = column(frame, "avgScore");
    let counts = column(frame, "count");
    let before = column(frame, "countBefore");
    let complaint = terms.iter().enumerate().find(|(i, term)| {
        COMPLAINT_STEMS.iter().any(|stem| term.contains(stem))
            && scores[*i].as_f64().is_some_and(|s| s < -0.3)
            && counts[*i].as_i64() > before[*i].as_i64().map(|b| b * 2)
    });
    assert!(
        complaint.is_some(),
        "no rising complaint about cold or late delivery in Qori Brasa's top terms: {terms:?} {scores:?}"
    );

    // The spike in that brand's region: of Qori Brasa's delivery orders, Arequipa's anomaly
    // score is the highest, its spike is explained by delivery, and the cited mentions are Qori
    // Brasa's in Arequipa.
    let frame = &frames_of(
        &plugin,
        &db,
        json!({"queryType": "anomalies", "groupBy": "region", "metric": "volume", "filters": {"brand": ["Qori Brasa"], "sourceType": ["delivery"]}, "threshold": 3}),
        from,
        end,
    )
    .await[0];
    let fields = frame["fields"].as_array().unwrap();
    let peak = |f: &Value| {
        f["values"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_f64)
            .fold(f64::MIN, f64::max)
    };
    let peaks: Vec<(String, f64)> = fields[1..]
        .iter()
        .map(|f| (f["labels"]["region"].as_str().unwrap().to_string(), peak(f)))
        .collect();
    let (top_region, _) = peaks
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("one series per region");
    assert_eq!(
        top_region, "Arequipa",
        "the highest z is not Arequipa's: {peaks:?}"
    );
    let spikes = frame["meta"]["custom"]["spikes"].as_array().unwrap();
    let arequipa = spikes
        .iter()
        .find(|s| s["group"] == "Arequipa")
        .unwrap_or_else(|| panic!("no Arequipa spike: {spikes:?}"));
    assert!(
        arequipa["worstAspects"][0]
            .as_str()
            .is_some_and(|a| a.starts_with("delivery")),
        "{arequipa}"
    );
    let ids: Vec<i64> = arequipa["mentionIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{arequipa}");
    let store = pulso_sqlite::SqliteStore::open(&db).await.unwrap();
    let cited = pulso_store::FeedbackReader::mentions_by_id(&store, &ids)
        .await
        .unwrap();
    assert_eq!(cited.len(), 3);
    for mention in &cited {
        assert_eq!(
            (mention.brand.as_str(), mention.region.as_str()),
            ("Qori Brasa", "Arequipa")
        );
        assert!(mention.time_ms >= arequipa["start"].as_i64().unwrap());
    }

    // Delivery is what fails for Qori Brasa in Arequipa: the aspect with the most negative
    // mentions, most of its mentions negative.
    let frame = &frames_of(
        &plugin,
        &db,
        json!({"queryType": "aspects", "filters": {"brand": ["Qori Brasa"], "region": ["Arequipa"]}}),
        from,
        end,
    )
    .await[0];
    let aspects = strings(frame, "aspect");
    let negative = column(frame, "negative");
    let share = column(frame, "shareNegative");
    let worst = (0..aspects.len())
        .max_by_key(|&i| negative[i].as_i64().unwrap())
        .expect("aspects");
    assert_eq!(aspects[worst], "delivery", "{aspects:?} {negative:?}");
    assert!(share[worst].as_f64().unwrap() > 50.0, "{share:?}");
}

#[tokio::test]
async fn the_packaging_spike_and_the_launch_are_explained() {
    let (db, end) = scored_demo().clone();
    let plugin = PluginProcess::start();
    // Kusiy's bad batch, 45 to 42 days back: a burst of mentions explained by packaging,
    // freshness or taste, with its rising terms. (Its daily negative share is too noisy at this
    // volume for the default threshold: Kusiy's ordinary days already run 15 % to 45 % negative.)
    // Only Kusiy is asked for: which ten spikes of all brands are the strongest, and so get
    // explained, depends on where the demo's days fall against UTC midnight, that is on the hour
    // the test runs.
    let frame = &frames_of(
        &plugin,
        &db,
        json!({"queryType": "anomalies", "groupBy": "brand", "metric": "volume", "view": "spikes", "filters": {"brand": ["Kusiy"]}}),
        end - 60 * DAY,
        end,
    )
    .await[0];
    let groups = strings(frame, "group");
    let starts = column(frame, "time");
    let kusiy = (0..groups.len()).find(|&i| {
        let start_ms = starts[i].as_i64().unwrap() / 1_000_000;
        groups[i] == "Kusiy" && start_ms >= end - 47 * DAY && start_ms <= end - 41 * DAY
    });
    let texts = strings(frame, "text");
    let kusiy =
        kusiy.unwrap_or_else(|| panic!("no Kusiy spike 45 days back: {groups:?} {texts:?}"));
    assert!(
        ["packaging", "freshness", "taste"]
            .iter()
            .any(|a| texts[kusiy].contains(&format!("worst aspects: {a}"))),
        "{}",
        texts[kusiy]
    );
    assert!(texts[kusiy].contains("rising terms: "), "{}", texts[kusiy]);

    // The launch: Killa Camu Camu is new in the last 21 days, so its name trends with no
    // mentions before and a positive average.
    let frame = &frames_of(
        &plugin,
        &db,
        json!({"queryType": "trending_terms", "limit": 5}),
        end - 21 * DAY,
        end,
    )
    .await[0];
    let terms = strings(frame, "term");
    let camu = terms.iter().position(|t| t.contains("camu camu"));
    let camu = camu.unwrap_or_else(|| panic!("camu camu not trending: {terms:?}"));
    assert_eq!(
        column(frame, "growth")[camu],
        Value::Null,
        "new terms have no growth %"
    );
    assert!(column(frame, "avgScore")[camu].as_f64().unwrap() > 0.2);
}

#[tokio::test]
async fn offline_insights_cite_central_mentions_that_exist() {
    let (db, end) = scored_demo().clone();
    let plugin = PluginProcess::start();
    let model = repo().join("models/dist/current");
    let responses = query_data(
        &plugin,
        crate::common::context_with_model(&db, "Viewer", &model),
        vec![query(
            "A",
            json!({"queryType": "insights", "filters": {"brand": ["Qori Brasa"]}}),
            end - 30 * DAY,
            end,
        )],
    )
    .await;
    let response = &responses["A"];
    assert!(response.error.is_empty(), "{}", response.error);
    let frame = decode_frame(&response.frames[0]);
    let kinds = strings(&frame, "kind");
    assert_eq!(kinds[0], "summary");
    assert!(
        kinds.iter().any(|k| k == "driver") && kinds.iter().any(|k| k == "suggestion"),
        "{kinds:?}"
    );
    assert!(strings(&frame, "generatedBy")
        .iter()
        .all(|g| g == "offline"));
    let notices = notices(&frame);
    assert!(
        notices
            .iter()
            .any(|n| n.contains("Generated without an LLM") && n.contains("embedding centrality")),
        "{notices:?}"
    );
    let findings = strings(&frame, "finding");
    assert!(
        findings
            .iter()
            .any(|f| COMPLAINT_STEMS.iter().any(|s| f.contains(s)) || f.contains("Delivery")),
        "the delivery slump is not among the findings: {findings:?}"
    );
    let store = pulso_sqlite::SqliteStore::open(&db).await.unwrap();
    for (finding, ids) in findings.iter().zip(strings(&frame, "evidenceIds")) {
        let ids: Vec<i64> = ids
            .split(", ")
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(!ids.is_empty() && ids.len() <= 3, "{finding}: {ids:?}");
        let found = pulso_store::FeedbackReader::mentions_by_id(&store, &ids)
            .await
            .unwrap();
        assert_eq!(
            found.len(),
            ids.len(),
            "{finding} cites unknown ids {ids:?}"
        );
        assert!(
            found.iter().all(|m| m.brand == "Qori Brasa"),
            "{finding}: evidence outside the filter"
        );
    }
}

// ---- Golden frames and bad input, on the small fixed fixture ----

const FIXTURE_DAY_2: (i64, i64) = (
    crate::common::FIXTURE_START_MS + 24 * crate::common::HOUR,
    crate::common::FIXTURE_START_MS + 48 * crate::common::HOUR - 1,
);
const FIXTURE_BOTH_DAYS: (i64, i64) = (
    crate::common::FIXTURE_START_MS,
    crate::common::FIXTURE_START_MS + 48 * crate::common::HOUR - 1,
);

/// Eight complaints about cold chicken within two hours of day 2, on top of the fixture's
/// steady two-hourly rows: a rising term, a spike and a driver for the golden frames.
async fn plant_a_burst(store: &TestStore) {
    use pulso_store::{NewFeedback, SourceType};
    let store = store.open().await;
    let rows: Vec<NewFeedback> = (0..8)
        .map(|i| NewFeedback {
            source_type: SourceType::Delivery,
            platform: "rappi".to_string(),
            region: "Arequipa".to_string(),
            city: "Arequipa".to_string(),
            category: "delivery".to_string(),
            brand: "Brasa Norte".to_string(),
            product: "pollo a la brasa".to_string(),
            language: "es".to_string(),
            text: [
                "Otra vez el pollo a la brasa llegó frío",
                "El pollo llegó frío, una hora de demora",
            ][i % 2]
                .to_string(),
            rating: Some(1.0),
            rating_raw: None,
            redactions: 0,
            event_time_ms: crate::common::FIXTURE_START_MS
                + 40 * crate::common::HOUR
                + i as i64 * 60_000,
            external_id: format!("burst-{i}"),
            terms: Vec::new(),
        })
        .map(|mut row| {
            row.terms = pulso_core::analysis::terms::term_hashes(&row.text, &row.language);
            row
        })
        .collect();
    store.insert_feedback(&rows).await.unwrap();
}

async fn golden_frames_for_the_trend_query_types(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store =
        TestStore::fixture(kind, dir.path(), "golden_frames_for_the_trend_query_types").await;
    plant_a_burst(&store).await;
    let plugin = PluginProcess::start();
    let cases = [
        (
            "trending_terms",
            json!({"queryType": "trending_terms", "minSupport": 1, "limit": 6}),
            FIXTURE_DAY_2,
        ),
        (
            "trending_terms_by_brand",
            json!({"queryType": "trending_terms", "minSupport": 2, "limit": 3, "groupBy": "brand"}),
            FIXTURE_DAY_2,
        ),
        (
            "aspects_distribution",
            json!({"queryType": "aspects"}),
            FIXTURE_BOTH_DAYS,
        ),
        (
            "aspects_timeseries",
            json!({"queryType": "aspects", "view": "timeseries", "metric": "net_sentiment", "interval": "12h", "aspects": ["service", "delivery"]}),
            FIXTURE_BOTH_DAYS,
        ),
        (
            "anomalies_volume",
            json!({"queryType": "anomalies", "metric": "volume", "interval": "2h", "baselineBuckets": 3, "threshold": 0.5}),
            FIXTURE_DAY_2,
        ),
        (
            "anomalies_spikes",
            json!({"queryType": "anomalies", "metric": "volume", "interval": "2h", "baselineBuckets": 3, "threshold": 0.5, "view": "spikes"}),
            FIXTURE_DAY_2,
        ),
        (
            "insights_offline",
            json!({"queryType": "insights"}),
            FIXTURE_DAY_2,
        ),
    ];
    for (name, model, (from, to)) in cases {
        let frames = frames_in(&plugin, store.context("Viewer"), model, from, to).await;
        assert_eq!(frames.len(), 1, "{name}");
        store.assert_golden(name, &frames[0]);
    }
}

async fn bad_input_gets_a_per_query_error_naming_field_and_value(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::fixture(
        kind,
        dir.path(),
        "bad_input_gets_a_per_query_error_naming_field_and_value",
    )
    .await;
    let mut plugin = PluginProcess::start();
    let (from, to) = FIXTURE_BOTH_DAYS;
    let bad = [
        (
            json!({"queryType": "trending_terms", "minSupport": 0}),
            "minSupport 0",
        ),
        (
            json!({"queryType": "trending_terms", "minSupport": -5}),
            "minSupport -5",
        ),
        (
            json!({"queryType": "trending_terms", "limit": 100000000}),
            "limit 100000000",
        ),
        (
            json!({"queryType": "trending_terms", "groupBy": "mood"}),
            "\"mood\"",
        ),
        (
            json!({"queryType": "aspects", "aspects": ["sabor"]}),
            "\"sabor\"",
        ),
        (json!({"queryType": "aspects", "view": "pie"}), "\"pie\""),
        (
            json!({"queryType": "aspects", "view": "timeseries", "metric": "vibes"}),
            "\"vibes\"",
        ),
        (
            json!({"queryType": "anomalies", "metric": "avg_score"}),
            "\"avg_score\"",
        ),
        (
            json!({"queryType": "anomalies", "baselineBuckets": 100000}),
            "baselineBuckets 100000",
        ),
        (
            json!({"queryType": "anomalies", "threshold": -1}),
            "threshold -1",
        ),
        (
            json!({"queryType": "anomalies", "interval": "1s"}),
            "buckets",
        ),
        (json!({"queryType": "insights", "llm": "sí"}), "\"sí\""),
    ];
    let mut queries: Vec<_> = bad
        .iter()
        .enumerate()
        .map(|(i, (model, _))| query(&format!("B{i}"), model.clone(), from, to))
        .collect();
    queries.push(query(
        "OK",
        json!({"queryType": "trending_terms", "minSupport": 1}),
        from,
        to,
    ));
    let responses = query_data(&plugin, store.context("Viewer"), queries).await;
    for (i, (model, expected)) in bad.iter().enumerate() {
        let response = &responses[&format!("B{i}")];
        assert_eq!(response.status, 400, "{model}: {}", response.error);
        assert!(
            response.error.contains(expected),
            "{model}: {:?} lacks {expected}",
            response.error
        );
        assert!(response.frames.is_empty());
    }
    assert!(
        responses["OK"].error.is_empty(),
        "{}",
        responses["OK"].error
    );
    assert!(plugin.is_alive());
}

async fn a_range_without_data_gives_empty_frames_with_a_notice(kind: StoreKind) {
    let dir = tempfile::tempdir().unwrap();
    let store = TestStore::fixture(
        kind,
        dir.path(),
        "a_range_without_data_gives_empty_frames_with_a_notice",
    )
    .await;
    let plugin = PluginProcess::start();
    // A week in 2001: nothing was stored then.
    let (from, to) = (978_307_200_000, 978_307_200_000 + 7 * DAY);
    for model in [
        json!({"queryType": "trending_terms"}),
        json!({"queryType": "aspects"}),
        json!({"queryType": "aspects", "view": "timeseries"}),
        json!({"queryType": "anomalies", "view": "spikes"}),
        json!({"queryType": "insights"}),
    ] {
        let frames = frames_in(&plugin, store.context("Viewer"), model.clone(), from, to).await;
        let notes = notices(&frames[0]);
        assert!(
            notes.iter().any(|n| n.starts_with("No ")),
            "{model}: {notes:?}"
        );
    }
}

on_both_stores!(
    golden_frames_for_the_trend_query_types,
    bad_input_gets_a_per_query_error_naming_field_and_value,
    a_range_without_data_gives_empty_frames_with_a_notice,
);
