//! Stream: Grafana Live. SubscribeStream checks a channel's path and the subscriber's
//! organisation (any role may watch), RunStream sends the channel's updates as frame JSON,
//! and PublishStream is refused, since Pulso's channels are read-only.
//!
//! Grafana calls RunStream once per channel however many viewers it has. Pulso also shares
//! work below that: one producer per channel answers each update once, and every RunStream on
//! the channel (several Grafana instances, or a restart racing the old stream) relays it.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use futures_util::Stream;
use grafana_plugin_sdk::pluginv2::{
    self, publish_stream_response, stream_server, subscribe_stream_response,
};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::arrow::JsonParts;
use super::viewer::without_server_paths;
use super::{data_source, frames, Pulso};
use pulso_service::{LiveError, LiveFeed};

/// Packets a slow RunStream may fall behind by before it skips ahead.
const PACKETS_BUFFERED: usize = 64;

/// What a producer sends its RunStreams.
#[derive(Clone)]
enum Packet {
    Frame(Arc<Vec<u8>>),
    /// The feed ended (the data source's settings changed): the streams end, and Grafana
    /// starts the channel again on the new settings.
    End,
}

/// One channel's producer: the task that answers updates, and the RunStreams it feeds.
struct Producer {
    packets: broadcast::Sender<Packet>,
    task: JoinHandle<()>,
}

impl Drop for Producer {
    fn drop(&mut self) {
        // The last RunStream on the channel is gone: nobody watches, so stop answering.
        self.task.abort();
    }
}

/// The channels being streamed, and gauges for CollectMetrics.
#[derive(Default)]
pub struct Streams {
    producers: Mutex<HashMap<String, Weak<Producer>>>,
    open_streams: Arc<AtomicUsize>,
    running_producers: Arc<AtomicUsize>,
}

/// Counts while alive, so a task or stream that is dropped (ended, cancelled, aborted) is no
/// longer counted.
struct Counted(Arc<AtomicUsize>);

impl Counted {
    fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Streams {
    /// RunStream calls open now, and producers running (at most one per channel).
    pub fn counts(&self) -> (usize, usize) {
        (
            self.open_streams.load(Ordering::Relaxed),
            self.running_producers.load(Ordering::Relaxed),
        )
    }

    /// The channel's producer, started with `feed` unless one runs already (then `feed` is
    /// dropped unused).
    fn producer(&self, key: String, feed: LiveFeed) -> Arc<Producer> {
        let mut producers = self.producers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(producer) = producers.get(&key).and_then(Weak::upgrade) {
            if !producer.task.is_finished() {
                return producer;
            }
        }
        producers.retain(|_, producer| producer.strong_count() > 0);
        let (packets, _) = broadcast::channel(PACKETS_BUFFERED);
        let task = tokio::spawn(produce(
            feed,
            packets.clone(),
            Counted::new(&self.running_producers),
        ));
        let producer = Arc::new(Producer { packets, task });
        producers.insert(key, Arc::downgrade(&producer));
        producer
    }
}

/// Answers the channel's updates and sends each as one frame-JSON packet.
async fn produce(mut feed: LiveFeed, packets: broadcast::Sender<Packet>, _running: Counted) {
    while let Some(update) = feed.next().await {
        let packet = match update {
            Ok(answered) => {
                let frame = frames::answer(&answered, &[]);
                match frame.to_json("", JsonParts::SchemaAndData) {
                    Ok(json) => Packet::Frame(Arc::new(json)),
                    Err(error) => {
                        tracing::warn!(%error, "cannot encode a live update; it is skipped");
                        continue;
                    }
                }
            }
            Err(error) => {
                // A failed update (the database briefly locked, say) is skipped, not fatal.
                tracing::warn!(%error, "a live update failed; waiting for the next one");
                continue;
            }
        };
        // No receiver: the last RunStream is ending; the producer is dropped with it.
        let _ = packets.send(packet);
    }
    let _ = packets.send(Packet::End);
}

type PacketStream =
    Pin<Box<dyn Stream<Item = Result<pluginv2::StreamPacket, tonic::Status>> + Send>>;

fn status_for(error: &LiveError) -> tonic::Status {
    let message = without_server_paths(&error.to_string());
    match error {
        LiveError::UnknownPath { .. } | LiveError::Query(_) => tonic::Status::not_found(message),
        LiveError::OtherOrganisation { .. } => tonic::Status::permission_denied(message),
        LiveError::NoModel | LiveError::Instance(_) => tonic::Status::failed_precondition(message),
    }
}

#[tonic::async_trait]
impl stream_server::Stream for Pulso {
    async fn subscribe_stream(
        &self,
        request: tonic::Request<pluginv2::SubscribeStreamRequest>,
    ) -> Result<tonic::Response<pluginv2::SubscribeStreamResponse>, tonic::Status> {
        use subscribe_stream_response::Status;
        let request = request.into_inner();
        let source = data_source(request.plugin_context.as_ref());
        let status = match self.service.live_channel(source.as_ref(), &request.path) {
            Ok(_) => Status::Ok,
            Err(error @ LiveError::OtherOrganisation { .. }) => {
                tracing::warn!(%error, "live subscription refused");
                Status::PermissionDenied
            }
            Err(error) => {
                tracing::debug!(%error, path = %request.path, "live subscription to an unknown channel");
                Status::NotFound
            }
        };
        Ok(tonic::Response::new(pluginv2::SubscribeStreamResponse {
            status: status as i32,
            data: Vec::new(),
        }))
    }

    type RunStreamStream = PacketStream;

    async fn run_stream(
        &self,
        request: tonic::Request<pluginv2::RunStreamRequest>,
    ) -> Result<tonic::Response<PacketStream>, tonic::Status> {
        let request = request.into_inner();
        let source = data_source(request.plugin_context.as_ref());
        let channel = self
            .service
            .live_channel(source.as_ref(), &request.path)
            .map_err(|e| status_for(&e))?;
        let key = format!(
            "{}/{}/{}",
            channel.org_id,
            source.as_ref().map_or("", |s| s.uid),
            request.path
        );
        // Open the feed before looking for a producer, so errors reach this caller.
        let feed = self
            .service
            .open_live(source.as_ref(), channel)
            .await
            .map_err(|e| status_for(&e))?;
        let producer = self.streams.producer(key, feed);
        let packets = producer.packets.subscribe();
        let state = (packets, producer, Counted::new(&self.streams.open_streams));
        let stream = futures_util::stream::unfold(state, |(mut packets, producer, open)| async {
            loop {
                match packets.recv().await {
                    Ok(Packet::Frame(json)) => {
                        let packet = pluginv2::StreamPacket {
                            data: json.as_ref().clone(),
                        };
                        return Some((Ok(packet), (packets, producer, open)));
                    }
                    Ok(Packet::End) | Err(broadcast::error::RecvError::Closed) => return None,
                    Err(broadcast::error::RecvError::Lagged(skipped)) => {
                        tracing::warn!(skipped, "a live stream fell behind; packets skipped");
                    }
                }
            }
        });
        Ok(tonic::Response::new(Box::pin(stream)))
    }

    async fn publish_stream(
        &self,
        _request: tonic::Request<pluginv2::PublishStreamRequest>,
    ) -> Result<tonic::Response<pluginv2::PublishStreamResponse>, tonic::Status> {
        // Channels carry what the scorer produced; nobody, whatever their role, writes to them.
        Ok(tonic::Response::new(pluginv2::PublishStreamResponse {
            status: publish_stream_response::Status::PermissionDenied as i32,
            data: Vec::new(),
        }))
    }
}
