//! The PostgreSQL store against a real server (the throwaway cluster of `go run mage.go test`):
//! the same reads answer as the SQLite store's on the same rows, batches are all or nothing,
//! several stores on one database migrate once and never claim the same row, and failures
//! are named.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use pulso_core::analysis::{terms::term_hashes, Aspect, Label};
use pulso_core::query::{
    Dimension, DimensionValuesQuery, DistributionQuery, Filters, MentionsQuery, Metric, TimeRange,
    TimeseriesQuery,
};
use pulso_postgres::{PostgresConfig, PostgresStore};
use pulso_sqlite::SqliteStore;
use pulso_store::{
    Analysis, AspectScan, FeedRow, FeedSink, FeedbackReader, FeedbackWriter, NewAspectScore,
    NewFeedback, NewScore, RecordStore, SampleOrder, SampleScan, SourceType, StoreError,
    TermSampleScan, TermScan,
};
use pulso_testkit::postgres::{fresh_database, server_url, with_database};

const HOUR: i64 = 3_600_000;
const MODEL: &str = "model-a";

fn config(url: &str) -> PostgresConfig {
    PostgresConfig {
        url: url.to_string(),
        password: None,
        ssl_mode: Some("disable".to_string()),
        pool_size: 4,
    }
}

async fn store(url: &str) -> PostgresStore {
    PostgresStore::connect(&config(url))
        .await
        .expect("connect to the test database")
}

const TEXTS: [&str; 6] = [
    "El ceviche estaba delicioso y fresco, volveré",
    "La atención fue pésima y el pollo llegó frío",
    "Precio justo, porción generosa, buen sabor",
    "El delivery tardó una hora, muy caro para lo que es",
    "Normal, nada especial",
    "Great lomo saltado but the service was slow",
];
const BRANDS: [&str; 3] = ["Pardos", "Bembos", "Norky's"];
const REGIONS: [&str; 3] = ["Lima", "Arequipa", "Cusco"];

fn rows(count: usize) -> Vec<NewFeedback> {
    (0..count)
        .map(|i| {
            let text = format!("{} #{}", TEXTS[i % TEXTS.len()], i % 7);
            let language = if i % TEXTS.len() == 5 { "en" } else { "es" };
            NewFeedback {
                source_type: SourceType::ALL[i % 4],
                platform: ["twitter", "rappi", "google_maps"][i % 3].to_string(),
                region: REGIONS[i % 3].to_string(),
                city: "Lima".to_string(),
                category: "restaurants".to_string(),
                brand: BRANDS[(i / 3) % 3].to_string(),
                product: format!("p{}", i % 5),
                language: language.to_string(),
                terms: term_hashes(&text, language),
                text,
                rating: (i % 2 == 0).then_some((i % 5 + 1) as f64),
                rating_raw: None,
                redactions: 0,
                event_time_ms: 1_780_000_000_000 + (i as i64 % 48) * HOUR + i as i64,
                external_id: format!("ext-{i}"),
            }
        })
        .collect()
}

/// Scores and aspects for rows `ids`, in eighths so sums are exact in either database.
fn analysis_of(ids: &[i64]) -> (Vec<NewScore>, Vec<NewAspectScore>) {
    let mut scores = Vec::new();
    let mut aspects = Vec::new();
    for &id in ids {
        let label = Label::ALL[(id % 3) as usize];
        let score = ((id % 17) as f64 - 8.0) / 8.0;
        scores.push(NewScore {
            feedback_id: id,
            label,
            score,
            p_negative: 0.25,
            p_neutral: 0.25,
            p_positive: 0.5,
            emotions: (id % 2 == 0).then_some([0.75, 0.0, 0.0, 0.0, 0.0, 0.125]),
        });
        for (n, aspect) in [Aspect::Taste, Aspect::Service, Aspect::Price]
            .into_iter()
            .enumerate()
        {
            if (id as usize + n).is_multiple_of(2) {
                aspects.push(NewAspectScore {
                    feedback_id: id,
                    aspect,
                    label: Label::ALL[(id as usize + n) % 3],
                    score: score / 2.0,
                });
            }
        }
    }
    (scores, aspects)
}

/// Both stores, holding the same rows, two thirds of them scored by the active model.
async fn the_same_rows_in_both(name: &str) -> (tempfile::TempDir, SqliteStore, PostgresStore) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("same.db"))
        .await
        .unwrap();
    let postgres = store(&fresh_database(name).await).await;
    let rows = rows(240);
    for store in [&sqlite as &dyn RecordStore, &postgres] {
        store.set_active_model(MODEL).await.unwrap();
        let report = store.insert_feedback(&rows).await.unwrap();
        assert_eq!(report.first_id, Some(1), "ids start at 1 in both");
        let ids: Vec<i64> = (1..=rows.len() as i64).filter(|id| id % 3 != 0).collect();
        let (scores, aspects) = analysis_of(&ids);
        store
            .insert_analysis(MODEL, &scores, &aspects)
            .await
            .unwrap();
    }
    (dir, sqlite, postgres)
}

fn range() -> TimeRange {
    TimeRange {
        from_ms: 1_780_000_000_000,
        to_ms: 1_780_000_000_000 + 48 * HOUR,
    }
}

fn filters() -> Filters {
    Filters {
        values: vec![(Dimension::Region, vec!["Lima".into(), "Cusco".into()])],
        min_confidence: None,
    }
}

#[derive(Default)]
struct Collected(Vec<String>);

impl FeedSink for Collected {
    fn row(&mut self, row: FeedRow<'_>) {
        self.0.push(format!("{row:?}"));
    }
}

#[tokio::test]
async fn reads_answer_as_the_sqlite_store_does() {
    let (_dir, sqlite, postgres) = the_same_rows_in_both("reads").await;
    let sqlite: &dyn RecordStore = &sqlite;
    let postgres: &dyn RecordStore = &postgres;
    for group_by in [None, Some(Dimension::Brand), Some(Dimension::Label)] {
        for filters in [Filters::default(), filters()] {
            let query = TimeseriesQuery {
                range: range(),
                metric: Metric::NetSentiment,
                group_by,
                bucket_ms: 6 * HOUR,
                filters: filters.clone(),
            };
            let mut a = sqlite.timeseries(&query).await.unwrap();
            let mut b = postgres.timeseries(&query).await.unwrap();
            a.executed_sql.clear();
            b.executed_sql.clear();
            assert_eq!(a, b, "timeseries by {group_by:?}");
            let query = DistributionQuery {
                range: range(),
                group_by,
                filters: filters.clone(),
            };
            let mut a = sqlite.distribution(&query).await.unwrap();
            let mut b = postgres.distribution(&query).await.unwrap();
            a.executed_sql.clear();
            b.executed_sql.clear();
            assert_eq!(a, b, "distribution by {group_by:?}");
        }
    }
    for dimension in [Dimension::Brand, Dimension::Region, Dimension::Emotion] {
        for filters in [Filters::default(), filters()] {
            let query = DimensionValuesQuery { dimension, filters };
            let a = sqlite.dimension_values(&query).await.unwrap().values;
            let b = postgres.dimension_values(&query).await.unwrap().values;
            assert_eq!(a, b, "values of {dimension:?}");
            assert!(!a.is_empty());
        }
    }
    for buckets in [None, Some((range().from_ms, 12 * HOUR))] {
        let scan = AspectScan {
            range: range(),
            filters: filters(),
            aspects: vec![],
            buckets,
        };
        assert_eq!(
            sqlite.aspect_counts(&scan).await.unwrap().counts,
            postgres.aspect_counts(&scan).await.unwrap().counts
        );
    }
    let scan = TermScan {
        range: TimeRange {
            from_ms: range().from_ms + 24 * HOUR,
            to_ms: range().to_ms,
        },
        before: TimeRange {
            from_ms: range().from_ms,
            to_ms: range().from_ms + 24 * HOUR - 1,
        },
        filters: Filters::default(),
        group_by: Some(Dimension::Brand),
        min_support: 2,
    };
    let mut a = sqlite.term_tallies(&scan).await.unwrap();
    let mut b = postgres.term_tallies(&scan).await.unwrap();
    for t in [&mut a, &mut b] {
        t.executed_sql.clear();
        t.tallies.sort_by_key(|t| (t.group, t.hash));
    }
    assert_eq!(a, b);
    assert!(!a.tallies.is_empty());
    let wanted: Vec<(Option<String>, u32)> = a
        .tallies
        .iter()
        .take(5)
        .map(|t| (a.groups[t.group].group.clone(), t.hash))
        .collect();
    let samples = TermSampleScan {
        range: range(),
        filters: Filters::default(),
        group_by: Some(Dimension::Brand),
        wanted,
        per_term: 3,
    };
    assert_eq!(
        sqlite.term_samples(&samples).await.unwrap(),
        postgres.term_samples(&samples).await.unwrap()
    );
    for order in [SampleOrder::MostNegative, SampleOrder::Latest] {
        let scan = SampleScan {
            range: range(),
            filters: filters(),
            order,
            limit: 7,
        };
        assert_eq!(
            sqlite
                .sample_ids_many(std::slice::from_ref(&scan))
                .await
                .unwrap(),
            postgres
                .sample_ids_many(std::slice::from_ref(&scan))
                .await
                .unwrap()
        );
        assert_eq!(
            sqlite.sample_mentions(&scan).await.unwrap(),
            postgres.sample_mentions(&scan).await.unwrap()
        );
    }
    let query = MentionsQuery {
        range: range(),
        limit: 25,
        search: Some("pollo".to_string()),
        filters: Filters::default(),
    };
    let a = sqlite.mentions(&query).await.unwrap().rows;
    assert!(!a.is_empty(), "some mentions name the search term");
    assert_eq!(a, postgres.mentions(&query).await.unwrap().rows);
    assert_eq!(
        sqlite
            .mentions_among(&[3, 5, 9, 400], &query)
            .await
            .unwrap(),
        postgres
            .mentions_among(&[3, 5, 9, 400], &query)
            .await
            .unwrap()
    );
    let mut by_id = postgres.mentions_by_id(&[2, 4, 999]).await.unwrap();
    by_id.sort_by_key(|m| m.id);
    let mut expected = sqlite.mentions_by_id(&[2, 4, 999]).await.unwrap();
    expected.sort_by_key(|m| m.id);
    assert_eq!(by_id, expected);
    assert_eq!(
        sqlite
            .aspect_mentions(range(), &Filters::default(), Aspect::Service, 5)
            .await
            .unwrap(),
        postgres
            .aspect_mentions(range(), &Filters::default(), Aspect::Service, 5)
            .await
            .unwrap()
    );
    // The change feed carries the same rows with the same aspects.
    let (mut a, mut b) = (Collected::default(), Collected::default());
    sqlite.read_feed(None, &mut a).await.unwrap();
    postgres.read_feed(None, &mut b).await.unwrap();
    assert_eq!(a.0.len(), 240);
    assert_eq!(a.0, b.0);
    let backlog = postgres.scoring_backlog().await.unwrap();
    assert_eq!(backlog.rows, 80);
    let expected = sqlite.scoring_backlog().await.unwrap();
    assert_eq!(
        (backlog.rows, backlog.clauses_pending),
        (expected.rows, expected.clauses_pending)
    );
    assert!(backlog.oldest_ingest_ms.is_some());
}

#[tokio::test]
async fn a_batch_is_all_or_nothing_and_reingesting_is_idempotent() {
    let store = store(&fresh_database("batches").await).await;
    let rows = rows(30);
    let first = store.insert_feedback(&rows).await.unwrap();
    assert_eq!((first.inserted, first.duplicates), (30, 0));
    let again = store.insert_feedback(&rows[..20]).await.unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 20));
    let mut bad = self::rows(40)[30..].to_vec();
    bad[7].region = "  ".to_string();
    match store.insert_feedback(&bad).await {
        Err(StoreError::InvalidRow { row, field, .. }) => assert_eq!((row, field), (7, "region")),
        other => panic!("expected an invalid region, got {other:?}"),
    }
    // A batch dropped mid-way stores nothing.
    let mut batch = store.begin_batch().await.unwrap();
    batch.insert(&self::rows(40)[30..35]).await.unwrap();
    drop(batch);
    assert_eq!(store.health().await.unwrap().total_rows, 30);
}

#[tokio::test]
async fn stores_that_start_together_migrate_once() {
    let url = fresh_database("migrate_once").await;
    let stores = futures_join_all((0..4).map(|_| {
        let url = url.clone();
        tokio::spawn(async move { store(&url).await })
    }))
    .await;
    let health = stores[0].health().await.unwrap();
    assert_eq!(health.schema_version, health.expected_schema_version);
    let migrations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(stores[3].pool())
        .await
        .unwrap();
    assert_eq!(migrations, health.expected_schema_version);
    assert!(
        health.location.starts_with("PostgreSQL 1"),
        "{}",
        health.location
    );
}

async fn futures_join_all<T: Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn scorers_never_claim_the_same_row_and_a_dead_ones_claim_expires() {
    let url = fresh_database("claims").await;
    let lease = Duration::from_millis(1_500);
    let a = Arc::new(store(&url).await.with_claim_lease(lease));
    let b = Arc::new(store(&url).await.with_claim_lease(lease));
    a.set_active_model(MODEL).await.unwrap();
    a.insert_feedback(&rows(100)).await.unwrap();
    // Both claim at once, over and over, until nothing is left.
    let claim_all = |store: Arc<PostgresStore>| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store.unscored_feedback(7).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|(id, _)| id));
            }
        })
    };
    let (from_a, from_b) = (claim_all(a.clone()), claim_all(b.clone()));
    let (from_a, from_b) = (from_a.await.unwrap(), from_b.await.unwrap());
    let all: HashSet<i64> = from_a.iter().chain(&from_b).copied().collect();
    assert_eq!(from_a.len() + from_b.len(), 100, "a row was claimed twice");
    assert_eq!(all.len(), 100);
    assert!(!from_a.is_empty() && !from_b.is_empty());
    // `a` scores its rows; `b` "dies" holding its claims, which expire.
    let (scores, aspects) = analysis_of(&from_a);
    a.insert_analysis(MODEL, &scores, &aspects).await.unwrap();
    assert!(a.unscored_feedback(100).await.unwrap().is_empty());
    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    let mut reclaimed: Vec<i64> = a
        .unscored_feedback(200)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    reclaimed.sort_unstable();
    let mut expected = from_b.clone();
    expected.sort_unstable();
    assert_eq!(reclaimed, expected);
}

#[tokio::test]
async fn one_stores_writes_reach_the_others_feed_in_revision_order() {
    let url = fresh_database("feed").await;
    let writer = store(&url).await;
    let reader = store(&url).await;
    writer.set_active_model(MODEL).await.unwrap();
    let mut feed = Collected::default();
    let cursor = reader.read_feed(None, &mut feed).await.unwrap();
    assert!(feed.0.is_empty());
    writer.insert_feedback(&rows(10)).await.unwrap();
    let (scores, aspects) = analysis_of(&[2, 3]);
    writer
        .store_analysis(
            MODEL,
            &Analysis {
                scores: &scores,
                aspects: &aspects,
                clauses_deferred: &[3],
                clauses_scored: &[],
            },
        )
        .await
        .unwrap();
    let mut changes = Collected::default();
    let next = reader
        .read_feed(Some(cursor.revision), &mut changes)
        .await
        .unwrap();
    assert_eq!(changes.0.len(), 10);
    assert!(next.revision >= cursor.revision + 2);
    assert_eq!(reader.scoring_backlog().await.unwrap().clauses_pending, 1);
    assert_eq!(
        reader.rows_awaiting_clauses(MODEL, 10).await.unwrap().len(),
        1
    );
    let mut none = Collected::default();
    reader
        .read_feed(Some(next.revision), &mut none)
        .await
        .unwrap();
    assert!(none.0.is_empty());
}

#[tokio::test]
async fn failures_name_what_to_fix() {
    let server = server_url();
    let missing = with_database(&server, "pulso_no_such_database");
    match PostgresStore::connect(&config(&missing)).await {
        Err(error @ StoreError::PostgresDatabaseMissing { .. }) => {
            assert!(
                error.to_string().contains("pulso_no_such_database"),
                "{error}"
            )
        }
        other => panic!("expected a missing database, got {:?}", other.err()),
    }
    let mut wrong_password = config(&server);
    wrong_password.password = Some("not-the-password".to_string());
    match PostgresStore::connect(&wrong_password).await {
        Err(error @ StoreError::PostgresAuth { .. }) => {
            assert!(!error.to_string().contains("not-the-password"), "{error}")
        }
        other => panic!("expected a refused login, got {:?}", other.err()),
    }
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = format!("postgres://pulso@127.0.0.1:{closed}/pulso");
    match PostgresStore::connect(&config(&unreachable)).await {
        Err(error @ StoreError::PostgresUnreachable { .. }) => {
            assert!(error
                .to_string()
                .contains(&format!("127.0.0.1:{closed}/pulso")))
        }
        other => panic!("expected an unreachable server, got {:?}", other.err()),
    }
    // A database that takes no writes (as a standby) is named read-only by health.
    let url = fresh_database("read_only").await;
    let store = store(&url).await;
    let database = url.rsplit('/').next().unwrap().to_string();
    sqlx::query(&format!(
        "ALTER DATABASE \"{database}\" SET default_transaction_read_only = on"
    ))
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    // Refused when the schema is checked, or by health's write probe once it is current.
    let outcome = match PostgresStore::connect(&config(&url)).await {
        Ok(store) => store.health().await.map(|_| ()),
        Err(error) => Err(error),
    };
    match outcome {
        Err(error @ StoreError::PostgresReadOnly { .. }) => {
            assert!(error.to_string().contains("primary"), "{error}")
        }
        other => panic!("expected a read-only database, got {other:?}"),
    }
}

#[tokio::test]
async fn a_restarted_server_loses_no_committed_batch_and_serves_the_next_queries() {
    let cluster = pulso_testkit::postgres::Cluster::start("restart");
    let store = store(&cluster.url).await;
    store.insert_feedback(&rows(50)).await.unwrap();
    // A push in flight when the server goes down is rejected whole.
    let mut batch = store.begin_batch().await.unwrap();
    batch.insert(&self::rows(80)[50..]).await.unwrap();
    cluster.restart();
    let error = batch
        .commit()
        .await
        .expect_err("the batch's session ended with the restart");
    assert!(
        matches!(
            error,
            StoreError::PostgresUnreachable { .. } | StoreError::Query(_)
        ),
        "{error:?}"
    );
    // The same store, with no new settings, answers the next queries: the pool drops the
    // connections the restart closed.
    let query = MentionsQuery {
        range: range(),
        limit: 100,
        search: None,
        filters: Filters::default(),
    };
    assert_eq!(store.mentions(&query).await.unwrap().rows.len(), 50);
    assert_eq!(store.health().await.unwrap().total_rows, 50);
    let report = store.insert_feedback(&self::rows(80)[50..]).await.unwrap();
    assert_eq!(report.inserted, 30);
}

#[tokio::test]
async fn instances_with_different_models_do_not_switch_back_and_forth() {
    let url = fresh_database("models").await;
    let old = store(&url).await;
    let new = store(&url).await;
    assert!(old.claim_active_model("model-old").await.unwrap());
    old.insert_feedback(&rows(5)).await.unwrap();
    let (scores, aspects) = analysis_of(&[1, 2]);
    old.insert_analysis("model-old", &scores, &aspects)
        .await
        .unwrap();
    // While the old model's scorer is at work, the new one waits and nothing is rewritten.
    let cursor = new.feed_cursor().await.unwrap();
    assert!(!new.claim_active_model("model-new").await.unwrap());
    assert!(old.claim_active_model("model-old").await.unwrap());
    let after = new.feed_cursor().await.unwrap();
    assert_eq!(
        after, cursor,
        "the active model and the rows stayed as they were"
    );
    // Once the old scorer has been silent past the timeout, the new model takes over.
    sqlx::query("UPDATE settings SET value = '0' WHERE key = 'scorer_seen:model-old'")
        .execute(new.pool())
        .await
        .unwrap();
    assert!(new.claim_active_model("model-new").await.unwrap());
    let switched = new.feed_cursor().await.unwrap();
    assert_eq!(switched.active_model.as_deref(), Some("model-new"));
    assert!(!old.claim_active_model("model-old").await.unwrap());
    assert_eq!(new.scoring_backlog().await.unwrap().rows, 5);
}
