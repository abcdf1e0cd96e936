//! Anomalies: a robust z-score per bucket and group against a trailing baseline, with each
//! spike explained by its rising terms, worst aspects and representative mentions.

use std::collections::BTreeMap;

use crate::query::{AnomaliesQuery, Filters, Metric, SeriesValues, TimeRange, TimeseriesQuery};
use crate::store::{FeedbackStore, SampleOrder, StoreError};

use super::anomaly::{baseline_median, robust_z, spikes};
use super::aspect_stats;
use super::trending::{trending_terms, TrendRequest};

/// Buckets with fewer mentions get no score: a 1-in-2 day is not a crisis, nor are 4 mentions
/// after a quiet week.
const MIN_BUCKET_VOLUME: i64 = 5;
/// The smallest spread assumed, in the metric's units (percentage points or mentions).
const SHARE_FLOOR: f64 = 3.0;
const VOLUME_FLOOR: f64 = 1.0;
/// Most spikes reported (the latest), and how many of those (the strongest) are explained:
/// each explanation reads the spike's window and baseline again.
const MAX_SPIKES: usize = 30;
const MAX_EXPLAINED: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    pub group: Option<String>,
    pub start_ms: i64,
    pub end_ms: i64,
    /// The metric at the spike's highest bucket.
    pub value: f64,
    /// The baseline median before the spike.
    pub baseline: f64,
    pub zscore: f64,
    pub rising_terms: Vec<String>,
    /// "delivery (80% negativo)".
    pub worst_aspects: Vec<String>,
    pub mention_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Anomalies {
    pub bucket_starts_ms: Vec<i64>,
    pub series: Vec<(Option<String>, Vec<Option<f64>>)>,
    pub spikes: Vec<Spike>,
    pub unscored_rows: u64,
    pub executed_sql: String,
}

pub async fn anomalies(
    store: &dyn FeedbackStore,
    query: &AnomaliesQuery,
) -> Result<Anomalies, StoreError> {
    let extended = query.extended_range();
    // One read gives both the metric and each bucket's volume.
    let series = store
        .timeseries(&TimeseriesQuery {
            range: extended,
            metric: query.metric,
            group_by: query.group_by,
            bucket_ms: query.bucket_ms,
            filters: query.filters.clone(),
        })
        .await?;
    let floor = if query.metric == Metric::Volume {
        VOLUME_FLOOR
    } else {
        SHARE_FLOOR
    };
    let values: BTreeMap<Option<String>, Vec<Option<f64>>> = series
        .series
        .iter()
        .map(|s| {
            let values = match &s.values {
                SeriesValues::Counts(c) => c.iter().map(|v| Some(*v as f64)).collect(),
                SeriesValues::Ratios(r) => r
                    .iter()
                    .zip(&s.volumes)
                    .map(|(v, n)| v.filter(|_| *n >= MIN_BUCKET_VOLUME))
                    .collect(),
            };
            (s.group.clone(), values)
        })
        .collect();
    let volume = &series;
    let (unscored_rows, executed_sql) = (series.unscored_rows, series.executed_sql.clone());

    // Only buckets inside the asked range are shown; the ones before are the first baseline.
    let first_shown = volume
        .bucket_starts_ms
        .iter()
        .position(|start| start + query.bucket_ms > query.range.from_ms)
        .unwrap_or(volume.bucket_starts_ms.len());
    let baseline = query.baseline_buckets as usize;
    let mut series = Vec::new();
    let mut found: Vec<(Option<String>, usize, usize, f64, f64, f64)> = Vec::new();
    for (group, values) in &values {
        let mut z = robust_z(values, baseline, floor);
        // A handful of mentions is never a spike, however quiet the baseline was.
        if query.metric == Metric::Volume {
            for (z, value) in z.iter_mut().zip(values) {
                if value.is_some_and(|v| v < MIN_BUCKET_VOLUME as f64) {
                    *z = None;
                }
            }
        }
        let shown: Vec<Option<f64>> = z[first_shown..]
            .iter()
            .map(|v| v.map(|x| (x * 1000.0).round() / 1000.0))
            .collect();
        for (first, last) in spikes(&shown, query.threshold) {
            let (peak, peak_z) = (first..=last)
                .filter_map(|i| shown[i].map(|z| (i, z)))
                .fold((first, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
            let at = first_shown + peak;
            let start_at = first_shown + first;
            found.push((
                group.clone(),
                first_shown + first,
                first_shown + last,
                values[at].unwrap_or(0.0),
                baseline_median(values, start_at, baseline).unwrap_or(0.0),
                peak_z,
            ));
        }
        series.push((group.clone(), shown));
    }
    found.sort_by(|a, b| b.2.cmp(&a.2).then(b.5.total_cmp(&a.5)));
    found.truncate(MAX_SPIKES);
    // The strongest spikes get explained, whatever their age; the list stays latest first.
    let mut by_strength: Vec<usize> = (0..found.len()).collect();
    by_strength.sort_by(|&a, &b| found[b].5.total_cmp(&found[a].5));
    let explain: std::collections::HashSet<usize> =
        by_strength.into_iter().take(MAX_EXPLAINED).collect();

    let starts = &volume.bucket_starts_ms;
    let mut explained = Vec::new();
    for (n, (group, first, last, value, base_value, zscore)) in found.into_iter().enumerate() {
        let window = TimeRange {
            from_ms: starts[first].max(query.range.from_ms),
            to_ms: (starts[last] + query.bucket_ms - 1).min(query.range.to_ms),
        };
        let before = TimeRange {
            from_ms: starts[first] - query.baseline_buckets as i64 * query.bucket_ms,
            to_ms: starts[first] - 1,
        };
        let mut spike = Spike {
            group,
            start_ms: window.from_ms,
            end_ms: window.to_ms,
            value,
            baseline: base_value,
            zscore,
            rising_terms: Vec::new(),
            worst_aspects: Vec::new(),
            mention_ids: Vec::new(),
        };
        if explain.contains(&n) {
            explain_spike(store, query, &mut spike, before).await?;
        }
        explained.push(spike);
    }
    Ok(Anomalies {
        bucket_starts_ms: starts[first_shown..].to_vec(),
        series,
        spikes: explained,
        unscored_rows,
        executed_sql,
    })
}

/// Fills a spike's rising terms (against its baseline), worst aspects and representative
/// mentions, all within its group.
async fn explain_spike(
    store: &dyn FeedbackStore,
    query: &AnomaliesQuery,
    spike: &mut Spike,
    before: TimeRange,
) -> Result<(), StoreError> {
    let window = TimeRange {
        from_ms: spike.start_ms,
        to_ms: spike.end_ms,
    };
    let filters = with_group(&query.filters, query.group_by, spike.group.as_deref());
    let rising = trending_terms(
        store,
        &TrendRequest {
            range: window,
            before,
            filters: filters.clone(),
            group_by: None,
            min_support: 2,
            limit: 5,
        },
    )
    .await?;
    spike.rising_terms = rising.terms.into_iter().map(|t| t.term).collect();
    let aspects = aspect_stats::distribution(store, window, &filters, &[]).await?;
    // Most negative mentions first: in a small window a 2-of-2 aspect is not the story.
    let mut worst: Vec<_> = aspects.rows.iter().filter(|r| r.negative > 0).collect();
    worst.sort_by(|a, b| {
        b.negative.cmp(&a.negative).then(
            b.share_negative()
                .unwrap_or(0.0)
                .total_cmp(&a.share_negative().unwrap_or(0.0)),
        )
    });
    spike.worst_aspects = worst
        .iter()
        .take(3)
        .map(|r| {
            format!(
                "{} ({:.0}% negativo)",
                r.aspect.name(),
                r.share_negative().unwrap_or(0.0)
            )
        })
        .collect();
    let order = if query.metric == Metric::Volume {
        SampleOrder::Latest
    } else {
        SampleOrder::MostNegative
    };
    spike.mention_ids = store
        .sample_mentions(window, &filters, order, 3)
        .await?
        .iter()
        .map(|m| m.id)
        .collect();
    Ok(())
}

/// The query's filters narrowed to one group.
pub fn with_group(
    filters: &Filters,
    dimension: Option<crate::query::Dimension>,
    group: Option<&str>,
) -> Filters {
    let mut filters = filters.clone();
    if let (Some(dimension), Some(group)) = (dimension, group) {
        filters.values.retain(|(d, _)| *d != dimension);
        let value = if dimension == crate::query::Dimension::Label && group == "unscored" {
            return filters;
        } else {
            group.to_string()
        };
        filters.values.push((dimension, vec![value]));
        filters.values.sort_by_key(|(d, _)| *d);
    }
    filters
}
