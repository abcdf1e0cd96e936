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

/// A row's emotion when grouping or filtering: its most confident emotion at or above this
/// confidence (the decision threshold the head's XED F1 is measured at), else [`NO_EMOTION`].
pub const DOMINANT_THRESHOLD: f64 = 0.5;

/// The group of scored rows with no emotion at or above [`DOMINANT_THRESHOLD`], and of rows
/// scored by a model without the emotion head.
pub const NO_EMOTION: &str = "none";

/// The most confident emotion when it reaches [`DOMINANT_THRESHOLD`]; ties go to the first
/// in [`Emotion::ALL`] order.
pub fn dominant(confidences: &EmotionConfidences) -> Option<Emotion> {
    let mut best: Option<(Emotion, f64)> = None;
    for (emotion, p) in Emotion::ALL.into_iter().zip(confidences.iter().copied()) {
        if p >= DOMINANT_THRESHOLD && best.is_none_or(|(_, q)| p > q) {
            best = Some((emotion, p));
        }
    }
    best.map(|(emotion, _)| emotion)
}

/// The name a row's emotion shows under: unscored rows as `unscored`, scored rows without a
/// dominant emotion as [`NO_EMOTION`].
pub fn emotion_group_name(scored: bool, emotion: Option<Emotion>) -> &'static str {
    match (scored, emotion) {
        (false, _) => super::label::UNSCORED,
        (true, None) => NO_EMOTION,
        (true, Some(emotion)) => emotion.name(),
    }
}

/// The values a filter or a variable on emotion can take: the six emotions, then `none`.
pub fn emotion_values() -> Vec<String> {
    Emotion::ALL
        .iter()
        .map(|e| e.name().to_string())
        .chain([NO_EMOTION.to_string()])
        .collect()
}

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

    #[test]
    fn the_dominant_emotion_is_the_most_confident_one_at_the_threshold() {
        assert_eq!(
            dominant(&[0.2, 0.7, 0.1, 0.9, 0.0, 0.0]),
            Some(Emotion::Fear)
        );
        assert_eq!(
            dominant(&[0.5, 0.0, 0.0, 0.0, 0.0, 0.0]),
            Some(Emotion::Joy)
        );
        assert_eq!(dominant(&[0.49, 0.3, 0.1, 0.2, 0.0, 0.4]), None);
        // a tie keeps the first in stored order
        assert_eq!(
            dominant(&[0.0, 0.6, 0.6, 0.0, 0.0, 0.0]),
            Some(Emotion::Anger)
        );
    }

    #[test]
    fn group_names_tell_unscored_from_no_emotion() {
        assert_eq!(emotion_group_name(false, Some(Emotion::Joy)), "unscored");
        assert_eq!(emotion_group_name(true, None), "none");
        assert_eq!(emotion_group_name(true, Some(Emotion::Disgust)), "disgust");
        assert_eq!(emotion_values().len(), 7);
    }
}
