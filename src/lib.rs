//! Pulso: consumer-feedback sentiment for Grafana.
//!
//! Domain modules (`store`, `query`, `demo`, `text`) know nothing of gRPC or Grafana;
//! `plugin` is the thin protocol layer that maps them onto the plugin SDK.

pub mod demo;
pub mod ingest;
pub mod insights;
pub mod nlp;
pub mod plugin;
pub mod query;
pub mod scoring;
pub mod store;
pub mod text;
pub mod trends;
