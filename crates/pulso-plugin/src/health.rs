//! CheckHealth and CollectMetrics. A failed check is an ERROR status with a message that says
//! what to change; the RPC itself never fails.

use grafana_plugin_sdk::pluginv2::{
    self, check_health_response::HealthStatus, collect_metrics_response::Payload,
    diagnostics_server::Diagnostics,
};
use serde_json::json;

use super::{data_source, Pulso};
use pulso_service::results::{MirrorStatus, ScoringBacklog, StoreHealth};

fn health_response(
    status: HealthStatus,
    message: String,
    details: serde_json::Value,
) -> pluginv2::CheckHealthResponse {
    pluginv2::CheckHealthResponse {
        status: status as i32,
        message,
        json_details: serde_json::to_vec(&details).unwrap_or_default(),
    }
}

fn describe(health: &StoreHealth) -> (HealthStatus, String) {
    if health.schema_version != health.expected_schema_version {
        return (
            HealthStatus::Error,
            format!(
                "the database at {} has schema version {}, but this Pulso expects {}: point sqlitePath (or postgresUrl) at a database made by this version",
                health.location, health.schema_version, health.expected_schema_version
            ),
        );
    }
    let model = match &health.active_model {
        Some(model) => format!("sentiment model {model}"),
        None => "no sentiment model has scored it yet".to_string(),
    };
    (
        HealthStatus::Ok,
        format!(
            "{} feedback rows in {} ({} scored, {} unscored; {model}); schema version {}",
            health.total_rows,
            health.location,
            health.scored_rows,
            health.unscored_rows,
            health.schema_version
        ),
    )
}

/// Rows waiting longer than this make health say that scoring is behind.
const BEHIND_AFTER_MS: i64 = 30_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// What health adds when the model has rows waiting for longer than `BEHIND_AFTER_MS`.
fn behind(backlog: &ScoringBacklog, now_ms: i64) -> Option<String> {
    let waited_ms = now_ms - backlog.oldest_ingest_ms?;
    (backlog.rows > 0 && waited_ms >= BEHIND_AFTER_MS).then(|| {
        format!(
            ". Scoring is behind: {} rows wait, the oldest for {} s, so new mentions reach sentiment panels late (pulso_scoring_backlog_rows and pulso_scoring_oldest_unscored_seconds in the plugin's metrics follow it)",
            backlog.rows,
            waited_ms / 1000
        )
    })
}

fn mirror_details(status: &MirrorStatus) -> (String, serde_json::Value) {
    match status {
        MirrorStatus::Warming { rows_loaded } => (
            format!(". Analytics engine loading ({rows_loaded} rows so far; panels use the record store until it is ready)"),
            json!({ "state": "warming", "rowsLoaded": rows_loaded }),
        ),
        MirrorStatus::Ready {
            rows,
            revision,
            memory_bytes,
            build_seconds,
        } => (
            format!(
                ". Analytics engine ready: {rows} rows in memory ({:.0} MB)",
                *memory_bytes as f64 / 1e6
            ),
            json!({
                "state": "ready",
                "rows": rows,
                "revision": revision,
                "memoryBytes": memory_bytes,
                "buildSeconds": build_seconds,
            }),
        ),
        MirrorStatus::Unavailable { reason } => (
            format!(". Analytics engine unavailable, panels use the record store: {reason}"),
            json!({ "state": "unavailable", "reason": reason }),
        ),
    }
}

#[tonic::async_trait]
impl Diagnostics for Pulso {
    async fn check_health(
        &self,
        request: tonic::Request<pluginv2::CheckHealthRequest>,
    ) -> Result<tonic::Response<pluginv2::CheckHealthResponse>, tonic::Status> {
        let request = request.into_inner();
        let source = data_source(request.plugin_context.as_ref());
        let health = match self.service.health(source.as_ref()).await {
            Ok(health) => health,
            Err(error) => {
                return Ok(tonic::Response::new(health_response(
                    HealthStatus::Error,
                    error.to_string(),
                    json!({ "stage": "open" }),
                )))
            }
        };
        let now = now_ms();
        let model = health.model;
        let onnx_runtime = health.onnx_runtime;
        let (mirror_message, mirror) = mirror_details(&health.mirror);
        let response = match health.store {
            Ok(health) => {
                let (status, database) = describe(&health);
                // "Ready" only when nothing below turns the status into an error.
                let mut message = match status {
                    HealthStatus::Ok => format!("Pulso is ready: {database}"),
                    _ => database.clone(),
                };
                let (status, model_details) = match (&model, status) {
                    (Ok((queue, stats)), status) => {
                        let model = queue.model();
                        message.push_str(&format!(
                            ". Sentiment model {} (labels {}; ONNX Runtime {})",
                            model.model_id(),
                            model.labels().join(", "),
                            onnx_runtime.as_deref().unwrap_or("unknown"),
                        ));
                        if let Some(rate) = stats.last_batch_texts_per_second() {
                            message.push_str(&format!(", last batch {rate:.0} texts/s"));
                        }
                        if let Some(behind) = behind(&health.backlog, now) {
                            message.push_str(&behind);
                        }
                        (
                            status,
                            json!({
                                "id": model.model_id(),
                                "labels": model.labels(),
                                "onnxRuntime": onnx_runtime,
                                "rowsScoredSinceStart": stats.rows_scored(),
                                "lastBatchTextsPerSecond": stats.last_batch_texts_per_second(),
                            }),
                        )
                    }
                    (Err(reason), HealthStatus::Ok) => {
                        message = format!(
                            "The sentiment model cannot load, so sentiment stays empty (queries without it still work): {reason}. The database is fine: {database}"
                        );
                        (HealthStatus::Error, json!({ "error": reason }))
                    }
                    (Err(reason), status) => (status, json!({ "error": reason })),
                };
                message.push_str(&mirror_message);
                health_response(
                    status,
                    message,
                    json!({
                        "database": health.location,
                        "schemaVersion": health.schema_version,
                        "expectedSchemaVersion": health.expected_schema_version,
                        "feedbackRows": health.total_rows,
                        "scoredRows": health.scored_rows,
                        "unscoredRows": health.unscored_rows,
                        "scoringBacklog": {
                            "rows": health.backlog.rows,
                            "oldestUnscoredSeconds": health.backlog.oldest_ingest_ms
                                .map(|arrived| (now - arrived).max(0) / 1000),
                            "clausesPendingRows": health.backlog.clauses_pending,
                        },
                        "activeModel": health.active_model,
                        "model": model_details,
                        "analytics": mirror,
                    }),
                )
            }
            Err(error) => health_response(
                HealthStatus::Error,
                error.to_string(),
                json!({ "stage": "probe" }),
            ),
        };
        Ok(tonic::Response::new(response))
    }

    async fn collect_metrics(
        &self,
        _request: tonic::Request<pluginv2::CollectMetricsRequest>,
    ) -> Result<tonic::Response<pluginv2::CollectMetricsResponse>, tonic::Status> {
        let mut text = self.metrics.prometheus_text();
        let states = self.service.scoring_backlogs().await;
        text.push_str(&super::metrics::scoring_text(&states, now_ms()));
        let (open_streams, producers) = self.streams.counts();
        text.push_str(&super::metrics::live_text(
            open_streams,
            producers,
            tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks(),
        ));
        Ok(tonic::Response::new(pluginv2::CollectMetricsResponse {
            metrics: Some(Payload {
                prometheus: text.into_bytes(),
            }),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_says_when_scoring_is_behind() {
        let waiting = ScoringBacklog {
            rows: 10_064,
            oldest_ingest_ms: Some(1_000),
            clauses_pending: 0,
        };
        assert_eq!(behind(&waiting, 20_000), None, "19 s is not behind");
        let message = behind(&waiting, 121_000).unwrap();
        assert!(
            message.starts_with(". Scoring is behind: 10064 rows wait, the oldest for 120 s"),
            "{message}"
        );
        assert_eq!(behind(&ScoringBacklog::default(), 121_000), None);
    }
}
