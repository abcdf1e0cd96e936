//! QueryData: every query is parsed, run and answered on its own, so one bad query never
//! fails the others, and a panic becomes that query's error instead of a dead plugin.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures_util::future::join_all;
use futures_util::FutureExt;
use grafana_plugin_sdk::pluginv2::{self, data_server::Data};
use thiserror::Error;

use super::arrow::EncodeError;
use super::instances::InstanceError;
use super::{frames, Pulso};
use crate::query::{parse_query, Query, QueryError, QueryInput};
use crate::store::{FeedbackStore, StoreError};

#[derive(Debug, Error)]
enum DataError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Instance(#[from] InstanceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("internal error while answering this query; the plugin logs have details")]
    Panicked,
}

impl DataError {
    fn status(&self) -> i32 {
        match self {
            Self::Query(e) => i32::from(e.http_status()),
            Self::Instance(InstanceError::Store(StoreError::Query(_))) | Self::Store(_) => 500,
            Self::Instance(_) => 400,
            Self::Encode(_) | Self::Panicked => 500,
        }
    }
}

async fn run(
    store: &dyn FeedbackStore,
    query: &Query,
    ref_id: &str,
) -> Result<Vec<Vec<u8>>, DataError> {
    let frame = match query {
        Query::Timeseries(q) => {
            frames::timeseries(&store.timeseries(q).await?, q.metric, q.group_by)
        }
        Query::Mentions(q) => frames::mentions(&store.mentions(q).await?),
        Query::Distribution(q) => frames::distribution(&store.distribution(q).await?, q.group_by),
        Query::DimensionValues(q) => frames::dimension_values(&store.dimension_values(q).await?),
    };
    Ok(vec![frame.encode(ref_id)?])
}

impl Pulso {
    async fn answer(
        &self,
        context: Option<&pluginv2::PluginContext>,
        query: &pluginv2::DataQuery,
    ) -> (Option<&'static str>, Result<Vec<Vec<u8>>, DataError>) {
        let parsed = parse_query(QueryInput {
            json: &query.json,
            query_type: &query.query_type,
            interval_ms: query.interval_ms,
            max_data_points: query.max_data_points,
            time_range: query
                .time_range
                .as_ref()
                .map(|r| (r.from_epoch_ms, r.to_epoch_ms)),
        });
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(e) => return (None, Err(e.into())),
        };
        let query_type = parsed.type_name();
        let store: Arc<dyn FeedbackStore> = match self.instances.store(context).await {
            Ok(store) => store,
            Err(e) => return (Some(query_type), Err(e.into())),
        };
        (
            Some(query_type),
            run(store.as_ref(), &parsed, &query.ref_id).await,
        )
    }
}

#[tonic::async_trait]
impl Data for Pulso {
    async fn query_data(
        &self,
        request: tonic::Request<pluginv2::QueryDataRequest>,
    ) -> Result<tonic::Response<pluginv2::QueryDataResponse>, tonic::Status> {
        let request = request.into_inner();
        let context = request.plugin_context.as_ref();
        let answers = join_all(request.queries.iter().map(|query| async move {
            let started = Instant::now();
            let (query_type, result) = AssertUnwindSafe(self.answer(context, query))
                .catch_unwind()
                .await
                .unwrap_or((None, Err(DataError::Panicked)));
            self.metrics.record(query_type, started.elapsed(), result.is_err());
            let response = match result {
                Ok(frames) => pluginv2::DataResponse {
                    frames,
                    status: 200,
                    ..Default::default()
                },
                Err(error) => {
                    tracing::warn!(ref_id = %query.ref_id, status = error.status(), %error, "query failed");
                    pluginv2::DataResponse {
                        status: error.status(),
                        error: error.to_string(),
                        ..Default::default()
                    }
                }
            };
            (query.ref_id.clone(), response)
        }))
        .await;
        Ok(tonic::Response::new(pluginv2::QueryDataResponse {
            responses: answers.into_iter().collect::<HashMap<_, _>>(),
        }))
    }
}
