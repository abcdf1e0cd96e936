//! Lenient, per-query parsing of the JSON query model into a validated [`Query`].

use serde_json::{Map, Value};

use super::{
    AnomaliesQuery, AnomalyView, AspectView, AspectsQuery, Dimension, DimensionValuesQuery,
    DistributionQuery, Filters, InsightsQuery, MentionsQuery, Metric, Query, QueryError, TimeRange,
    TimeseriesQuery, TrendingTermsQuery,
};
use crate::analysis::aspects::Aspect;
use crate::analysis::text::fold_for_search;

/// Most buckets one time series may have; beyond this a panel cannot draw them anyway.
pub const MAX_BUCKETS: i64 = 50_000;
const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 5_000;
const MAX_SEARCH_CHARS: usize = 500;
/// Chrono's representable range, so no timestamp can overflow further down.
const MIN_TIME_MS: i64 = -62_135_596_800_000;
const MAX_TIME_MS: i64 = 253_402_300_799_999;

/// One query as Grafana sends it: the JSON model plus the fields that travel beside it.
#[derive(Debug, Clone, Copy)]
pub struct QueryInput<'a> {
    pub json: &'a [u8],
    /// `DataQuery.queryType`; when empty, the JSON's `queryType` is used.
    pub query_type: &'a str,
    pub interval_ms: i64,
    pub max_data_points: i64,
    /// `(from, to)` in epoch milliseconds, when the request carried one.
    pub time_range: Option<(i64, i64)>,
}

/// The query, or why it was refused, with any value from the request quoted at most
/// [`super::MAX_SHOWN_CHARS`] characters long.
pub fn parse_query(input: QueryInput<'_>) -> Result<Query, QueryError> {
    parse_model(input).map_err(QueryError::capped)
}

/// Whether a parsed query asks to stream (`"live": true`). Only mentions, timeseries and
/// distribution queries can: their results change as rows are scored.
pub fn live_requested(json: &[u8], query: &Query) -> Result<bool, QueryError> {
    let Ok(Value::Object(model)) = serde_json::from_slice::<Value>(json) else {
        return Ok(false);
    };
    let live = match model.get("live") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(other) => return Err(wrong_type("live", "true or false", other)),
    };
    match query {
        Query::Mentions(_) | Query::Timeseries(_) | Query::Distribution(_) => Ok(live),
        _ if live => Err(QueryError::LiveUnsupported {
            query_type: query.type_name(),
        }),
        _ => Ok(false),
    }
}

fn parse_model(input: QueryInput<'_>) -> Result<Query, QueryError> {
    if input.json.len() > super::MAX_QUERY_BYTES {
        return Err(QueryError::TooLarge {
            bytes: input.json.len(),
        });
    }
    let value: Value =
        serde_json::from_slice(input.json).map_err(|e| QueryError::MalformedJson {
            detail: e.to_string(),
        })?;
    let model = match value {
        Value::Object(map) => map,
        other => {
            return Err(QueryError::NotAnObject {
                got: describe(&other),
            })
        }
    };
    let query_type = if input.query_type.is_empty() {
        match model.get("queryType") {
            None | Some(Value::Null) => return Err(QueryError::MissingQueryType),
            Some(Value::String(s)) if s.is_empty() => return Err(QueryError::MissingQueryType),
            Some(Value::String(s)) => s.clone(),
            Some(other) => return Err(wrong_type("queryType", "a string", other)),
        }
    } else {
        input.query_type.to_string()
    };
    let fields = Fields(&model);
    match query_type.as_str() {
        "timeseries" => {
            let range = time_range(input.time_range)?;
            let metric = match fields.string("metric")? {
                None => Metric::Volume,
                Some(name) => {
                    Metric::from_name(&name).ok_or(QueryError::UnknownMetric { value: name })?
                }
            };
            let bucket_ms = bucket_ms(&fields, input, range)?;
            Ok(Query::Timeseries(TimeseriesQuery {
                range,
                metric,
                group_by: fields.dimension("groupBy")?,
                bucket_ms,
                filters: fields.filters()?,
            }))
        }
        "mentions" => {
            let range = time_range(input.time_range)?;
            let limit = match fields.get("limit") {
                None => DEFAULT_LIMIT,
                Some(v) => match v.as_u64() {
                    Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
                    _ if v.is_number() => {
                        return Err(QueryError::OutOfRange {
                            field: "limit",
                            value: v.to_string(),
                            range: "1 to 5000",
                        })
                    }
                    _ => return Err(wrong_type("limit", "a whole number from 1 to 5000", v)),
                },
            };
            let search = match fields.string("search")? {
                Some(s) if s.chars().count() > MAX_SEARCH_CHARS => {
                    return Err(QueryError::OutOfRange {
                        field: "search",
                        value: format!("of {} characters", s.chars().count()),
                        range: "at most 500 characters",
                    })
                }
                Some(s) if !s.trim().is_empty() => Some(fold_for_search(s.trim())),
                _ => None,
            };
            Ok(Query::Mentions(MentionsQuery {
                range,
                limit: limit as u32,
                search,
                filters: fields.filters()?,
            }))
        }
        "distribution" => Ok(Query::Distribution(DistributionQuery {
            range: time_range(input.time_range)?,
            group_by: fields.dimension("groupBy")?,
            filters: fields.filters()?,
        })),
        "dimension_values" => Ok(Query::DimensionValues(DimensionValuesQuery {
            dimension: fields
                .dimension("dimension")?
                .ok_or(QueryError::MissingDimension {
                    field: "dimension",
                    query_type: "dimension_values",
                })?,
            filters: fields.filters()?,
        })),
        "trending_terms" => Ok(Query::TrendingTerms(TrendingTermsQuery {
            range: time_range(input.time_range)?,
            min_support: fields.bounded(
                "minSupport",
                5,
                1,
                1_000_000,
                "a whole number from 1 to 1000000",
            )? as u32,
            limit: fields.bounded("limit", 20, 1, 500, "a whole number from 1 to 500")? as u32,
            group_by: fields.term_group("trending_terms")?,
            filters: fields.filters()?,
        })),
        "aspects" => {
            let range = time_range(input.time_range)?;
            let view = match fields.string("view")?.as_deref() {
                None | Some("") | Some("distribution") => AspectView::Distribution,
                Some("timeseries") => AspectView::Timeseries,
                Some(other) => {
                    return Err(QueryError::UnknownView {
                        value: other.to_string(),
                        query_type: "aspects",
                        valid: "distribution or timeseries",
                    })
                }
            };
            let metric = match fields.string("metric")? {
                None => Metric::ShareNegative,
                Some(name) if name.is_empty() => Metric::ShareNegative,
                Some(name) => {
                    Metric::from_name(&name).ok_or(QueryError::UnknownMetric { value: name })?
                }
            };
            let aspects = match fields.get("aspects") {
                None => Vec::new(),
                Some(Value::Array(items)) => {
                    let mut aspects = Vec::new();
                    for item in items {
                        let Value::String(name) = item else {
                            return Err(wrong_type("aspects", "a list of aspect names", item));
                        };
                        let aspect =
                            Aspect::from_name(name).ok_or_else(|| QueryError::UnknownAspect {
                                value: name.clone(),
                            })?;
                        if !aspects.contains(&aspect) {
                            aspects.push(aspect);
                        }
                    }
                    aspects.sort();
                    aspects
                }
                Some(other) => return Err(wrong_type("aspects", "a list of aspect names", other)),
            };
            Ok(Query::Aspects(AspectsQuery {
                range,
                view,
                aspects,
                metric,
                // The distribution view draws no buckets, so a long range never has too many.
                bucket_ms: match view {
                    AspectView::Timeseries => bucket_ms(&fields, input, range)?,
                    AspectView::Distribution => range.to_ms - range.from_ms + 1,
                },
                filters: fields.filters()?,
            }))
        }
        "anomalies" => {
            let range = time_range(input.time_range)?;
            let metric = match fields.string("metric")?.as_deref() {
                None | Some("") | Some("share_negative") => Metric::ShareNegative,
                Some("volume") => Metric::Volume,
                Some(other) => {
                    return Err(match Metric::from_name(other) {
                        Some(_) => QueryError::UnsupportedAnomalyMetric {
                            value: other.to_string(),
                        },
                        None => QueryError::UnknownMetric {
                            value: other.to_string(),
                        },
                    })
                }
            };
            let view = match fields.string("view")?.as_deref() {
                None | Some("") | Some("timeseries") => AnomalyView::Timeseries,
                Some("spikes") => AnomalyView::Spikes,
                Some(other) => {
                    return Err(QueryError::UnknownView {
                        value: other.to_string(),
                        query_type: "anomalies",
                        valid: "timeseries or spikes",
                    })
                }
            };
            let baseline_buckets = fields.bounded(
                "baselineBuckets",
                14,
                3,
                180,
                "a whole number from 3 to 180",
            )?;
            let threshold = match fields.get("threshold") {
                None => 3.5,
                Some(v) => match v.as_f64() {
                    Some(t) if (0.5..=50.0).contains(&t) => t,
                    Some(_) => {
                        return Err(QueryError::OutOfRange {
                            field: "threshold",
                            value: v.to_string(),
                            range: "a number from 0.5 to 50",
                        })
                    }
                    None => return Err(wrong_type("threshold", "a number from 0.5 to 50", v)),
                },
            };
            // Daily buckets unless asked otherwise: a panel's own interval is usually far too
            // fine for a stable negative share.
            let (bucket, shown) = match fields
                .string("interval")?
                .filter(|s| !s.trim().is_empty() && s.trim() != "auto")
            {
                Some(text) => (parse_duration_ms(&text)?, text),
                None => (86_400_000, "1d".to_string()),
            };
            let buckets = (range.to_ms - range.from_ms) / bucket + 1 + baseline_buckets as i64;
            if buckets > MAX_BUCKETS {
                return Err(QueryError::TooManyBuckets {
                    interval: shown,
                    buckets,
                });
            }
            Ok(Query::Anomalies(AnomaliesQuery {
                range,
                metric,
                group_by: fields.term_group("anomalies")?,
                bucket_ms: bucket,
                baseline_buckets: baseline_buckets as u32,
                threshold,
                view,
                filters: fields.filters()?,
            }))
        }
        "insights" => Ok(Query::Insights(InsightsQuery {
            range: time_range(input.time_range)?,
            use_llm: match fields.get("llm") {
                None => true,
                Some(Value::Bool(b)) => *b,
                Some(other) => return Err(wrong_type("llm", "true or false", other)),
            },
            filters: fields.filters()?,
        })),
        _ => Err(QueryError::UnknownQueryType { value: query_type }),
    }
}

fn time_range(range: Option<(i64, i64)>) -> Result<TimeRange, QueryError> {
    let (from_ms, to_ms) = range.ok_or(QueryError::MissingTimeRange)?;
    for (field, value) in [("from", from_ms), ("to", to_ms)] {
        if !(MIN_TIME_MS..=MAX_TIME_MS).contains(&value) {
            return Err(QueryError::InvalidTime { field, value });
        }
    }
    if from_ms > to_ms {
        return Err(QueryError::ReversedTimeRange {
            from: format_ms(from_ms),
            to: format_ms(to_ms),
        });
    }
    Ok(TimeRange { from_ms, to_ms })
}

fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// The bucket width: the query's own `interval` wins over the panel's `intervalMs`.
fn bucket_ms(
    fields: &Fields<'_>,
    input: QueryInput<'_>,
    range: TimeRange,
) -> Result<i64, QueryError> {
    let explicit = fields
        .string("interval")?
        .filter(|s| !s.trim().is_empty() && s.trim() != "auto");
    let (bucket, shown) = match explicit {
        Some(text) => (parse_duration_ms(&text)?, text),
        None if input.interval_ms > 0 => (input.interval_ms, format!("{}ms", input.interval_ms)),
        None => {
            let auto = auto_bucket_ms(range, input.max_data_points);
            (auto, format!("{auto}ms"))
        }
    };
    let buckets = (range.to_ms - range.from_ms) / bucket + 1;
    if buckets > MAX_BUCKETS {
        return Err(QueryError::TooManyBuckets {
            interval: shown,
            buckets,
        });
    }
    Ok(bucket)
}

/// The smallest round width that keeps the series within the panel's data points.
fn auto_bucket_ms(range: TimeRange, max_data_points: i64) -> i64 {
    const STEPS_MS: [i64; 11] = [
        1_000,
        60_000,
        300_000,
        900_000,
        1_800_000,
        3_600_000,
        10_800_000,
        21_600_000,
        43_200_000,
        86_400_000,
        604_800_000,
    ];
    let points = if max_data_points > 0 {
        max_data_points.min(MAX_BUCKETS)
    } else {
        1_000
    };
    let span = range.to_ms - range.from_ms;
    STEPS_MS
        .into_iter()
        .find(|step| span / step < points)
        .unwrap_or(STEPS_MS[STEPS_MS.len() - 1])
}

/// Parses Grafana-style durations: `500ms`, `30s`, `5m`, `1h`, `1d`, `1w`.
pub fn parse_duration_ms(text: &str) -> Result<i64, QueryError> {
    let invalid = || QueryError::InvalidInterval {
        value: text.to_string(),
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(invalid)?;
    let (number, unit) = trimmed.split_at(split);
    let amount: i64 = number.parse().map_err(|_| invalid())?;
    let unit_ms = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => return Err(invalid()),
    };
    match amount.checked_mul(unit_ms) {
        Some(ms) if ms >= 1_000 => Ok(ms),
        _ => Err(invalid()),
    }
}

/// Typed access to the query object's fields, with errors that name the field.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    /// A field's value, treating JSON `null` as absent.
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    fn string(&self, name: &str) -> Result<Option<String>, QueryError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong_type(name, "a string", other)),
        }
    }

    /// A whole number within `min..=max`, or `default` when absent.
    fn bounded(
        &self,
        name: &'static str,
        default: u64,
        min: u64,
        max: u64,
        range: &'static str,
    ) -> Result<u64, QueryError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.as_u64() {
                Some(n) if (min..=max).contains(&n) => Ok(n),
                _ if v.is_number() => Err(QueryError::OutOfRange {
                    field: name,
                    value: v.to_string(),
                    range,
                }),
                _ => Err(wrong_type(name, range, v)),
            },
        }
    }

    fn dimension(&self, name: &str) -> Result<Option<Dimension>, QueryError> {
        match self.string(name)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => Dimension::from_name(&s)
                .map(Some)
                .ok_or(QueryError::UnknownDimension {
                    field: name.to_string(),
                    value: s,
                }),
        }
    }

    /// `groupBy` for query types that count terms, which cannot group by emotion.
    fn term_group(&self, query_type: &'static str) -> Result<Option<Dimension>, QueryError> {
        match self.dimension("groupBy")? {
            Some(d) if !d.groups_terms() => Err(QueryError::UnsupportedGroup {
                dimension: d.name(),
                query_type,
            }),
            other => Ok(other),
        }
    }

    fn filters(&self) -> Result<Filters, QueryError> {
        // Accepted beside `filters` (the documented place) and inside it, where editors and
        // hand-written alert rules also put it.
        let nested = match self.get("filters") {
            Some(Value::Object(map)) => map.get("minConfidence").filter(|v| !v.is_null()),
            _ => None,
        };
        let min_confidence = match self.get("minConfidence").or(nested) {
            None => None,
            Some(v) => match v.as_f64() {
                Some(c) if (0.0..=1.0).contains(&c) => Some(c),
                Some(_) => {
                    return Err(QueryError::OutOfRange {
                        field: "minConfidence",
                        value: v.to_string(),
                        range: "a number from 0 to 1",
                    })
                }
                None => return Err(wrong_type("minConfidence", "a number from 0 to 1", v)),
            },
        };
        let mut values = Vec::new();
        match self.get("filters") {
            None => {}
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    if key == "minConfidence" {
                        continue;
                    }
                    let field = format!("filters.{key}");
                    let dimension =
                        Dimension::from_name(key).ok_or_else(|| QueryError::UnknownDimension {
                            field: "filters key".to_string(),
                            value: key.clone(),
                        })?;
                    let list = match value {
                        Value::Null => continue,
                        Value::Array(items) => items
                            .iter()
                            .map(|item| match item {
                                Value::String(s) => Ok(s.clone()),
                                other => Err(wrong_type(&field, "a list of strings", other)),
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                        other => return Err(wrong_type(&field, "a list of strings", other)),
                    };
                    if list.len() > super::MAX_FILTER_VALUES {
                        return Err(QueryError::TooManyFilterValues {
                            dimension: dimension.name(),
                            count: list.len(),
                        });
                    }
                    if !list.is_empty() {
                        values.push((dimension, list));
                    }
                }
            }
            Some(other) => return Err(wrong_type("filters", "an object of string lists", other)),
        }
        values.sort_by_key(|(d, _)| *d);
        Ok(Filters {
            values,
            min_confidence,
        })
    }
}

fn wrong_type(field: &str, expected: &'static str, got: &Value) -> QueryError {
    QueryError::WrongType {
        field: field.to_string(),
        expected,
        got: describe(got),
    }
}

/// A short rendering of an offending value for error messages.
fn describe(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn parse(json: &str) -> Result<Query, QueryError> {
        parse_query(QueryInput {
            json: json.as_bytes(),
            query_type: "",
            interval_ms: 3_600_000,
            max_data_points: 1_000,
            time_range: Some((1_700_000_000_000, 1_700_000_000_000 + 7 * DAY)),
        })
    }

    fn error(json: &str) -> String {
        parse(json).expect_err(json).to_string()
    }

    #[test]
    fn live_is_a_boolean_on_the_three_streaming_types() {
        let live = |json: &str| live_requested(json.as_bytes(), &parse(json).unwrap());
        assert_eq!(live(r#"{"queryType":"mentions","live":true}"#), Ok(true));
        assert_eq!(live(r#"{"queryType":"timeseries","live":true}"#), Ok(true));
        assert_eq!(
            live(r#"{"queryType":"distribution","live":true}"#),
            Ok(true)
        );
        assert_eq!(live(r#"{"queryType":"mentions"}"#), Ok(false));
        assert_eq!(live(r#"{"queryType":"mentions","live":false}"#), Ok(false));
        assert_eq!(
            live(r#"{"queryType":"trending_terms","live":false}"#),
            Ok(false)
        );
        assert_eq!(
            live(r#"{"queryType":"mentions","live":"yes"}"#)
                .unwrap_err()
                .to_string(),
            "live must be true or false, got \"yes\""
        );
        let refused = live(r#"{"queryType":"trending_terms","live":true}"#).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("\"trending_terms\" cannot stream"),
            "{refused}"
        );
    }

    #[test]
    fn timeseries_defaults_and_overrides() {
        let Query::Timeseries(q) = parse(r#"{"queryType":"timeseries"}"#).unwrap() else {
            panic!("not a timeseries")
        };
        assert_eq!(q.metric, Metric::Volume);
        assert_eq!(q.bucket_ms, 3_600_000);
        assert_eq!(q.group_by, None);

        let Query::Timeseries(q) = parse(
            r#"{"queryType":"timeseries","metric":"net_sentiment","groupBy":"brand","interval":"1d",
               "filters":{"region":["Lima","Cusco"],"label":[],"brand":null},"minConfidence":0.6}"#,
        )
        .unwrap() else {
            panic!("not a timeseries")
        };
        assert_eq!(q.metric, Metric::NetSentiment);
        assert_eq!(q.bucket_ms, DAY);
        assert_eq!(q.group_by, Some(Dimension::Brand));
        assert_eq!(
            q.filters.values,
            vec![(
                Dimension::Region,
                vec!["Lima".to_string(), "Cusco".to_string()]
            )]
        );
        assert_eq!(q.filters.min_confidence, Some(0.6));

        let Query::Distribution(q) = parse(
            r#"{"queryType":"distribution","groupBy":"emotion","filters":{"emotion":["joy","none"]}}"#,
        )
        .unwrap() else {
            panic!("not a distribution")
        };
        assert_eq!(q.group_by, Some(Dimension::Emotion));
        assert_eq!(
            q.filters.values,
            vec![(
                Dimension::Emotion,
                vec!["joy".to_string(), "none".to_string()]
            )]
        );
        assert!(q.filters.needs_scores());

        let Query::Distribution(q) = parse(
            r#"{"queryType":"distribution","filters":{"minConfidence":0.8,"region":["Lima"]}}"#,
        )
        .unwrap() else {
            panic!("not a distribution")
        };
        assert_eq!(q.filters.min_confidence, Some(0.8));
        assert_eq!(q.filters.values.len(), 1);
    }

    #[test]
    fn the_aspect_distribution_takes_any_range_the_series_view_is_bounded() {
        let years = |view: &str| {
            parse_query(QueryInput {
                json: format!(r#"{{"queryType":"aspects","view":"{view}","interval":"1s"}}"#)
                    .as_bytes(),
                query_type: "",
                interval_ms: 1_000,
                max_data_points: 1_000,
                time_range: Some((0, 20 * 365 * DAY)),
            })
        };
        assert!(matches!(years("distribution"), Ok(Query::Aspects(_))));
        assert!(matches!(
            years("timeseries"),
            Err(QueryError::TooManyBuckets { .. })
        ));
    }

    #[test]
    fn huge_values_are_quoted_short_in_errors() {
        let huge = "x".repeat(1_000_000);
        for json in [
            format!(r#"{{"queryType":"{huge}"}}"#),
            format!(r#"{{"queryType":"timeseries","metric":"{huge}"}}"#),
            format!(r#"{{"queryType":"timeseries","groupBy":"{huge}"}}"#),
            format!(r#"{{"queryType":"timeseries","interval":"{huge}"}}"#),
            format!(r#"{{"queryType":"aspects","view":"{huge}"}}"#),
            format!(r#"{{"queryType":"aspects","aspects":["{huge}"]}}"#),
            format!(r#"{{"queryType":"mentions","filters":{{"{huge}":["a"]}}}}"#),
            format!(r#"{{"queryType":"mentions","filters":{{"region":"{huge}"}}}}"#),
        ] {
            let e = error(&json);
            assert!(
                e.chars().count() < 400,
                "{} characters: {}",
                e.len(),
                &e[..200]
            );
            assert!(e.contains("x…"), "{e}");
        }
        // Short values are shown whole.
        let e = error(r#"{"queryType":"timeseries","metric":"mood"}"#);
        assert!(e.contains("\"mood\"") && !e.contains('…'), "{e}");
    }

    #[test]
    fn a_filter_with_too_many_values_is_refused_naming_it() {
        let values: Vec<String> = (0..40_000).map(|i| format!("\"r{i}\"")).collect();
        let e = error(&format!(
            r#"{{"queryType":"distribution","filters":{{"region":[{}]}}}}"#,
            values.join(",")
        ));
        assert!(
            e.contains("filters.region has 40000 values, more than 1000"),
            "{e}"
        );
        let values: Vec<String> = (0..1_000).map(|i| format!("\"r{i}\"")).collect();
        parse(&format!(
            r#"{{"queryType":"distribution","filters":{{"region":[{}]}}}}"#,
            values.join(",")
        ))
        .unwrap();
    }

    #[test]
    fn errors_name_field_and_value() {
        assert!(error(r#"{"queryType":"#).starts_with("the query is not valid JSON"));
        let e = error(r#"{"queryType":"foo"}"#);
        assert!(
            e.contains("\"foo\"")
                && e.contains("timeseries, mentions, distribution, dimension_values"),
            "{e}"
        );
        let e = error(r#"{"queryType":"timeseries","groupBy":"colour"}"#);
        assert!(
            e.contains("groupBy") && e.contains("\"colour\"") && e.contains("sourceType"),
            "{e}"
        );
        let e = error(r#"{"queryType":"trending_terms","groupBy":"emotion"}"#);
        assert!(
            e.contains("groupBy \"emotion\"")
                && e.contains("\"trending_terms\"")
                && e.contains("timeseries or distribution"),
            "{e}"
        );
        let e = error(r#"{"queryType":"anomalies","groupBy":"emotion"}"#);
        assert!(e.contains("\"anomalies\""), "{e}");
        let e = error(r#"{"queryType":"timeseries","metric":"mood"}"#);
        assert!(e.contains("\"mood\"") && e.contains("net_sentiment"), "{e}");
        let e = error(r#"{"queryType":"mentions","limit":100000}"#);
        assert!(e.contains("limit 100000") && e.contains("1 to 5000"), "{e}");
        let e = error(r#"{"queryType":"mentions","limit":"ten"}"#);
        assert!(e.contains("limit") && e.contains("\"ten\""), "{e}");
        let e = error(r#"{"queryType":"distribution","filters":{"region":5}}"#);
        assert!(
            e.contains("filters.region") && e.contains("list of strings") && e.contains('5'),
            "{e}"
        );
        let e = error(r#"{"queryType":"distribution","filters":{"region":["Lima",7]}}"#);
        assert!(e.contains("filters.region") && e.contains('7'), "{e}");
        let e = error(r#"{"queryType":"distribution","filters":{"flavour":["x"]}}"#);
        assert!(e.contains("\"flavour\""), "{e}");
        let e = error(r#"{"queryType":"timeseries","interval":"soon"}"#);
        assert!(e.contains("\"soon\""), "{e}");
        let e = error(r#"{"queryType":"timeseries","interval":"1s"}"#);
        assert!(e.contains("buckets"), "{e}");
        let e = error(r#"{"queryType":"mentions","minConfidence":2}"#);
        assert!(e.contains("minConfidence 2"), "{e}");
        let e = error(r#"{"queryType":"dimension_values"}"#);
        assert!(e.contains("dimension is required"), "{e}");
        assert_eq!(error("[1,2]"), "the query must be a JSON object, got [1,2]");
        let e = error(r#"{"queryType":"trending_terms","minSupport":0}"#);
        assert!(
            e.contains("minSupport 0") && e.contains("1 to 1000000"),
            "{e}"
        );
        let e = error(r#"{"queryType":"trending_terms","minSupport":-3}"#);
        assert!(e.contains("minSupport -3"), "{e}");
        let e = error(r#"{"queryType":"trending_terms","limit":1000000}"#);
        assert!(e.contains("limit 1000000") && e.contains("1 to 500"), "{e}");
        let e = error(r#"{"queryType":"aspects","aspects":["sabor"]}"#);
        assert!(e.contains("\"sabor\"") && e.contains("taste"), "{e}");
        let e = error(r#"{"queryType":"aspects","view":"pie"}"#);
        assert!(
            e.contains("\"pie\"") && e.contains("distribution or timeseries"),
            "{e}"
        );
        let e = error(r#"{"queryType":"anomalies","metric":"net_sentiment"}"#);
        assert!(e.contains("share_negative or volume"), "{e}");
        let e = error(r#"{"queryType":"anomalies","baselineBuckets":1}"#);
        assert!(e.contains("baselineBuckets 1"), "{e}");
        let e = error(r#"{"queryType":"anomalies","threshold":0}"#);
        assert!(e.contains("threshold 0"), "{e}");
        let e = error(r#"{"queryType":"insights","llm":"yes"}"#);
        assert!(e.contains("llm") && e.contains("\"yes\""), "{e}");
    }

    #[test]
    fn reversed_and_missing_time_ranges() {
        let input = |range| QueryInput {
            json: br#"{"queryType":"distribution"}"#,
            query_type: "",
            interval_ms: 0,
            max_data_points: 0,
            time_range: range,
        };
        let e = parse_query(input(Some((2 * DAY, DAY)))).unwrap_err();
        assert!(matches!(e, QueryError::ReversedTimeRange { .. }));
        assert!(e.to_string().contains("1970-01-03T00:00:00Z"));
        assert_eq!(
            parse_query(input(None)).unwrap_err(),
            QueryError::MissingTimeRange
        );
        assert!(matches!(
            parse_query(input(Some((0, i64::MAX)))).unwrap_err(),
            QueryError::InvalidTime { field: "to", .. }
        ));
    }

    #[test]
    fn proto_query_type_wins_and_search_is_folded() {
        let q = parse_query(QueryInput {
            json: r#"{"search":"  Pollería  "}"#.as_bytes(),
            query_type: "mentions",
            interval_ms: 0,
            max_data_points: 0,
            time_range: Some((0, DAY)),
        })
        .unwrap();
        let Query::Mentions(m) = q else {
            panic!("not mentions")
        };
        assert_eq!(m.search.as_deref(), Some("polleria"));
        assert_eq!(m.limit, 100);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("30s").unwrap(), 30_000);
        assert_eq!(parse_duration_ms("5m").unwrap(), 300_000);
        assert_eq!(parse_duration_ms("2w").unwrap(), 1_209_600_000);
        assert!(parse_duration_ms("10ms").is_err());
        assert!(parse_duration_ms("h").is_err());
        assert!(parse_duration_ms("99999999999999999d").is_err());
    }

    #[test]
    fn auto_bucket_keeps_within_points() {
        let range = TimeRange {
            from_ms: 0,
            to_ms: 180 * DAY,
        };
        assert_eq!(auto_bucket_ms(range, 1_000), 21_600_000);
        assert_eq!(auto_bucket_ms(range, 0), 21_600_000);
    }
}
