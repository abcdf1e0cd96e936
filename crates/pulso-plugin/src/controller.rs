//! go-plugin's `plugin.GRPCController` service. Grafana calls `Shutdown` when it stops the
//! plugin and kills the process two seconds later if it is still there; answering lets the
//! server drain in-flight queries and close the database cleanly instead.
//!
//! The service is one unary method with empty messages, so it is written out here rather than
//! generated from go-plugin's proto file.

use std::convert::Infallible;
use std::sync::Arc;

use tokio::sync::Notify;
use tonic::codegen::{empty_body, http, Body, BoxFuture, Context, Poll, Service, StdError};

/// go-plugin's `plugin.Empty`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Empty {}

#[derive(Clone)]
pub struct ControllerServer {
    shutdown: Arc<Notify>,
}

impl ControllerServer {
    pub fn new(shutdown: Arc<Notify>) -> Self {
        Self { shutdown }
    }
}

impl tonic::server::NamedService for ControllerServer {
    const NAME: &'static str = "plugin.GRPCController";
}

struct ShutdownMethod(Arc<Notify>);

impl tonic::server::UnaryService<Empty> for ShutdownMethod {
    type Response = Empty;
    type Future = BoxFuture<tonic::Response<Empty>, tonic::Status>;

    fn call(&mut self, _request: tonic::Request<Empty>) -> Self::Future {
        let shutdown = self.0.clone();
        Box::pin(async move {
            tracing::info!("Grafana asked the plugin to shut down");
            shutdown.notify_one();
            Ok(tonic::Response::new(Empty {}))
        })
    }
}

impl<B> Service<http::Request<B>> for ControllerServer
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::BoxBody>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() == "/plugin.GRPCController/Shutdown" {
            let method = ShutdownMethod(self.shutdown.clone());
            return Box::pin(async move {
                let mut grpc = tonic::server::Grpc::new(tonic::codec::ProstCodec::default());
                Ok(grpc.unary(method, request).await)
            });
        }
        Box::pin(async move {
            let unimplemented =
                tonic::Status::unimplemented("no such method on plugin.GRPCController");
            let mut response = http::Response::new(empty_body());
            let _ = unimplemented.add_header(response.headers_mut());
            Ok(response)
        })
    }
}
