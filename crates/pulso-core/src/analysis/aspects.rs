//! Aspect-based sentiment for food: which part of the experience a clause talks about.
//!
//! A mention is split into clauses at punctuation and adversatives ("la comida rica **pero** la
//! atención pésima"); each clause is matched against a lexicon of Peruvian Spanish and English
//! words. The scorer then scores each clause that names an aspect and stores the result, so
//! aspect queries never run the model.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::text::fold_for_search;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Aspect {
    Taste,
    Price,
    Service,
    Delivery,
    Hygiene,
    Portion,
    Freshness,
    Packaging,
}

impl Aspect {
    pub const ALL: [Aspect; 8] = [
        Self::Taste,
        Self::Price,
        Self::Service,
        Self::Delivery,
        Self::Hygiene,
        Self::Portion,
        Self::Freshness,
        Self::Packaging,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Taste => "taste",
            Self::Price => "price",
            Self::Service => "service",
            Self::Delivery => "delivery",
            Self::Hygiene => "hygiene",
            Self::Portion => "portion",
            Self::Freshness => "freshness",
            Self::Packaging => "packaging",
        }
    }

    /// The Spanish name, for written insights.
    pub fn spanish(self) -> &'static str {
        match self {
            Self::Taste => "sabor",
            Self::Price => "precio",
            Self::Service => "atención",
            Self::Delivery => "delivery",
            Self::Hygiene => "higiene",
            Self::Portion => "porción",
            Self::Freshness => "frescura",
            Self::Packaging => "empaque",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn valid_names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }
}

/// One aspect's entry in `data/lexicon/aspects.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconEntry {
    /// Whole folded words.
    words: Vec<String>,
    /// Any folded word starting with one of these ("demor" matches demora, demoró, demorado).
    prefixes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    adversatives: Vec<String>,
    taste: LexiconEntry,
    price: LexiconEntry,
    service: LexiconEntry,
    delivery: LexiconEntry,
    hygiene: LexiconEntry,
    portion: LexiconEntry,
    freshness: LexiconEntry,
    packaging: LexiconEntry,
}

struct Lexicon {
    adversatives: Vec<String>,
    /// Each whole word's aspects, a bit per aspect in [`Aspect::ALL`] order.
    words: HashMap<String, u8>,
    /// Each prefix's aspects, as for `words`.
    prefixes: HashMap<String, u8>,
    /// The byte lengths of the prefixes, each once.
    prefix_lengths: Vec<usize>,
}

impl Lexicon {
    fn new(file: LexiconFile) -> Self {
        let entries = [
            file.taste,
            file.price,
            file.service,
            file.delivery,
            file.hygiene,
            file.portion,
            file.freshness,
            file.packaging,
        ];
        let mut words: HashMap<String, u8> = HashMap::new();
        let mut prefixes: HashMap<String, u8> = HashMap::new();
        for (aspect, entry) in entries.into_iter().enumerate() {
            for word in entry.words {
                *words.entry(word).or_default() |= 1 << aspect;
            }
            for prefix in entry.prefixes {
                *prefixes.entry(prefix).or_default() |= 1 << aspect;
            }
        }
        let mut prefix_lengths: Vec<usize> = prefixes.keys().map(String::len).collect();
        prefix_lengths.sort_unstable();
        prefix_lengths.dedup();
        Self {
            adversatives: file.adversatives,
            words,
            prefixes,
            prefix_lengths,
        }
    }

    /// The aspects a folded word names: it is one of an aspect's words or starts with one of
    /// its prefixes. A few hash lookups, not a scan of the whole lexicon per word.
    fn aspects_of_word(&self, folded_word: &str) -> u8 {
        let mut found = self.words.get(folded_word).copied().unwrap_or(0);
        for &length in &self.prefix_lengths {
            if length > folded_word.len() {
                break;
            }
            if let Some(prefix) = folded_word.get(..length) {
                found |= self.prefixes.get(prefix).copied().unwrap_or(0);
            }
        }
        found
    }
}

const LEXICON_FILE: &str = include_str!("../../../../data/lexicon/aspects.toml");

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        // Compiled in, so a broken file fails the first test that splits a clause.
        let file: LexiconFile = toml::from_str(LEXICON_FILE)
            .unwrap_or_else(|e| panic!("data/lexicon/aspects.toml is malformed: {e}"));
        Lexicon::new(file)
    })
}

/// "sin embargo" is two words; its first word alone ("sin sal") is not adversative.
const SIN_EMBARGO: (&str, &str) = ("sin", "embargo");

/// One clause of a mention and the aspects it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub text: String,
    pub aspects: Vec<Aspect>,
}

/// Splits a mention into clauses and finds each clause's aspects. Clauses without words are
/// dropped; the order of the text is kept.
pub fn clauses(text: &str) -> Vec<Clause> {
    let lexicon = lexicon();
    let mut out: Vec<Clause> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let finish = |current: &mut Vec<&str>, out: &mut Vec<Clause>| {
        let text = current.join(" ");
        current.clear();
        let text = text
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '¿' && c != '¡')
            .to_string();
        if !text.chars().any(char::is_alphabetic) {
            return;
        }
        let found = fold_for_search(&text)
            .split(|c: char| !c.is_alphanumeric())
            .fold(0u8, |found, word| found | lexicon.aspects_of_word(word));
        let aspects = Aspect::ALL
            .into_iter()
            .filter(|aspect| found & (1 << *aspect as u8) != 0)
            .collect();
        out.push(Clause { text, aspects });
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    // Each word folded once, without the punctuation around it.
    let bare: Vec<String> = words
        .iter()
        .map(|word| {
            fold_for_search(word)
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_string()
        })
        .collect();
    for (i, word) in words.iter().enumerate() {
        let starts_clause = lexicon.adversatives.iter().any(|a| *a == bare[i])
            || (bare[i] == SIN_EMBARGO.0
                && bare.get(i + 1).is_some_and(|next| next == SIN_EMBARGO.1));
        if starts_clause && !current.is_empty() {
            finish(&mut current, &mut out);
        }
        current.push(word);
        if word.ends_with(['.', ',', ';', ':', '!', '?', '…']) {
            finish(&mut current, &mut out);
        }
    }
    finish(&mut current, &mut out);
    out
}

/// Clauses to score for one mention, and which aspects each speaks for. When every aspect
/// sits in one clause that is the whole text, the mention's own score is reused: `None`.
pub fn clauses_to_score(text: &str) -> Option<Vec<Clause>> {
    let all = clauses(text);
    let with_aspects: Vec<Clause> = all
        .iter()
        .filter(|c| !c.aspects.is_empty())
        .cloned()
        .collect();
    if with_aspects.is_empty() {
        return Some(Vec::new());
    }
    if all.len() == 1 {
        return None;
    }
    Some(with_aspects)
}

/// The aspects a whole mention names.
pub fn aspects_of(text: &str) -> Vec<Aspect> {
    let mut aspects: Vec<Aspect> = clauses(text).into_iter().flat_map(|c| c.aspects).collect();
    aspects.sort();
    aspects.dedup();
    aspects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adversatives_split_praise_from_complaint() {
        let parts = clauses("La comida rica pero la atención pésima");
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(parts[0].text, "La comida rica");
        assert_eq!(parts[0].aspects, vec![Aspect::Taste]);
        assert_eq!(parts[1].text, "pero la atención pésima");
        assert_eq!(parts[1].aspects, vec![Aspect::Service]);
    }

    #[test]
    fn punctuation_and_sin_embargo_split_but_sin_sal_does_not() {
        let parts =
            clauses("El pollo llegó frío. Sin embargo, el precio es barato; sin sal la papa");
        let texts: Vec<&str> = parts.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "El pollo llegó frío",
                "Sin embargo",
                "el precio es barato",
                "sin sal la papa"
            ]
        );
        assert_eq!(parts[0].aspects, vec![Aspect::Delivery]);
        assert_eq!(parts[2].aspects, vec![Aspect::Price]);
    }

    #[test]
    fn peruvian_and_english_vocabulary() {
        assert_eq!(
            aspects_of("el motorizado se demoró una hora"),
            vec![Aspect::Delivery]
        );
        assert_eq!(
            aspects_of("buena sazón, porción contundente"),
            vec![Aspect::Taste, Aspect::Portion]
        );
        assert_eq!(
            aspects_of("galletas rancias, el empaque venía abierto"),
            vec![Aspect::Freshness, Aspect::Packaging]
        );
        assert_eq!(
            aspects_of("Overpriced and the waiter was rude"),
            vec![Aspect::Price, Aspect::Service]
        );
        assert_eq!(aspects_of("baño sucio"), vec![Aspect::Hygiene]);
        assert!(aspects_of("hola, ¿abren el domingo?").is_empty());
    }

    #[test]
    fn the_lexicon_index_matches_whole_words_and_prefixes_as_the_file_says() {
        let file: LexiconFile = toml::from_str(LEXICON_FILE).unwrap();
        let entries = [
            &file.taste,
            &file.price,
            &file.service,
            &file.delivery,
            &file.hygiene,
            &file.portion,
            &file.freshness,
            &file.packaging,
        ];
        // What the file says, read the slow way.
        let expected = |word: &str| -> u8 {
            let mut found = 0;
            for (aspect, entry) in entries.iter().enumerate() {
                if entry.words.iter().any(|w| w == word)
                    || entry.prefixes.iter().any(|p| word.starts_with(p.as_str()))
                {
                    found |= 1 << aspect;
                }
            }
            found
        };
        let mut candidates: Vec<String> = vec![String::new(), "x".into(), "ñandú".into()];
        for entry in entries {
            for word in entry.words.iter().chain(&entry.prefixes) {
                candidates.push(word.clone());
                candidates.push(format!("{word}ado"));
                candidates.push(format!("{word}ñ"));
                candidates.push(format!("a{word}"));
                let mut shorter = word.clone();
                shorter.pop();
                candidates.push(shorter);
            }
        }
        let lexicon = lexicon();
        for word in &candidates {
            assert_eq!(lexicon.aspects_of_word(word), expected(word), "{word:?}");
        }
        assert!(candidates.iter().any(|w| lexicon.aspects_of_word(w) != 0));
    }

    #[test]
    fn one_clause_reuses_the_mention_score() {
        assert_eq!(clauses_to_score("el pollo llegó frío"), None);
        assert_eq!(clauses_to_score("¿abren hoy?"), Some(vec![]));
        let split = clauses_to_score("rico pero caro").unwrap();
        assert_eq!(split.len(), 2);
    }
}
