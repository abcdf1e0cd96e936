//! Query results as Grafana frames, in the dataplane shapes panels and alerting expect.

use std::collections::BTreeMap;

use grafana_plugin_sdk::data::{Metadata, Notice, Severity, VisType};

use super::arrow::{Column, Frame, FrameKind};
use pulso_core::analysis::label::{label_or_unscored, Label};
use pulso_core::query::{
    AnomalyView, Dimension, DimensionValues, Distribution, Mentions, Metric, SeriesValues,
    Timeseries,
};
use pulso_service::results::{
    Anomalies, AspectDistribution, AspectSeries, GeneratedBy, Insights, Spike, TrendingTerms,
};
use pulso_service::Answered;

/// The frame for an answer, with the service's notices (such as "answered by the record
/// store while the analytics engine loads") added as warnings.
pub fn answer(result: &Answered, notices: &[String]) -> Frame {
    let mut frame = match result {
        Answered::Timeseries {
            result,
            metric,
            group_by,
        } => timeseries(result, *metric, *group_by),
        Answered::Mentions(result) => mentions(result),
        Answered::Distribution { result, group_by } => distribution(result, *group_by),
        Answered::DimensionValues(result) => dimension_values(result),
        Answered::TrendingTerms { result, group_by } => trending_terms(result, *group_by),
        Answered::AspectDistribution(result) => aspect_distribution(result),
        Answered::AspectTimeseries { result, metric } => aspect_timeseries(result, *metric),
        Answered::Anomalies {
            result,
            view: AnomalyView::Timeseries,
            group_by,
            ..
        } => anomalies(result, *group_by),
        Answered::Anomalies {
            result,
            view: AnomalyView::Spikes,
            group_by,
            metric,
        } => spikes(result, *group_by, *metric),
        Answered::Insights(result) => insights(result),
    };
    for notice in notices {
        add_notice(&mut frame.meta, notice.clone(), Severity::Warning);
    }
    // Dataplane's "no data" for a wide time series is a frame without fields: a time field
    // alone reads as a malformed series.
    if frame.kind == FrameKind::TimeseriesWide && frame.columns.len() == 1 {
        frame.columns.clear();
    }
    frame
}

fn metadata(executed_sql: &str, unscored_rows: u64) -> Metadata {
    let mut meta = Metadata::default();
    meta.executed_query_string = Some(executed_sql.to_string());
    if unscored_rows > 0 {
        let mut notice = Notice::new(format!(
            "{unscored_rows} feedback rows behind this result are not scored yet by the active \
             sentiment model, so sentiment figures leave them out. Scoring runs in the \
             background once a model is installed; see Pulso's README."
        ));
        notice.severity = Some(Severity::Warning);
        meta.notices = Some(vec![notice]);
    }
    meta
}

/// Wide time series: one shared time field, one value field per group, each labelled with
/// its group so that alert rules get one series per label set.
fn timeseries(result: &Timeseries, metric: Metric, group_by: Option<Dimension>) -> Frame {
    let mut columns = vec![Column::time("time", &result.bucket_starts_ms)];
    for series in &result.series {
        let column = match &series.values {
            SeriesValues::Counts(values) => Column::int64(metric.name(), values.clone()),
            SeriesValues::Ratios(values) => Column::float64_opt(metric.name(), values.clone()),
        };
        let labels = match (group_by, &series.group) {
            (Some(dimension), Some(group)) => {
                BTreeMap::from([(dimension.name().to_string(), group.clone())])
            }
            _ => BTreeMap::new(),
        };
        columns.push(column.with_labels(labels));
    }
    let mut meta = metadata(&result.executed_sql, result.unscored_rows);
    meta.preferred_visualisation = Some(VisType::Graph);
    Frame {
        kind: FrameKind::TimeseriesWide,
        name: metric.name().to_string(),
        meta,
        columns,
    }
}

fn mentions(result: &Mentions) -> Frame {
    let rows = &result.rows;
    let strings = |pick: fn(&pulso_core::query::MentionRow) -> &str| -> Vec<&str> {
        rows.iter().map(pick).collect()
    };
    let columns = vec![
        Column::time("time", &rows.iter().map(|r| r.time_ms).collect::<Vec<_>>()),
        Column::int64("id", rows.iter().map(|r| r.id).collect()),
        Column::string("text", &strings(|r| &r.text)),
        Column::string("sourceType", &strings(|r| &r.source_type)),
        Column::string("platform", &strings(|r| &r.platform)),
        Column::string("region", &strings(|r| &r.region)),
        Column::string("category", &strings(|r| &r.category)),
        Column::string("brand", &strings(|r| &r.brand)),
        Column::string_opt(
            "label",
            &rows
                .iter()
                .map(|r| r.label.map(Label::name))
                .collect::<Vec<_>>(),
        ),
        Column::float64_opt("score", rows.iter().map(|r| r.score).collect()),
        Column::float64_opt("confidence", rows.iter().map(|r| r.confidence).collect()),
    ];
    let mut meta = metadata(&result.executed_sql, result.unscored_rows());
    meta.preferred_visualisation = Some(VisType::Table);
    Frame {
        kind: FrameKind::Table,
        name: "mentions".to_string(),
        meta,
        columns,
    }
}

/// A numeric table: string columns become labels, `count` is the one value, so alert rules can
/// use it as it is.
fn distribution(result: &Distribution, group_by: Option<Dimension>) -> Frame {
    let rows = &result.rows;
    let mut columns = vec![Column::string(
        "label",
        &rows
            .iter()
            .map(|r| label_or_unscored(r.label))
            .collect::<Vec<_>>(),
    )];
    if let Some(dimension) = group_by.filter(|d| *d != Dimension::Label) {
        columns.push(Column::string(
            dimension.name(),
            &rows
                .iter()
                .map(|r| r.group.as_deref().unwrap_or_default())
                .collect::<Vec<_>>(),
        ));
    }
    columns.push(Column::int64(
        "count",
        rows.iter().map(|r| r.count).collect(),
    ));
    let mut meta = metadata(&result.executed_sql, result.unscored_rows());
    meta.preferred_visualisation = Some(VisType::Table);
    Frame {
        kind: FrameKind::NumericLong,
        name: "distribution".to_string(),
        meta,
        columns,
    }
}

fn dimension_values(result: &DimensionValues) -> Frame {
    Frame {
        kind: FrameKind::Table,
        name: "dimension_values".to_string(),
        meta: metadata(&result.executed_sql, 0),
        columns: vec![
            Column::string("text", &result.values),
            Column::string("value", &result.values),
        ],
    }
}

fn add_notice(meta: &mut Metadata, text: String, severity: Severity) {
    let mut notice = Notice::new(text);
    notice.severity = Some(severity);
    meta.notices.get_or_insert_with(Vec::new).push(notice);
}

/// An empty result says why it is empty instead of showing a bare "No data".
fn empty_notice(meta: &mut Metadata, what: &str) {
    add_notice(
        meta,
        format!(
            "No {what} in this time range with these filters: widen the time range or remove \
             filters."
        ),
        Severity::Info,
    );
}

fn trending_terms(result: &TrendingTerms, group_by: Option<Dimension>) -> Frame {
    let terms = &result.terms;
    let mut columns = Vec::new();
    if let Some(dimension) = group_by {
        columns.push(Column::string(
            dimension.name(),
            &terms
                .iter()
                .map(|t| t.group.as_deref().unwrap_or_default())
                .collect::<Vec<_>>(),
        ));
    }
    columns.extend([
        Column::string(
            "term",
            &terms.iter().map(|t| t.term.as_str()).collect::<Vec<_>>(),
        ),
        Column::int64("count", terms.iter().map(|t| t.count).collect()),
        Column::int64(
            "countBefore",
            terms.iter().map(|t| t.count_before).collect(),
        ),
        Column::float64_opt(
            "growth",
            terms.iter().map(|t| t.growth.map(round2)).collect(),
        ),
        Column::float64_opt(
            "share",
            terms.iter().map(|t| Some(round2(t.share))).collect(),
        ),
        Column::float64_opt(
            "avgScore",
            terms.iter().map(|t| t.avg_score.map(round3)).collect(),
        ),
        Column::int64("exampleId", terms.iter().map(|t| t.example_id).collect()),
    ]);
    let mut meta = metadata(&result.executed_sql, 0);
    meta.preferred_visualisation = Some(VisType::Table);
    if result.mentions == 0 {
        empty_notice(&mut meta, "mentions");
    } else if terms.is_empty() {
        add_notice(
            &mut meta,
            format!(
                "{} mentions in range, but no term reaches minSupport: lower minSupport or \
                 widen the time range.",
                result.mentions
            ),
            Severity::Info,
        );
    }
    if result.unindexed > 0 {
        add_notice(
            &mut meta,
            format!(
                "{} mentions in range are still being indexed for terms and are left out; \
                 indexing runs in the background.",
                result.unindexed
            ),
            Severity::Warning,
        );
    }
    Frame {
        kind: FrameKind::Table,
        name: "trending_terms".to_string(),
        meta,
        columns,
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn aspect_distribution(result: &AspectDistribution) -> Frame {
    let rows = &result.rows;
    let columns = vec![
        Column::string(
            "aspect",
            &rows.iter().map(|r| r.aspect.name()).collect::<Vec<_>>(),
        ),
        Column::int64("mentions", rows.iter().map(|r| r.mentions).collect()),
        Column::int64("positive", rows.iter().map(|r| r.positive).collect()),
        Column::int64("neutral", rows.iter().map(|r| r.neutral).collect()),
        Column::int64("negative", rows.iter().map(|r| r.negative).collect()),
        Column::float64_opt(
            "shareNegative",
            rows.iter()
                .map(|r| r.share_negative().map(round2))
                .collect(),
        ),
        Column::float64_opt(
            "netSentiment",
            rows.iter().map(|r| r.net_sentiment().map(round2)).collect(),
        ),
        Column::float64_opt(
            "avgScore",
            rows.iter().map(|r| r.avg_score().map(round3)).collect(),
        ),
    ];
    let mut meta = metadata(&result.executed_sql, 0);
    meta.preferred_visualisation = Some(VisType::Table);
    if rows.is_empty() {
        empty_notice(&mut meta, "scored mentions of an aspect");
    }
    Frame {
        kind: FrameKind::NumericLong,
        name: "aspects".to_string(),
        meta,
        columns,
    }
}

fn aspect_timeseries(result: &AspectSeries, metric: Metric) -> Frame {
    let mut columns = vec![Column::time("time", &result.bucket_starts_ms)];
    for (aspect, values) in &result.series {
        columns.push(
            Column::float64_opt(metric.name(), values.clone()).with_labels(BTreeMap::from([(
                "aspect".to_string(),
                aspect.name().to_string(),
            )])),
        );
    }
    let mut meta = metadata(&result.executed_sql, 0);
    meta.preferred_visualisation = Some(VisType::Graph);
    if result.series.is_empty() {
        empty_notice(&mut meta, "scored mentions of an aspect");
    }
    Frame {
        kind: FrameKind::TimeseriesWide,
        name: metric.name().to_string(),
        meta,
        columns,
    }
}

fn spike_json(spike: &Spike, group_by: Option<Dimension>) -> serde_json::Value {
    serde_json::json!({
        "group": spike.group,
        "dimension": group_by.map(Dimension::name),
        "start": spike.start_ms,
        "end": spike.end_ms,
        "value": round2(spike.value),
        "baseline": round2(spike.baseline),
        "zscore": round2(spike.zscore),
        "risingTerms": spike.rising_terms,
        "worstAspects": spike.worst_aspects,
        "mentionIds": spike.mention_ids,
    })
}

fn anomalies(result: &Anomalies, group_by: Option<Dimension>) -> Frame {
    let mut columns = vec![Column::time("time", &result.bucket_starts_ms)];
    for (group, values) in &result.series {
        let labels = match (group_by, group) {
            (Some(dimension), Some(group)) => {
                BTreeMap::from([(dimension.name().to_string(), group.clone())])
            }
            _ => BTreeMap::new(),
        };
        columns.push(Column::float64_opt("zscore", values.clone()).with_labels(labels));
    }
    let mut meta = metadata(&result.executed_sql, result.unscored_rows);
    meta.preferred_visualisation = Some(VisType::Graph);
    meta.custom = Some(serde_json::Map::from_iter([(
        "spikes".to_string(),
        serde_json::Value::Array(
            result
                .spikes
                .iter()
                .map(|s| spike_json(s, group_by))
                .collect(),
        ),
    )]));
    if result.series.is_empty() {
        empty_notice(&mut meta, "mentions");
    }
    Frame {
        kind: FrameKind::TimeseriesWide,
        name: "anomalies".to_string(),
        meta,
        columns,
    }
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row per spike, in the shape Grafana reads annotations from (time, timeEnd, title,
/// text, tags).
fn spikes(result: &Anomalies, group_by: Option<Dimension>, metric: Metric) -> Frame {
    let spikes = &result.spikes;
    let group_text = |s: &Spike| match (group_by, &s.group) {
        (Some(d), Some(g)) => format!("{}={g}", d.name()),
        _ => "all feedback".to_string(),
    };
    let what = if metric == Metric::Volume {
        "volume"
    } else {
        "negative share"
    };
    let titles: Vec<String> = spikes
        .iter()
        .map(|s| format!("Unusual {what} for {} (z = {:.1})", group_text(s), s.zscore))
        .collect();
    let texts: Vec<String> = spikes
        .iter()
        .map(|s| {
            let mut parts = vec![format!(
                "{what} {:.1} against a baseline of {:.1}",
                s.value, s.baseline
            )];
            if !s.rising_terms.is_empty() {
                parts.push(format!("rising terms: {}", s.rising_terms.join(", ")));
            }
            if !s.worst_aspects.is_empty() {
                parts.push(format!("worst aspects: {}", s.worst_aspects.join(", ")));
            }
            if !s.mention_ids.is_empty() {
                parts.push(format!("mentions: {}", join_ids(&s.mention_ids)));
            }
            parts.join("; ")
        })
        .collect();
    let columns = vec![
        Column::time(
            "time",
            &spikes.iter().map(|s| s.start_ms).collect::<Vec<_>>(),
        ),
        Column::time(
            "timeEnd",
            &spikes.iter().map(|s| s.end_ms).collect::<Vec<_>>(),
        ),
        Column::string("title", &titles),
        Column::string("text", &texts),
        Column::string(
            "tags",
            &spikes
                .iter()
                .map(|s| format!("pulso,anomaly,{}", group_text(s)))
                .collect::<Vec<_>>(),
        ),
        Column::string(
            "group",
            &spikes
                .iter()
                .map(|s| s.group.clone().unwrap_or_default())
                .collect::<Vec<_>>(),
        ),
        Column::float64_opt(
            "zscore",
            spikes.iter().map(|s| Some(round2(s.zscore))).collect(),
        ),
        Column::float64_opt(
            "value",
            spikes.iter().map(|s| Some(round2(s.value))).collect(),
        ),
        Column::float64_opt(
            "baseline",
            spikes.iter().map(|s| Some(round2(s.baseline))).collect(),
        ),
        Column::string(
            "mentionIds",
            &spikes
                .iter()
                .map(|s| join_ids(&s.mention_ids))
                .collect::<Vec<_>>(),
        ),
    ];
    let mut meta = metadata(&result.executed_sql, result.unscored_rows);
    meta.preferred_visualisation = Some(VisType::Table);
    if spikes.is_empty() {
        add_notice(
            &mut meta,
            "No unusual buckets in this time range: every bucket is within the threshold of \
             its baseline."
                .to_string(),
            Severity::Info,
        );
    }
    Frame {
        kind: FrameKind::Table,
        name: "spikes".to_string(),
        meta,
        columns,
    }
}

fn insights(result: &Insights) -> Frame {
    let rows = &result.rows;
    let columns = vec![
        Column::string(
            "kind",
            &rows.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>(),
        ),
        Column::string(
            "finding",
            &rows.iter().map(|r| r.finding.as_str()).collect::<Vec<_>>(),
        ),
        Column::string(
            "evidenceIds",
            &rows
                .iter()
                .map(|r| join_ids(&r.evidence_ids))
                .collect::<Vec<_>>(),
        ),
        Column::string(
            "suggestedAction",
            &rows.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        ),
        Column::string(
            "generatedBy",
            &rows
                .iter()
                .map(|_| result.generated_by.to_string())
                .collect::<Vec<_>>(),
        ),
    ];
    let mut meta = Metadata::default();
    meta.preferred_visualisation = Some(VisType::Table);
    if result.generated_by == GeneratedBy::Offline {
        add_notice(
            &mut meta,
            format!(
                "Generated without an LLM, from the statistics of this range; representative \
                 mentions chosen by {}. Configure an OpenAI-compatible LLM in the data source \
                 settings for written insights.",
                result.evidence_method
            ),
            Severity::Info,
        );
    }
    if let Some(error) = &result.llm_error {
        add_notice(
            &mut meta,
            format!("The LLM failed, so these findings are the offline summary: {error}"),
            Severity::Warning,
        );
    }
    if result.mentions == 0 {
        empty_notice(&mut meta, "mentions");
    }
    Frame {
        kind: FrameKind::Table,
        name: "insights".to_string(),
        meta,
        columns,
    }
}
