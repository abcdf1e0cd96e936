//! Sentiment inference. Follows text-embeddings-inference's shape: a [`SentimentModel`] trait
//! any backend can implement, an ONNX Runtime backend ([`onnx::OnnxSentimentModel`]), and a
//! bounded batching queue ([`queue::ScoringQueue`]) that pushes back on callers when full.
//! Nothing here knows about Grafana or gRPC.

pub mod batch_file;
pub mod files;
pub mod onnx;
pub mod queue;

use pulso_core::analysis::Label;
use std::path::PathBuf;

use thiserror::Error;

/// One text's sentiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub label: String,
    /// Probabilities in the order of [`SentimentModel::labels`].
    pub probabilities: Vec<f32>,
    /// `p(positive) − p(negative)`, in [-1, 1].
    pub score: f32,
    /// The probability of the chosen label.
    pub confidence: f32,
    /// The text was longer than the model reads, so only its start was scored.
    pub truncated: bool,
    /// The sentence embedding the head read, where the backend has one; empty otherwise.
    /// Written insights pick representative mentions by it.
    pub embedding: Vec<f32>,
    /// A confidence in [0, 1] per emotion, in the order of
    /// [`SentimentModel::emotion_labels`]; empty where the model has no emotion head. Emotions
    /// are independent: a text can carry several, or none.
    pub emotions: Vec<f32>,
}

/// Why one text got no prediction; the other texts of its batch are unaffected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TextError {
    #[error("text is empty: there is nothing to score")]
    Empty,
}

#[derive(Debug, Error)]
pub enum NlpError {
    #[error("model file {path} is missing: build the model with `python3 models/build.py` (or `go run mage.go model`), or point modelPath at a built model folder")]
    MissingFile { path: PathBuf },
    #[error("model file {path} is invalid ({reason}): rebuild it with `python3 models/build.py`")]
    InvalidFile { path: PathBuf, reason: String },
    #[error("cannot load ONNX Runtime from {path} ({reason}): rebuild the model folder with `python3 models/build.py`, which ships the library, or set ORT_DYLIB_PATH")]
    Runtime { path: PathBuf, reason: String },
    #[error("the model in {path} has no trained sentiment head (no `probabilities` output): train it with `python3 models/train_head.py`, then rebuild with `python3 models/build.py`")]
    NoHead { path: PathBuf },
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("the scoring queue has stopped")]
    QueueClosed,
}

pub type TextResult = Result<Prediction, TextError>;

/// A sentiment classifier. Implementations must be safe to call from several threads.
pub trait SentimentModel: Send + Sync {
    /// Changes whenever the weights or the head change; stored with every score.
    fn model_id(&self) -> &str;
    fn labels(&self) -> &[String];
    /// The emotions [`Prediction::emotions`] scores, in order; none by default.
    fn emotion_labels(&self) -> &[String] {
        &[]
    }
    /// Scores a batch; one result per text, in order.
    fn predict(&self, texts: &[&str]) -> Result<Vec<TextResult>, NlpError>;
}

/// Builds a [`Prediction`] from class probabilities, where labels name the classes.
pub fn prediction(labels: &[String], probabilities: Vec<f32>, truncated: bool) -> Prediction {
    let probability_of = |name: &str| {
        labels
            .iter()
            .position(|l| l == name)
            .map_or(0.0, |i| probabilities[i])
    };
    let score = (probability_of(Label::Positive.name()) - probability_of(Label::Negative.name()))
        .clamp(-1.0, 1.0);
    let (best, confidence) =
        probabilities
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f32::MIN),
                |acc, (i, p)| if p > acc.1 { (i, p) } else { acc },
            );
    Prediction {
        label: labels[best].clone(),
        probabilities,
        score,
        confidence,
        truncated,
        embedding: Vec::new(),
        emotions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prediction_derives_score_and_confidence() {
        let labels: Vec<String> = ["negative", "neutral", "positive"]
            .map(String::from)
            .to_vec();
        let p = prediction(&labels, vec![0.1, 0.2, 0.7], false);
        assert_eq!(p.label, "positive");
        assert!((p.score - 0.6).abs() < 1e-6);
        assert!((p.confidence - 0.7).abs() < 1e-6);
    }
}
