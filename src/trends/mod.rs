//! Trends and insights over stored feedback: trending terms, aspect-based sentiment and
//! explained anomalies. Like the store, this knows nothing of Grafana; the protocol layer
//! turns its results into frames.

pub mod anomalies;
pub mod anomaly;
pub mod aspect_stats;
pub mod aspects;
pub mod terms;
pub mod trending;
