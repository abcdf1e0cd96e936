//! The analytics engine and the record store must give the same answers: every query type,
//! in many variations, runs on both paths over one seeded random database, and the frames
//! must be equal (apart from the statement each path reports it ran).

use std::time::Duration;

use pulso_analytics::{Analytics, MirrorStatus};
use pulso_core::analysis::Label;
use pulso_core::query::{parse_query, QueryInput};
use pulso_demo::database::write_demo;
use pulso_demo::fixture::{fixture_score, FIXTURE_MODEL_ID};
use pulso_demo::{DemoOptions, Polarity};
use pulso_plugin::frames;
use pulso_service::{answer_query, QueryContext};
use pulso_sqlite::SqliteStore;
use pulso_store::{FeedbackReader, FeedbackWriter, RecordStore};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::sync::Arc;

const DAY: i64 = 86_400_000;
/// 2026-01-01T00:00:00Z, the end of the generated window.
const END_MS: i64 = 1_767_225_600_000;

/// 12,000 demo rows over 90 days with fixture scores, then disturbed at random: some rows
/// lose their score, some their terms, so unscored and unindexed rows are on both paths.
async fn seeded_database(dir: &std::path::Path, seed: u64) -> Arc<SqliteStore> {
    let store = SqliteStore::open(&dir.join("equivalence.db"))
        .await
        .unwrap();
    let options = DemoOptions {
        rows: 12_000,
        days: 90,
        seed,
        end_time_ms: END_MS,
    };
    write_demo(&store, &options, true, |_| {}).await.unwrap();
    // Fixture scores carry no emotions: give rows a dominant emotion (or none) directly, before
    // some rows lose their score, so unscored rows with a stale emotion are on both paths too.
    sqlx::query(
        "UPDATE feedback SET emotion = CASE id % 9 WHEN 0 THEN 'joy' WHEN 1 THEN 'anger' \
         WHEN 2 THEN 'sadness' WHEN 3 THEN 'fear' WHEN 4 THEN 'surprise' WHEN 5 THEN 'disgust' \
         ELSE NULL END",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let unscored: Vec<i64> = (0..900).map(|_| rng.gen_range(1..=12_000)).collect();
    let unindexed: Vec<i64> = (0..400).map(|_| rng.gen_range(1..=12_000)).collect();
    for id in unscored {
        sqlx::query(
            "UPDATE feedback SET label = NULL, score = NULL, confidence = NULL WHERE id = ?",
        )
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
    }
    for id in unindexed {
        sqlx::query("UPDATE feedback SET terms = NULL WHERE id = ?")
            .bind(id)
            .execute(store.pool())
            .await
            .unwrap();
    }
    Arc::new(store)
}

/// Queries of every type: groupings, filters (with values that exist and values that do
/// not), confidence floors, intervals and every metric.
fn queries(rng: &mut ChaCha8Rng) -> Vec<(Value, (i64, i64))> {
    let dims = [
        "sourceType",
        "platform",
        "region",
        "category",
        "brand",
        "product",
        "language",
        "label",
        "emotion",
    ];
    let metrics = [
        "volume",
        "avg_score",
        "net_sentiment",
        "share_positive",
        "share_negative",
        "share_of_voice",
    ];
    let filter_sets = [
        json!({}),
        json!({"region": ["Arequipa", "Lima"]}),
        json!({"brand": ["Qori Brasa"], "sourceType": ["delivery", "social"]}),
        json!({"label": ["negative"]}),
        json!({"emotion": ["anger", "none"], "region": ["Lima"]}),
        json!({"region": ["Narnia"]}),
        json!({"category": ["restaurants"], "language": ["es"]}),
    ];
    let last = |days: i64| (END_MS - days * DAY, END_MS - 1);
    let mut out = Vec::new();
    let pick = |rng: &mut ChaCha8Rng, base: Value| {
        let mut query = base;
        let filters = filter_sets[rng.gen_range(0..filter_sets.len())].clone();
        query["filters"] = filters;
        if rng.gen_bool(0.25) {
            query["minConfidence"] = json!(0.62);
        }
        query
    };
    for metric in metrics {
        for group in [
            None,
            Some("brand"),
            Some("region"),
            Some("label"),
            Some("emotion"),
        ] {
            let mut q = pick(rng, json!({"queryType": "timeseries", "metric": metric}));
            if let Some(group) = group {
                q["groupBy"] = json!(group);
            }
            q["interval"] = json!(["1h", "6h", "1d"][rng.gen_range(0..3)]);
            out.push((q, last([7, 30, 60][rng.gen_range(0..3)])));
        }
    }
    for dim in dims {
        out.push((
            pick(rng, json!({"queryType": "distribution", "groupBy": dim})),
            last(30),
        ));
        out.push((
            json!({"queryType": "dimension_values", "dimension": dim}),
            last(30),
        ));
        out.push((
            json!({"queryType": "dimension_values", "dimension": dim, "filters": {"region": ["Cusco"]}}),
            last(30),
        ));
    }
    out.push((pick(rng, json!({"queryType": "distribution"})), last(45)));
    for group in [None, Some("region"), Some("brand"), Some("label")] {
        let mut q = pick(
            rng,
            json!({"queryType": "trending_terms", "limit": 12, "minSupport": 3}),
        );
        if let Some(group) = group {
            q["groupBy"] = json!(group);
        }
        out.push((q, last([7, 30][rng.gen_range(0..2)])));
    }
    out.push((
        json!({"queryType": "trending_terms", "limit": 20, "minSupport": 5}),
        last(30),
    ));
    for metric in metrics {
        out.push((
            pick(
                rng,
                json!({"queryType": "aspects", "view": "timeseries", "metric": metric, "interval": "1d"}),
            ),
            last(30),
        ));
    }
    out.push((pick(rng, json!({"queryType": "aspects"})), last(30)));
    out.push((
        json!({"queryType": "aspects", "aspects": ["delivery", "price"], "filters": {"brand": ["Qori Brasa"]}}),
        last(60),
    ));
    for (metric, group, view) in [
        ("share_negative", "brand", "timeseries"),
        ("share_negative", "brand", "spikes"),
        ("volume", "region", "spikes"),
        ("volume", "brand", "timeseries"),
    ] {
        out.push((
            json!({"queryType": "anomalies", "metric": metric, "groupBy": group, "view": view}),
            last(30),
        ));
    }
    out.push((
        json!({"queryType": "anomalies", "metric": "volume", "groupBy": "region", "view": "spikes", "filters": {"brand": ["Qori Brasa"]}, "threshold": 2.5}),
        last(30),
    ));
    // The newest mentions are picked on the engine unless there is a text search.
    for _ in 0..filter_sets.len() {
        out.push((
            pick(rng, json!({"queryType": "mentions", "limit": 40})),
            last([1, 7, 60][rng.gen_range(0..3)]),
        ));
    }
    out.push((
        json!({"queryType": "mentions", "limit": 25, "search": "pollo", "filters": {"region": ["Lima"]}}),
        last(30),
    ));
    out.push((json!({"queryType": "insights", "llm": false}), last(30)));
    out.push((
        json!({"queryType": "insights", "llm": false, "filters": {"brand": ["Kusiy"]}}),
        last(60),
    ));
    out
}

async fn frame(
    reader: &dyn FeedbackReader,
    records: &dyn FeedbackReader,
    query: &Value,
    range: (i64, i64),
) -> Value {
    let json = query.to_string();
    let parsed = parse_query(QueryInput {
        json: json.as_bytes(),
        query_type: "",
        interval_ms: 3_600_000,
        max_data_points: 1_000,
        time_range: Some(range),
    })
    .unwrap_or_else(|e| panic!("{query}: {e}"));
    let context = QueryContext {
        reader,
        records,
        queue: None,
        llm: None,
    };
    let (answered, _) = answer_query(&context, &parsed, json.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    let encoded = frames::answer(&answered, &[]).encode("A").unwrap();
    let mut decoded = crate::common::decode_frame(&encoded);
    // Each path reports its own statement; everything else must match.
    decoded["meta"]
        .as_object_mut()
        .map(|m| m.remove("executedQueryString"));
    decoded
}

/// Equal JSON, except that numbers may differ in the last bits a different order of
/// floating-point addition leaves (the engine sums per partition, SQLite row by row), which
/// the frame decoder's rounding to 1e-9 can turn into one step of that rounding.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => (x - y).abs() <= 2e-9 * x.abs().max(y.abs()).max(1.0),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_type_gives_equal_frames_on_both_paths() {
    for seed in [11, 2026] {
        let dir = tempfile::tempdir().unwrap();
        let store = seeded_database(dir.path(), seed).await;
        let record_store: Arc<dyn RecordStore> = store.clone();
        let analytics = Analytics::start(record_store);
        let source = analytics.source(Duration::from_secs(60)).await;
        assert!(
            source.notice.is_none(),
            "the mirror did not warm up: {:?}",
            analytics.status()
        );
        assert!(matches!(
            analytics.status(),
            MirrorStatus::Ready { rows: 12_000, .. }
        ));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let cases = queries(&mut rng);
        let mut compared = 0;
        for (query, range) in &cases {
            let on_store = frame(store.as_ref(), store.as_ref(), query, *range).await;
            let on_engine = frame(source.reader.as_ref(), store.as_ref(), query, *range).await;
            assert!(
                same(&on_engine, &on_store),
                "seed {seed}: the engine's frame differs from the record store's for {query}:\nengine {on_engine}\nstore  {on_store}"
            );
            compared += 1;
        }
        assert!(compared >= 60, "{compared} queries compared");
    }
}

/// A write is seen by the engine after the mirror refreshes, including a rescore.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mirror_follows_new_and_rescored_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded_database(dir.path(), 5).await;
    let record_store: Arc<dyn RecordStore> = store.clone();
    let analytics = Analytics::start(record_store);
    analytics.source(Duration::from_secs(60)).await;
    let query = json!({"queryType": "distribution", "groupBy": "label"});
    let range = (END_MS - 90 * DAY, END_MS + DAY);
    let before = frame(
        analytics.source(Duration::ZERO).await.reader.as_ref(),
        store.as_ref(),
        &query,
        range,
    )
    .await;
    // New rows from another seed, and a rescore of existing rows (all made negative).
    let more = DemoOptions {
        rows: 500,
        days: 10,
        seed: 99,
        end_time_ms: END_MS,
    };
    write_demo(store.as_ref(), &more, true, |_| {})
        .await
        .unwrap();
    let rescored: Vec<_> = (1..=300)
        .map(|id| fixture_score(id, Polarity::Negative))
        .map(|mut s| {
            s.label = Label::Negative;
            s.emotions = Some([0.0, 0.1, 0.0, 0.0, 0.0, 0.93]);
            s
        })
        .collect();
    store
        .insert_scores(FIXTURE_MODEL_ID, &rescored)
        .await
        .unwrap();
    assert!(analytics.catch_up(Duration::from_secs(5)).await);
    let on_engine = frame(
        analytics.source(Duration::ZERO).await.reader.as_ref(),
        store.as_ref(),
        &query,
        range,
    )
    .await;
    let on_store = frame(store.as_ref(), store.as_ref(), &query, range).await;
    assert_ne!(on_engine, before, "the new rows are not counted");
    assert!(same(&on_engine, &on_store), "{on_engine}\n{on_store}");
    // The rescore's emotion (disgust) reaches the mirror as it reaches the store.
    let by_emotion = json!({"queryType": "distribution", "groupBy": "emotion", "filters": {"emotion": ["disgust"]}});
    let on_engine = frame(
        analytics.source(Duration::ZERO).await.reader.as_ref(),
        store.as_ref(),
        &by_emotion,
        range,
    )
    .await;
    let on_store = frame(store.as_ref(), store.as_ref(), &by_emotion, range).await;
    assert!(same(&on_engine, &on_store), "{on_engine}\n{on_store}");
    let disgust: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM feedback WHERE emotion = 'disgust'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(disgust >= 300, "{disgust} rows with disgust");
    assert!(on_store.to_string().contains("disgust"), "{on_store}");
}
