//! The shared vocabulary of feedback analysis, used by ingestion, storage, scoring, analytics
//! and trends alike: sentiment labels, the aspect lexicon, term hashing and text folding. It
//! imports nothing else of Pulso.

pub mod aspects;
pub mod label;
pub mod terms;
pub mod text;

pub use aspects::Aspect;
pub use label::Label;
