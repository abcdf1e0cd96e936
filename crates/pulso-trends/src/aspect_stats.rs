//! Aspect sentiment as a distribution or as time series, from stored clause results.

use std::collections::BTreeMap;

use pulso_core::query::{AspectsQuery, Filters, Metric, TimeRange};
use pulso_store::{AspectCounts, AspectScan, FeedbackReader, StoreError};

use pulso_core::analysis::Aspect;

fn bucket_index(bucket: Option<i64>, buckets: usize) -> usize {
    bucket.unwrap_or(0).clamp(0, buckets as i64 - 1) as usize
}

#[derive(Debug, Clone, PartialEq)]
pub struct AspectRow {
    pub aspect: Aspect,
    pub mentions: i64,
    pub positive: i64,
    pub neutral: i64,
    pub negative: i64,
    pub score_sum: f64,
}

impl AspectRow {
    pub fn share_negative(&self) -> Option<f64> {
        (self.mentions > 0).then(|| 100.0 * self.negative as f64 / self.mentions as f64)
    }
    pub fn net_sentiment(&self) -> Option<f64> {
        (self.mentions > 0)
            .then(|| 100.0 * (self.positive - self.negative) as f64 / self.mentions as f64)
    }
    pub fn avg_score(&self) -> Option<f64> {
        (self.mentions > 0).then(|| self.score_sum / self.mentions as f64)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AspectDistribution {
    pub rows: Vec<AspectRow>,
    pub executed_sql: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AspectSeries {
    pub bucket_starts_ms: Vec<i64>,
    /// One series per aspect with data, in aspect order.
    pub series: Vec<(Aspect, Vec<Option<f64>>)>,
    pub executed_sql: String,
}

pub async fn distribution(
    store: &dyn FeedbackReader,
    range: TimeRange,
    filters: &Filters,
    aspects: &[Aspect],
) -> Result<AspectDistribution, StoreError> {
    let counts = store
        .aspect_counts(&distribution_scan(range, filters, aspects))
        .await?;
    Ok(distribution_of(counts))
}

/// The scan behind [`distribution`], for callers that batch several.
pub fn distribution_scan(range: TimeRange, filters: &Filters, aspects: &[Aspect]) -> AspectScan {
    AspectScan {
        range,
        filters: filters.clone(),
        aspects: aspects.to_vec(),
        buckets: None,
    }
}

/// The distribution from a [`distribution_scan`]'s counts.
pub fn distribution_of(counts: AspectCounts) -> AspectDistribution {
    let rows = counts
        .counts
        .into_iter()
        .map(|c| AspectRow {
            aspect: c.aspect,
            mentions: c.mentions,
            positive: c.positive,
            neutral: c.neutral,
            negative: c.negative,
            score_sum: c.score_sum,
        })
        .collect();
    AspectDistribution {
        rows,
        executed_sql: counts.executed_sql,
    }
}

pub async fn timeseries(
    store: &dyn FeedbackReader,
    query: &AspectsQuery,
) -> Result<AspectSeries, StoreError> {
    let origin = pulso_core::query::bucket_origin(query.range, query.bucket_ms);
    let buckets = ((query.range.to_ms - origin) / query.bucket_ms + 1) as usize;
    let counts = store
        .aspect_counts(&AspectScan {
            range: query.range,
            filters: query.filters.clone(),
            aspects: query.aspects.clone(),
            buckets: Some((origin, query.bucket_ms)),
        })
        .await?;
    // Every aspect's mentions per bucket, the denominator of share of voice.
    let mut totals = vec![0i64; buckets];
    for count in &counts.counts {
        totals[bucket_index(count.bucket, buckets)] += count.mentions;
    }
    let mut series: BTreeMap<Aspect, Vec<Option<f64>>> = BTreeMap::new();
    for count in counts.counts {
        let index = bucket_index(count.bucket, buckets);
        let values = series
            .entry(count.aspect)
            .or_insert_with(|| match query.metric {
                Metric::Volume => vec![Some(0.0); buckets],
                // An aspect absent from a bucket others were named in has a share of zero.
                Metric::ShareOfVoice => totals.iter().map(|t| (*t > 0).then_some(0.0)).collect(),
                _ => vec![None; buckets],
            });
        values[index] = match query.metric {
            Metric::ShareOfVoice => {
                Some(100.0 * count.mentions as f64 / totals[index].max(1) as f64)
            }
            metric => metric.sentiment_value(
                count.mentions,
                count.positive,
                count.negative,
                Some(count.score_sum),
            ),
        };
    }
    Ok(AspectSeries {
        bucket_starts_ms: (0..buckets as i64)
            .map(|i| origin + i * query.bucket_ms)
            .collect(),
        series: series.into_iter().collect(),
        executed_sql: counts.executed_sql,
    })
}
