//! Pulso's integration tests, in one binary: linking DataFusion, ONNX Runtime's bindings and the
//! plugin SDK once instead of once per test file (docs/adr/0002-build-and-test.md).
//!
//! Each module was a test file of its own; `common` holds what they share. The tests run side
//! by side in one process, so none of them changes process-wide state (the working directory,
//! environment variables), and [`common::PluginProcess`] bounds how many plugins run at once.
//! `cargo test --release --test it trends::` runs one module.

mod common;

mod engine_equivalence;
mod ingest_cli;
mod ingest_resource;
mod insights_llm;
mod live_stream;
mod nlp_inference;
mod plugin_json;
mod plugin_protocol;
mod postgres;
mod provisioning;
mod scoring_e2e;
mod trends;
