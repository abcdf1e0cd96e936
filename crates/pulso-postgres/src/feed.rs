//! The change feed on PostgreSQL: one consistent snapshot (a repeatable-read transaction), read
//! a page of rows and that page's aspect results at a time, in id order, so a full read of
//! millions of rows holds one page in memory.

use sqlx::Connection;

use super::{fetch_on, PostgresStore, ACTIVE_MODEL};
use pulso_core::analysis::{terms, Aspect, Emotion, Label};
use pulso_sql::{Bind, Statement};
use pulso_store::{FeedAspect, FeedCursor, FeedRow, FeedSink, StoreError};

const PAGE_ROWS: i64 = 20_000;

type RowTuple = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<f64>,
    Option<f64>,
    Option<Vec<u8>>,
    Option<String>,
);

pub(crate) async fn read(
    store: &PostgresStore,
    since: Option<i64>,
    sink: &mut dyn FeedSink,
) -> Result<FeedCursor, StoreError> {
    let mut connection = store.pool.acquire().await.map_err(|e| store.error(e))?;
    let mut tx = connection
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| store.error(e))?;
    let revision: i64 = sqlx::query_scalar("SELECT value FROM store_revision WHERE id = 1")
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| store.error(e))?;
    let active_model: Option<String> = sqlx::query_scalar(ACTIVE_MODEL)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store.error(e))?;
    let since_revision = since.unwrap_or(i64::MIN);
    let mut after_id = i64::MIN;
    let mut aspects: Vec<FeedAspect> = Vec::new();
    loop {
        let rows: Vec<RowTuple> = fetch_on(
            store,
            &mut *tx,
            &Statement {
                sql: "SELECT id, event_time_ms, source_type, platform, region, category, brand, \
                      product, language, label, score, confidence, terms, emotion FROM feedback \
                      WHERE id > $1 AND revision > $2 ORDER BY id LIMIT $3"
                    .to_string(),
                binds: vec![
                    Bind::Int(after_id),
                    Bind::Int(since_revision),
                    Bind::Int(PAGE_ROWS),
                ],
            },
        )
        .await?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            break;
        };
        let (first_id, last_id) = (first.0, last.0);
        let page_aspects: Vec<(i64, String, String, f64)> = match &active_model {
            Some(model) => {
                fetch_on(
                    store,
                    &mut *tx,
                    &Statement {
                        sql: "SELECT a.feedback_id, a.aspect, a.label, a.score \
                              FROM aspect_scores a JOIN feedback f ON f.id = a.feedback_id \
                              WHERE a.model_id = $1 AND a.feedback_id BETWEEN $2 AND $3 \
                              AND f.revision > $4 ORDER BY a.feedback_id, a.aspect"
                            .to_string(),
                        binds: vec![
                            Bind::Text(model.clone()),
                            Bind::Int(first_id),
                            Bind::Int(last_id),
                            Bind::Int(since_revision),
                        ],
                    },
                )
                .await?
            }
            None => Vec::new(),
        };
        let mut pending = page_aspects.into_iter().peekable();
        for row in &rows {
            let id = row.0;
            aspects.clear();
            while let Some((feedback_id, _, _, _)) = pending.peek() {
                if *feedback_id > id {
                    break;
                }
                let (feedback_id, aspect, label, score) = pending.next().expect("peeked");
                if feedback_id == id {
                    if let (Some(aspect), Some(label)) =
                        (Aspect::from_name(&aspect), Label::from_name(&label))
                    {
                        aspects.push(FeedAspect {
                            aspect,
                            label,
                            score,
                        });
                    }
                }
            }
            sink.row(FeedRow {
                id,
                time_ms: row.1,
                dimensions: [&row.2, &row.3, &row.4, &row.5, &row.6, &row.7, &row.8],
                label: row.9.as_deref().and_then(Label::from_name),
                score: row.10,
                confidence: row.11,
                emotion: row.13.as_deref().and_then(Emotion::from_name),
                terms: row
                    .12
                    .as_deref()
                    .map(|bytes| terms::decode(bytes).collect()),
                aspects: &aspects,
            });
        }
        after_id = last_id;
        if (rows.len() as i64) < PAGE_ROWS {
            break;
        }
    }
    tx.commit().await.map_err(|e| store.error(e))?;
    Ok(FeedCursor {
        revision,
        active_model,
    })
}
