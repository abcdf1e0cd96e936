//! SQL text for the analytics engine. Filter values are translated to the mirror's integer
//! codes before they reach the text, so nothing a user types ever becomes SQL.

use pulso_core::analysis::emotion::{emotion_group_name, NO_EMOTION};
use pulso_core::analysis::{Aspect, Emotion, Label};
use pulso_core::query::{Dimension, Filters, TimeRange};

use super::mirror::{dimension_column, emotion_of_code, Snapshot, NO_EMOTION_CODE};

/// `time >= from AND time <= to AND <filters>`, with each filter's values as codes. A filter
/// none of whose values exist matches nothing, as it does in the record store.
pub fn predicate(snapshot: &Snapshot, range: Option<TimeRange>, filters: &Filters) -> String {
    let mut parts = Vec::new();
    if let Some(range) = range {
        parts.push(format!(
            "time >= {} AND time <= {}",
            range.from_ms, range.to_ms
        ));
    }
    for (dimension, values) in &filters.values {
        let codes: Vec<String> = match dimension {
            Dimension::Label => values
                .iter()
                .filter_map(|v| Label::from_name(v))
                .map(|l| l.index().to_string())
                .collect(),
            Dimension::Emotion => values
                .iter()
                .filter_map(|v| match v.as_str() {
                    NO_EMOTION => Some(NO_EMOTION_CODE),
                    name => Emotion::from_name(name).map(|e| e.index() as i8),
                })
                .map(|c| c.to_string())
                .collect(),
            other => {
                let dictionary = snapshot.dictionary(*other).expect("a feed dimension");
                values
                    .iter()
                    .filter_map(|v| dictionary.code(v))
                    .map(|c| c.to_string())
                    .collect()
            }
        };
        if codes.is_empty() {
            parts.push("FALSE".to_string());
        } else {
            parts.push(format!(
                "{} IN ({})",
                dimension_column(*dimension),
                codes.join(", ")
            ));
        }
    }
    if let Some(min) = filters.min_confidence {
        // `{:?}` prints the shortest text that parses back to the same f64.
        parts.push(format!("confidence >= {min:?}"));
    }
    if parts.is_empty() {
        "TRUE".to_string()
    } else {
        parts.join(" AND ")
    }
}

/// The column a query groups by; `None` without a group.
pub fn group_column(group_by: Option<Dimension>) -> Option<&'static str> {
    group_by.map(dimension_column)
}

/// `CASE WHEN <label> = <code> THEN 1 ELSE 0 END`.
pub fn is_label(column: &str, label: Label) -> String {
    format!("CASE WHEN {column} = {} THEN 1 ELSE 0 END", label.index())
}

/// `aspect IN (...)` for the aspects asked for, `TRUE` for all.
pub fn aspect_predicate(column: &str, aspects: &[Aspect]) -> String {
    if aspects.is_empty() {
        "TRUE".to_string()
    } else {
        let codes: Vec<String> = aspects.iter().map(|a| (*a as u8).to_string()).collect();
        format!("{column} IN ({})", codes.join(", "))
    }
}

/// A group code decoded: a dimension's value, a label's name (`unscored` for none), or
/// `None` when the query has no group.
pub fn decode_group(
    snapshot: &Snapshot,
    group_by: Option<Dimension>,
    code: Option<i64>,
) -> Option<String> {
    let dimension = group_by?;
    Some(match dimension {
        Dimension::Label => pulso_core::analysis::label::label_or_unscored(
            code.and_then(|c| Label::ALL.get(c as usize).copied()),
        )
        .to_string(),
        Dimension::Emotion => match code {
            None => pulso_core::analysis::label::UNSCORED.to_string(),
            Some(c) => emotion_group_name(true, emotion_of_code(c as i8)).to_string(),
        },
        other => snapshot
            .dictionary(other)
            .expect("a feed dimension")
            .value(code.unwrap_or(0) as u16)
            .to_string(),
    })
}
