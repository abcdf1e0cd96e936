//! Anomalies: a robust z-score per bucket and group against a trailing baseline, with each
//! spike explained by its rising terms, worst aspects and representative mentions.

use std::collections::BTreeMap;

use pulso_core::query::{
    AnomaliesQuery, Filters, Metric, SeriesValues, TimeRange, TimeseriesQuery,
};
use pulso_store::{FeedbackReader, SampleOrder, SampleScan, StoreError};

use super::anomaly::{baseline_median, robust_z, spikes};
use super::aspect_stats::{distribution_of, distribution_scan};
use super::trending::{trending_terms_many, TrendRequest};

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
    store: &dyn FeedbackReader,
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
    let mut baselines = Vec::new();
    for (group, first, last, value, base_value, zscore) in found {
        let window = TimeRange {
            from_ms: starts[first].max(query.range.from_ms),
            to_ms: (starts[last] + query.bucket_ms - 1).min(query.range.to_ms),
        };
        baselines.push(TimeRange {
            from_ms: starts[first] - query.baseline_buckets as i64 * query.bucket_ms,
            to_ms: starts[first] - 1,
        });
        explained.push(Spike {
            group,
            start_ms: window.from_ms,
            end_ms: window.to_ms,
            value,
            baseline: base_value,
            zscore,
            rising_terms: Vec::new(),
            worst_aspects: Vec::new(),
            mention_ids: Vec::new(),
        });
    }
    let chosen: Vec<usize> = (0..explained.len())
        .filter(|n| explain.contains(n))
        .collect();
    explain_spikes(store, query, &mut explained, &baselines, &chosen).await?;
    Ok(Anomalies {
        bucket_starts_ms: starts[first_shown..].to_vec(),
        series,
        spikes: explained,
        unscored_rows,
        executed_sql,
    })
}

/// Fills the chosen spikes' rising terms (against their baselines), worst aspects and
/// representative mentions, each within its group, with one batched read of each kind.
async fn explain_spikes(
    store: &dyn FeedbackReader,
    query: &AnomaliesQuery,
    spikes: &mut [Spike],
    baselines: &[TimeRange],
    chosen: &[usize],
) -> Result<(), StoreError> {
    if chosen.is_empty() {
        return Ok(());
    }
    let windows: Vec<(TimeRange, Filters)> = chosen
        .iter()
        .map(|&n| {
            let spike = &spikes[n];
            (
                TimeRange {
                    from_ms: spike.start_ms,
                    to_ms: spike.end_ms,
                },
                with_group(&query.filters, query.group_by, spike.group.as_deref()),
            )
        })
        .collect();
    let requests: Vec<TrendRequest> = windows
        .iter()
        .zip(chosen)
        .map(|((window, filters), &n)| TrendRequest {
            range: *window,
            before: baselines[n],
            filters: filters.clone(),
            group_by: None,
            min_support: 2,
            limit: 5,
        })
        .collect();
    let aspect_scans: Vec<_> = windows
        .iter()
        .map(|(window, filters)| distribution_scan(*window, filters, &[]))
        .collect();
    let order = if query.metric == Metric::Volume {
        SampleOrder::Latest
    } else {
        SampleOrder::MostNegative
    };
    let sample_scans: Vec<SampleScan> = windows
        .iter()
        .map(|(window, filters)| SampleScan {
            range: *window,
            filters: filters.clone(),
            order,
            limit: 3,
        })
        .collect();
    let started = std::time::Instant::now();
    let (rising, aspects, samples) = futures_util::try_join!(
        trending_terms_many(store, &requests),
        store.aspect_counts_many(&aspect_scans),
        store.sample_ids_many(&sample_scans),
    )?;
    tracing::debug!(
        spikes = chosen.len(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "spikes explained"
    );
    for (((&n, rising), aspects), ids) in chosen.iter().zip(rising).zip(aspects).zip(samples) {
        let spike = &mut spikes[n];
        spike.rising_terms = rising.terms.into_iter().map(|t| t.term).collect();
        let aspects = distribution_of(aspects);
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
        spike.mention_ids = ids;
    }
    Ok(())
}

/// The query's filters narrowed to one group.
pub fn with_group(
    filters: &Filters,
    dimension: Option<pulso_core::query::Dimension>,
    group: Option<&str>,
) -> Filters {
    let mut filters = filters.clone();
    if let (Some(dimension), Some(group)) = (dimension, group) {
        filters.values.retain(|(d, _)| *d != dimension);
        let value = if dimension == pulso_core::query::Dimension::Label
            && group == pulso_core::analysis::label::UNSCORED
        {
            return filters;
        } else {
            group.to_string()
        };
        filters.values.push((dimension, vec![value]));
        filters.values.sort_by_key(|(d, _)| *d);
    }
    filters
}
