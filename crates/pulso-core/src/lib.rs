//! The shared vocabulary of every Pulso crate: sentiment labels, aspects, term hashing and text
//! folding (`analysis`), the public query model (`query`), and personal-data redaction
//! (`redact`). It knows nothing of storage, models or Grafana.

pub mod analysis;
pub mod query;
pub mod redact;
