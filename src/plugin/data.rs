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
use crate::insights::llm::{LlmConfig, LlmError};
use crate::insights::{self, InsightsError, LlmSetup};
use crate::query::{
    parse_query, AnomalyView, AspectView, InsightsQuery, Query, QueryError, QueryInput,
};
use crate::store::{FeedbackStore, StoreError};
use crate::trends::anomalies::anomalies;
use crate::trends::aspect_stats;
use crate::trends::trending::{trending_terms, TrendRequest};

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
    #[error(transparent)]
    Insights(#[from] InsightsError),
    #[error("{0} (the offline summary is shown instead)")]
    Llm(LlmError),
    #[error("{0}: update the language model section of the data source config (the offline summary is shown instead)")]
    LlmSettings(&'static str),
}

impl DataError {
    fn status(&self) -> i32 {
        match self {
            Self::Query(e) => i32::from(e.http_status()),
            Self::Instance(InstanceError::Store(StoreError::Query(_))) | Self::Store(_) => 500,
            Self::Instance(_) => 400,
            Self::Encode(_) | Self::Panicked | Self::Insights(_) => 500,
            Self::Llm(LlmError::Timeout { .. }) => 504,
            // The settings are wrong, not the LLM: the admin's to fix, like an empty llmModel.
            Self::Llm(LlmError::InvalidUrl { .. } | LlmError::InvalidApiKey) => 400,
            Self::Llm(_) => 502,
            Self::LlmSettings(_) => 400,
        }
    }
}

/// A query's frames, and an error to show beside them when something failed part-way.
struct Answer {
    frames: Vec<Vec<u8>>,
    error: Option<DataError>,
}

/// The LLM settings from `jsonData.llmUrl`, `jsonData.llmModel` and the decrypted
/// `llmApiKey`; `None` when no URL is set.
fn llm_config(
    settings: &pluginv2::DataSourceInstanceSettings,
) -> Result<Option<LlmConfig>, &'static str> {
    let json: serde_json::Value =
        serde_json::from_slice(&settings.json_data).unwrap_or(serde_json::Value::Null);
    let text = |field: &str| {
        json.get(field)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let Some(url) = text("llmUrl") else {
        return Ok(None);
    };
    let model = text("llmModel").ok_or("llmUrl is set but llmModel is empty")?;
    let key = settings
        .decrypted_secure_json_data
        .get("llmApiKey")
        .filter(|k| !k.trim().is_empty())
        .cloned();
    let mut config = LlmConfig::new(url, model, key);
    // Grafana gives up on a query after about 30 s, so two 10 s attempts leave room for the
    // offline fallback; slow local models can raise it with jsonData.llmTimeoutSeconds.
    config.timeout = std::time::Duration::from_secs(
        json.get("llmTimeoutSeconds")
            .and_then(serde_json::Value::as_u64)
            .filter(|s| (1..=300).contains(s))
            .unwrap_or(10),
    );
    config.max_attempts = 2;
    Ok(Some(config))
}

async fn run(store: &dyn FeedbackStore, query: &Query, ref_id: &str) -> Result<Answer, DataError> {
    let frame = match query {
        Query::Timeseries(q) => {
            frames::timeseries(&store.timeseries(q).await?, q.metric, q.group_by)
        }
        Query::Mentions(q) => frames::mentions(&store.mentions(q).await?),
        Query::Distribution(q) => frames::distribution(&store.distribution(q).await?, q.group_by),
        Query::DimensionValues(q) => frames::dimension_values(&store.dimension_values(q).await?),
        Query::TrendingTerms(q) => {
            let request = TrendRequest {
                range: q.range,
                before: q.previous_range(),
                filters: q.filters.clone(),
                group_by: q.group_by,
                min_support: q.min_support,
                limit: q.limit,
            };
            frames::trending_terms(&trending_terms(store, &request).await?, q.group_by)
        }
        Query::Aspects(q) => match q.view {
            AspectView::Distribution => frames::aspect_distribution(
                &aspect_stats::distribution(store, q.range, &q.filters, &q.aspects).await?,
            ),
            AspectView::Timeseries => {
                frames::aspect_timeseries(&aspect_stats::timeseries(store, q).await?, q.metric)
            }
        },
        Query::Anomalies(q) => {
            let result = anomalies(store, q).await?;
            match q.view {
                AnomalyView::Timeseries => frames::anomalies(&result, q.group_by),
                AnomalyView::Spikes => frames::spikes(&result, q.group_by, q.metric),
            }
        }
        Query::Insights(_) => {
            return Err(DataError::Panicked);
        }
    };
    Ok(Answer {
        frames: vec![frame.encode(ref_id)?],
        error: None,
    })
}

impl Pulso {
    async fn answer(
        &self,
        context: Option<&pluginv2::PluginContext>,
        query: &pluginv2::DataQuery,
    ) -> (Option<&'static str>, Result<Answer, DataError>) {
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
        if let Query::Insights(q) = &parsed {
            return (
                Some(query_type),
                self.insights(context, q, &query.json, &query.ref_id).await,
            );
        }
        let store: Arc<dyn FeedbackStore> = match self.instances.store(context).await {
            Ok(store) => store,
            Err(e) => return (Some(query_type), Err(e.into())),
        };
        (
            Some(query_type),
            run(store.as_ref(), &parsed, &query.ref_id).await,
        )
    }

    /// Written insights: the offline summary always, the LLM's when configured. An LLM
    /// failure is the query's error and its frames are the offline summary.
    async fn insights(
        &self,
        context: Option<&pluginv2::PluginContext>,
        query: &InsightsQuery,
        json: &[u8],
        ref_id: &str,
    ) -> Result<Answer, DataError> {
        let (store, model) = self.instances.instance(context).await?;
        let settings = context.and_then(|c| c.data_source_instance_settings.as_ref());
        let (config, settings_error) = match settings.map(llm_config) {
            Some(Ok(config)) => (config, None),
            Some(Err(reason)) => (None, Some(DataError::LlmSettings(reason))),
            None => (None, None),
        };
        let setup = config.as_ref().map(|config| LlmSetup {
            client: &self.llm_client,
            config,
            cache: &self.insight_cache,
        });
        let queue = model.as_ref().ok().map(|(queue, _)| queue);
        let result = insights::insights(store.as_ref(), queue, query, json, setup).await?;
        let frames = vec![frames::insights(&result).encode(ref_id)?];
        let error = settings_error.or(result.llm_error.map(DataError::Llm));
        Ok(Answer { frames, error })
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
            let failed = result.as_ref().map_or(true, |a| a.error.is_some());
            self.metrics.record(query_type, started.elapsed(), failed);
            let response = match result {
                Ok(Answer { frames, error: None }) => pluginv2::DataResponse {
                    frames,
                    status: 200,
                    ..Default::default()
                },
                Ok(Answer { frames, error: Some(error) }) => {
                    tracing::warn!(ref_id = %query.ref_id, status = error.status(), %error, "query answered with a fallback");
                    pluginv2::DataResponse {
                        frames,
                        status: error.status(),
                        error: error.to_string(),
                        ..Default::default()
                    }
                }
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
