//! Pulso: consumer-feedback sentiment for Grafana.
//!
//! The house reads in one direction, each floor importing only from the floors below it:
//! 1. `main.rs`: the command line;
//! 2. `plugin`: Grafana's pluginv2 protocol to and from the service, nothing else;
//! 3. `service`: one settings model per data source, its instance, and the answer to each
//!    parsed query;
//! 4. domain modules: `ingest`, `scoring`, `analytics` (the columnar engine and its mirror),
//!    `trends`, `insights`, `demo`;
//! 5. `store`: the record store, split into a writer and a reader;
//! 6. `query` (the public query model), `analysis` (shared vocabulary) and `nlp` (the model).

pub mod analysis;
pub mod analytics;
pub mod demo;
pub mod ingest;
pub mod insights;
pub mod nlp;
pub mod plugin;
pub mod query;
pub mod scoring;
pub mod service;
pub mod store;
pub mod trends;
