//! Text helpers shared by storage and querying.

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// Lower-cases and strips accents, so "Pollería" and "polleria" match in search.
pub fn fold_for_search(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fold_for_search;

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(fold_for_search("Pollería ÑOÑA Ají"), "polleria nona aji");
        assert_eq!(fold_for_search("Crème Brûlée"), "creme brulee");
    }

    #[test]
    fn keeps_symbols_and_emoji() {
        assert_eq!(fold_for_search("¡Qué RICO! 😋"), "¡que rico! 😋");
    }
}
