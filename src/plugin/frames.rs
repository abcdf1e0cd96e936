//! Query results as Grafana frames, in the dataplane shapes panels and alerting expect.

use std::collections::BTreeMap;

use grafana_plugin_sdk::data::{Metadata, Notice, Severity, VisType};

use super::arrow::{Column, Frame};
use crate::query::{
    Dimension, DimensionValues, Distribution, Mentions, Metric, SeriesValues, Timeseries,
};

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
pub fn timeseries(result: &Timeseries, metric: Metric, group_by: Option<Dimension>) -> Frame {
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
        name: metric.name().to_string(),
        meta,
        columns,
    }
}

pub fn mentions(result: &Mentions) -> Frame {
    let rows = &result.rows;
    let strings = |pick: fn(&crate::query::MentionRow) -> &str| -> Vec<&str> {
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
            &rows.iter().map(|r| r.label.as_deref()).collect::<Vec<_>>(),
        ),
        Column::float64_opt("score", rows.iter().map(|r| r.score).collect()),
        Column::float64_opt("confidence", rows.iter().map(|r| r.confidence).collect()),
    ];
    let mut meta = metadata(&result.executed_sql, result.unscored_rows());
    meta.preferred_visualisation = Some(VisType::Table);
    Frame {
        name: "mentions".to_string(),
        meta,
        columns,
    }
}

/// A numeric table: string columns become labels, `count` is the one value, so alert rules can
/// use it as it is.
pub fn distribution(result: &Distribution, group_by: Option<Dimension>) -> Frame {
    let rows = &result.rows;
    let mut columns = vec![Column::string(
        "label",
        &rows.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(),
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
        name: "distribution".to_string(),
        meta,
        columns,
    }
}

pub fn dimension_values(result: &DimensionValues) -> Frame {
    Frame {
        name: "dimension_values".to_string(),
        meta: metadata(&result.executed_sql, 0),
        columns: vec![
            Column::string("text", &result.values),
            Column::string("value", &result.values),
        ],
    }
}
