//! Text helpers shared by storage and querying.

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// Lower-cases and strips accents, so "Pollería" and "polleria" match in search.
///
/// ASCII is its own decomposition and a starter, which canonical reordering never crosses, so
/// only the runs of other characters go through NFD: the result is the same as folding the
/// whole text, and feedback, mostly ASCII, folds several times faster (this runs per word in
/// term and aspect extraction, and per row at ingest).
pub fn fold_for_search(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let ascii_len = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        let start = folded.len();
        folded.push_str(&rest[..ascii_len]);
        folded[start..].make_ascii_lowercase();
        rest = &rest[ascii_len..];
        let other_len = rest
            .char_indices()
            .find(|(_, c)| c.is_ascii())
            .map_or(rest.len(), |(i, _)| i);
        folded.extend(
            rest[..other_len]
                .nfd()
                .filter(|c| !is_combining_mark(*c))
                .flat_map(char::to_lowercase),
        );
        rest = &rest[other_len..];
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::fold_for_search;
    use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(fold_for_search("Pollería ÑOÑA Ají"), "polleria nona aji");
        assert_eq!(fold_for_search("Crème Brûlée"), "creme brulee");
    }

    #[test]
    fn keeps_symbols_and_emoji() {
        assert_eq!(fold_for_search("¡Qué RICO! 😋"), "¡que rico! 😋");
    }

    /// The whole text through NFD, as folding was first written.
    fn fold_whole(text: &str) -> String {
        text.nfd()
            .filter(|c| !is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .collect()
    }

    #[test]
    fn folding_by_runs_equals_folding_the_whole_text() {
        // Precomposed and decomposed accents, marks after ASCII letters and after other marks
        // (reordered by NFD), marks at the start, dotted capital I, ß, Greek, Hangul, emoji.
        let pieces = [
            "a",
            "Z",
            " ",
            "¡",
            "?",
            "é",
            "e\u{301}",
            "\u{301}",
            "\u{323}\u{301}",
            "Ñ",
            "n\u{303}",
            "İ",
            "ß",
            "Σ",
            "ὈΔΥΣΣΕΎΣ",
            "한",
            "😋",
            "ǅ",
            "ﬁ",
            "Å",
            "\u{212b}",
            "7",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(state % 12) {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            assert_eq!(fold_for_search(&text), fold_whole(&text), "{text:?}");
        }
        for piece in pieces {
            assert_eq!(fold_for_search(piece), fold_whole(piece), "{piece:?}");
        }
    }
}
