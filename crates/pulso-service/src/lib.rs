//! The application layer between the protocol and the domain: data source instances built
//! from one settings model, and the answer to each parsed query. The protocol layer hands
//! it plain values and turns its answers into frames; this is where query types are
//! dispatched.

mod instances;
pub mod live;
mod push;
pub mod settings;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;

pub use instances::{Instance, InstanceError, ModelState};
pub use live::{LiveChannel, LiveError, LiveFeed, LiveKind};
use pulso_analytics::MirrorStatus;
use pulso_core::query::{
    live_requested, parse_query, AnomalyView, AspectView, Dimension, DimensionValues,
    DimensionValuesQuery, Distribution, Filters, Mentions, Metric, Query, QueryError, QueryInput,
    Timeseries,
};
use pulso_ingest::{ingest, IngestReport};
use pulso_insights::llm::{InsightCache, LlmError};
use pulso_insights::{self as insights, Insights, InsightsError, LlmSetup};
use pulso_nlp::queue::ScoringQueue;
use pulso_store::{FeedbackReader, ScoringBacklog, StoreError, StoreHealth};
use pulso_trends::anomalies::{anomalies, Anomalies};
use pulso_trends::aspect_stats::{self, AspectDistribution, AspectSeries};
use pulso_trends::trending::{trending_terms, TrendRequest, TrendingTerms};
pub use push::PushError;
pub use settings::{Settings, SettingsError};

/// The result types the protocol layer turns into frames, so that it depends on this crate
/// and the vocabulary only.
pub mod results {
    pub use pulso_analytics::MirrorStatus;
    pub use pulso_ingest::IngestReport;
    pub use pulso_insights::{GeneratedBy, Insights};
    pub use pulso_store::{ScoringBacklog, StoreHealth};
    pub use pulso_trends::anomalies::{Anomalies, Spike};
    pub use pulso_trends::aspect_stats::{AspectDistribution, AspectSeries};
    pub use pulso_trends::trending::TrendingTerms;
}

/// How long a query waits for a new instance's mirror before the record store answers it:
/// long enough that a small database never takes the slow path.
const WARM_UP_WAIT: Duration = Duration::from_secs(1);
/// How long a mentions query waits for the analytics mirror to hold every committed write
/// (this process's wake it at once; other processes' are polled every 200 ms) before it asks
/// the record store alone.
const MENTIONS_CATCH_UP: Duration = Duration::from_millis(500);
/// How long a push waits for the mirror to hold its rows, so the pusher reads its own writes.
const PUSH_CATCH_UP: Duration = Duration::from_secs(2);

/// A configured data source, as the protocol layer received it.
pub struct DataSource<'a> {
    /// The Grafana organisation the data source belongs to.
    pub org_id: i64,
    pub id: i64,
    pub uid: &'a str,
    pub updated_ms: i64,
    pub json_data: &'a [u8],
    /// Decrypted `secureJsonData`.
    pub secure: &'a HashMap<String, String>,
}

/// A query's result, in domain terms, with what the protocol layer needs to shape it.
#[derive(Debug)]
pub enum Answered {
    Timeseries {
        result: Timeseries,
        metric: Metric,
        group_by: Option<Dimension>,
    },
    Mentions(Mentions),
    Distribution {
        result: Distribution,
        group_by: Option<Dimension>,
    },
    DimensionValues(DimensionValues),
    TrendingTerms {
        result: TrendingTerms,
        group_by: Option<Dimension>,
    },
    AspectDistribution(AspectDistribution),
    AspectTimeseries {
        result: AspectSeries,
        metric: Metric,
    },
    Anomalies {
        result: Anomalies,
        view: AnomalyView,
        metric: Metric,
        group_by: Option<Dimension>,
    },
    Insights(Insights),
}

/// An answer, notices for the panel, and an error to show beside it when part of it failed
/// (the LLM, with the offline summary shown instead).
#[derive(Debug)]
pub struct Answer {
    pub result: Answered,
    pub notices: Vec<String>,
    pub warning: Option<ServiceError>,
    /// For a live query, the path of its channel (`ds/<uid>/<path>` in Grafana Live).
    pub live_path: Option<String>,
}

#[derive(Debug, Error)]
pub enum ServiceError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Instance(#[from] InstanceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Insights(#[from] InsightsError),
    #[error("{0} (the offline summary is shown instead)")]
    Llm(LlmError),
    #[error("{0} (the offline summary is shown instead)")]
    LlmSettings(SettingsError),
    #[error(transparent)]
    Live(#[from] LiveError),
}

impl ServiceError {
    /// The HTTP-like status Grafana shows with the error.
    pub fn status(&self) -> u16 {
        match self {
            Self::Query(e) => e.http_status(),
            Self::Instance(e) | Self::Live(LiveError::Instance(e)) => instance_status(e),
            Self::Store(_) => 500,
            Self::Insights(_) => 500,
            Self::Llm(LlmError::Timeout { .. }) => 504,
            // The settings are wrong, not the LLM: the admin's to fix, like an empty llmModel.
            Self::Llm(LlmError::InvalidUrl { .. } | LlmError::InvalidApiKey) => 400,
            Self::Llm(_) => 502,
            Self::LlmSettings(_) => 400,
            Self::Live(_) => 400,
        }
    }
}

fn instance_status(error: &InstanceError) -> u16 {
    match error {
        InstanceError::Store(StoreError::Query(_)) => 500,
        _ => 400,
    }
}

/// What a query is answered with.
pub struct QueryContext<'a> {
    /// Aggregates: the analytics engine, or the record store while it warms.
    pub reader: &'a dyn FeedbackReader,
    /// Mention rows: the record store, or the engine picking rows that the record store then
    /// reads when the mirror holds every committed write (see [`MENTIONS_CATCH_UP`]).
    pub records: &'a dyn FeedbackReader,
    /// The sentiment model, for choosing insights' evidence by embedding.
    pub queue: Option<&'a ScoringQueue>,
    pub llm: Option<LlmSetup<'a>>,
}

/// Answers one parsed query: the dispatch on query type. Returns the LLM's error beside the
/// offline insights when the LLM failed.
pub async fn answer_query(
    context: &QueryContext<'_>,
    query: &Query,
    json: &[u8],
) -> Result<(Answered, Option<LlmError>), ServiceError> {
    let reader = context.reader;
    let result = match query {
        Query::Timeseries(q) => Answered::Timeseries {
            result: reader.timeseries(q).await?,
            metric: q.metric,
            group_by: q.group_by,
        },
        Query::Mentions(q) => Answered::Mentions(context.records.mentions(q).await?),
        Query::Distribution(q) => Answered::Distribution {
            result: reader.distribution(q).await?,
            group_by: q.group_by,
        },
        Query::DimensionValues(q) => Answered::DimensionValues(reader.dimension_values(q).await?),
        Query::TrendingTerms(q) => Answered::TrendingTerms {
            result: trending_terms(
                reader,
                &TrendRequest {
                    range: q.range,
                    before: q.previous_range(),
                    filters: q.filters.clone(),
                    group_by: q.group_by,
                    min_support: q.min_support,
                    limit: q.limit,
                },
            )
            .await?,
            group_by: q.group_by,
        },
        Query::Aspects(q) => match q.view {
            AspectView::Distribution => Answered::AspectDistribution(
                aspect_stats::distribution(reader, q.range, &q.filters, &q.aspects).await?,
            ),
            AspectView::Timeseries => Answered::AspectTimeseries {
                result: aspect_stats::timeseries(reader, q).await?,
                metric: q.metric,
            },
        },
        Query::Anomalies(q) => Answered::Anomalies {
            result: anomalies(reader, q).await?,
            view: q.view,
            metric: q.metric,
            group_by: q.group_by,
        },
        Query::Insights(q) => {
            let llm = context.llm.as_ref().map(|setup| LlmSetup {
                client: setup.client,
                config: setup.config,
                cache: setup.cache,
            });
            let result = insights::insights(reader, context.queue, q, json, llm).await?;
            let error = result.llm_error.clone();
            return Ok((Answered::Insights(result), error));
        }
    };
    Ok((result, None))
}

/// What a health check reports.
pub struct Health {
    pub store: Result<StoreHealth, StoreError>,
    pub model: ModelState,
    pub mirror: MirrorStatus,
    /// The ONNX Runtime version once a model has loaded it.
    pub onnx_runtime: Option<String>,
}

/// One data source's scoring, as metrics show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringState {
    pub datasource_uid: String,
    pub backlog: Option<ScoringBacklog>,
    pub texts_per_second: Option<f64>,
}

/// Everything the plugin serves, shared by all data sources.
#[derive(Default)]
pub struct Service {
    instances: instances::Instances,
    /// Shared by every data source's LLM calls, so connections are reused.
    llm_client: reqwest::Client,
    insight_cache: InsightCache,
    channels: live::Channels,
}

impl Service {
    pub async fn instance(
        &self,
        source: Option<&DataSource<'_>>,
    ) -> Result<Arc<Instance>, InstanceError> {
        self.instances
            .get(source.ok_or(InstanceError::MissingSettings)?)
            .await
    }

    /// Parses and answers one query. The query type is returned whenever the query parsed,
    /// for metrics.
    pub async fn answer(
        &self,
        source: Option<&DataSource<'_>>,
        input: QueryInput<'_>,
    ) -> (Option<&'static str>, Result<Answer, ServiceError>) {
        let query = match parse_query(input) {
            Ok(query) => query,
            Err(error) => return (None, Err(error.into())),
        };
        let query_type = query.type_name();
        let live = match live_requested(input.json, &query) {
            Ok(live) => live,
            Err(error) => return (Some(query_type), Err(error.into())),
        };
        let mut answer = self.run(source, &query, input.json).await;
        if let (true, Ok(answer), Some(source)) = (live, answer.as_mut(), source) {
            match self
                .channels
                .path(source.org_id, source.uid, &query, &input)
            {
                Ok(path) => answer.live_path = Some(path),
                Err(error) => return (Some(query_type), Err(error.into())),
            }
            // A live feed appends newer rows below, so the first answer reads oldest first.
            if let Answered::Mentions(mentions) = &mut answer.result {
                mentions.rows.reverse();
            }
        }
        (Some(query_type), answer)
    }

    /// Resolves a live channel's path for a subscriber of the data source's organisation.
    pub fn live_channel(
        &self,
        source: Option<&DataSource<'_>>,
        path: &str,
    ) -> Result<LiveChannel, LiveError> {
        let source = source.ok_or(InstanceError::MissingSettings)?;
        self.channels.resolve(source.org_id, path)
    }

    /// Starts following a live channel: its feed answers again as rows are scored.
    pub async fn open_live(
        &self,
        source: Option<&DataSource<'_>>,
        channel: LiveChannel,
    ) -> Result<LiveFeed, LiveError> {
        let instance = self.instance(source).await?;
        LiveFeed::open(channel, instance)
    }

    async fn run(
        &self,
        source: Option<&DataSource<'_>>,
        query: &Query,
        json: &[u8],
    ) -> Result<Answer, ServiceError> {
        let instance = self.instance(source).await?;
        let source = instance.analytics.source(WARM_UP_WAIT).await;
        let (config, settings_error) = match &instance.settings.llm {
            Ok(config) => (config.as_ref(), None),
            Err(error) => (None, Some(ServiceError::LlmSettings(error.clone()))),
        };
        let llm = config.map(|config| LlmSetup {
            client: &self.llm_client,
            config,
            cache: &self.insight_cache,
        });
        // Mentions show what was just pushed, so the engine picks them only from a mirror that
        // has caught up with the store; the record store alone answers otherwise.
        let mentions_on_engine = matches!(query, Query::Mentions(_))
            && instance.analytics.snapshot().is_some()
            && instance.analytics.catch_up(MENTIONS_CATCH_UP).await;
        let fresh;
        let records: &dyn FeedbackReader = if mentions_on_engine {
            fresh = instance.analytics.source(Duration::ZERO).await;
            fresh.reader.as_ref()
        } else {
            instance.store.as_ref()
        };
        let context = QueryContext {
            reader: source.reader.as_ref(),
            records,
            queue: instance.model.as_ref().ok().map(|(queue, _)| queue),
            llm,
        };
        let (result, llm_error) = answer_query(&context, query, json).await?;
        let warning = match (&result, settings_error) {
            (Answered::Insights(_), Some(error)) => Some(error),
            _ => llm_error.map(ServiceError::Llm),
        };
        Ok(Answer {
            result,
            notices: source.notice.into_iter().collect(),
            warning,
            live_path: None,
        })
    }

    /// The values of a dimension, for template variables.
    pub async fn dimension_values(
        &self,
        source: Option<&DataSource<'_>>,
        dimension: Dimension,
    ) -> Result<DimensionValues, ServiceError> {
        let instance = self.instance(source).await?;
        let source = instance.analytics.source(WARM_UP_WAIT).await;
        Ok(source
            .reader
            .dimension_values(&DimensionValuesQuery {
                dimension,
                filters: Filters::default(),
            })
            .await?)
    }

    /// Stores pushed feedback as one batch, then wakes the scorer and waits for the mirror
    /// to hold the new rows. `url` is the request's path and query string, whose parameters
    /// say how to read the body (see [`push::push_options`]).
    pub async fn push_feedback(
        &self,
        source: Option<&DataSource<'_>>,
        body: Vec<u8>,
        url: &str,
    ) -> Result<IngestReport, PushError> {
        let options = push::push_options(url).map_err(PushError::Options)?;
        let instance = self.instance(source).await.map_err(PushError::Instance)?;
        let body = Box::new(std::io::Cursor::new(body));
        let report = ingest(instance.store.as_ref(), body, options, Arc::default())
            .await
            .map_err(PushError::Ingest)?;
        if report.stored > 0 {
            instance.rows_written();
            if !instance.analytics.catch_up(PUSH_CATCH_UP).await {
                tracing::debug!("the mirror did not catch up with a push in time");
            }
        }
        Ok(report)
    }

    /// How far scoring is behind in every open data source, for CollectMetrics: its uid, its
    /// backlog (None when the store cannot say), and the scorer's last rate when a model runs.
    pub async fn scoring_backlogs(&self) -> Vec<ScoringState> {
        let mut states = Vec::new();
        for (uid, instance) in self.instances.all().await {
            let texts_per_second = match &instance.model {
                Ok((_, stats)) => stats.last_batch_texts_per_second(),
                Err(_) => None,
            };
            states.push(ScoringState {
                datasource_uid: uid,
                backlog: instance.store.scoring_backlog().await.ok(),
                texts_per_second,
            });
        }
        states
    }

    pub async fn health(&self, source: Option<&DataSource<'_>>) -> Result<Health, InstanceError> {
        let instance = self.instance(source).await?;
        Ok(Health {
            store: instance.store.health().await,
            model: instance.model.clone(),
            mirror: instance.analytics.status(),
            onnx_runtime: pulso_nlp::onnx::runtime_version(),
        })
    }
}
