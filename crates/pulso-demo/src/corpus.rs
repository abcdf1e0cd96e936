//! Phrase banks for the demo text generator, one corpus per language:
//! `data/demo/corpus_es.json` (Peruvian Spanish) and `data/demo/corpus_en.json` (tourists
//! in Cusco, Lima or Arequipa and expats ordering in).
//!
//! Phrases are fragments, combined per row by `compose`, with placeholders in braces that
//! it fills; `data/demo/README.md` lists them. Every phrase is expanded for every product
//! in the tests, so a typo in a placeholder or a broken agreement shows up there.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::catalog::Brand;
use super::Polarity;

/// Phrases for one aspect, by the feeling they carry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Bank {
    pub positive: Vec<String>,
    pub neutral: Vec<String>,
    pub negative: Vec<String>,
}

impl Bank {
    pub(crate) fn get(&self, polarity: Polarity) -> &[String] {
        match polarity {
            Polarity::Positive => &self.positive,
            Polarity::Neutral => &self.neutral,
            Polarity::Negative => &self.negative,
        }
    }
}

/// Texting shortcuts ("q", "xq", "x fa"), applied by `compose` to some texts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Abbreviations {
    /// Several-word phrases and the ways people shorten them, tried in order.
    pub phrases: Vec<(String, Vec<String>)>,
    /// Whole words and their short form; each starts with an ASCII lower-case letter.
    pub words: Vec<(String, String)>,
}

/// Everything the composer needs for one language: the shape of a corpus file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Lexicon {
    pub interjections: Bank,
    pub greetings: Bank,
    /// Sign-offs about places (restaurants, markets).
    pub closers: Bank,
    /// Sign-offs about products (snacks, drinks, panetón).
    pub closers_product: Bank,
    pub slang: Bank,
    pub emoji: Bank,
    pub hashtags: Bank,
    pub short_social: Bank,
    pub short_review: Bank,
    pub short_survey: Bank,
    pub titles: Bank,
    pub video_captions: Bank,
    pub survey_suggestions: Bank,
    pub survey_suggestions_product: Bank,
    /// Openings of survey answers that explain the score ("Le pongo 9 porque").
    pub survey_reasons: Bank,
    pub meh: Vec<String>,
    pub mixed_connectors: Vec<String>,
    /// Whole mixed-feelings lines ("rico pero caro").
    pub mixed_short: Vec<String>,
    pub sarcasm: Vec<String>,
    /// How questions often start ("consulta:").
    pub question_openers: Vec<String>,
    pub questions_restaurant: Vec<String>,
    pub questions_packaged: Vec<String>,
    pub questions_market: Vec<String>,
    pub context_visit: Vec<String>,
    pub context_delivery: Vec<String>,
    pub context_packaged: Vec<String>,
    pub context_market: Vec<String>,
    pub occasion_summer: Vec<String>,
    pub occasion_fiestas_patrias: Vec<String>,
    pub occasion_pollo_day: Vec<String>,
    pub occasion_christmas: Vec<String>,
    pub occasion_new_year: Vec<String>,
    pub occasion_mothers_day: Vec<String>,
    pub food: Bank,
    pub dish: Bank,
    pub service: Bank,
    pub wait: Bank,
    pub ambience: Bank,
    pub price: Bank,
    pub delivery_time: Bank,
    pub delivery_state: Bank,
    pub rider: Bank,
    pub order_accuracy: Bank,
    pub app: Bank,
    pub packaging: Bank,
    pub availability: Bank,
    pub market_service: Bank,
    pub queue: Bank,
    pub delivery_slump: Bank,
    pub launch_buzz: Bank,
    pub packaging_issue: Bank,
    pub companions: Vec<String>,
    pub when_morning: Vec<String>,
    pub when_midday: Vec<String>,
    pub when_evening: Vec<String>,
    pub when_night: Vec<String>,
    /// Monday first.
    pub weekdays: [String; 7],
    pub staff: Vec<String>,
    /// Said after tagging a friend ("vamos?"), after a space.
    pub friend_nudges: Vec<String>,
    /// Joiners between sentences typed loosely on a phone, spaces included.
    pub loose_separators: Vec<String>,
    pub abbreviations: Abbreviations,
    /// Words whose last vowel people hold ("riquísimooo"). Both languages' lists apply
    /// to every text, since people mix them.
    pub stretchable: Vec<String>,
    /// Praise and complaints only one kind of brand gets, by the key brands name in
    /// `data/demo/catalog.json`.
    pub specialties: BTreeMap<String, Bank>,
}

impl Lexicon {
    /// The bank of praise and complaints only `brand`'s kind of business gets.
    pub(crate) fn specialty(&self, brand: &Brand) -> &Bank {
        // The catalog checks every brand's key against both corpora when it loads.
        &self.specialties[&brand.specialty]
    }
}

/// The Spanish corpus, parsed on first use.
pub(crate) fn spanish() -> &'static Lexicon {
    static SPANISH: LazyLock<Lexicon> = LazyLock::new(|| {
        super::load_data_file(
            "corpus_es.json",
            include_str!("../../../data/demo/corpus_es.json"),
        )
    });
    &SPANISH
}

/// The English corpus, parsed on first use. Same placeholders as the Spanish one, except
/// that `{p}` has no article ("the {p} was great") and agreement uses `{#singular|plural}`.
pub(crate) fn english() -> &'static Lexicon {
    static ENGLISH: LazyLock<Lexicon> = LazyLock::new(|| {
        super::load_data_file(
            "corpus_en.json",
            include_str!("../../../data/demo/corpus_en.json"),
        )
    });
    &ENGLISH
}
