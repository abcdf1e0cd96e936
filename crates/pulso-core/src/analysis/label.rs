//! The sentiment labels a model gives a text.

use std::fmt;

/// One of the three sentiment classes. The names are stored, shown in Grafana and used in
/// filters (`filters.label`), so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    Negative,
    Neutral,
    Positive,
}

impl Label {
    /// In the order the model's probabilities and the stored counts use.
    pub const ALL: [Label; 3] = [Self::Negative, Self::Neutral, Self::Positive];

    pub fn name(self) -> &'static str {
        match self {
            Self::Negative => "negative",
            Self::Neutral => "neutral",
            Self::Positive => "positive",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Position in [`Label::ALL`]: 0 negative, 1 neutral, 2 positive.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The label of the most likely class among `[negative, neutral, positive]` weights. A tie
    /// goes to negative first, then positive: a complaint is never hidden as neutral.
    pub fn most_likely([negative, neutral, positive]: [f64; 3]) -> Self {
        if negative >= neutral && negative >= positive {
            Self::Negative
        } else if positive >= neutral {
            Self::Positive
        } else {
            Self::Neutral
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a distribution or a mention shows for a row the active model has not scored yet.
pub const UNSCORED: &str = "unscored";

/// The shown name of an optional label: the label's name, or [`UNSCORED`].
pub fn label_or_unscored(label: Option<Label>) -> &'static str {
    label.map_or(UNSCORED, Label::name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_in_stored_order() {
        for (i, label) in Label::ALL.into_iter().enumerate() {
            assert_eq!(Label::from_name(label.name()), Some(label));
            assert_eq!(label.index(), i);
        }
        assert_eq!(Label::from_name("unscored"), None);
        assert_eq!(label_or_unscored(None), "unscored");
    }

    #[test]
    fn most_likely_prefers_the_first_on_ties() {
        assert_eq!(Label::most_likely([0.2, 0.3, 0.5]), Label::Positive);
        assert_eq!(Label::most_likely([0.4, 0.4, 0.2]), Label::Negative);
        assert_eq!(Label::most_likely([0.2, 0.4, 0.4]), Label::Positive);
        assert_eq!(Label::most_likely([0.2, 0.5, 0.3]), Label::Neutral);
    }
}
