//! The emotions the model's second head scores.

use std::fmt;

/// One of six emotions (from XED's Plutchik labels, without anticipation and trust). The names
/// are stored and will be shown in Grafana, so they never change. A text can carry several
/// emotions, or none: each gets its own confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Emotion {
    Joy,
    Anger,
    Sadness,
    Fear,
    Surprise,
    Disgust,
}

/// A confidence in [0, 1] per emotion, in the order of [`Emotion::ALL`].
pub type EmotionConfidences = [f64; 6];

impl Emotion {
    /// In the order stored confidences use.
    pub const ALL: [Emotion; 6] = [
        Self::Joy,
        Self::Anger,
        Self::Sadness,
        Self::Fear,
        Self::Surprise,
        Self::Disgust,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Joy => "joy",
            Self::Anger => "anger",
            Self::Sadness => "sadness",
            Self::Fear => "fear",
            Self::Surprise => "surprise",
            Self::Disgust => "disgust",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Position in [`Emotion::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Emotion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_stored_order() {
        for (i, emotion) in Emotion::ALL.into_iter().enumerate() {
            assert_eq!(Emotion::from_name(emotion.name()), Some(emotion));
            assert_eq!(emotion.index(), i);
        }
        assert_eq!(Emotion::from_name("trust"), None);
    }
}
