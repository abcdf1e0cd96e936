//! Query results in domain terms; the protocol layer turns them into frames.

use std::collections::BTreeMap;

use super::{Metric, TimeseriesQuery};
use crate::analysis::Label;

/// One group's aggregates, per bucket index: volume, scored, positive, negative, score sum.
pub type BucketCells = Vec<(usize, [i64; 4], Option<f64>)>;

/// A wide time series: shared bucket starts, one series per group.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeseries {
    pub bucket_starts_ms: Vec<i64>,
    pub series: Vec<Series>,
    /// Rows in range (after filters) that the active model has not scored.
    pub unscored_rows: u64,
    pub executed_sql: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The group's value, `None` when the query has no `groupBy`.
    pub group: Option<String>,
    pub values: SeriesValues,
    /// Rows per bucket, whatever the metric, so callers can tell thin buckets apart.
    pub volumes: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SeriesValues {
    /// Volume: empty buckets are zero.
    Counts(Vec<i64>),
    /// Ratios and averages: empty buckets are null.
    Ratios(Vec<Option<f64>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MentionRow {
    pub time_ms: i64,
    pub id: i64,
    pub text: String,
    pub source_type: String,
    pub platform: String,
    pub region: String,
    pub category: String,
    pub brand: String,
    pub label: Option<Label>,
    pub score: Option<f64>,
    pub confidence: Option<f64>,
    pub language: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mentions {
    pub rows: Vec<MentionRow>,
    pub executed_sql: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DistributionRow {
    /// `None` for rows the active model has not scored.
    pub label: Option<Label>,
    pub group: Option<String>,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    pub rows: Vec<DistributionRow>,
    pub executed_sql: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DimensionValues {
    pub values: Vec<String>,
    pub executed_sql: String,
}

impl Timeseries {
    /// The series from per-bucket aggregates of each group, the same whichever reader
    /// computed them: gaps are zero for volume and null for ratios; share of voice divides by
    /// all groups' volume in the bucket.
    pub fn assemble(
        query: &TimeseriesQuery,
        bucket_starts_ms: Vec<i64>,
        mut groups: BTreeMap<Option<String>, BucketCells>,
        executed_sql: String,
    ) -> Self {
        let buckets = bucket_starts_ms.len();
        if query.group_by.is_none() && groups.is_empty() {
            groups.insert(None, Vec::new());
        }
        let mut totals = vec![0i64; buckets];
        for (index, c, _) in groups.values().flatten() {
            totals[*index] += c[0];
        }
        let mut unscored_rows = 0u64;
        let series = groups
            .into_iter()
            .map(|(group, cells)| {
                let mut volumes = vec![0i64; buckets];
                for (index, c, _) in &cells {
                    volumes[*index] += c[0];
                    unscored_rows += (c[0] - c[1]).max(0) as u64;
                }
                let values = match query.metric {
                    Metric::Volume => SeriesValues::Counts(volumes.clone()),
                    Metric::ShareOfVoice => SeriesValues::Ratios(
                        volumes
                            .iter()
                            .zip(&totals)
                            .map(|(v, t)| (*t > 0).then(|| 100.0 * *v as f64 / *t as f64))
                            .collect(),
                    ),
                    metric => {
                        let mut ratios = vec![None; buckets];
                        for (index, c, sum) in cells {
                            ratios[index] = metric.sentiment_value(c[1], c[2], c[3], sum);
                        }
                        SeriesValues::Ratios(ratios)
                    }
                };
                Series {
                    group,
                    values,
                    volumes,
                }
            })
            .collect();
        Self {
            bucket_starts_ms,
            series,
            unscored_rows: if query.needs_scores() {
                unscored_rows
            } else {
                0
            },
            executed_sql,
        }
    }
}

impl DimensionValues {
    /// The label dimension's values: a fixed set, enforced by the schema.
    pub fn labels() -> Self {
        Self {
            values: Label::ALL.map(|l| l.name().to_string()).to_vec(),
            executed_sql: "-- sentiment labels are fixed: negative, neutral, positive".to_string(),
        }
    }

    /// The emotion dimension's values: the six emotions and `none`, fixed.
    pub fn emotions() -> Self {
        Self {
            values: crate::analysis::emotion::emotion_values(),
            executed_sql:
                "-- emotions are fixed: joy, anger, sadness, fear, surprise, disgust, none"
                    .to_string(),
        }
    }

    /// The fixed values of a dimension that lives with the scores.
    pub fn of_scores(dimension: crate::query::Dimension) -> Self {
        match dimension {
            crate::query::Dimension::Emotion => Self::emotions(),
            _ => Self::labels(),
        }
    }
}

impl Distribution {
    pub fn unscored_rows(&self) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.label.is_none())
            .map(|r| r.count.max(0) as u64)
            .sum()
    }
}

impl Mentions {
    pub fn unscored_rows(&self) -> u64 {
        self.rows.iter().filter(|r| r.label.is_none()).count() as u64
    }
}
