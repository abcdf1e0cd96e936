//! QueryData: each query is handed to the service on its own, so one bad query never fails
//! the others, and a panic becomes that query's error instead of a dead plugin.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::future::join_all;
use futures_util::FutureExt;
use grafana_plugin_sdk::pluginv2::{self, data_server::Data};

use super::viewer::without_server_paths;
use super::{data_source, frames, Pulso};
use pulso_core::query::QueryInput;
use pulso_service::{Answer, ServiceError};

/// What went wrong answering one query, as the panel sees it.
enum Failure {
    Service(ServiceError),
    Encode(super::arrow::EncodeError),
    Panicked,
}

impl Failure {
    fn status(&self) -> i32 {
        match self {
            Self::Service(e) => i32::from(e.status()),
            Self::Encode(_) | Self::Panicked => 500,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Service(e) => e.to_string(),
            Self::Encode(e) => e.to_string(),
            Self::Panicked => {
                "internal error while answering this query; the plugin logs have details"
                    .to_string()
            }
        }
    }
}

fn response(
    query: &pluginv2::DataQuery,
    datasource_uid: Option<&str>,
    outcome: Result<Answer, Failure>,
) -> pluginv2::DataResponse {
    let encoded = outcome.and_then(|answer| {
        let mut frame = frames::answer(&answer.result, &answer.notices);
        if let (Some(path), Some(uid)) = (&answer.live_path, datasource_uid) {
            // Grafana subscribes the panel to this channel, and RunStream feeds it.
            match format!("ds/{uid}/{path}").parse() {
                Ok(channel) => frame.meta.channel = Some(channel),
                Err(error) => {
                    tracing::warn!(%error, uid, "no live channel for this data source uid")
                }
            }
        }
        let frame = frame.encode(&query.ref_id).map_err(Failure::Encode)?;
        Ok((frame, answer.warning.map(Failure::Service)))
    });
    match encoded {
        Ok((frame, None)) => pluginv2::DataResponse {
            frames: vec![frame],
            status: 200,
            ..Default::default()
        },
        Ok((frame, Some(warning))) => {
            tracing::warn!(ref_id = %query.ref_id, status = warning.status(), error = %warning.message(), "query answered with a fallback");
            pluginv2::DataResponse {
                frames: vec![frame],
                status: warning.status(),
                error: without_server_paths(&warning.message()),
                ..Default::default()
            }
        }
        Err(failure) => {
            tracing::warn!(ref_id = %query.ref_id, status = failure.status(), error = %failure.message(), "query failed");
            pluginv2::DataResponse {
                status: failure.status(),
                error: without_server_paths(&failure.message()),
                ..Default::default()
            }
        }
    }
}

#[tonic::async_trait]
impl Data for Pulso {
    async fn query_data(
        &self,
        request: tonic::Request<pluginv2::QueryDataRequest>,
    ) -> Result<tonic::Response<pluginv2::QueryDataResponse>, tonic::Status> {
        let request = request.into_inner();
        let source = data_source(request.plugin_context.as_ref());
        let source = source.as_ref();
        let answers = join_all(request.queries.iter().map(|query| async move {
            let started = Instant::now();
            let input = QueryInput {
                json: &query.json,
                query_type: &query.query_type,
                interval_ms: query.interval_ms,
                max_data_points: query.max_data_points,
                time_range: query
                    .time_range
                    .as_ref()
                    .map(|r| (r.from_epoch_ms, r.to_epoch_ms)),
            };
            let (query_type, outcome) = AssertUnwindSafe(self.service.answer(source, input))
                .catch_unwind()
                .await
                .map(|(t, r)| (t, r.map_err(Failure::Service)))
                .unwrap_or((None, Err(Failure::Panicked)));
            let response = response(query, source.map(|s| s.uid), outcome);
            self.metrics
                .record(query_type, started.elapsed(), !response.error.is_empty());
            (query.ref_id.clone(), response)
        }))
        .await;
        Ok(tonic::Response::new(pluginv2::QueryDataResponse {
            responses: answers.into_iter().collect::<HashMap<_, _>>(),
        }))
    }
}
