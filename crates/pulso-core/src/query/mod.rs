//! The public query model: what a panel, variable or alert rule may ask for.
//!
//! Field names here (`queryType`, `metric`, `groupBy`, `filters`, ...) are a contract with
//! dashboards and alert rules, so they never change. Each query is parsed on its own and every
//! error names the field and the value, so one bad query never spoils the others.

mod parse;
mod results;

pub use parse::{live_requested, parse_query, QueryInput, MAX_BUCKETS};
pub use results::{
    BucketCells, DimensionValues, Distribution, DistributionRow, MentionRow, Mentions, Series,
    SeriesValues, Timeseries,
};

use thiserror::Error;

use crate::analysis::Aspect;

/// A dimension that feedback can be filtered or grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    SourceType,
    Platform,
    Region,
    Category,
    Brand,
    Product,
    Language,
    Label,
    /// The dominant emotion of the active model's scores (see `analysis::emotion::dominant`).
    Emotion,
}

impl Dimension {
    pub const ALL: [Dimension; 9] = [
        Self::SourceType,
        Self::Platform,
        Self::Region,
        Self::Category,
        Self::Brand,
        Self::Product,
        Self::Language,
        Self::Label,
        Self::Emotion,
    ];

    /// The name used in queries, labels, resources and dashboards.
    pub fn name(self) -> &'static str {
        match self {
            Self::SourceType => "sourceType",
            Self::Platform => "platform",
            Self::Region => "region",
            Self::Category => "category",
            Self::Brand => "brand",
            Self::Product => "product",
            Self::Language => "language",
            Self::Label => "label",
            Self::Emotion => "emotion",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The sentiment label and the emotion live with the scores, every other dimension with
    /// the feedback.
    pub fn needs_scores(self) -> bool {
        matches!(self, Self::Label | Self::Emotion)
    }

    /// Whether a query type can group by this dimension: the emotion only groups volumes
    /// (`timeseries`, `distribution`).
    pub fn groups_terms(self) -> bool {
        self != Self::Emotion
    }

    pub fn valid_names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

/// What a time series measures in each bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Volume,
    AvgScore,
    NetSentiment,
    SharePositive,
    ShareNegative,
    /// A group's percent of all mentions in the bucket that pass the same filters.
    ShareOfVoice,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Self::Volume,
        Self::AvgScore,
        Self::NetSentiment,
        Self::SharePositive,
        Self::ShareNegative,
        Self::ShareOfVoice,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Volume => "volume",
            Self::AvgScore => "avg_score",
            Self::NetSentiment => "net_sentiment",
            Self::SharePositive => "share_positive",
            Self::ShareNegative => "share_negative",
            Self::ShareOfVoice => "share_of_voice",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    pub fn needs_scores(self) -> bool {
        !matches!(self, Self::Volume | Self::ShareOfVoice)
    }

    /// A sentiment metric from a bucket's aggregates; `None` when nothing in it was scored.
    /// Volume counts and share of voice, which compares buckets across groups, are computed
    /// where the series are assembled.
    pub fn sentiment_value(
        self,
        scored: i64,
        positive: i64,
        negative: i64,
        score_sum: Option<f64>,
    ) -> Option<f64> {
        if scored == 0 {
            return None;
        }
        let scored = scored as f64;
        match self {
            Self::Volume | Self::ShareOfVoice => Some(scored),
            Self::AvgScore => score_sum.map(|sum| sum / scored),
            Self::NetSentiment => Some(100.0 * (positive - negative) as f64 / scored),
            Self::SharePositive => Some(100.0 * positive as f64 / scored),
            Self::ShareNegative => Some(100.0 * negative as f64 / scored),
        }
    }

    pub fn valid_names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

/// Inclusive time range in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from_ms: i64,
    pub to_ms: i64,
}

/// The common filters: for each dimension, the values to keep (absent or empty means all).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    pub values: Vec<(Dimension, Vec<String>)>,
    /// Keep only scored rows whose most likely class has at least this probability.
    pub min_confidence: Option<f64>,
}

impl Filters {
    pub fn needs_scores(&self) -> bool {
        self.min_confidence.is_some() || self.values.iter().any(|(d, _)| d.needs_scores())
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty() && self.min_confidence.is_none()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimeseriesQuery {
    pub range: TimeRange,
    pub metric: Metric,
    pub group_by: Option<Dimension>,
    pub bucket_ms: i64,
    pub filters: Filters,
}

/// The first bucket's start: buckets are aligned to multiples of the width since the epoch,
/// except a bucket wider than the whole range, which would start long before it (in 1970 for a
/// century-wide one): that one bucket starts where the range does.
pub fn bucket_origin(range: TimeRange, bucket_ms: i64) -> i64 {
    if bucket_ms > range.to_ms - range.from_ms {
        range.from_ms
    } else {
        range.from_ms.div_euclid(bucket_ms) * bucket_ms
    }
}

impl TimeseriesQuery {
    /// The first bucket's start (see [`bucket_origin`]).
    pub fn bucket_origin(&self) -> i64 {
        bucket_origin(self.range, self.bucket_ms)
    }

    /// Every bucket's start, from [`TimeseriesQuery::bucket_origin`] to the range's end.
    pub fn bucket_starts(&self) -> Vec<i64> {
        let origin = self.bucket_origin();
        let buckets = (self.range.to_ms - origin) / self.bucket_ms + 1;
        (0..buckets).map(|i| origin + i * self.bucket_ms).collect()
    }

    /// Does this time series report sentiment, so that unscored rows deserve a notice?
    pub fn needs_scores(&self) -> bool {
        self.metric.needs_scores()
            || self.filters.needs_scores()
            || self.group_by.is_some_and(Dimension::needs_scores)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MentionsQuery {
    pub range: TimeRange,
    pub limit: u32,
    /// Already folded to lower case without accents.
    pub search: Option<String>,
    pub filters: Filters,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DistributionQuery {
    pub range: TimeRange,
    pub group_by: Option<Dimension>,
    pub filters: Filters,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DimensionValuesQuery {
    pub dimension: Dimension,
    /// Narrows the values, so one template variable can depend on another.
    pub filters: Filters,
}

/// Terms in the range against the range of equal length before it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendingTermsQuery {
    pub range: TimeRange,
    /// Fewest mentions in the range a term needs to be listed.
    pub min_support: u32,
    /// Most terms listed (per group).
    pub limit: u32,
    pub group_by: Option<Dimension>,
    pub filters: Filters,
}

impl TrendingTermsQuery {
    /// The range of equal length just before this one.
    pub fn previous_range(&self) -> TimeRange {
        let span = self.range.to_ms - self.range.from_ms;
        TimeRange {
            from_ms: self.range.from_ms - span - 1,
            to_ms: self.range.from_ms - 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AspectView {
    Distribution,
    Timeseries,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AspectsQuery {
    pub range: TimeRange,
    pub view: AspectView,
    /// Empty means every aspect.
    pub aspects: Vec<Aspect>,
    /// For the time series view.
    pub metric: Metric,
    pub bucket_ms: i64,
    pub filters: Filters,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyView {
    Timeseries,
    Spikes,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AnomaliesQuery {
    pub range: TimeRange,
    /// `ShareNegative` or `Volume`.
    pub metric: Metric,
    pub group_by: Option<Dimension>,
    pub bucket_ms: i64,
    pub baseline_buckets: u32,
    pub threshold: f64,
    pub view: AnomalyView,
    pub filters: Filters,
}

impl AnomaliesQuery {
    /// The range plus the baseline before its first bucket.
    pub fn extended_range(&self) -> TimeRange {
        TimeRange {
            from_ms: self.range.from_ms - i64::from(self.baseline_buckets) * self.bucket_ms,
            to_ms: self.range.to_ms,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct InsightsQuery {
    pub range: TimeRange,
    pub filters: Filters,
    /// False forces the offline summary even when an LLM is configured.
    pub use_llm: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    Timeseries(TimeseriesQuery),
    Mentions(MentionsQuery),
    Distribution(DistributionQuery),
    DimensionValues(DimensionValuesQuery),
    TrendingTerms(TrendingTermsQuery),
    Aspects(AspectsQuery),
    Anomalies(AnomaliesQuery),
    Insights(InsightsQuery),
}

impl Query {
    pub const TYPES: [&'static str; 8] = [
        "timeseries",
        "mentions",
        "distribution",
        "dimension_values",
        "trending_terms",
        "aspects",
        "anomalies",
        "insights",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Timeseries(_) => "timeseries",
            Self::Mentions(_) => "mentions",
            Self::Distribution(_) => "distribution",
            Self::DimensionValues(_) => "dimension_values",
            Self::TrendingTerms(_) => "trending_terms",
            Self::Aspects(_) => "aspects",
            Self::Anomalies(_) => "anomalies",
            Self::Insights(_) => "insights",
        }
    }
}

/// Why a query was refused. Each message names the field and the offending value.
#[derive(Debug, Error, PartialEq)]
pub enum QueryError {
    #[error("the query is not valid JSON ({detail}): check the query in the query editor")]
    MalformedJson { detail: String },
    #[error("the query must be a JSON object, got {got}")]
    NotAnObject { got: String },
    #[error("queryType is missing: set it to one of {valid}", valid = Query::TYPES.join(", "))]
    MissingQueryType,
    #[error("unknown queryType {value:?}: use one of {valid}", valid = Query::TYPES.join(", "))]
    UnknownQueryType { value: String },
    #[error("unknown {field} {value:?}: use one of {valid}", valid = Dimension::valid_names())]
    UnknownDimension { field: String, value: String },
    #[error("{field} is required for queryType {query_type:?}: use one of {valid}", valid = Dimension::valid_names())]
    MissingDimension {
        field: &'static str,
        query_type: &'static str,
    },
    #[error("groupBy \"{dimension}\" is not available for queryType {query_type:?}: group by emotion in a timeseries or distribution query, or filter on emotion here")]
    UnsupportedGroup {
        dimension: &'static str,
        query_type: &'static str,
    },
    #[error("unknown metric {value:?}: use one of {valid}", valid = Metric::valid_names())]
    UnknownMetric { value: String },
    #[error("metric {value:?} is not available for anomalies: use share_negative or volume")]
    UnsupportedAnomalyMetric { value: String },
    #[error("unknown aspect {value:?} in aspects: use some of {valid}", valid = Aspect::valid_names())]
    UnknownAspect { value: String },
    #[error("unknown view {value:?} for queryType {query_type:?}: use {valid}")]
    UnknownView {
        value: String,
        query_type: &'static str,
        valid: &'static str,
    },
    #[error("{field} must be {expected}, got {got}")]
    WrongType {
        field: String,
        expected: &'static str,
        got: String,
    },
    #[error("{field} {value} is out of range: use {range}")]
    OutOfRange {
        field: &'static str,
        value: String,
        range: &'static str,
    },
    #[error("the time range is reversed: from ({from}) is after to ({to}); pick a range whose start comes first")]
    ReversedTimeRange { from: String, to: String },
    #[error("the time range is missing: Grafana sends one with every panel query")]
    MissingTimeRange,
    #[error("timeRange.{field} {value} is not a valid time in milliseconds since 1970")]
    InvalidTime { field: &'static str, value: i64 },
    #[error("interval {value:?} is not a duration: use a number and a unit such as 30s, 5m, 1h, 1d or 1w")]
    InvalidInterval { value: String },
    #[error("interval {interval} over this time range makes {buckets} buckets, more than {max}: widen the interval or shorten the range", max = MAX_BUCKETS)]
    TooManyBuckets { interval: String, buckets: i64 },
    #[error("filters.{dimension} has {count} values, more than {max}: pick fewer values, or leave the filter empty to keep every value", max = MAX_FILTER_VALUES)]
    TooManyFilterValues {
        dimension: &'static str,
        count: usize,
    },
    #[error("the query is {bytes} bytes of JSON, more than {max} (1 MiB): shorten its filters or search text", max = MAX_QUERY_BYTES)]
    TooLarge { bytes: usize },
    #[error("live is true, but queryType {query_type:?} cannot stream: only mentions, timeseries and distribution queries can be live; turn Live off in the query editor")]
    LiveUnsupported { query_type: &'static str },
}

/// The largest query model accepted; the request around it may be larger.
pub const MAX_QUERY_BYTES: usize = 1024 * 1024;

/// At most this many values per filter: more would exceed what one SQL statement binds.
pub const MAX_FILTER_VALUES: usize = 1_000;

/// Values a user typed are quoted in errors and logs up to this many characters.
pub const MAX_SHOWN_CHARS: usize = 100;

/// `text` cut to [`MAX_SHOWN_CHARS`] characters, with `…` where it was cut.
pub fn shown(text: &str) -> String {
    match text.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

impl QueryError {
    /// The error with every text that came from the request cut to [`MAX_SHOWN_CHARS`], so a
    /// huge value is never echoed whole into a panel or a log.
    pub fn capped(self) -> Self {
        let cap = |s: String| shown(&s);
        match self {
            Self::MalformedJson { detail } => Self::MalformedJson {
                detail: cap(detail),
            },
            Self::NotAnObject { got } => Self::NotAnObject { got: cap(got) },
            Self::UnknownQueryType { value } => Self::UnknownQueryType { value: cap(value) },
            Self::UnknownDimension { field, value } => Self::UnknownDimension {
                field: cap(field),
                value: cap(value),
            },
            Self::UnknownMetric { value } => Self::UnknownMetric { value: cap(value) },
            Self::UnsupportedAnomalyMetric { value } => {
                Self::UnsupportedAnomalyMetric { value: cap(value) }
            }
            Self::UnknownAspect { value } => Self::UnknownAspect { value: cap(value) },
            Self::UnknownView {
                value,
                query_type,
                valid,
            } => Self::UnknownView {
                value: cap(value),
                query_type,
                valid,
            },
            Self::WrongType {
                field,
                expected,
                got,
            } => Self::WrongType {
                field: cap(field),
                expected,
                got: cap(got),
            },
            Self::OutOfRange {
                field,
                value,
                range,
            } => Self::OutOfRange {
                field,
                value: cap(value),
                range,
            },
            Self::ReversedTimeRange { from, to } => Self::ReversedTimeRange {
                from: cap(from),
                to: cap(to),
            },
            Self::InvalidInterval { value } => Self::InvalidInterval { value: cap(value) },
            Self::TooManyBuckets { interval, buckets } => Self::TooManyBuckets {
                interval: cap(interval),
                buckets,
            },
            other => other,
        }
    }

    /// Every query error is the caller's to fix.
    pub fn http_status(&self) -> u16 {
        400
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentiment_values() {
        assert_eq!(
            Metric::NetSentiment.sentiment_value(4, 3, 1, Some(1.0)),
            Some(50.0)
        );
        assert_eq!(
            Metric::SharePositive.sentiment_value(4, 3, 1, None),
            Some(75.0)
        );
        assert_eq!(
            Metric::ShareNegative.sentiment_value(4, 3, 1, None),
            Some(25.0)
        );
        assert_eq!(
            Metric::AvgScore.sentiment_value(4, 3, 1, Some(1.0)),
            Some(0.25)
        );
        assert_eq!(Metric::AvgScore.sentiment_value(0, 0, 0, None), None);
        assert!(!Metric::ShareOfVoice.needs_scores());
    }

    #[test]
    fn buckets_align_to_the_epoch() {
        let query = TimeseriesQuery {
            range: TimeRange {
                from_ms: 5_000,
                to_ms: 20_000,
            },
            metric: Metric::Volume,
            group_by: None,
            bucket_ms: 3_000,
            filters: Filters::default(),
        };
        assert_eq!(query.bucket_origin(), 3_000);
        assert_eq!(
            query.bucket_starts(),
            vec![3_000, 6_000, 9_000, 12_000, 15_000, 18_000]
        );
        // An interval wider than the range: one bucket, at the range's start, not in 1970.
        let wide = TimeseriesQuery {
            bucket_ms: 100 * 365 * 86_400_000,
            range: TimeRange {
                from_ms: 1_767_225_600_000,
                to_ms: 1_767_225_600_000 + 7 * 86_400_000,
            },
            ..query
        };
        assert_eq!(wide.bucket_starts(), vec![1_767_225_600_000]);
    }

    #[test]
    fn share_of_voice_divides_by_every_group_in_the_bucket() {
        let query = TimeseriesQuery {
            range: TimeRange {
                from_ms: 0,
                to_ms: 1_999,
            },
            metric: Metric::ShareOfVoice,
            group_by: Some(Dimension::Brand),
            bucket_ms: 1_000,
            filters: Filters::default(),
        };
        let groups = std::collections::BTreeMap::from([
            (Some("A".to_string()), vec![(0, [3, 3, 0, 0], None)]),
            (
                Some("B".to_string()),
                vec![(0, [1, 1, 0, 0], None), (1, [2, 0, 0, 0], None)],
            ),
        ]);
        let series = Timeseries::assemble(&query, query.bucket_starts(), groups, String::new());
        assert_eq!(
            series.series[0].values,
            SeriesValues::Ratios(vec![Some(75.0), Some(0.0)])
        );
        assert_eq!(
            series.series[1].values,
            SeriesValues::Ratios(vec![Some(25.0), Some(100.0)])
        );
        assert_eq!(series.unscored_rows, 0, "share of voice needs no scores");
    }
}
