//! The shared vocabulary of every Pulso crate: sentiment labels, aspects, term hashing and text
//! folding (`analysis`), the public query model (`query`), personal-data redaction (`redact`),
//! and the data source's settings as stored (`settings`). It knows nothing of storage, models
//! or Grafana's types.

pub mod analysis;
pub mod query;
pub mod redact;
pub mod settings;
