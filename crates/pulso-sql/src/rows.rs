//! Rows on their way in and out of a SQL store: the checks a feedback row passes before it is
//! stored, and the query model's results assembled from the plain tuples the statements of
//! this crate return (both stores decode them with `sqlx::query_as`).

use std::collections::BTreeMap;

use pulso_core::analysis::{Aspect, Emotion, Label};
use pulso_core::query::{
    BucketCells, Dimension, DistributionQuery, DistributionRow, MentionRow, Timeseries,
    TimeseriesQuery,
};
use pulso_store::{AspectCount, NewFeedback, NewScore, StoreError};

/// The longest text a row may have.
pub const MAX_TEXT_BYTES: usize = 100_000;

/// Checks a row before it is stored; `index` is its place in the whole batch, for the error.
pub fn validate_row(index: usize, row: &NewFeedback) -> Result<(), StoreError> {
    let invalid = |field, reason: String| StoreError::InvalidRow {
        row: index,
        field,
        reason,
    };
    if row.text.trim().is_empty() {
        return Err(invalid("text", "it is empty".to_string()));
    }
    if row.text.len() > MAX_TEXT_BYTES {
        return Err(invalid(
            "text",
            format!(
                "it has {} bytes, more than {MAX_TEXT_BYTES}",
                row.text.len()
            ),
        ));
    }
    // PostgreSQL's text cannot hold NUL; SQLite's can, but no consumer writes one.
    for (field, value) in [
        ("text", &row.text),
        ("platform", &row.platform),
        ("region", &row.region),
        ("city", &row.city),
        ("category", &row.category),
        ("brand", &row.brand),
        ("product", &row.product),
        ("language", &row.language),
        ("external_id", &row.external_id),
    ] {
        if value.contains('\0') {
            return Err(invalid(field, "it contains a NUL character".to_string()));
        }
    }
    for (field, value) in [
        ("platform", &row.platform),
        ("region", &row.region),
        ("category", &row.category),
        ("brand", &row.brand),
        ("language", &row.language),
        ("external_id", &row.external_id),
    ] {
        if value.trim().is_empty() {
            return Err(invalid(field, "it is empty".to_string()));
        }
    }
    if let Some(rating) = row.rating {
        if !(0.0..=10.0).contains(&rating) {
            return Err(invalid("rating", format!("{rating} is outside 0 to 10")));
        }
    }
    if chrono::DateTime::from_timestamp_millis(row.event_time_ms).is_none() {
        return Err(invalid(
            "event_time",
            format!("{} is not a valid time", row.event_time_ms),
        ));
    }
    Ok(())
}

/// The name of a score's dominant emotion, as `feedback.emotion` stores it.
pub fn dominant_emotion_name(score: &NewScore) -> Option<&'static str> {
    score
        .emotions
        .as_ref()
        .and_then(pulso_core::analysis::emotion::dominant)
        .map(Emotion::name)
}

/// The value a row's group takes: unscored rows grouped by label show as `unscored`.
pub fn group_name(group_by: Option<Dimension>, group: Option<String>) -> Option<String> {
    match (group_by, group) {
        (None, _) => None,
        (Some(_), None) => Some(pulso_core::analysis::label::UNSCORED.to_string()),
        (Some(_), Some(g)) => Some(g),
    }
}

/// A row of [`crate::timeseries`]: bucket, group, volume, scored, positive, negative, score sum.
pub type TimeseriesTuple = (i64, Option<String>, i64, i64, i64, i64, Option<f64>);

pub fn timeseries(
    query: &TimeseriesQuery,
    rows: Vec<TimeseriesTuple>,
    executed_sql: String,
) -> Timeseries {
    // BTreeMap keeps groups in a stable, sorted order for legends and golden files.
    let mut groups: BTreeMap<Option<String>, BucketCells> = BTreeMap::new();
    let buckets = query.bucket_starts();
    for (bucket, group, volume, scored, positive, negative, score_sum) in rows {
        let index = usize::try_from(bucket)
            .unwrap_or(usize::MAX)
            .min(buckets.len() - 1);
        groups
            .entry(group_name(query.group_by, group))
            .or_default()
            .push((index, [volume, scored, positive, negative], score_sum));
    }
    Timeseries::assemble(query, buckets, groups, executed_sql)
}

/// A row of [`crate::distribution`]: label (or `unscored`), group, count.
pub type DistributionTuple = (String, Option<String>, i64);

pub fn distribution(
    query: &DistributionQuery,
    rows: Vec<DistributionTuple>,
) -> Vec<DistributionRow> {
    rows.into_iter()
        .map(|(label, group, count)| DistributionRow {
            label: Label::from_name(&label),
            group: query.group_by.map(|_| {
                group.unwrap_or_else(|| pulso_core::analysis::label::UNSCORED.to_string())
            }),
            count,
        })
        .collect()
}

/// A row of [`crate::aspect_counts`]: bucket, aspect, mentions, positive, negative, neutral,
/// score sum.
pub type AspectCountTuple = (Option<i64>, String, i64, i64, i64, i64, Option<f64>);

pub fn aspect_counts(rows: Vec<AspectCountTuple>) -> Vec<AspectCount> {
    rows.into_iter()
        .filter_map(
            |(bucket, name, mentions, positive, negative, neutral, score_sum)| {
                // The table's CHECK allows only known names; skip rather than fail if one is new.
                Some(AspectCount {
                    bucket,
                    aspect: Aspect::from_name(&name)?,
                    mentions,
                    positive,
                    negative,
                    neutral,
                    score_sum: score_sum.unwrap_or(0.0),
                })
            },
        )
        .collect()
}

/// A row of the mention statements, in [`MentionRow`] order.
pub type MentionTuple = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<f64>,
    Option<f64>,
    String,
);

pub fn mention(row: MentionTuple) -> MentionRow {
    let (
        time_ms,
        id,
        text,
        source_type,
        platform,
        region,
        category,
        brand,
        label,
        score,
        confidence,
        language,
    ) = row;
    MentionRow {
        time_ms,
        id,
        text,
        source_type,
        platform,
        region,
        category,
        brand,
        label: label.as_deref().and_then(Label::from_name),
        score,
        confidence,
        language,
    }
}

/// [`crate::mentions_among`]'s rows of several chunks of ids: each chunk is in order, and the
/// limit keeps the newest, shown oldest first.
pub fn newest_among(mut rows: Vec<MentionRow>, limit: u32) -> Vec<MentionRow> {
    rows.sort_by_key(|r| (r.time_ms, r.id));
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() > limit {
        rows.drain(..rows.len() - limit);
    }
    rows
}
