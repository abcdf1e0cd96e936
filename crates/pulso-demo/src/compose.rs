//! Turns one planned row (who, where, what, how they felt) into text that reads like a
//! person wrote it: the platform decides the shape (tweet, review, survey answer…), the
//! phrase banks give the words, and a last pass adds the noise of real typing
//! (abbreviations, missing accents, stretched words, typos, caps lock).

use rand::Rng;

use pulso_store::feedback::SourceType;

use super::calendar::Occasion;
use super::catalog::{catalog, Brand, BrandGroup, Platform, Product, Region, Style};
use super::corpus::{english, spanish, Abbreviations, Bank, Lexicon};
use super::{chance, pick, Polarity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Language {
    Spanish,
    English,
}

impl Language {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Spanish => "es",
            Self::English => "en",
        }
    }

    fn lexicon(self) -> &'static Lexicon {
        match self {
            Self::Spanish => spanish(),
            Self::English => english(),
        }
    }
}

/// Why a row exists: ordinary chatter or one of the planted trends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Theme {
    Organic,
    DeliverySlump,
    Launch,
    PackagingIssue,
}

/// How the feeling is expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Plain,
    /// Praise and complaint together ("rico pero caro"); counts as neutral.
    Mixed,
    /// "Estaba bien, nada especial."
    Meh,
    /// Informational question; social media only.
    Question,
    /// Ironic praise that means the opposite.
    Sarcastic,
    /// All-caps complaint.
    Rant,
}

/// Everything the composer needs to know about one row.
pub(crate) struct Scene {
    pub brand: &'static Brand,
    pub product: &'static Product,
    pub region: &'static Region,
    pub city: &'static str,
    pub platform: &'static Platform,
    pub occasion: Occasion,
    pub weekday: usize,
    pub hour: u32,
    pub theme: Theme,
    pub language: Language,
    /// The star rating the row will carry, if its source has one.
    pub rating: Option<f64>,
}

impl Scene {
    fn is_social(&self) -> bool {
        self.platform.source == SourceType::Social
    }
}

/// Decides how a feeling gets expressed on this platform.
pub(crate) fn pick_tone<R: Rng>(rng: &mut R, scene: &Scene, polarity: Polarity) -> Tone {
    let style = scene.platform.style;
    match polarity {
        Polarity::Positive => Tone::Plain,
        // Planted trends carry their own neutral lines (questions about the launch…).
        Polarity::Neutral if scene.theme != Theme::Organic => Tone::Plain,
        Polarity::Neutral => {
            let roll: f64 = rng.gen();
            if scene.is_social() && roll < 0.28 {
                Tone::Question
            } else if roll < 0.62 {
                Tone::Mixed
            } else {
                Tone::Meh
            }
        }
        Polarity::Negative => {
            let roll: f64 = rng.gen();
            // Caps-lock rants: common on Twitter and Facebook, rare on Google Maps.
            let rant_above = match style {
                Style::Tweet | Style::Facebook => 0.9,
                Style::GoogleMaps => 0.97,
                _ => 1.0,
            };
            if scene.is_social() && scene.theme == Theme::Organic && roll < 0.07 {
                Tone::Sarcastic
            } else if roll > rant_above {
                Tone::Rant
            } else {
                Tone::Plain
            }
        }
    }
}

/// A 1–5 star rating consistent with what the text says.
pub(crate) fn rating<R: Rng>(rng: &mut R, polarity: Polarity, tone: Tone) -> f64 {
    let roll: f64 = rng.gen();
    match (polarity, tone) {
        (Polarity::Positive, _) => {
            if roll < 0.7 {
                5.0
            } else {
                4.0
            }
        }
        (Polarity::Neutral, Tone::Mixed) => {
            if roll < 0.55 {
                3.0
            } else if roll < 0.8 {
                4.0
            } else {
                2.0
            }
        }
        (Polarity::Neutral, _) => {
            if roll < 0.7 {
                3.0
            } else if roll < 0.85 {
                4.0
            } else {
                2.0
            }
        }
        (Polarity::Negative, _) => {
            if roll < 0.65 {
                1.0
            } else {
                2.0
            }
        }
    }
}

/// Writes the text for one row.
pub(crate) fn compose<R: Rng>(
    rng: &mut R,
    scene: &Scene,
    polarity: Polarity,
    tone: Tone,
) -> String {
    let mut writer = Writer::new(rng, scene);
    match scene.platform.style {
        Style::Tweet => writer.tweet(polarity, tone),
        Style::Instagram => writer.instagram(polarity, tone, false),
        Style::TikTok => writer.instagram(polarity, tone, true),
        Style::Facebook => writer.facebook(polarity, tone),
        Style::DeliveryApp => writer.delivery_review(polarity, tone),
        Style::GoogleMaps => writer.maps_review(polarity, tone),
        Style::Tripadvisor => writer.tripadvisor(polarity, tone),
        Style::SurveyNps | Style::SurveyPurchase => writer.survey(polarity, tone),
    }
    writer.finish(tone)
}

/// What an opinion is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aspect {
    Food,
    Dish,
    Specialty,
    Service,
    Wait,
    Ambience,
    Price,
    DeliveryTime,
    DeliveryState,
    Rider,
    OrderAccuracy,
    App,
    Packaging,
    Availability,
    MarketService,
    Queue,
    Slump,
    Launch,
    Issue,
}

impl Aspect {
    fn is_about_food(self) -> bool {
        matches!(self, Self::Food | Self::Dish | Self::Specialty)
    }
}

/// The aspects people mention for a brand on a platform, and how often.
fn aspect_weights(scene: &Scene) -> &'static [(Aspect, f64)] {
    use Aspect::*;
    match scene.theme {
        Theme::DeliverySlump => &[
            (Slump, 6.0),
            (DeliveryTime, 1.0),
            (DeliveryState, 1.0),
            (Specialty, 0.5),
        ],
        Theme::Launch => &[(Launch, 8.0), (Price, 0.6), (Availability, 0.8)],
        Theme::PackagingIssue => &[(Issue, 8.0), (Packaging, 1.0), (Food, 0.6)],
        Theme::Organic => match (scene.brand.group, scene.platform.source) {
            (BrandGroup::Restaurant, SourceType::Delivery) => &[
                (DeliveryTime, 3.0),
                (DeliveryState, 2.5),
                (Food, 3.0),
                (Specialty, 2.0),
                (OrderAccuracy, 1.0),
                (Rider, 1.0),
                (Price, 1.0),
                (App, 0.6),
            ],
            (BrandGroup::Restaurant, SourceType::Review) => &[
                (Food, 3.0),
                (Specialty, 2.5),
                (Dish, 1.5),
                (Service, 2.5),
                (Wait, 1.2),
                (Ambience, 1.5),
                (Price, 1.5),
            ],
            (BrandGroup::Restaurant, SourceType::Social) => &[
                (Food, 4.0),
                (Specialty, 2.5),
                (Price, 1.2),
                (Service, 1.0),
                (DeliveryTime, 0.8),
                (Dish, 0.8),
            ],
            (BrandGroup::Restaurant, SourceType::Survey) => &[
                (Service, 3.0),
                (Food, 2.5),
                (Wait, 1.5),
                (Ambience, 1.0),
                (Price, 1.0),
                (Dish, 1.0),
            ],
            (BrandGroup::Market, SourceType::Delivery) => &[
                (DeliveryTime, 3.0),
                (Specialty, 3.0),
                (OrderAccuracy, 1.5),
                (Rider, 1.0),
                (App, 0.8),
                (Price, 1.0),
            ],
            (BrandGroup::Market, _) => &[
                (Specialty, 4.0),
                (Price, 2.5),
                (MarketService, 2.0),
                (Queue, 1.2),
                (Ambience, 1.0),
                (Service, 0.8),
            ],
            (BrandGroup::Packaged | BrandGroup::Beverage, _) => &[
                (Food, 4.0),
                (Specialty, 3.0),
                (Price, 1.5),
                (Packaging, 1.0),
                (Availability, 0.8),
            ],
        },
    }
}

/// Joins the sentences of one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// "Frase uno. Frase dos."
    Formal,
    /// "frase uno, frase dos"
    Comma,
    /// Mixed spaces, commas and dots, as typed on a phone.
    Loose,
}

/// Most aspects a single text talks about.
const MAX_ASPECTS: usize = 4;

struct Writer<'a, R: Rng> {
    rng: &'a mut R,
    scene: &'a Scene,
    lexicon: &'static Lexicon,
    out: String,
    /// The product as written in this text; adjectives agree with it.
    alias: &'static str,
    plural: bool,
    feminine: bool,
    /// How often the product has been named so far.
    mentions: u32,
    flow: Flow,
    /// Capitalise the first letter of the first sentence (phones do it for you).
    capitalize_first: bool,
    /// The previous fragment already wrote its own joiner ("asu, ").
    glued: bool,
    /// The next fragment continues a sentence, so it keeps its lower-case start.
    lowercase_next: bool,
    /// The previous fragment ended a sentence, so the next one starts with a capital.
    capitalize_next: bool,
}

impl<'a, R: Rng> Writer<'a, R> {
    fn new(rng: &'a mut R, scene: &'a Scene) -> Self {
        let aliases = match scene.language {
            Language::Spanish => &scene.product.aliases_es,
            Language::English => &scene.product.aliases_en,
        };
        let alias = pick(rng, aliases).as_str();
        let (plural, feminine) = match scene.language {
            Language::Spanish => spanish_agreement(alias),
            Language::English => (alias.ends_with('s'), false),
        };
        Self {
            rng,
            scene,
            lexicon: scene.language.lexicon(),
            out: String::with_capacity(256),
            alias,
            plural,
            feminine,
            mentions: 0,
            flow: Flow::Formal,
            capitalize_first: true,
            glued: false,
            lowercase_next: false,
            capitalize_next: false,
        }
    }

    fn chance(&mut self, probability: f64) -> bool {
        chance(self.rng, probability)
    }

    /// A count between `low` and `high` inclusive (sampled as u32, which is portable).
    fn count(&mut self, low: u32, high: u32) -> usize {
        self.rng.gen_range(low..=high) as usize
    }

    fn pick<S: AsRef<str>>(&mut self, items: &'static [S]) -> &'static str {
        pick(self.rng, items).as_ref()
    }

    fn set_flow(&mut self, formal: f64, comma: f64) {
        let roll: f64 = self.rng.gen();
        self.flow = if roll < formal {
            Flow::Formal
        } else if roll < formal + comma {
            Flow::Comma
        } else {
            Flow::Loose
        };
    }

    // ---- text shapes, one per platform style ----

    fn tweet(&mut self, polarity: Polarity, tone: Tone) {
        self.set_flow(0.2, 0.4);
        self.capitalize_first = self.chance(0.35);
        if self.chance(0.22) {
            self.mention();
        }
        if matches!(tone, Tone::Plain | Tone::Rant | Tone::Mixed) && self.chance(0.35) {
            self.interjection(polarity);
        }
        if self.chance(0.3) {
            self.occasion();
        }
        if tone == Tone::Plain && self.chance(0.15) {
            self.context();
        }
        let clauses = if self.chance(0.6) { 1 } else { 2 };
        self.body(polarity, tone, clauses);
        if polarity != Polarity::Neutral && self.chance(0.25) {
            self.bank_fragment(&self.lexicon.slang, polarity);
        }
        if tone != Tone::Question && self.chance(0.12) {
            self.bank_fragment(self.closers(), polarity);
        }
        if self.chance(0.3) {
            self.hashtags(polarity);
        }
        if self.chance(0.5) {
            self.emoji(polarity);
        }
    }

    fn instagram(&mut self, polarity: Polarity, tone: Tone, video: bool) {
        self.set_flow(0.1, 0.3);
        self.capitalize_first = self.chance(0.4);
        let tag_friend = polarity != Polarity::Negative && self.chance(0.25);
        if tag_friend && self.chance(0.5) {
            self.push_friend();
            self.out.push(' ');
            self.glued = true;
        }
        if video && self.chance(0.3) {
            self.bank_fragment(&self.lexicon.video_captions, polarity);
        } else if matches!(tone, Tone::Plain | Tone::Question) && self.chance(0.2) {
            self.bank_fragment(&self.lexicon.short_social, polarity);
            if self.chance(0.3) {
                self.body(polarity, tone, 1);
            }
        } else {
            if tone != Tone::Question && self.chance(0.25) {
                self.interjection(polarity);
            }
            if self.chance(0.2) {
                self.occasion();
            }
            let clauses = if self.chance(0.7) { 1 } else { 2 };
            self.body(polarity, tone, clauses);
        }
        if polarity != Polarity::Neutral && self.chance(0.15) {
            self.bank_fragment(&self.lexicon.slang, polarity);
        }
        if tag_friend && !self.out.contains('@') {
            self.friend();
        }
        if self.chance(0.75) {
            self.emoji(polarity);
        }
        if self.chance(0.2) {
            self.hashtags(polarity);
        }
    }

    fn facebook(&mut self, polarity: Polarity, tone: Tone) {
        self.set_flow(0.7, 0.1);
        if self.chance(0.45) {
            self.greeting(polarity);
        }
        if tone != Tone::Question && self.chance(0.6) {
            self.context();
        }
        if self.chance(0.2) {
            self.occasion();
        }
        let clauses = self.count(2, 3);
        self.body(polarity, tone, clauses);
        if tone != Tone::Question && self.chance(0.55) {
            self.bank_fragment(self.closers(), polarity);
        }
        if self.chance(0.25) {
            self.emoji(polarity);
        }
    }

    fn delivery_review(&mut self, polarity: Polarity, tone: Tone) {
        self.set_flow(0.5, 0.5);
        self.capitalize_first = self.chance(0.7);
        if tone == Tone::Plain && self.scene.theme == Theme::Organic && self.chance(0.12) {
            self.bank_fragment(&self.lexicon.short_review, polarity);
            if self.chance(0.5) {
                self.body(polarity, tone, 1);
            }
        } else {
            if self.chance(0.35) {
                self.context();
            }
            let clauses = match self.rng.gen_range(0..20u32) {
                0..=4 => 1,
                5..=13 => 2,
                _ => 3,
            };
            self.body(polarity, tone, clauses);
        }
        if self.chance(0.3) {
            self.bank_fragment(self.closers(), polarity);
        }
        if self.chance(0.15) {
            self.emoji(polarity);
        }
    }

    fn maps_review(&mut self, polarity: Polarity, tone: Tone) {
        self.set_flow(0.8, 0.2);
        if tone == Tone::Plain && self.chance(0.08) {
            self.bank_fragment(&self.lexicon.short_review, polarity);
            self.body(polarity, tone, 1);
        } else {
            if self.chance(0.55) {
                self.context();
            }
            if self.chance(0.15) {
                self.occasion();
            }
            let clauses = self.count(2, 4);
            self.body(polarity, tone, clauses);
        }
        if self.chance(0.6) {
            self.bank_fragment(self.closers(), polarity);
        }
        if self.chance(0.1) {
            self.emoji(polarity);
        }
    }

    fn tripadvisor(&mut self, polarity: Polarity, tone: Tone) {
        self.flow = Flow::Formal;
        if self.chance(0.6) {
            self.bank_fragment(&self.lexicon.titles, polarity);
            self.end_title();
        }
        if self.chance(0.75) {
            self.context();
        }
        let clauses = self.count(3, 4);
        self.body(polarity, tone, clauses);
        if self.chance(0.7) {
            self.bank_fragment(self.closers(), polarity);
        }
    }

    fn survey(&mut self, polarity: Polarity, tone: Tone) {
        self.flow = Flow::Formal;
        if tone == Tone::Plain && self.chance(0.03) {
            self.bank_fragment(&self.lexicon.short_survey, polarity);
        } else {
            if self.chance(0.2) {
                self.context();
            }
            if tone != Tone::Meh && self.chance(0.65) {
                // "Le pongo 9 porque" + the reason, in one sentence.
                self.bank_fragment(&self.lexicon.survey_reasons, polarity);
                self.out.push(' ');
                self.glued = true;
                self.lowercase_next = true;
            }
            let clauses = if self.chance(0.5) { 1 } else { 2 };
            self.body(polarity, tone, clauses);
        }
        if self.chance(0.35) {
            self.bank_fragment(self.suggestions(), polarity);
        }
    }

    // ---- building blocks ----

    /// The opinion itself.
    fn body(&mut self, polarity: Polarity, tone: Tone, clauses: usize) {
        match tone {
            Tone::Mixed => self.mixed(clauses),
            Tone::Meh => {
                let more = usize::from(clauses > 1 || self.chance(0.3));
                if self.chance(0.45) {
                    let line = self.fresh_pick(&self.lexicon.meh);
                    self.fragment(line);
                    self.clauses(Polarity::Neutral, more);
                } else {
                    self.clauses(Polarity::Neutral, 1 + more);
                }
            }
            Tone::Question => {
                if self.chance(0.3) {
                    let opener = self.pick(&self.lexicon.question_openers);
                    self.fragment(opener);
                    self.out.push(' ');
                    self.glued = true;
                    self.lowercase_next = true;
                }
                let questions = match self.scene.brand.group {
                    BrandGroup::Restaurant => &self.lexicon.questions_restaurant,
                    BrandGroup::Market => &self.lexicon.questions_market,
                    BrandGroup::Packaged | BrandGroup::Beverage => &self.lexicon.questions_packaged,
                };
                let question = self.pick(questions);
                self.fragment(question);
            }
            Tone::Sarcastic => {
                let line = self.pick(&self.lexicon.sarcasm);
                self.fragment(line);
            }
            Tone::Plain | Tone::Rant => self.clauses(polarity, clauses),
        }
    }

    fn clauses(&mut self, polarity: Polarity, count: usize) {
        let (aspects, found) = self.pick_aspects(count, |_| true);
        for aspect in &aspects[..found] {
            let phrase = self.phrase(*aspect, polarity);
            self.fragment(phrase);
        }
    }

    /// One praise and one complaint, in either order; longer texts add remarks about
    /// other aspects, either way.
    fn mixed(&mut self, clauses: usize) {
        if self.chance(0.15) {
            let line = self.pick(&self.lexicon.mixed_short);
            self.fragment(line);
            return;
        }
        let (first, second) = if self.chance(0.7) {
            (Polarity::Positive, Polarity::Negative)
        } else {
            (Polarity::Negative, Polarity::Positive)
        };
        // Praise and complaint about different things: "rico pero caro", not "rico pero
        // sin sabor".
        let (mut aspects, mut found) = self.pick_aspects(clauses.max(2), |_| true);
        if found > 1 && aspects[0].is_about_food() && aspects[1].is_about_food() {
            let (others, other_count) = self.pick_aspects(1, |aspect| !aspect.is_about_food());
            if other_count == 1 {
                aspects[1] = others[0];
            } else {
                found = 1;
            }
        }
        let first_phrase = self.phrase(aspects[0], first);
        self.fragment(first_phrase);
        let connector = self.pick(&self.lexicon.mixed_connectors);
        self.out.push_str(connector);
        let second_aspect = if found > 1 { aspects[1] } else { aspects[0] };
        let second_phrase = self.phrase(second_aspect, second);
        self.expand(second_phrase);
        for aspect in aspects.iter().take(found).skip(2) {
            if *aspect == aspects[1] {
                continue;
            }
            let side = if self.chance(0.5) { first } else { second };
            let remark = self.phrase(*aspect, side);
            self.fragment(remark);
        }
    }

    /// Up to `count` different aspects among those `allowed`, weighted; returns them
    /// and how many were found.
    fn pick_aspects(
        &mut self,
        count: usize,
        allowed: impl Fn(Aspect) -> bool,
    ) -> ([Aspect; MAX_ASPECTS], usize) {
        let weights = aspect_weights(self.scene);
        let mut chosen = [Aspect::Food; MAX_ASPECTS];
        let mut used = [false; 8];
        for (taken, (aspect, _)) in used.iter_mut().zip(weights) {
            *taken = !allowed(*aspect);
        }
        let available = used
            .iter()
            .take(weights.len())
            .filter(|taken| !**taken)
            .count();
        let wanted = count.min(MAX_ASPECTS).min(available);
        for slot in chosen.iter_mut().take(wanted) {
            let total: f64 = weights
                .iter()
                .zip(used.iter())
                .filter(|(_, used)| !**used)
                .map(|((_, weight), _)| weight)
                .sum();
            let mut target = self.rng.gen::<f64>() * total;
            let mut index = 0;
            for (i, ((_, weight), taken)) in weights.iter().zip(used.iter()).enumerate() {
                if *taken {
                    continue;
                }
                index = i;
                if target < *weight {
                    break;
                }
                target -= weight;
            }
            used[index] = true;
            *slot = weights[index].0;
        }
        (chosen, wanted)
    }

    fn sells_products(&self) -> bool {
        matches!(
            self.scene.brand.group,
            BrandGroup::Packaged | BrandGroup::Beverage
        )
    }

    /// Sign-offs fitting the brand: "vuelvo al local" vs "vuelvo a comprar".
    fn closers(&self) -> &'static Bank {
        if self.sells_products() {
            &self.lexicon.closers_product
        } else {
            &self.lexicon.closers
        }
    }

    fn suggestions(&self) -> &'static Bank {
        if self.sells_products() {
            &self.lexicon.survey_suggestions_product
        } else {
            &self.lexicon.survey_suggestions
        }
    }

    fn bank(&self, aspect: Aspect) -> &'static Bank {
        let lexicon = self.lexicon;
        match aspect {
            Aspect::Food => &lexicon.food,
            Aspect::Dish => &lexicon.dish,
            Aspect::Specialty => lexicon.specialty(self.scene.brand),
            Aspect::Service => &lexicon.service,
            Aspect::Wait => &lexicon.wait,
            Aspect::Ambience => &lexicon.ambience,
            Aspect::Price => &lexicon.price,
            Aspect::DeliveryTime => &lexicon.delivery_time,
            Aspect::DeliveryState => &lexicon.delivery_state,
            Aspect::Rider => &lexicon.rider,
            Aspect::OrderAccuracy => &lexicon.order_accuracy,
            Aspect::App => &lexicon.app,
            Aspect::Packaging => &lexicon.packaging,
            Aspect::Availability => &lexicon.availability,
            Aspect::MarketService => &lexicon.market_service,
            Aspect::Queue => &lexicon.queue,
            Aspect::Slump => &lexicon.delivery_slump,
            Aspect::Launch => &lexicon.launch_buzz,
            Aspect::Issue => &lexicon.packaging_issue,
        }
    }

    /// A phrase about `aspect` with the given feeling, falling back to the food bank
    /// where an aspect has nothing to say (no praise in a complaint trend).
    fn phrase(&mut self, aspect: Aspect, polarity: Polarity) -> &'static str {
        let phrases = self.bank(aspect).get(polarity);
        if phrases.is_empty() {
            self.fresh_pick(self.lexicon.food.get(polarity))
        } else {
            self.fresh_pick(phrases)
        }
    }

    /// Picks a phrase, avoiding (within a few tries) one the text already contains.
    fn fresh_pick(&mut self, phrases: &'static [String]) -> &'static str {
        let mut phrase = self.pick(phrases);
        if self.out.is_empty() {
            return phrase;
        }
        for _ in 0..3 {
            // The longest fixed part of the template ("…, aunque he probado mejores").
            let literal = phrase
                .split('{')
                .map(|piece| piece.split_once('}').map_or(piece, |(_, rest)| rest))
                .max_by_key(|piece| piece.len())
                .unwrap_or(phrase);
            if literal.len() < 8 || !self.out.contains(literal.trim()) {
                break;
            }
            phrase = self.pick(phrases);
        }
        phrase
    }

    fn bank_fragment(&mut self, bank: &'static Bank, polarity: Polarity) {
        let phrases = bank.get(polarity);
        if !phrases.is_empty() {
            let phrase = self.fresh_pick(phrases);
            self.fragment(phrase);
        }
    }

    fn context(&mut self) {
        let lexicon = self.lexicon;
        let contexts = match (self.scene.brand.group, self.scene.platform.source) {
            (BrandGroup::Restaurant | BrandGroup::Market, SourceType::Delivery) => {
                &lexicon.context_delivery
            }
            (BrandGroup::Restaurant, _) => &lexicon.context_visit,
            (BrandGroup::Market, _) => &lexicon.context_market,
            (BrandGroup::Packaged | BrandGroup::Beverage, _) => &lexicon.context_packaged,
        };
        let context = self.pick(contexts);
        self.fragment(context);
    }

    fn occasion(&mut self) {
        let lexicon = self.lexicon;
        let phrases = match self.scene.occasion {
            Occasion::Ordinary => return,
            // January to March means beach on the coast, rain in the Andes and the jungle.
            Occasion::Summer if !self.scene.region.coast => return,
            Occasion::Summer => &lexicon.occasion_summer,
            Occasion::FiestasPatrias => &lexicon.occasion_fiestas_patrias,
            Occasion::PolloDay => &lexicon.occasion_pollo_day,
            Occasion::Christmas => &lexicon.occasion_christmas,
            Occasion::NewYear => &lexicon.occasion_new_year,
            Occasion::MothersDay => &lexicon.occasion_mothers_day,
        };
        let phrase = self.pick(phrases);
        self.fragment(phrase);
        // "Con este calor, el ceviche…": the occasion leads into the next sentence.
        if self.out.ends_with('!') {
            self.out.push(' ');
            self.capitalize_next = true;
        } else {
            self.out.push_str(", ");
            self.lowercase_next = true;
        }
        self.glued = true;
    }

    fn greeting(&mut self, polarity: Polarity) {
        let greeting = self.pick(self.lexicon.greetings.get(polarity));
        self.fragment(greeting);
        self.out.push(' ');
        self.glued = true;
        self.capitalize_next = self.out.trim_end().ends_with(['.', '!']);
    }

    /// "asu, …", "pucha!! …"
    fn interjection(&mut self, polarity: Polarity) {
        let word = self.pick(self.lexicon.interjections.get(polarity));
        self.fragment(word);
        let joiner = self.pick(&[", ", " ", "! ", "!! ", "... "]);
        self.out.push_str(joiner);
        self.glued = true;
        // "asu, el pollo…" goes on in lower case; "asu!! El pollo…" may start afresh.
        self.lowercase_next = matches!(joiner, ", " | " ");
    }

    fn mention(&mut self) {
        self.out.push_str(&self.scene.brand.handle);
        self.out.push(' ');
        self.glued = true;
    }

    fn friend(&mut self) {
        self.separate();
        self.expand("{friend}");
        if self.out.ends_with(|c: char| c.is_alphanumeric()) && self.chance(0.5) {
            let nudge = self.pick(&self.lexicon.friend_nudges);
            self.out.push(' ');
            self.out.push_str(nudge);
        }
    }

    fn end_title(&mut self) {
        if self.out.ends_with(|c: char| c.is_alphanumeric()) {
            let mark = self.pick(&[".", "!", " -", ":"]);
            self.out.push_str(mark);
        }
        self.out.push(' ');
        self.glued = true;
    }

    fn hashtags(&mut self, polarity: Polarity) {
        let count = if self.chance(0.7) { 1 } else { 2 };
        for _ in 0..count {
            let tag = match self.rng.gen_range(0..4u32) {
                0 => self.scene.brand.hashtag.as_str(),
                1 => self.scene.region.hashtag.as_str(),
                _ => self.pick(self.lexicon.hashtags.get(polarity)),
            };
            if !self.out.contains(tag) {
                self.out.push(' ');
                self.out.push_str(tag);
            }
        }
    }

    fn emoji(&mut self, polarity: Polarity) {
        let count = match self.rng.gen_range(0..20u32) {
            0..=10 => 1,
            11..=16 => 2,
            _ => 3,
        };
        let repeat_same = self.chance(0.6);
        let emojis = self.lexicon.emoji.get(polarity);
        let mut emoji = self.pick(emojis);
        self.out.push(' ');
        for _ in 0..count {
            self.out.push_str(emoji);
            if !repeat_same {
                emoji = self.pick(emojis);
            }
        }
    }

    /// Starts a new sentence and writes `template` into it.
    fn fragment(&mut self, template: &str) {
        self.separate();
        let start = self.out.len();
        self.expand(template);
        let continues = std::mem::take(&mut self.lowercase_next);
        let after_full_stop = std::mem::take(&mut self.capitalize_next);
        let first = start == 0 && self.capitalize_first;
        if !continues && (self.flow == Flow::Formal || first || after_full_stop) {
            capitalize_at(&mut self.out, start);
        }
    }

    fn separate(&mut self) {
        if self.glued {
            self.glued = false;
            return;
        }
        if self.out.is_empty() {
            return;
        }
        let ends_sentence = self.out.ends_with(['.', '!', '?', ':']);
        let separator = match self.flow {
            Flow::Formal if ends_sentence => " ",
            Flow::Formal => ". ",
            Flow::Comma if ends_sentence => " ",
            Flow::Comma => ", ",
            Flow::Loose => self.pick(&self.lexicon.loose_separators),
        };
        self.out.push_str(separator);
    }

    /// Copies `template` into the text, filling its placeholders.
    fn expand(&mut self, template: &str) {
        let mut rest = template;
        // Byte scans: templates are short, and '{' and '}' are ASCII.
        while let Some(open) = rest.bytes().position(|b| b == b'{') {
            self.out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.bytes().position(|b| b == b'}') {
                Some(close) => {
                    self.placeholder(&after[..close]);
                    rest = &after[close + 1..];
                }
                None => {
                    self.out.push_str(&rest[open..]);
                    rest = "";
                }
            }
        }
        self.out.push_str(rest);
    }

    fn placeholder(&mut self, key: &str) {
        if let Some(choice) = key.strip_prefix('#') {
            let (singular, plural) = choice.split_once('|').unwrap_or((choice, choice));
            self.out
                .push_str(if self.plural { plural } else { singular });
            return;
        }
        let scene = self.scene;
        match key {
            "p" => {
                // A second mention often uses another name for the same thing.
                if self.mentions > 0 && self.chance(0.6) {
                    self.alias = self.sibling_alias();
                }
                self.mentions += 1;
                self.out.push_str(self.alias);
            }
            "dp" => self.push_contracted("de", "del"),
            "ap" => self.push_contracted("a", "al"),
            "o" => self.out.push_str(match (self.feminine, self.plural) {
                (false, false) => "o",
                (true, false) => "a",
                (false, true) => "os",
                (true, true) => "as",
            }),
            "s" | "n" => {
                if self.plural {
                    self.out.push_str(key);
                }
            }
            "lo" => self.out.push_str(match (self.feminine, self.plural) {
                (false, false) => "lo",
                (true, false) => "la",
                (false, true) => "los",
                (true, true) => "las",
            }),
            "b" => self.out.push_str(&scene.brand.name),
            "bh" => self.out.push_str(&scene.brand.handle),
            "c" => self.out.push_str(scene.city),
            "dist" => {
                let (town, _) = pick(self.rng, &scene.region.cities);
                self.out.push_str(town);
            }
            "app" => {
                let app = if scene.platform.source == SourceType::Delivery {
                    scene.platform.display.as_str()
                } else {
                    self.pick(&catalog().delivery_apps)
                };
                self.out.push_str(app);
            }
            "who" => {
                let who = self.pick(&self.lexicon.companions);
                self.out.push_str(who);
            }
            "when" => {
                let options = match scene.hour {
                    6..=11 => &self.lexicon.when_morning,
                    12..=16 => &self.lexicon.when_midday,
                    17..=23 => &self.lexicon.when_evening,
                    _ => &self.lexicon.when_night,
                };
                let when = self.pick(options);
                self.out.push_str(when);
            }
            "dia" => {
                // Usually about a recent day, not necessarily today.
                let offset = self.count(0, 2);
                let weekday = (scene.weekday + 7 - offset) % 7;
                self.out.push_str(&self.lexicon.weekdays[weekday]);
            }
            "min" => {
                let minutes = 40 + 5 * self.rng.gen_range(0..23u32);
                self.push_number(minutes);
            }
            "soles" => {
                // What a complaint about price would quote for this kind of brand.
                let range = match scene.brand.group {
                    BrandGroup::Restaurant => 25..=160u32,
                    BrandGroup::Packaged => 4..=45,
                    BrandGroup::Beverage => 3..=15,
                    BrandGroup::Market => 20..=250,
                };
                let soles = self.rng.gen_range(range);
                self.push_number(soles);
            }
            "nps" => {
                // A 0–10 score that matches the row's star rating.
                let range = match scene.rating.map(|stars| stars.round() as u32) {
                    Some(5) => 9..=10,
                    Some(4) => 7..=8,
                    Some(3) => 5..=6,
                    Some(2) => 3..=4,
                    _ => 0..=2,
                };
                let score = self.rng.gen_range(range);
                self.push_number(score);
            }
            "friend" => self.push_friend(),
            "staff" => {
                let staff = self.pick(&self.lexicon.staff);
                self.out.push_str(staff);
            }
            // Unknown keys stay visible so tests catch typos in the phrase banks.
            _ => {
                self.out.push('{');
                self.out.push_str(key);
                self.out.push('}');
            }
        }
    }

    /// Another way of naming the product that keeps the same gender and number.
    fn sibling_alias(&mut self) -> &'static str {
        let aliases = match self.scene.language {
            Language::Spanish => &self.scene.product.aliases_es,
            Language::English => return self.alias,
        };
        let agreement = (self.plural, self.feminine);
        let start = self
            .rng
            .gen_range(0..u32::try_from(aliases.len()).unwrap_or(1)) as usize;
        aliases
            .iter()
            .cycle()
            .skip(start)
            .take(aliases.len())
            .find(|alias| spanish_agreement(alias) == agreement)
            .map_or(self.alias, String::as_str)
    }

    fn push_contracted(&mut self, preposition: &str, contracted: &str) {
        if let Some(noun) = self.alias.strip_prefix("el ") {
            self.out.push_str(contracted);
            self.out.push(' ');
            self.out.push_str(noun);
        } else {
            self.out.push_str(preposition);
            self.out.push(' ');
            self.out.push_str(self.alias);
        }
    }

    fn push_number(&mut self, number: u32) {
        push_decimal(&mut self.out, u64::from(number));
    }

    /// "@fiorella_97", "@renzo.quispe"…
    fn push_friend(&mut self) {
        let friends = &catalog().friends;
        self.out.push('@');
        let name = self.pick(&friends.names);
        self.out.push_str(name);
        match self.rng.gen_range(0..10u32) {
            0..=2 => {}
            3..=5 => {
                self.out.push('_');
                let digits = self.rng.gen_range(10..100u32);
                self.push_number(digits);
            }
            6 => {
                let year = self.rng.gen_range(85..100u32);
                self.push_number(year);
            }
            _ => {
                let joiner = self.pick(&["_", ".", ""]);
                self.out.push_str(joiner);
                let surname = self.pick(&friends.surnames);
                self.out.push_str(surname);
            }
        }
    }

    /// Final punctuation and the noise of real typing.
    fn finish(mut self, tone: Tone) -> String {
        if self.flow == Flow::Formal && self.out.ends_with(|c: char| c.is_alphanumeric()) {
            self.out.push('.');
        }
        let noise = Noise::for_style(self.scene.platform.style);
        let mut text = self.out;
        let spanish = self.scene.language == Language::Spanish;
        if chance(self.rng, noise.abbreviate) {
            text = abbreviate(self.rng, &text, &self.lexicon.abbreviations);
        }
        if chance(self.rng, noise.stretch) {
            text = stretch_word(self.rng, &text);
        }
        if chance(self.rng, noise.typo) {
            text = add_typo(self.rng, &text);
        }
        if spanish && chance(self.rng, noise.strip_accents) {
            let drop_inverted_marks = chance(self.rng, 0.7);
            text = strip_accents(&text, drop_inverted_marks);
        }
        if tone == Tone::Rant {
            text = text.to_uppercase();
            if text.ends_with('.') {
                text.pop();
            }
            if text.ends_with(|c: char| c.is_alphanumeric()) {
                text.push_str("!!!");
            }
        } else if chance(self.rng, noise.lowercase) {
            text = text.to_lowercase();
        }
        text
    }
}

/// How much typing noise a platform's writers add.
struct Noise {
    abbreviate: f64,
    stretch: f64,
    typo: f64,
    strip_accents: f64,
    lowercase: f64,
}

impl Noise {
    fn for_style(style: Style) -> Self {
        let (abbreviate, stretch, typo, strip_accents, lowercase) = match style {
            Style::Tweet => (0.35, 0.15, 0.10, 0.35, 0.45),
            Style::Instagram => (0.35, 0.20, 0.08, 0.40, 0.55),
            Style::TikTok => (0.40, 0.20, 0.10, 0.45, 0.60),
            Style::Facebook => (0.15, 0.08, 0.08, 0.25, 0.08),
            Style::DeliveryApp => (0.20, 0.05, 0.07, 0.30, 0.20),
            Style::GoogleMaps => (0.05, 0.03, 0.05, 0.12, 0.05),
            Style::Tripadvisor => (0.0, 0.0, 0.03, 0.05, 0.0),
            Style::SurveyNps | Style::SurveyPurchase => (0.02, 0.0, 0.04, 0.10, 0.03),
        };
        Self {
            abbreviate,
            stretch,
            typo,
            strip_accents,
            lowercase,
        }
    }
}

/// Number and gender of a Spanish noun phrase, read from its article.
fn spanish_agreement(noun_phrase: &str) -> (bool, bool) {
    let article = noun_phrase.split(' ').next().unwrap_or("");
    match article {
        "la" | "una" => (false, true),
        "los" | "unos" => (true, false),
        "las" | "unas" => (true, true),
        _ => (false, false),
    }
}

/// Upper-cases the first letter at or after `start`, skipping opening marks.
fn capitalize_at(text: &mut String, start: usize) {
    let Some(rest) = text.get(start..) else {
        return;
    };
    for (offset, c) in rest.char_indices() {
        if matches!(c, '¿' | '¡' | '"' | '\'' | ' ') {
            continue;
        }
        if c.is_lowercase() {
            let at = start + offset;
            let upper: String = c.to_uppercase().collect();
            text.replace_range(at..at + c.len_utf8(), &upper);
        }
        return;
    }
}

/// Splits a word into leading punctuation, core and trailing punctuation.
fn split_word(word: &str) -> (&str, &str, &str) {
    let core_start = word
        .char_indices()
        .find(|(_, c)| c.is_alphanumeric())
        .map_or(word.len(), |(i, _)| i);
    let core_end = word
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_alphanumeric())
        .map_or(core_start, |(i, c)| i + c.len_utf8());
    (
        &word[..core_start],
        &word[core_start..core_end],
        &word[core_end..],
    )
}

/// Texting shortcuts: "q", "xq", "x fa", "bn", "tmb"…
fn abbreviate<R: Rng>(rng: &mut R, text: &str, shortcuts: &Abbreviations) -> String {
    let mut source = std::borrow::Cow::Borrowed(text);
    for (phrase, replacements) in &shortcuts.phrases {
        if source.contains(phrase.as_str()) {
            let replacement = pick(rng, replacements);
            source = std::borrow::Cow::Owned(source.replace(phrase.as_str(), replacement));
        }
    }
    // The very short words ("de", "por") are shortened less often, as people do.
    let mut out = String::with_capacity(source.len());
    for (i, word) in source.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let (lead, core, trail) = split_word(word);
        let replacement = shortcuts
            .words
            .iter()
            .find(|(long, _)| same_word(core, long))
            .map(|(_, short)| short.as_str());
        match replacement {
            Some(short) if chance(rng, if core.len() <= 3 { 0.25 } else { 0.7 }) => {
                out.push_str(lead);
                out.push_str(short);
                out.push_str(trail);
            }
            _ => out.push_str(word),
        }
    }
    out
}

/// "riquísimooo", "nooo", "asuuu".
fn stretch_word<R: Rng>(rng: &mut R, text: &str) -> String {
    let stretchable = || spanish().stretchable.iter().chain(&english().stretchable);
    let mut out = String::with_capacity(text.len() + 4);
    let mut stretched = false;
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let (lead, core, trail) = split_word(word);
        if !stretched && stretchable().any(|candidate| same_word(core, candidate)) {
            // People hold the last vowel: "bacaaan", "nooo", "riquísimooo".
            if let Some((at, vowel)) = core.char_indices().rev().find(|(_, c)| is_vowel(*c)) {
                let plain = strip_accents(&vowel.to_string(), false);
                out.push_str(lead);
                out.push_str(&core[..at]);
                for _ in 0..rng.gen_range(3..=5u32) {
                    out.push_str(&plain);
                }
                out.push_str(&core[at + vowel.len_utf8()..]);
                out.push_str(trail);
                stretched = true;
                continue;
            }
        }
        out.push_str(word);
    }
    out
}

/// Whether `word` is `lower`, allowing a capital first letter ("Qué" is "qué"). The
/// word lists start with ASCII letters (a test checks), so comparing bytes is enough
/// (and fast).
fn same_word(word: &str, lower: &str) -> bool {
    let (word, lower) = (word.as_bytes(), lower.as_bytes());
    match (word.split_first(), lower.split_first()) {
        (Some((first, rest)), Some((expected, expected_rest))) => {
            word.len() == lower.len()
                && first.to_ascii_lowercase() == *expected
                && rest == expected_rest
        }
        _ => word.is_empty() && lower.is_empty(),
    }
}

/// Appends `number` in decimal without going through the formatting machinery.
pub(crate) fn push_decimal(out: &mut String, mut number: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        // `number % 10` is below 10, so the cast cannot truncate.
        digits[start] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    for digit in &digits[start..] {
        out.push(char::from(*digit));
    }
}

fn is_vowel(c: char) -> bool {
    matches!(c.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u') || "áéíóúÁÉÍÓÚ".contains(c)
}

/// One slip of the thumb in one longer word: swapped, dropped or doubled letter.
fn add_typo<R: Rng>(rng: &mut R, text: &str) -> String {
    let candidates = text
        .split(' ')
        .filter(|w| w.len() >= 5 && w.bytes().all(|b| b.is_ascii_lowercase()))
        .count();
    if candidates == 0 {
        return text.to_owned();
    }
    let target = rng.gen_range(0..u32::try_from(candidates).unwrap_or(u32::MAX));
    let mut seen = 0u32;
    let mut out = String::with_capacity(text.len() + 1);
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let is_candidate = word.len() >= 5 && word.bytes().all(|b| b.is_ascii_lowercase());
        if is_candidate && seen == target {
            let mut letters: Vec<u8> = word.bytes().collect();
            let at = rng.gen_range(1..u32::try_from(letters.len() - 1).unwrap_or(1)) as usize;
            match rng.gen_range(0..3u32) {
                0 => letters.swap(at, at + 1),
                1 => {
                    letters.remove(at);
                }
                _ => letters.insert(at, letters[at]),
            }
            // Only ASCII letters were moved, so the bytes stay valid UTF-8.
            out.push_str(&String::from_utf8_lossy(&letters));
        } else {
            out.push_str(word);
        }
        if is_candidate {
            seen += 1;
        }
    }
    out
}

/// Typing without accents, as most people do on a phone.
fn strip_accents(text: &str, drop_inverted_marks: bool) -> String {
    text.chars()
        .filter(|c| !(drop_inverted_marks && matches!(c, '¿' | '¡')))
        .map(|c| match c {
            'á' => 'a',
            'é' => 'e',
            'í' => 'i',
            'ó' => 'o',
            'ú' => 'u',
            'Á' => 'A',
            'É' => 'E',
            'Í' => 'I',
            'Ó' => 'O',
            'Ú' => 'U',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn banks(lexicon: &'static Lexicon) -> Vec<&'static Bank> {
        vec![
            &lexicon.interjections,
            &lexicon.greetings,
            &lexicon.closers,
            &lexicon.closers_product,
            &lexicon.slang,
            &lexicon.emoji,
            &lexicon.hashtags,
            &lexicon.short_social,
            &lexicon.short_review,
            &lexicon.short_survey,
            &lexicon.titles,
            &lexicon.video_captions,
            &lexicon.survey_suggestions,
            &lexicon.survey_suggestions_product,
            &lexicon.survey_reasons,
            &lexicon.food,
            &lexicon.dish,
            &lexicon.service,
            &lexicon.wait,
            &lexicon.ambience,
            &lexicon.price,
            &lexicon.delivery_time,
            &lexicon.delivery_state,
            &lexicon.rider,
            &lexicon.order_accuracy,
            &lexicon.app,
            &lexicon.packaging,
            &lexicon.availability,
            &lexicon.market_service,
            &lexicon.queue,
            &lexicon.delivery_slump,
            &lexicon.launch_buzz,
            &lexicon.packaging_issue,
        ]
    }

    fn lists(lexicon: &'static Lexicon) -> Vec<&'static Vec<String>> {
        vec![
            &lexicon.meh,
            &lexicon.mixed_connectors,
            &lexicon.mixed_short,
            &lexicon.sarcasm,
            &lexicon.question_openers,
            &lexicon.questions_restaurant,
            &lexicon.questions_packaged,
            &lexicon.questions_market,
            &lexicon.context_visit,
            &lexicon.context_delivery,
            &lexicon.context_packaged,
            &lexicon.context_market,
            &lexicon.occasion_summer,
            &lexicon.occasion_fiestas_patrias,
            &lexicon.occasion_pollo_day,
            &lexicon.occasion_christmas,
            &lexicon.occasion_new_year,
            &lexicon.occasion_mothers_day,
            &lexicon.companions,
            &lexicon.when_morning,
            &lexicon.when_midday,
            &lexicon.when_evening,
            &lexicon.when_night,
            &lexicon.staff,
            &lexicon.friend_nudges,
            &lexicon.loose_separators,
            &lexicon.stretchable,
        ]
    }

    #[test]
    fn every_phrase_fills_its_placeholders() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let catalog = catalog();
        let region = &catalog.regions[0];
        for language in [Language::Spanish, Language::English] {
            let lexicon = language.lexicon();
            let mut templates: Vec<&str> = lists(lexicon)
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            let mut all_banks = banks(lexicon);
            all_banks.extend(lexicon.specialties.values());
            for bank in all_banks {
                templates.extend(
                    bank.positive
                        .iter()
                        .chain(&bank.neutral)
                        .chain(&bank.negative)
                        .map(String::as_str),
                );
            }
            for list in lists(lexicon) {
                assert!(!list.is_empty());
            }
            // Picked from without a fallback, so every feeling needs phrases.
            for bank in [
                &lexicon.interjections,
                &lexicon.greetings,
                &lexicon.hashtags,
                &lexicon.emoji,
                &lexicon.food,
            ] {
                for polarity in [Polarity::Positive, Polarity::Neutral, Polarity::Negative] {
                    assert!(!bank.get(polarity).is_empty(), "{bank:?}");
                }
            }
            for brand in &catalog.brands {
                for product in brand.products.iter().chain(&brand.launches) {
                    let scene = Scene {
                        brand,
                        product,
                        region,
                        city: &region.cities[0].0,
                        platform: &catalog.platforms[4],
                        occasion: Occasion::Ordinary,
                        weekday: 5,
                        hour: 13,
                        theme: Theme::Organic,
                        language,
                        rating: Some(4.0),
                    };
                    for template in &templates {
                        let mut writer = Writer::new(&mut rng, &scene);
                        writer.expand(template);
                        assert!(
                            !writer.out.contains(['{', '}']) && !writer.out.contains("  "),
                            "{template:?} -> {:?}",
                            writer.out
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn word_lists_start_with_ascii_lower_case() {
        // `same_word` compares bytes after lower-casing only the first one.
        for lexicon in [spanish(), english()] {
            let words = lexicon
                .abbreviations
                .words
                .iter()
                .map(|(long, _)| long)
                .chain(&lexicon.stretchable);
            for word in words {
                assert!(
                    word.starts_with(|c: char| c.is_ascii_lowercase()),
                    "{word:?}"
                );
            }
        }
    }

    #[test]
    fn aspect_tables_fit_the_picker() {
        for weights in [
            aspect_weights_for(BrandGroup::Restaurant, SourceType::Delivery),
            aspect_weights_for(BrandGroup::Restaurant, SourceType::Review),
        ] {
            assert!(weights.len() <= 8);
        }
    }

    fn aspect_weights_for(group: BrandGroup, source: SourceType) -> &'static [(Aspect, f64)] {
        let catalog = catalog();
        let brand = catalog
            .brands
            .iter()
            .find(|b| b.group == group)
            .unwrap_or(&catalog.brands[0]);
        let platform = catalog
            .platforms
            .iter()
            .find(|p| p.source == source)
            .unwrap_or(&catalog.platforms[0]);
        let scene = Scene {
            brand,
            product: &brand.products[0],
            region: &catalog.regions[0],
            city: "Miraflores",
            platform,
            occasion: Occasion::Ordinary,
            weekday: 0,
            hour: 12,
            theme: Theme::Organic,
            language: Language::Spanish,
            rating: None,
        };
        aspect_weights(&scene)
    }

    #[test]
    fn agreement_comes_from_the_article() {
        assert_eq!(spanish_agreement("el chaufa"), (false, false));
        assert_eq!(spanish_agreement("la causa"), (false, true));
        assert_eq!(spanish_agreement("los wantanes"), (true, false));
        assert_eq!(spanish_agreement("las papas"), (true, true));
    }

    #[test]
    fn capitalizes_past_opening_marks() {
        let mut text = String::from("hola. ¿ají?");
        capitalize_at(&mut text, 6);
        assert_eq!(text, "hola. ¿Ají?");
    }

    #[test]
    fn strips_accents_but_keeps_enie() {
        assert_eq!(
            strip_accents("¿Qué tal el ají? Ñam", true),
            "Que tal el aji? Ñam"
        );
    }

    #[test]
    fn writes_decimals_and_matches_words() {
        let mut out = String::new();
        push_decimal(&mut out, 0);
        out.push(' ');
        push_decimal(&mut out, 18_446_744_073_709_551_615);
        assert_eq!(out, "0 18446744073709551615");
        assert!(
            same_word("Qué", "qué") && same_word("bien", "bien") && !same_word("bienes", "bien")
        );
    }

    #[test]
    fn splits_punctuation_from_words() {
        assert_eq!(split_word("¿qué?"), ("¿", "qué", "?"));
        assert_eq!(split_word("..."), ("...", "", ""));
    }
}
