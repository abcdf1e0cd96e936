//! The shared vocabulary of feedback analysis, used by ingestion, storage, scoring, analytics
//! and trends alike: sentiment labels, emotions, the aspect lexicon, term hashing and text
//! folding. It imports nothing else of Pulso.

pub mod aspects;
pub mod emotion;
pub mod label;
pub mod terms;
pub mod text;

pub use aspects::Aspect;
pub use emotion::{Emotion, EmotionConfidences};
pub use label::Label;
