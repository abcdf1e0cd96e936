//! The protocol layer: Grafana's pluginv2 gRPC services over the domain modules, one file per
//! service. The generated services are implemented directly (not the SDK's typed traits),
//! because the SDK rejects a whole request for one bad query, a `None` user role or a
//! missing time range, where Pulso answers each query on its own.

pub mod arrow;
mod controller;
mod data;
pub mod frames;
mod health;
mod metrics;
mod resource;
mod stream;
mod viewer;

use std::net::SocketAddr;
use std::sync::Arc;

use grafana_plugin_sdk::pluginv2::{
    self, data_server::DataServer, diagnostics_server::DiagnosticsServer,
    resource_server::ResourceServer, stream_server::StreamServer,
};
use thiserror::Error;
use tokio::net::TcpSocket;
use tokio::sync::Notify;
use tokio_stream::wrappers::TcpListenerStream;
use tonic_health::ServingStatus;

use pulso_service::{DataSource, Service};

/// go-plugin's handshake: core protocol 1, app protocol 2 (Grafana's), gRPC over TCP.
const CORE_PROTOCOL_VERSION: u32 = 1;
const APP_PROTOCOL_VERSION: u32 = 2;

#[derive(Debug, Error)]
pub enum ServeError {
    #[error("cannot listen on a loopback port: {0}")]
    Listen(std::io::Error),
    #[error("the gRPC server stopped: {0}")]
    Server(#[from] tonic::transport::Error),
}

/// The largest QueryData or CallResource request read; larger ones fail whole.
const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// Shared state behind every gRPC service.
#[derive(Default)]
pub struct Pulso {
    service: Service,
    metrics: metrics::Metrics,
    streams: stream::Streams,
}

/// The data source a request is for, in the service's terms.
fn data_source(context: Option<&pluginv2::PluginContext>) -> Option<DataSource<'_>> {
    let context = context?;
    let settings = context.data_source_instance_settings.as_ref()?;
    Some(DataSource {
        org_id: context.org_id,
        id: settings.id,
        uid: &settings.uid,
        updated_ms: settings.last_updated_ms,
        json_data: &settings.json_data,
        secure: &settings.decrypted_secure_json_data,
    })
}

fn listener() -> Result<tokio::net::TcpListener, std::io::Error> {
    let socket = TcpSocket::new_v4()?;
    // Without TCP_NODELAY, Nagle plus delayed ACKs add ~40 ms to every small response.
    // Accepted sockets inherit the option on Linux.
    socket.set_nodelay(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    socket.listen(1024)
}

/// Serves the plugin until Grafana stops it. Prints go-plugin's handshake line on stdout, which
/// must be the only thing ever written there.
pub async fn serve() -> Result<(), ServeError> {
    let listener = listener().map_err(ServeError::Listen)?;
    let address = listener.local_addr().map_err(ServeError::Listen)?;
    println!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{address}|grpc");

    let (mut reporter, health_service) = tonic_health::server::health_reporter();
    for service in [
        "",
        "plugin",
        "pluginv2.Data",
        "pluginv2.Diagnostics",
        "pluginv2.Resource",
        "pluginv2.Stream",
    ] {
        reporter
            .set_service_status(service, ServingStatus::Serving)
            .await;
    }
    let pulso = Arc::new(Pulso::default());
    let shutdown = Arc::new(Notify::new());
    tracing::info!(%address, "Pulso plugin serving");
    tonic::transport::Server::builder()
        .add_service(health_service)
        // Above gRPC's 4 MiB default, so that an oversized query or body gets its own error
        // (a per-query 400, a 413) instead of failing the whole request.
        .add_service(
            DataServer::from_arc(pulso.clone()).max_decoding_message_size(MAX_REQUEST_BYTES),
        )
        .add_service(DiagnosticsServer::from_arc(pulso.clone()))
        .add_service(StreamServer::from_arc(pulso.clone()))
        .add_service(ResourceServer::from_arc(pulso).max_decoding_message_size(MAX_REQUEST_BYTES))
        .add_service(controller::ControllerServer::new(shutdown.clone()))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown_signal(shutdown))
        .await?;
    Ok(())
}

/// Resolves when Grafana calls `Shutdown`, or on SIGTERM or Ctrl-C.
async fn shutdown_signal(requested: Arc<Notify>) {
    use tokio::signal::unix::{signal, SignalKind};
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = requested.notified() => {}
        _ = terminate => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("Pulso plugin shutting down");
}
