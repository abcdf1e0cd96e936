//! Counters served through CollectMetrics in Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pulso_core::query::Query;
use pulso_service::ScoringState;

#[derive(Default)]
struct PerType {
    queries: AtomicU64,
    errors: AtomicU64,
    micros: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    per_type: [PerType; Query::TYPES.len() + 1],
    /// Rows pushed through POST /feedback: stored, duplicate, rejected.
    ingested: [AtomicU64; 3],
    redactions: AtomicU64,
}

/// The last index collects queries that failed before their type was known.
const UNPARSED: usize = Query::TYPES.len();

fn type_index(query_type: Option<&str>) -> usize {
    query_type
        .and_then(|t| Query::TYPES.iter().position(|known| *known == t))
        .unwrap_or(UNPARSED)
}

impl Metrics {
    pub fn record(&self, query_type: Option<&str>, elapsed: Duration, failed: bool) {
        let entry = &self.per_type[type_index(query_type)];
        entry.queries.fetch_add(1, Ordering::Relaxed);
        entry
            .micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        if failed {
            entry.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts what one POST /feedback did (nothing when it was turned away as a whole).
    pub fn record_ingest(&self, stored: u64, duplicates: u64, rejected: u64, redactions: u64) {
        for (counter, value) in self.ingested.iter().zip([stored, duplicates, rejected]) {
            counter.fetch_add(value, Ordering::Relaxed);
        }
        self.redactions.fetch_add(redactions, Ordering::Relaxed);
    }

    pub fn prometheus_text(&self) -> String {
        let names = Query::TYPES.iter().copied().chain(["invalid"]);
        let mut out = String::new();
        let sections = [
            (
                "pulso_queries_total",
                "counter",
                "Queries answered, by query type.",
            ),
            (
                "pulso_query_errors_total",
                "counter",
                "Queries that returned an error, by query type.",
            ),
            (
                "pulso_query_duration_seconds_total",
                "counter",
                "Time spent answering queries, by query type.",
            ),
        ];
        for (index, (metric, kind, help)) in sections.iter().enumerate() {
            let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} {kind}");
            for (entry, name) in self.per_type.iter().zip(names.clone()) {
                let value = match index {
                    0 => entry.queries.load(Ordering::Relaxed).to_string(),
                    1 => entry.errors.load(Ordering::Relaxed).to_string(),
                    _ => format!("{}", entry.micros.load(Ordering::Relaxed) as f64 / 1e6),
                };
                let _ = writeln!(out, "{metric}{{query_type=\"{name}\"}} {value}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP pulso_feedback_rows_total Rows pushed through POST /feedback, by outcome.\n# TYPE pulso_feedback_rows_total counter"
        );
        for (counter, outcome) in self
            .ingested
            .iter()
            .zip(["stored", "duplicate", "rejected"])
        {
            let _ = writeln!(
                out,
                "pulso_feedback_rows_total{{outcome=\"{outcome}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP pulso_feedback_redactions_total Pieces of personal data replaced in pushed feedback.\n# TYPE pulso_feedback_redactions_total counter\npulso_feedback_redactions_total {}",
            self.redactions.load(Ordering::Relaxed)
        );
        out
    }
}

/// A gauge's value for one data source at a time, or None to leave it out.
type GaugeValue = fn(&ScoringState, i64) -> Option<f64>;

/// Gauges of how far scoring is behind, by data source: rows waiting, the age of the earliest
/// of them, rows whose clauses wait, and the scorer's last rate (absent when no model runs).
pub fn scoring_text(states: &[ScoringState], now_ms: i64) -> String {
    let mut out = String::new();
    let gauges: [(&str, &str, GaugeValue); 4] = [
        (
            "pulso_scoring_backlog_rows",
            "Rows waiting for the sentiment model, by data source.",
            |state, _| state.backlog.map(|b| b.rows as f64),
        ),
        (
            "pulso_scoring_oldest_unscored_seconds",
            "Seconds since the earliest row still waiting for the sentiment model arrived (0 when none waits), by data source.",
            |state, now_ms| {
                state.backlog.map(|b| {
                    b.oldest_ingest_ms
                        .map_or(0.0, |arrived| (now_ms - arrived).max(0) as f64 / 1e3)
                })
            },
        ),
        (
            "pulso_scoring_clauses_pending_rows",
            "Scored rows whose clauses wait for the model (their aspects carry the whole mention's sentiment until then), by data source.",
            |state, _| state.backlog.map(|b| b.clauses_pending as f64),
        ),
        (
            "pulso_scoring_texts_per_second",
            "Texts per second of the scorer's last batch, by data source.",
            |state, _| state.texts_per_second,
        ),
    ];
    for (metric, help, value) in gauges {
        let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} gauge");
        for state in states {
            if let Some(value) = value(state, now_ms) {
                let uid = state.datasource_uid.replace(['\\', '"', '\n'], "_");
                let _ = writeln!(out, "{metric}{{datasource_uid=\"{uid}\"}} {value}");
            }
        }
    }
    out
}

/// Grafana Live gauges, and the runtime's live tasks (so a test or an admin can see that a
/// cancelled stream leaves nothing running).
pub fn live_text(open_streams: usize, producers: usize, alive_tasks: usize) -> String {
    let mut out = String::new();
    for (metric, help, value) in [
        (
            "pulso_live_streams",
            "Grafana Live RunStream calls open now.",
            open_streams,
        ),
        (
            "pulso_live_channels",
            "Live channels being answered now: one producer each, however many streams and viewers.",
            producers,
        ),
        (
            "pulso_runtime_alive_tasks",
            "Tasks alive in the plugin's async runtime.",
            alive_tasks,
        ),
    ] {
        let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} gauge\n{metric} {value}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulso_service::results::ScoringBacklog;

    #[test]
    fn scoring_gauges_by_data_source() {
        let states = [
            ScoringState {
                datasource_uid: "sales".into(),
                backlog: Some(ScoringBacklog {
                    rows: 120,
                    oldest_ingest_ms: Some(1_000),
                    clauses_pending: 40,
                }),
                texts_per_second: Some(350.5),
            },
            ScoringState {
                datasource_uid: "idle".into(),
                backlog: Some(ScoringBacklog::default()),
                texts_per_second: None,
            },
        ];
        let text = scoring_text(&states, 31_000);
        for line in [
            "pulso_scoring_backlog_rows{datasource_uid=\"sales\"} 120\n",
            "pulso_scoring_oldest_unscored_seconds{datasource_uid=\"sales\"} 30\n",
            "pulso_scoring_clauses_pending_rows{datasource_uid=\"sales\"} 40\n",
            "pulso_scoring_texts_per_second{datasource_uid=\"sales\"} 350.5\n",
            "pulso_scoring_backlog_rows{datasource_uid=\"idle\"} 0\n",
            "pulso_scoring_oldest_unscored_seconds{datasource_uid=\"idle\"} 0\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(
            !text.contains("texts_per_second{datasource_uid=\"idle\"}"),
            "{text}"
        );
    }

    #[test]
    fn counts_by_type() {
        let metrics = Metrics::default();
        metrics.record(Some("mentions"), Duration::from_millis(1500), false);
        metrics.record(Some("mentions"), Duration::from_millis(500), true);
        metrics.record(None, Duration::ZERO, true);
        let text = metrics.prometheus_text();
        assert!(
            text.contains("pulso_queries_total{query_type=\"mentions\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("pulso_query_errors_total{query_type=\"mentions\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("pulso_query_duration_seconds_total{query_type=\"mentions\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("pulso_query_errors_total{query_type=\"invalid\"} 1\n"),
            "{text}"
        );
    }
}
