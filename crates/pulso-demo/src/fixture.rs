//! Fixture scores: deterministic sentiment and aspect results that follow the feeling each
//! demo text was written with, without running the model. They make a demo or load-test
//! database of millions of rows in minutes, with the planted trends visible. They are not a
//! model: a real model replaces them as soon as the plugin runs one (they are stored under
//! their own model id).

use super::Polarity;
use pulso_core::analysis::aspects::aspects_of;
use pulso_core::analysis::{Aspect, Label};
use pulso_store::{NewAspectScore, NewScore};

/// The model id fixture scores are stored under.
pub const FIXTURE_MODEL_ID: &str = "pulso-fixture-scores-v1";
/// One text in this many gets a label other than the one it was written with, as a real
/// model's mistakes would.
const MISTAKE_EVERY: u64 = 8;

/// A well-mixed 64-bit hash of the row id: the same row always gets the same score.
fn mix(id: i64) -> u64 {
    let mut x = (id as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The score of row `id`, whose text was written to carry `polarity`.
pub fn fixture_score(id: i64, polarity: Polarity) -> NewScore {
    let h = mix(id);
    let intended = match polarity {
        Polarity::Negative => Label::Negative,
        Polarity::Neutral => Label::Neutral,
        Polarity::Positive => Label::Positive,
    };
    let label = if h.is_multiple_of(MISTAKE_EVERY) {
        // A near miss: neutral for a clear text, a side for a neutral one.
        match intended {
            Label::Neutral if h & 0x100 == 0 => Label::Negative,
            Label::Neutral => Label::Positive,
            _ => Label::Neutral,
        }
    } else {
        intended
    };
    // The winning class takes 0.50 to 0.95; the rest is split between the other two.
    let top = 0.5 + ((h >> 8) % 4_500) as f64 / 10_000.0;
    let rest = 1.0 - top;
    let split = ((h >> 24) % 1_000) as f64 / 1_000.0;
    let mut p = [0.0; 3];
    p[label.index()] = top;
    let others: Vec<usize> = (0..3).filter(|i| *i != label.index()).collect();
    p[others[0]] = rest * split;
    p[others[1]] = rest * (1.0 - split);
    NewScore {
        feedback_id: id,
        label,
        score: (p[Label::Positive.index()] - p[Label::Negative.index()]).clamp(-1.0, 1.0),
        p_negative: p[Label::Negative.index()],
        p_neutral: p[Label::Neutral.index()],
        p_positive: p[Label::Positive.index()],
        emotions: None,
    }
}

/// Every aspect the text names, with the row's own label and score.
pub fn fixture_aspects(score: &NewScore, text: &str) -> Vec<NewAspectScore> {
    fixture_aspect_scores(score, &aspects_of(text))
}

/// [`fixture_aspects`] for aspects already found in the text.
pub fn fixture_aspect_scores(score: &NewScore, aspects: &[Aspect]) -> Vec<NewAspectScore> {
    aspects
        .iter()
        .map(|&aspect| NewAspectScore {
            feedback_id: score.feedback_id,
            aspect,
            label: score.label,
            score: score.score,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_deterministic_valid_and_mostly_follow_the_polarity() {
        let mut agree = 0;
        for id in 1..=10_000 {
            let s = fixture_score(id, Polarity::Negative);
            assert_eq!(s, fixture_score(id, Polarity::Negative));
            let total = s.p_negative + s.p_neutral + s.p_positive;
            assert!((total - 1.0).abs() < 1e-9, "{s:?}");
            assert!((-1.0..=1.0).contains(&s.score));
            assert_eq!(
                Label::most_likely([s.p_negative, s.p_neutral, s.p_positive]),
                s.label
            );
            agree += usize::from(s.label == Label::Negative);
        }
        assert!((8_500..9_000).contains(&agree), "{agree}");
    }

    #[test]
    fn aspects_take_the_row_label() {
        let score = fixture_score(3, Polarity::Positive);
        let aspects = fixture_aspects(&score, "rico pero caro");
        assert_eq!(aspects.len(), 2);
        assert!(aspects.iter().all(|a| a.label == score.label));
    }
}
