//! Terms for trend detection: unigrams, bigrams and trigrams of content words, so that dishes
//! such as "pollo a la brasa" or "lomo saltado" stay whole.
//!
//! A term's key is the stems of its content words, folded (lower case, no accents), so "frío",
//! "fria" and "FRÍOS" are one term; stop-words may sit inside a term ("pollo a la brasa") but
//! never start or end one. Keys are hashed to 32 bits and stored per row at ingest, so a query
//! counts integers instead of re-tokenising a million texts; the shown surface form is
//! recovered from sample texts at query time, which also guards against hash collisions.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

use super::text::fold_for_search;

/// Changes whenever tokenising, stop-words or stemming change, so that stored hashes are
/// recomputed: the store drops hashes made under another version when it opens.
pub const TERMS_VERSION: &str = "1";

/// Stop-words allowed between two content words of one term ("pollo a la brasa").
const MAX_INNER_STOPWORDS: usize = 2;
/// Longest term, in content words.
const MAX_TERM_WORDS: usize = 3;

/// Words that carry no topic in Peruvian feedback beyond NLTK's Spanish and English lists.
const EXTRA_STOPWORDS: &str = include_str!("../../../../data/lexicon/stopwords_extra.txt");

/// One occurrence of a term in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermOccurrence {
    /// Stems of the content words, space-separated.
    pub key: String,
    /// The words as written, lower-cased, stop-words inside included.
    pub surface: String,
    pub hash: u32,
}

struct Word {
    surface: String,
    stem: String,
    is_stop: bool,
}

fn stopwords() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        let mut set = HashSet::new();
        for language in ["es", "en"] {
            for word in stop_words::lookup(language).unwrap_or_default() {
                set.insert(fold_for_search(word));
            }
        }
        set.extend(
            EXTRA_STOPWORDS
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        );
        set
    })
}

/// Words remembered per thread and language by [`stem`] before it starts afresh.
const STEM_CACHE_WORDS: usize = 100_000;

thread_local! {
    /// Stems already computed on this thread, Spanish then English: feedback repeats its
    /// words, and stemming was most of the cost of extracting terms.
    static STEMS: RefCell<[HashMap<String, String>; 2]> = RefCell::default();
}

/// The stem of a folded word, as [`stemmer`] gives it, remembered.
fn stem(language: &str, folded: &str) -> String {
    STEMS.with(|stems| {
        let mut stems = stems.borrow_mut();
        let cache = &mut stems[usize::from(language == "en")];
        if let Some(stem) = cache.get(folded) {
            return stem.clone();
        }
        let stem = stemmer(language).stem(folded).into_owned();
        if cache.len() >= STEM_CACHE_WORDS {
            cache.clear();
        }
        cache.insert(folded.to_string(), stem.clone());
        stem
    })
}

fn stemmer(language: &str) -> &'static Stemmer {
    static SPANISH: OnceLock<Stemmer> = OnceLock::new();
    static ENGLISH: OnceLock<Stemmer> = OnceLock::new();
    if language == "en" {
        ENGLISH.get_or_init(|| Stemmer::create(Algorithm::English))
    } else {
        SPANISH.get_or_init(|| Stemmer::create(Algorithm::Spanish))
    }
}

/// FNV-1a, folded to 32 bits: stable across builds and platforms, unlike `DefaultHasher`,
/// because the hashes are stored.
pub fn hash_key(key: &str) -> u32 {
    let mut hasher = KeyHasher::new();
    hasher.write(key.as_bytes());
    hasher.finish()
}

/// [`hash_key`] fed piece by piece, so that a term's hash extends the hash of the term one
/// word shorter instead of building each key.
#[derive(Clone, Copy)]
struct KeyHasher(u64);

impl KeyHasher {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(self) -> u32 {
        (self.0 ^ (self.0 >> 32)) as u32
    }
}

/// Splits text into phrases (no term crosses punctuation) of words; drops handles, links,
/// redaction placeholders and numbers.
fn phrases(text: &str, language: &str) -> Vec<Vec<Word>> {
    let stop = stopwords();
    let mut phrases = vec![Vec::new()];
    for raw in text.split_whitespace() {
        let lower = raw.to_lowercase();
        if lower.starts_with('@')
            || lower.starts_with('[')
            || lower.contains("http")
            || lower.starts_with("www.")
        {
            phrases.push(Vec::new());
            continue;
        }
        // A word may carry punctuation on either side ("frío," "¡rico!"), which ends a phrase.
        let mut current = String::new();
        let flush = |word: &mut String, phrases: &mut Vec<Vec<Word>>| {
            if !word.is_empty() && !word.chars().any(|c| c.is_ascii_digit()) {
                let folded = fold_for_search(word);
                // One letter ("a", "y", "o") is a stop-word: it may sit inside a term.
                let is_stop = folded.chars().count() == 1 || stop.contains(&folded);
                let stem = stem(language, &folded);
                phrases.last_mut().expect("at least one phrase").push(Word {
                    surface: std::mem::take(word),
                    stem,
                    is_stop,
                });
            } else if !word.is_empty() {
                // Numbers break a term, like punctuation.
                word.clear();
                phrases.push(Vec::new());
            }
        };
        for c in lower.chars() {
            if c.is_alphanumeric() {
                current.push(c);
            } else if c == '\'' || c == '-' {
                // "d'onofrio", "ají-limón": inner marks join, they do not split.
                if !current.is_empty() {
                    current.push(c);
                }
            } else {
                flush(&mut current, &mut phrases);
                phrases.push(Vec::new());
            }
        }
        let trimmed = current.trim_end_matches(['\'', '-']).to_string();
        current = trimmed;
        flush(&mut current, &mut phrases);
    }
    phrases.retain(|p| p.iter().any(|w| !w.is_stop));
    phrases
}

/// Calls `each(phrase, content, start, n, hash)` for every term in `text`, in order: the term
/// whose content words are `phrase[content[start]]` to `phrase[content[start + n]]`.
fn for_each_term(
    text: &str,
    language: &str,
    mut each: impl FnMut(&[Word], &[usize], usize, usize, u32),
) {
    for phrase in phrases(text, language) {
        let content: Vec<usize> = phrase
            .iter()
            .enumerate()
            .filter(|(_, w)| !w.is_stop)
            .map(|(i, _)| i)
            .collect();
        for start in 0..content.len() {
            let mut hasher = KeyHasher::new();
            for n in 0..MAX_TERM_WORDS {
                let Some(&last) = content.get(start + n) else {
                    break;
                };
                if n > 0 && last - content[start + n - 1] - 1 > MAX_INNER_STOPWORDS {
                    break;
                }
                if n > 0 {
                    hasher.write(b" ");
                }
                hasher.write(phrase[last].stem.as_bytes());
                each(&phrase, &content, start, n, hasher.finish());
            }
        }
    }
}

/// Every term occurrence in `text`, in order. `language` picks the stemmer ("en" or Spanish).
pub fn extract(text: &str, language: &str) -> Vec<TermOccurrence> {
    let mut out = Vec::new();
    for_each_term(text, language, |phrase, content, start, n, hash| {
        let key = content[start..=start + n]
            .iter()
            .map(|&i| phrase[i].stem.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let surface = phrase[content[start]..=content[start + n]]
            .iter()
            .map(|w| w.surface.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        out.push(TermOccurrence { key, surface, hash });
    });
    out
}

/// The distinct term hashes of a text, sorted: what is stored per row. Builds no key or
/// surface string, unlike [`extract`].
pub fn term_hashes(text: &str, language: &str) -> Vec<u32> {
    let mut hashes: Vec<u32> = Vec::new();
    for_each_term(text, language, |_, _, _, _, hash| hashes.push(hash));
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// Little-endian u32s, the stored form.
pub fn encode(hashes: &[u32]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.to_le_bytes()).collect()
}

pub fn decode(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<String> {
        extract(text, "es").into_iter().map(|t| t.surface).collect()
    }

    #[test]
    fn dishes_stay_whole_and_stopwords_never_start_or_end_a_term() {
        let surfaces = keys("Pedí pollo a la brasa y lomo saltado");
        assert!(
            surfaces.contains(&"pollo a la brasa".to_string()),
            "{surfaces:?}"
        );
        assert!(
            surfaces.contains(&"lomo saltado".to_string()),
            "{surfaces:?}"
        );
        assert!(surfaces
            .iter()
            .all(|s| !s.starts_with("a ") && !s.ends_with(" la")));
        assert!(!surfaces.contains(&"y".to_string()));
    }

    #[test]
    fn accents_case_and_gender_fold_to_one_key() {
        let a = extract("llegó FRÍO", "es");
        let b = extract("llego fria", "es");
        assert_eq!(a.last().unwrap().key, b.last().unwrap().key);
        assert_eq!(a.last().unwrap().hash, b.last().unwrap().hash);
        assert_eq!(a.last().unwrap().surface, "frío");
    }

    #[test]
    fn punctuation_numbers_handles_and_placeholders_break_terms() {
        let surfaces =
            keys("rico, pero caro. @kevin123 [telefono] 45 minutos https://x.pe delivery");
        assert!(!surfaces
            .iter()
            .any(|s| s.contains("rico pero") || s.contains("caro minutos")));
        assert!(!surfaces
            .iter()
            .any(|s| s.contains("kevin") || s.contains("telefono") || s.contains("http")));
        assert!(surfaces.contains(&"minutos".to_string()));
    }

    #[test]
    fn english_uses_its_own_stemmer_and_stopwords() {
        let surfaces: Vec<String> = extract("The delivery was really late again", "en")
            .into_iter()
            .map(|t| t.key)
            .collect();
        assert!(
            surfaces.contains(&"deliveri late".to_string()),
            "{surfaces:?}"
        );
    }

    #[test]
    fn term_hashes_are_the_hashes_of_the_extracted_keys() {
        for (text, language) in [
            (
                "Pedí pollo a la brasa y lomo saltado, llegó frío pero rico",
                "es",
            ),
            (
                "The delivery was really late again, but the staff was friendly",
                "en",
            ),
            (
                "ají de gallina de la casa de la abuela; 45 minutos @x [telefono]",
                "es",
            ),
        ] {
            let terms = extract(text, language);
            assert!(
                terms.iter().all(|t| t.hash == hash_key(&t.key)),
                "{terms:?}"
            );
            let mut expected: Vec<u32> = terms.iter().map(|t| t.hash).collect();
            expected.sort_unstable();
            expected.dedup();
            assert_eq!(term_hashes(text, language), expected, "{text}");
        }
    }

    #[test]
    fn hashes_round_trip_and_are_stable() {
        let hashes = term_hashes("el pollo llegó frío, el pollo llegó frío", "es");
        assert_eq!(decode(&encode(&hashes)).collect::<Vec<_>>(), hashes);
        assert!(hashes.windows(2).all(|w| w[0] < w[1]));
        // Stored in databases: a change here would orphan every stored term.
        assert_eq!(hash_key("poll lleg fri"), 0xd3eb_5b2b);
        assert_eq!(hash_key(""), 0x8422_2325 ^ 0xcbf2_9ce4);
    }
}
