//! Live queries. A query with `"live": true` is answered as usual and also names a channel,
//! whose path says which query to answer again. A channel's feed waits on the scorer's change
//! feed and answers again as rows are scored: the newly scored mentions that match, or the
//! whole aggregate over a window that ends now. Bursts are coalesced.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use thiserror::Error;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use super::{answer_query, Instance, InstanceError, QueryContext, ServiceError, WARM_UP_WAIT};
use crate::Answered;
use pulso_core::query::{parse_query, Query, QueryError, QueryInput};

/// At most about four packets a second per channel: what a panel can show, and what keeps a
/// burst of scoring from turning into a burst of queries.
pub const MIN_PACKET_INTERVAL: Duration = Duration::from_millis(250);
/// Aggregates are answered again this often even when nothing was scored, so the window
/// slides with the clock.
const REFRESH_INTERVAL: Duration = Duration::from_secs(15);
/// How long an aggregate waits for the analytics mirror to hold the rows just scored.
const MIRROR_CATCH_UP: Duration = Duration::from_secs(1);
/// Newly scored ids a mentions feed keeps between packets; the newest win.
const MAX_PENDING_IDS: usize = 10_000;
/// Grafana Live refuses channels (`ds/<uid>/<path>`) longer than this; a query that does not
/// fit is kept in this process under a short id instead.
const MAX_CHANNEL_CHARS: usize = 160;
/// Queries kept under short ids; the oldest is forgotten first.
const MAX_REMEMBERED: usize = 10_000;
const PATH_VERSION: &str = "v1";

/// Keys of a query model that change with every request or say nothing about its result.
const PER_REQUEST_KEYS: [&str; 9] = [
    "refId",
    "datasource",
    "datasourceId",
    "key",
    "hide",
    "live",
    "intervalMs",
    "maxDataPoints",
    "queryType",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveKind {
    /// Appends newly scored rows.
    Mentions,
    /// Replaces the whole series (or table) with one over the window ending now.
    Timeseries,
    Distribution,
}

impl LiveKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Mentions => "mentions",
            Self::Timeseries => "timeseries",
            Self::Distribution => "distribution",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Mentions, Self::Timeseries, Self::Distribution]
            .into_iter()
            .find(|k| k.name() == name)
    }

    /// Whether packets add rows to what the panel shows (or replace it).
    pub fn appends(self) -> bool {
        self == Self::Mentions
    }
}

/// What a channel answers: the query model, and its time range as a window ending now.
#[derive(Debug, Clone, PartialEq)]
struct LiveSpec {
    kind: LiveKind,
    model: Value,
    window_ms: i64,
    interval_ms: i64,
    max_data_points: i64,
}

impl LiveSpec {
    fn to_json(&self) -> Value {
        // serde_json's map keeps keys sorted, so equal queries give equal paths.
        json!({
            "m": self.max_data_points,
            "i": self.interval_ms,
            "q": self.model,
            "w": self.window_ms,
        })
    }

    fn from_json(kind: LiveKind, value: &Value) -> Option<Self> {
        Some(Self {
            kind,
            model: value.get("q").filter(|q| q.is_object())?.clone(),
            window_ms: value.get("w")?.as_i64().filter(|w| *w >= 0)?,
            interval_ms: value.get("i")?.as_i64()?,
            max_data_points: value.get("m")?.as_i64()?,
        })
    }

    /// The query over the window that ends at `now_ms`.
    fn query(&self, now_ms: i64) -> Result<Query, QueryError> {
        let json = serde_json::to_vec(&self.model).unwrap_or_default();
        parse_query(QueryInput {
            json: &json,
            query_type: self.kind.name(),
            interval_ms: self.interval_ms,
            max_data_points: self.max_data_points,
            time_range: Some((now_ms.saturating_sub(self.window_ms), now_ms)),
        })
    }
}

/// A channel path resolved: the organisation it was made for and the query it streams.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveChannel {
    pub org_id: i64,
    spec: LiveSpec,
}

impl LiveChannel {
    pub fn kind(&self) -> LiveKind {
        self.spec.kind
    }
}

#[derive(Debug, Error)]
pub enum LiveError {
    #[error(
        "unknown live channel path {path:?}: run the panel's query again for a current channel"
    )]
    UnknownPath { path: String },
    #[error("this live channel belongs to organisation {channel_org}, not to organisation {org_id}: organisations never see each other's data")]
    OtherOrganisation { channel_org: i64, org_id: i64 },
    #[error("this live channel's query no longer parses ({0}): run the panel's query again")]
    Query(QueryError),
    #[error(transparent)]
    Instance(#[from] InstanceError),
    #[error("this data source has no sentiment model, so no row is ever scored and a live panel would never change: install a model (see Pulso's README), then reload the panel")]
    NoModel,
}

/// Channel paths, and the queries kept under short ids.
#[derive(Default)]
pub(crate) struct Channels {
    remembered: Mutex<Remembered>,
}

#[derive(Default)]
struct Remembered {
    by_id: HashMap<String, Value>,
    order: VecDeque<String>,
}

impl Channels {
    /// The channel path for a live query: `v1/o<org>/<kind>/<query>`, where the query is
    /// its canonical JSON in URL-safe base64, or `h<hash>` when that would be too long.
    pub(crate) fn path(
        &self,
        org_id: i64,
        datasource_uid: &str,
        query: &Query,
        input: &QueryInput<'_>,
    ) -> Result<String, LiveError> {
        let kind = LiveKind::from_name(query.type_name()).ok_or(LiveError::Query(
            QueryError::LiveUnsupported {
                query_type: query.type_name(),
            },
        ))?;
        let mut model: Map<String, Value> = serde_json::from_slice(input.json).map_err(|e| {
            LiveError::Query(QueryError::MalformedJson {
                detail: e.to_string(),
            })
        })?;
        for key in PER_REQUEST_KEYS {
            model.remove(key);
        }
        let window_ms = input.time_range.map_or(0, |(from, to)| to - from);
        let spec = LiveSpec {
            kind,
            model: Value::Object(model),
            window_ms,
            interval_ms: input.interval_ms,
            max_data_points: input.max_data_points,
        }
        .to_json();
        let canonical = spec.to_string();
        let prefix = format!("{PATH_VERSION}/o{org_id}/{}/", kind.name());
        let inline = URL_SAFE_NO_PAD.encode(canonical.as_bytes());
        let budget = MAX_CHANNEL_CHARS.saturating_sub("ds//".len() + datasource_uid.len());
        if prefix.len() + inline.len() <= budget {
            return Ok(prefix + &inline);
        }
        let digest = Sha256::digest(format!("{org_id}\n{}\n{canonical}", kind.name()));
        let id: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let mut remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        if !remembered.by_id.contains_key(&id) {
            if remembered.order.len() >= MAX_REMEMBERED {
                if let Some(oldest) = remembered.order.pop_front() {
                    remembered.by_id.remove(&oldest);
                }
            }
            remembered.order.push_back(id.clone());
            remembered.by_id.insert(id.clone(), spec);
        }
        Ok(format!("{prefix}h{id}"))
    }

    /// Resolves a channel path asked for by a user of organisation `org_id`.
    pub(crate) fn resolve(&self, org_id: i64, path: &str) -> Result<LiveChannel, LiveError> {
        let unknown = || LiveError::UnknownPath {
            path: pulso_core::query::shown(path),
        };
        let mut parts = path.split('/');
        let (Some(PATH_VERSION), Some(org), Some(kind), Some(query), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(unknown());
        };
        let channel_org: i64 = org
            .strip_prefix('o')
            .and_then(|o| o.parse().ok())
            .ok_or_else(unknown)?;
        let kind = LiveKind::from_name(kind).ok_or_else(unknown)?;
        if channel_org != org_id {
            return Err(LiveError::OtherOrganisation {
                channel_org,
                org_id,
            });
        }
        let value = match query.strip_prefix('h') {
            Some(id) if id.len() == 24 => self
                .remembered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .by_id
                .get(id)
                .cloned()
                .ok_or_else(unknown)?,
            _ => URL_SAFE_NO_PAD
                .decode(query)
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .ok_or_else(unknown)?,
        };
        let spec = LiveSpec::from_json(kind, &value).ok_or_else(unknown)?;
        // Refuse a channel whose query cannot be answered before anyone waits on it.
        spec.query(now_ms()).map_err(LiveError::Query)?;
        Ok(LiveChannel {
            org_id: channel_org,
            spec,
        })
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// One channel's updates, in the order they should reach the panel.
pub struct LiveFeed {
    channel: LiveChannel,
    instance: Arc<Instance>,
    scored: broadcast::Receiver<Arc<[i64]>>,
    pending: Vec<i64>,
    /// When the last update went out (or the feed opened): the next waits at least
    /// [`MIN_PACKET_INTERVAL`] after it, and an aggregate is refreshed [`REFRESH_INTERVAL`] after.
    last_sent: Instant,
}

impl LiveFeed {
    pub(crate) fn open(channel: LiveChannel, instance: Arc<Instance>) -> Result<Self, LiveError> {
        let scored = match &instance.model {
            Ok((_, stats)) => stats.scored_rows(),
            Err(_) => return Err(LiveError::NoModel),
        };
        Ok(Self {
            channel,
            instance,
            scored,
            pending: Vec::new(),
            last_sent: Instant::now(),
        })
    }

    pub fn kind(&self) -> LiveKind {
        self.channel.kind()
    }

    /// Waits for the next update and answers it. `None` once the data source's instance is
    /// gone (its settings changed): the stream should end, and Grafana starts it again.
    pub async fn next(&mut self) -> Option<Result<Answered, ServiceError>> {
        loop {
            let refresh = (!self.kind().appends()).then_some(self.last_sent + REFRESH_INTERVAL);
            tokio::select! {
                received = self.scored.recv() => {
                    if !self.take(received) {
                        return None;
                    }
                }
                () = sleep_until_or_forever(refresh) => {}
            }
            // Coalesce: whatever is scored until the packet interval has passed joins this one.
            let ready = self.last_sent + MIN_PACKET_INTERVAL;
            loop {
                tokio::select! {
                    received = self.scored.recv() => {
                        if !self.take(received) {
                            return None;
                        }
                    }
                    () = tokio::time::sleep_until(ready) => break,
                }
            }
            // Batches already waiting join too (select! may have picked the deadline first).
            while let Ok(ids) = self.scored.try_recv() {
                self.take(Ok(ids));
            }
            if let Some(update) = self.answer().await.transpose() {
                self.last_sent = Instant::now();
                return Some(update);
            }
        }
    }

    /// Adds a batch from the change feed; false once the feed has closed.
    fn take(&mut self, received: Result<Arc<[i64]>, RecvError>) -> bool {
        match received {
            Ok(ids) => {
                self.pending.extend_from_slice(&ids);
                if self.pending.len() > MAX_PENDING_IDS {
                    let excess = self.pending.len() - MAX_PENDING_IDS;
                    self.pending.sort_unstable();
                    self.pending.drain(..excess);
                }
                true
            }
            Err(RecvError::Lagged(batches)) => {
                tracing::warn!(
                    batches,
                    "a live feed fell behind the scorer; some scored rows are not streamed"
                );
                true
            }
            Err(RecvError::Closed) => false,
        }
    }

    /// The update, or `None` when there is nothing to send (no new row matches).
    async fn answer(&mut self) -> Result<Option<Answered>, ServiceError> {
        let query = self.channel.spec.query(now_ms())?;
        match query {
            Query::Mentions(mut query) => {
                if self.pending.is_empty() {
                    return Ok(None);
                }
                let ids = std::mem::take(&mut self.pending);
                // Rows dated later than now (a clock ahead) are still new.
                query.range.to_ms = i64::MAX;
                let rows = self.instance.store.mentions_among(&ids, &query).await?;
                if rows.is_empty() {
                    return Ok(None);
                }
                Ok(Some(Answered::Mentions(pulso_core::query::Mentions {
                    rows,
                    executed_sql: String::new(),
                })))
            }
            query => {
                self.pending.clear();
                if !self.instance.analytics.catch_up(MIRROR_CATCH_UP).await {
                    tracing::debug!("a live aggregate is answered before the mirror caught up");
                }
                let source = self.instance.analytics.source(WARM_UP_WAIT).await;
                let context = QueryContext {
                    reader: source.reader.as_ref(),
                    records: self.instance.store.as_ref(),
                    queue: None,
                    llm: None,
                };
                let (answered, _) = answer_query(&context, &query, &[]).await?;
                Ok(Some(answered))
            }
        }
    }
}

async fn sleep_until_or_forever(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: &str) -> (Query, Vec<u8>) {
        let query = parse_query(QueryInput {
            json: json.as_bytes(),
            query_type: "",
            interval_ms: 60_000,
            max_data_points: 500,
            time_range: Some((1_000_000, 1_900_000)),
        })
        .unwrap();
        (query, json.as_bytes().to_vec())
    }

    fn path(channels: &Channels, org_id: i64, json: &str) -> String {
        let (query, bytes) = input(json);
        channels
            .path(
                org_id,
                "pulso-uid",
                &query,
                &QueryInput {
                    json: &bytes,
                    query_type: "",
                    interval_ms: 60_000,
                    max_data_points: 500,
                    time_range: Some((1_000_000, 1_900_000)),
                },
            )
            .unwrap()
    }

    #[test]
    fn a_path_names_the_query_not_the_request() {
        let channels = Channels::default();
        let a = path(
            &channels,
            1,
            r#"{"refId":"A","queryType":"mentions","live":true,"filters":{"brand":["Gloria"]}}"#,
        );
        let b = path(
            &channels,
            1,
            r#"{"filters":{"brand":["Gloria"]},"live":true,"queryType":"mentions","refId":"B"}"#,
        );
        assert_eq!(a, b, "refId and key order do not change the channel");
        assert!(a.starts_with("v1/o1/mentions/"), "{a}");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-=/.".contains(c)),
            "Grafana accepts only [A-Za-z0-9_-=/.] in channel paths: {a}"
        );
        let other = path(
            &channels,
            1,
            r#"{"queryType":"mentions","live":true,"filters":{"brand":["Laive"]}}"#,
        );
        assert_ne!(a, other);
        let channel = channels.resolve(1, &a).unwrap();
        assert_eq!(channel.kind(), LiveKind::Mentions);
        assert_eq!(channel.spec.window_ms, 900_000);
        assert_eq!(
            channel.spec.model,
            json!({"filters": {"brand": ["Gloria"]}})
        );
    }

    #[test]
    fn a_long_query_gets_a_short_id_that_resolves_in_this_process() {
        let channels = Channels::default();
        let brands: Vec<String> = (0..40).map(|i| format!("\"Marca número {i}\"")).collect();
        let json = format!(
            r#"{{"queryType":"timeseries","live":true,"metric":"net_sentiment","filters":{{"brand":[{}]}}}}"#,
            brands.join(",")
        );
        let long = path(&channels, 7, &json);
        assert!(long.starts_with("v1/o7/timeseries/h"), "{long}");
        assert!(
            "ds/pulso-uid/".len() + long.len() <= MAX_CHANNEL_CHARS,
            "{}",
            long.len()
        );
        let channel = channels.resolve(7, &long).unwrap();
        assert_eq!(channel.kind(), LiveKind::Timeseries);
        assert_eq!(
            channel.spec.model["filters"]["brand"][39],
            "Marca número 39"
        );
        // Another process (a restarted plugin) does not know the id.
        let error = Channels::default().resolve(7, &long).unwrap_err();
        assert!(matches!(error, LiveError::UnknownPath { .. }), "{error}");
    }

    #[test]
    fn another_organisation_and_forged_paths_are_refused() {
        let channels = Channels::default();
        let own = path(&channels, 1, r#"{"queryType":"distribution","live":true}"#);
        let error = channels.resolve(2, &own).unwrap_err();
        assert!(
            matches!(
                error,
                LiveError::OtherOrganisation {
                    channel_org: 1,
                    org_id: 2
                }
            ),
            "{error}"
        );
        for forged in [
            "",
            "v1",
            "v1/o1/mentions",
            "v2/o1/mentions/e30",
            "v1/x1/mentions/e30",
            "v1/o1/insights/e30",
            "v1/o1/mentions/not-base64!",
            "v1/o1/mentions/e30/extra",
            "v1/o1/mentions/haaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            let error = channels.resolve(1, forged).unwrap_err();
            assert!(
                matches!(error, LiveError::UnknownPath { .. }),
                "{forged:?}: {error}"
            );
        }
        // A well-formed path whose query no longer parses names the field.
        let bad = format!(
            "v1/o1/timeseries/{}",
            URL_SAFE_NO_PAD.encode(r#"{"i":1,"m":1,"q":{"metric":"nope"},"w":1}"#)
        );
        let error = channels.resolve(1, &bad).unwrap_err().to_string();
        assert!(error.contains("unknown metric \"nope\""), "{error}");
    }
}
