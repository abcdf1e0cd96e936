//! Trends over stored feedback: trending terms, aspect-based sentiment and explained
//! anomalies. It reads through `store::FeedbackReader`, so the same code runs on the analytics
//! engine and on the record store; like them it knows nothing of Grafana.

pub mod anomalies;
pub mod anomaly;
pub mod aspect_stats;
pub mod trending;
