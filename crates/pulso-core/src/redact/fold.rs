//! The text the patterns read: every way of writing a digit, a space or a dash made one, and
//! invisible characters dropped, with a map back to the original so that what is replaced
//! there is exactly what was matched here.

use std::borrow::Cow;
use std::ops::Range;

use unicode_normalization::UnicodeNormalization;

/// The zero of each Unicode decimal-digit block that NFKC leaves alone (Arabic-Indic,
/// Devanagari, Thai, ...); each block runs zero to nine. From Python's `unicodedata` (Unicode
/// 14): category Nd, decimal value 0, NFKC not "0".
const DIGIT_ZEROS: [u32; 58] = [
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1E140, 0x1E2F0, 0x1E950,
];

pub(super) struct Folded<'a> {
    pub text: Cow<'a, str>,
    /// For each byte of `text`, the byte range of the original character it came from; empty
    /// when `text` is the original.
    origins: Vec<(usize, usize)>,
}

impl<'a> Folded<'a> {
    pub fn new(original: &'a str) -> Folded<'a> {
        if original.is_ascii() || folds_to_itself(original) {
            return Folded {
                text: Cow::Borrowed(original),
                origins: Vec::new(),
            };
        }
        let mut text = String::with_capacity(original.len());
        let mut origins = Vec::with_capacity(original.len());
        for (start, c) in original.char_indices() {
            let origin = (start, start + c.len_utf8());
            let mut push = |folded: char| {
                let mut buffer = [0u8; 4];
                let bytes = folded.encode_utf8(&mut buffer).len();
                text.push(folded);
                origins.extend(std::iter::repeat_n(origin, bytes));
            };
            if c.is_ascii() {
                push(c);
            } else if let Some(simple) = fold_simple(c) {
                simple.into_iter().for_each(&mut push);
            } else {
                // Fullwidth letters, "＠", superscript digits, "º": their compatibility form.
                for decomposed in std::iter::once(c).nfkc() {
                    match fold_simple(decomposed) {
                        Some(simple) => simple.into_iter().for_each(&mut push),
                        None => push(decomposed),
                    }
                }
            }
        }
        Folded {
            text: Cow::Owned(text),
            origins,
        }
    }

    /// The original byte range that folded range `range` came from; invisible characters
    /// between its first and last character are inside it.
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        if self.origins.is_empty() || range.is_empty() {
            return range;
        }
        self.origins[range.start].0..self.origins[range.end - 1].1
    }
}

/// Whether folding would leave `text` as it is, as for most Spanish text (accents, ñ, ¿¡,
/// most emoji): then the patterns read the original and nothing needs mapping back.
fn folds_to_itself(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii() || fold_simple(c).is_none())
        && unicode_normalization::is_nfkc_quick(text.chars())
            == unicode_normalization::IsNormalized::Yes
}

/// Spaces, dashes, digits and invisible characters; None for everything else.
fn fold_simple(c: char) -> Option<Option<char>> {
    if is_invisible(c) {
        Some(None)
    } else if c.is_whitespace() {
        Some(Some(' '))
    } else if is_dash(c) {
        Some(Some('-'))
    } else {
        digit_value(c).map(|d| Some(char::from(b'0' + d)))
    }
}

/// Zero-width spaces and joiners, the word joiner, soft hyphens, direction marks: written
/// between digits, they hide a number from a pattern without changing how it looks.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}')
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '\u{2010}'
            ..='\u{2015}'
                | '\u{2043}'
                | '\u{2212}'
                | '\u{2E3A}'
                | '\u{2E3B}'
                | '\u{FE58}'
                | '\u{FE63}'
                | '\u{FF0D}'
                | '\u{058A}'
                | '\u{1806}'
    )
}

fn digit_value(c: char) -> Option<u8> {
    let code = u32::from(c);
    DIGIT_ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&code))
        .map(|&zero| (code - zero) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_digits_spaces_dashes_and_maps_back() {
        let original = "cel\u{00A0}٩٨٧\u{2013}６５４\u{200B}321 José＠x";
        let folded = Folded::new(original);
        assert_eq!(folded.text, "cel 987-654321 José@x");
        let start = folded.text.find('9').unwrap();
        let end = folded.text.find(" J").unwrap();
        let range = folded.original_range(start..end);
        assert_eq!(&original[range], "٩٨٧\u{2013}６５４\u{200B}321");
    }

    #[test]
    fn text_that_folds_to_itself_is_borrowed() {
        for text in ["pedido 123", "¿qué tal el ñandú? 😋"] {
            let folded = Folded::new(text);
            assert!(matches!(folded.text, Cow::Borrowed(_)), "{text}");
        }
        assert_eq!(Folded::new("pedido 123").original_range(7..10), 7..10);
        for text in ["１２", "a\u{00A0}b", "x\u{200B}y", "1\u{2013}2", "Nº"] {
            assert!(matches!(Folded::new(text).text, Cow::Owned(_)), "{text}");
        }
    }
}
