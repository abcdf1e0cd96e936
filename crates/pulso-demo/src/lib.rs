//! Demo data: a realistic, reproducible stream of consumer feedback about food in Peru,
//! for `pulso demo`.
//!
//! Rows look like what the plugin ingests in production: tweets, Instagram and TikTok
//! comments, Facebook posts, delivery-app reviews (Rappi, PedidosYa, DiDi Food), Google
//! Maps and Tripadvisor reviews, and survey answers, mostly in Peruvian Spanish with
//! about 8% English from tourists and expats. Brands are fictional (a pollería, a
//! cevichería, a chifa, a sanguchería, a criollo restaurant, a snack maker, a drinks
//! brand, a panetón maker and a market chain); regions are Peru's departments weighted
//! by population, with real cities.
//!
//! Volume follows Peru's calendar (local time, UTC−5): weekends and lunch/dinner hours are
//! busier, Fiestas Patrias (28–29 July), the Día del Pollo a la Brasa (third Sunday of
//! July), Mother's Day and December (panetón, chocolatadas) bring peaks, and summer
//! (January–March) brings ceviche, chilcanos and cold drinks.
//!
//! # Planted trends
//!
//! Days count back from `end_time_ms`; see [`PLANTED_TRENDS`] for the same facts as data.
//!
//! 1. **Delivery slump** — brand *Qori Brasa* (pollería), region *Arequipa*, source
//!    `delivery`: during the last 30 days, negative delivery-app reviews about late,
//!    cold orders grow steadily from nothing to about 5% of each day's total feedback.
//! 2. **Product launch** — brand *Killa* (beverages) launches *Killa Camu Camu 500ml*
//!    21 days before the end: mostly positive buzz on social media and post-purchase
//!    surveys, strongest in the first days after launch. No row names it earlier.
//! 3. **Packaging spike** — brand *Kusiy* (packaged foods), product *galletas de kion*:
//!    from 45 to 42 days before the end, a three-day burst of complaints about badly
//!    sealed, stale cookies, nationwide and mostly on social media.
//!
//! The same [`DemoOptions`] always give the same rows, on every platform: all randomness
//! comes from one ChaCha8 stream seeded with `seed`.
//!
//! # Data
//!
//! The catalog and the phrase banks are data files in `data/demo/` (see its README),
//! compiled in and parsed once, on first use. The order of every list there is part of
//! the output: the generator draws from them by position.

mod calendar;
mod catalog;
mod compose;
mod corpus;
pub mod database;
pub mod fixture;
mod trends;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;

use pulso_store::feedback::{NewFeedback, SourceType};

use calendar::{HourProfile, LocalDay, DAY_MS, HOUR_MS};
use catalog::{catalog, Brand, BrandGroup, Catalog, Platform, Product, Region};
use compose::{Language, Scene, Theme};
use trends::{TrendRecipe, RECIPES};

pub use trends::{PlantedTrend, PLANTED_TRENDS};

/// Rows `pulso demo` generates unless told otherwise.
pub const DEFAULT_ROWS: usize = 50_000;
/// Days of history `pulso demo` generates unless told otherwise.
pub const DEFAULT_DAYS: u32 = 180;
/// Seed `pulso demo` uses unless told otherwise.
pub const DEFAULT_SEED: u64 = 42;
/// Longest window generated (about a century); longer requests are clamped.
pub const MAX_DAYS: u32 = 36_525;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// Exactly this many rows are yielded.
    pub rows: usize,
    /// Length of the window, ending at `end_time_ms`; clamped to `1..=MAX_DAYS`.
    pub days: u32,
    pub seed: u64,
    /// End of the window (exclusive), UTC epoch milliseconds.
    pub end_time_ms: i64,
}

/// The feeling a generated text was written to carry; the ground truth behind the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Polarity {
    Positive,
    Neutral,
    Negative,
}

/// A generated row together with the feeling its text was written to carry.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledFeedback {
    pub feedback: NewFeedback,
    pub polarity: Polarity,
}

/// Yields exactly `rows` feedback rows, in no particular time order.
pub struct DemoGenerator {
    catalog: &'static Catalog,
    rng: ChaCha8Rng,
    seed: u64,
    rows: usize,
    next_index: usize,
    window_start_ms: i64,
    window_end_ms: i64,
    days: Vec<LocalDay>,
    /// Running totals of each day's organic weight, for picking a day.
    day_cumulative: Vec<f64>,
    /// Each day's weight of every brand in the catalog, day after day, precomputed for
    /// speed.
    brand_weights: Vec<f64>,
    /// Running totals of the organic mass and each planted trend's mass.
    component_cumulative: [f64; 1 + RECIPES.len()],
    /// Each trend's window clipped to the demo window, `[start, end)` in UTC ms.
    trend_windows: [(i64, i64); RECIPES.len()],
    /// What each trend is about, found in the catalog.
    trend_casts: [TrendCast; RECIPES.len()],
}

/// Starts generating rows for `opts`.
pub fn generate(opts: &DemoOptions) -> DemoGenerator {
    DemoGenerator::new(opts)
}

impl DemoGenerator {
    pub fn new(opts: &DemoOptions) -> Self {
        let catalog = catalog();
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        let window_end_ms = opts.end_time_ms;
        let window_days = i64::from(opts.days.clamp(1, MAX_DAYS));
        let window_start_ms = window_end_ms.saturating_sub(window_days * DAY_MS);
        // Never empty: the window is at least a day long.
        let days = calendar::local_days(window_start_ms, window_end_ms);

        // Organic weight of each day: calendar rhythm, a slow growth in adoption over the
        // window and a little day-to-day noise, scaled by how much of the day is inside.
        let last = days.len().saturating_sub(1).max(1) as f64;
        let mut day_cumulative = Vec::with_capacity(days.len());
        let mut organic_mass = 0.0;
        let mut covered_days = 0.0;
        for (i, day) in days.iter().enumerate() {
            let growth = 0.85 + 0.3 * (i as f64 / last);
            let noise = 0.9 + 0.2 * rng.gen::<f64>();
            let covered = coverage(day, window_start_ms, window_end_ms);
            organic_mass += day.volume_factor() * growth * noise * covered;
            covered_days += covered;
            day_cumulative.push(organic_mass);
        }
        let brands = &catalog.brands;
        let brand_weights = days
            .iter()
            .flat_map(|day| brands.iter().map(move |b| b.weight * day.brand_factor(b)))
            .collect();
        let average_day = if covered_days > 0.0 {
            organic_mass / covered_days
        } else {
            1.0
        };

        let mut component_cumulative = [0.0; 1 + RECIPES.len()];
        let mut trend_windows = [(0, 0); RECIPES.len()];
        component_cumulative[0] = organic_mass;
        let mut total = organic_mass;
        for (i, recipe) in RECIPES.iter().enumerate() {
            let window = trend_window(recipe, window_start_ms, window_end_ms);
            trend_windows[i] = window;
            total += average_day * trend_mass(recipe, window, window_end_ms);
            component_cumulative[i + 1] = total;
        }

        Self {
            catalog,
            rng,
            seed: opts.seed,
            rows: opts.rows,
            next_index: 0,
            window_start_ms,
            window_end_ms,
            days,
            day_cumulative,
            brand_weights,
            component_cumulative,
            trend_windows,
            trend_casts: std::array::from_fn(|i| TrendCast::find(catalog, RECIPES[i].trend)),
        }
    }

    /// The next row with the feeling its text was written to carry, or `None` when all
    /// `rows` rows have been generated. [`Iterator::next`] is this without the label.
    pub fn next_labelled(&mut self) -> Option<LabelledFeedback> {
        if self.next_index >= self.rows {
            return None;
        }
        let plan = match pick_cumulative(&mut self.rng, &self.component_cumulative) {
            0 => self.plan_organic(),
            trend => self.plan_trend(trend - 1),
        };
        let row = self.write(plan);
        self.next_index += 1;
        Some(row)
    }

    /// An ordinary row: who talks about what follows the calendar and the catalog.
    fn plan_organic(&mut self) -> Plan {
        let brands = &self.catalog.brands;
        let rng = &mut self.rng;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let day_index = pick_cumulative(rng, &self.day_cumulative);
            let day = &self.days[day_index];
            let weights = &self.brand_weights[day_index * brands.len()..][..brands.len()];
            let brand = &brands[pick_index(rng, weights)];
            let product = pick_weighted(rng, &brand.products, |product| {
                product.weight
                    * if day.in_season(product.peak) {
                        product.peak_boost
                    } else {
                        1.0
                    }
            });
            let source = *pick_weighted(rng, &SourceType::ALL, |source| {
                catalog::source_weight(*source, brand.group)
            });
            let platform = pick_platform(rng, source, brand.group);
            let hour = pick_hour(rng, hour_profile(brand.group, source));
            let event_time_ms = day
                .start_utc_ms
                .saturating_add(i64::from(hour) * HOUR_MS)
                .saturating_add(rng.gen_range(0..HOUR_MS));
            let inside = (self.window_start_ms..self.window_end_ms).contains(&event_time_ms);
            // Partial first and last days: try again rather than pile rows on the edges.
            if !inside && attempt < 64 {
                continue;
            }
            let (region, city, language) = pick_speaker(rng, platform, None);
            let polarity = organic_polarity(rng, brand, source, day, hour);
            return Plan {
                brand,
                product,
                region,
                city,
                language,
                platform,
                polarity,
                theme: Theme::Organic,
                event_time_ms: event_time_ms
                    .clamp(self.window_start_ms, self.window_end_ms.saturating_sub(1)),
            };
        }
    }

    /// A row that belongs to planted trend `index` (see [`PLANTED_TRENDS`]).
    fn plan_trend(&mut self, index: usize) -> Plan {
        let recipe = &RECIPES[index];
        let TrendCast {
            brand,
            product,
            region: home,
        } = self.trend_casts[index];
        let rng = &mut self.rng;
        let product = match product {
            Some(product) => product,
            // The slump's complaints are about the chicken, not the drinks.
            None => pick_weighted(rng, &brand.products, |p| {
                if p.name.contains("chicha") {
                    0.0
                } else {
                    p.weight
                }
            }),
        };
        let (source, profile, polarity_weights) = match recipe.theme {
            Theme::DeliverySlump => (SourceType::Delivery, HourProfile::Meals, [0.0, 0.12, 0.88]),
            Theme::Launch => (
                if chance(rng, 0.8) {
                    SourceType::Social
                } else {
                    SourceType::Survey
                },
                HourProfile::Social,
                [0.76, 0.16, 0.08],
            ),
            // Organic rows never come here; they share the last arm to keep the match total.
            Theme::PackagingIssue | Theme::Organic => (
                if chance(rng, 0.85) {
                    SourceType::Social
                } else {
                    SourceType::Survey
                },
                HourProfile::Social,
                [0.0, 0.1, 0.9],
            ),
        };
        let platform = pick_platform(rng, source, brand.group);
        let (region, city, language) = pick_speaker(rng, platform, home);
        let event_time_ms = sample_trend_time(
            rng,
            recipe,
            self.trend_windows[index],
            self.window_end_ms,
            profile,
        );
        Plan {
            brand,
            product,
            region,
            city,
            language,
            platform,
            polarity: pick_polarity(rng, polarity_weights),
            theme: recipe.theme,
            event_time_ms,
        }
    }

    /// Writes the text and fills in the row.
    fn write(&mut self, plan: Plan) -> LabelledFeedback {
        let hour = calendar::local_hour(plan.event_time_ms);
        let day = self.days.first().and_then(|first| {
            let offset = plan
                .event_time_ms
                .saturating_sub(first.start_utc_ms)
                .div_euclid(DAY_MS);
            self.days.get(usize::try_from(offset).ok()?)
        });
        let rng = &mut self.rng;
        let language = plan.language;
        let scene = Scene {
            brand: plan.brand,
            product: plan.product,
            region: plan.region,
            city: plan.city,
            platform: plan.platform,
            occasion: day.map_or(calendar::Occasion::Ordinary, |d| d.occasion),
            weekday: day.map_or(0, |d| d.weekday),
            hour,
            theme: plan.theme,
            language,
            rating: None,
        };
        let tone = compose::pick_tone(rng, &scene, plan.polarity);
        let source = plan.platform.source;
        // Rated first, so a survey answer quoting a score agrees with the stars.
        let rating =
            (source != SourceType::Social).then(|| compose::rating(rng, plan.polarity, tone));
        let scene = Scene { rating, ..scene };
        let text = compose::compose(rng, &scene, plan.polarity, tone);
        let terms = pulso_core::analysis::terms::term_hashes(&text, language.code());
        LabelledFeedback {
            feedback: NewFeedback {
                source_type: source,
                platform: plan.platform.id.clone(),
                region: plan.region.name.clone(),
                city: plan.city.to_owned(),
                category: plan.brand.category(source).to_owned(),
                brand: plan.brand.name.clone(),
                product: plan.product.name.clone(),
                language: language.code().to_owned(),
                text,
                rating,
                rating_raw: rating.map(|r| r.to_string()),
                redactions: 0,
                event_time_ms: plan.event_time_ms,
                external_id: external_id(&plan.platform.id, self.seed, self.next_index),
                terms,
            },
            polarity: plan.polarity,
        }
    }
}

impl Iterator for DemoGenerator {
    type Item = NewFeedback;

    fn next(&mut self) -> Option<NewFeedback> {
        self.next_labelled().map(|row| row.feedback)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = self.rows.saturating_sub(self.next_index);
        (remaining, Some(remaining))
    }
}

impl ExactSizeIterator for DemoGenerator {}

/// "{platform}-{seed}-{index}": unique per platform within a run, stable across runs.
fn external_id(platform: &str, seed: u64, index: usize) -> String {
    let mut id = String::with_capacity(platform.len() + 32);
    id.push_str(platform);
    id.push('-');
    compose::push_decimal(&mut id, seed);
    id.push('-');
    compose::push_decimal(&mut id, u64::try_from(index).unwrap_or(u64::MAX));
    id
}

/// The brand, product and region a planted trend is about, as the catalog has them.
#[derive(Clone, Copy)]
struct TrendCast {
    brand: &'static Brand,
    /// `None`: any of the brand's products.
    product: Option<&'static Product>,
    /// `None`: anywhere in Peru.
    region: Option<&'static Region>,
}

impl TrendCast {
    fn find(catalog: &'static Catalog, trend: &PlantedTrend) -> Self {
        fn missing(trend: &PlantedTrend, what: &str) -> ! {
            panic!(
                "planted trend {}: {what:?} is not in data/demo/catalog.json",
                trend.name
            )
        }
        let brand = catalog
            .brand(trend.brand)
            .unwrap_or_else(|| missing(trend, trend.brand));
        Self {
            brand,
            product: trend
                .product
                .map(|name| brand.product(name).unwrap_or_else(|| missing(trend, name))),
            region: trend
                .region
                .map(|name| catalog.region(name).unwrap_or_else(|| missing(trend, name))),
        }
    }
}

/// One row decided, before its text is written.
struct Plan {
    brand: &'static Brand,
    product: &'static Product,
    region: &'static Region,
    city: &'static str,
    language: Language,
    platform: &'static Platform,
    polarity: Polarity,
    theme: Theme,
    event_time_ms: i64,
}

/// Fraction of `day` inside `[start, end)`.
fn coverage(day: &LocalDay, start_ms: i64, end_ms: i64) -> f64 {
    let from = day.start_utc_ms.max(start_ms);
    let to = day.start_utc_ms.saturating_add(DAY_MS).min(end_ms);
    if to <= from {
        0.0
    } else {
        (to - from) as f64 / DAY_MS as f64
    }
}

/// A trend's own window, clipped to the demo window.
fn trend_window(recipe: &TrendRecipe, start_ms: i64, end_ms: i64) -> (i64, i64) {
    let trend = recipe.trend;
    let from = end_ms.saturating_sub(i64::from(trend.starts_days_before_end) * DAY_MS);
    let to = end_ms.saturating_sub(i64::from(trend.ends_days_before_end) * DAY_MS);
    (from.max(start_ms), to.min(end_ms))
}

/// Where `time_ms` falls in the trend's full (unclipped) window, 0.0–1.0.
fn trend_position(recipe: &TrendRecipe, time_ms: i64, end_ms: i64) -> f64 {
    let trend = recipe.trend;
    let days_before_end = end_ms.saturating_sub(time_ms) as f64 / DAY_MS as f64;
    let span = f64::from(trend.starts_days_before_end - trend.ends_days_before_end);
    (f64::from(trend.starts_days_before_end) - days_before_end) / span
}

/// A trend's volume inside `window`, in average-day units.
fn trend_mass(recipe: &TrendRecipe, window: (i64, i64), end_ms: i64) -> f64 {
    let (from, to) = window;
    if to <= from {
        return 0.0;
    }
    // Hour-by-hour midpoint sum: the shapes are piecewise linear and short.
    let steps = ((to - from) / HOUR_MS).max(1);
    let step_ms = (to - from) / steps;
    let step_days = step_ms as f64 / DAY_MS as f64;
    (0..steps)
        .map(|i| {
            let middle = from + i * step_ms + step_ms / 2;
            recipe.intensity(trend_position(recipe, middle, end_ms)) * step_days
        })
        .sum()
}

/// A time inside the trend's window, following its shape and the hours people post.
fn sample_trend_time(
    rng: &mut ChaCha8Rng,
    recipe: &TrendRecipe,
    window: (i64, i64),
    end_ms: i64,
    profile: HourProfile,
) -> i64 {
    let (from, to) = window;
    if to <= from {
        return from.min(end_ms.saturating_sub(1));
    }
    let hours = profile.weights();
    let busiest_hour = hours.iter().copied().fold(0.0, f64::max);
    let peak = recipe.peak();
    let mut candidate = from;
    for _ in 0..1000 {
        candidate = rng.gen_range(from..to);
        let shape = recipe.intensity(trend_position(recipe, candidate, end_ms)) / peak;
        let hour = hours[calendar::local_hour(candidate) as usize] / busiest_hour;
        if rng.gen::<f64>() < shape * hour {
            break;
        }
    }
    candidate
}

fn hour_profile(group: BrandGroup, source: SourceType) -> HourProfile {
    match (group, source) {
        (_, SourceType::Survey) | (BrandGroup::Market, _) => HourProfile::Daytime,
        (_, SourceType::Social) | (BrandGroup::Packaged | BrandGroup::Beverage, _) => {
            HourProfile::Social
        }
        (BrandGroup::Restaurant, _) => HourProfile::Meals,
    }
}

fn pick_hour(rng: &mut ChaCha8Rng, profile: HourProfile) -> u32 {
    let hours = profile.weights();
    let total: f64 = hours.iter().sum();
    let mut target = rng.gen::<f64>() * total;
    for (hour, weight) in (0u32..).zip(hours.iter()) {
        if target < *weight {
            return hour;
        }
        target -= weight;
    }
    23
}

fn pick_platform(rng: &mut ChaCha8Rng, source: SourceType, group: BrandGroup) -> &'static Platform {
    pick_weighted(rng, &catalog().platforms, |platform| {
        if platform.source == source {
            catalog::platform_weight(platform, group)
        } else {
            0.0
        }
    })
}

/// Where the writer is and which language they write in. `home` pins the region.
fn pick_speaker(
    rng: &mut ChaCha8Rng,
    platform: &Platform,
    home: Option<&'static Region>,
) -> (&'static Region, &'static str, Language) {
    let catalog = catalog();
    let region = match home {
        Some(region) => region,
        None => pick_weighted(rng, &catalog.regions, |region| region.weight),
    };
    let (city, _) = pick_weighted(rng, &region.cities, |(_, weight)| *weight);
    let language = pick_language(rng, platform, region, city);
    // Visitors writing in English in Lima mostly stay in a handful of districts (the
    // region's `visitor_districts`).
    let city = if language == Language::English
        && !region.visitor_districts.is_empty()
        && !catalog.is_visitor_hotspot(city)
        && chance(rng, 0.7)
    {
        pick(rng, &region.visitor_districts)
    } else {
        city
    };
    (region, city, language)
}

/// English comes from tourists and expats: more on Tripadvisor, in Cusco, in Miraflores.
fn pick_language(
    rng: &mut ChaCha8Rng,
    platform: &Platform,
    region: &Region,
    city: &str,
) -> Language {
    let hotspot = if catalog().is_visitor_hotspot(city) {
        2.2
    } else {
        1.0
    };
    let english = (platform.english * region.visitors * hotspot).min(0.85);
    if chance(rng, english) {
        Language::English
    } else {
        Language::Spanish
    }
}

/// Baseline feelings by source, shifted by brand and by the Friday/Saturday dinner rush.
fn organic_polarity(
    rng: &mut ChaCha8Rng,
    brand: &Brand,
    source: SourceType,
    day: &LocalDay,
    hour: u32,
) -> Polarity {
    let [positive, neutral, negative] = match source {
        SourceType::Social => [0.46, 0.22, 0.32],
        SourceType::Review => [0.52, 0.21, 0.27],
        SourceType::Delivery => [0.43, 0.22, 0.35],
        SourceType::Survey => [0.44, 0.36, 0.20],
    };
    let mut negative = negative * brand.negativity;
    if source == SourceType::Delivery && (4..=5).contains(&day.weekday) && (19..=22).contains(&hour)
    {
        negative *= 1.2;
    }
    // Gifts and family dinners make December feedback a little kinder.
    let positive = if day.occasion == calendar::Occasion::Christmas {
        positive * 1.1
    } else {
        positive
    };
    if day.is_weekend() && source == SourceType::Review {
        negative *= 1.05;
    }
    pick_polarity(rng, [positive, neutral, negative])
}

fn pick_polarity(rng: &mut ChaCha8Rng, [positive, neutral, negative]: [f64; 3]) -> Polarity {
    let roll = rng.gen::<f64>() * (positive + neutral + negative);
    if roll < positive {
        Polarity::Positive
    } else if roll < positive + neutral {
        Polarity::Neutral
    } else {
        Polarity::Negative
    }
}

/// `true` with the given probability.
pub(crate) fn chance<R: Rng>(rng: &mut R, probability: f64) -> bool {
    rng.gen::<f64>() < probability
}

/// A uniformly chosen item of a non-empty table.
pub(crate) fn pick<'a, T, R: Rng>(rng: &mut R, items: &'a [T]) -> &'a T {
    // Sampled as u32: rand's usize sampling differs between 32- and 64-bit targets.
    let len = u32::try_from(items.len()).unwrap_or(u32::MAX);
    &items[rng.gen_range(0..len) as usize]
}

/// An index into non-empty running totals, chosen in proportion to each step.
fn pick_cumulative<R: Rng>(rng: &mut R, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let target = rng.gen::<f64>() * total;
    cumulative
        .partition_point(|&running| running <= target)
        .min(cumulative.len().saturating_sub(1))
}

/// An index into non-empty `weights`, chosen with probability proportional to its weight.
fn pick_index<R: Rng>(rng: &mut R, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut target = rng.gen::<f64>() * total;
    for (index, weight) in weights.iter().enumerate() {
        if target < *weight {
            return index;
        }
        target -= weight;
    }
    weights.len().saturating_sub(1)
}

/// An item of a non-empty table, chosen with probability proportional to `weight`.
pub(crate) fn pick_weighted<'a, T, R: Rng>(
    rng: &mut R,
    items: &'a [T],
    weight: impl Fn(&T) -> f64,
) -> &'a T {
    let total: f64 = items.iter().map(&weight).sum();
    let mut target = rng.gen::<f64>() * total;
    for item in items {
        let item_weight = weight(item);
        if target < item_weight {
            return item;
        }
        target -= item_weight;
    }
    // Rounding can leave the target a hair past the end.
    items
        .iter()
        .rev()
        .find(|item| weight(item) > 0.0)
        .unwrap_or(&items[0])
}

/// Parses a file of `data/demo/`; the error names the file.
fn parse_data_file<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|error| format!("data/demo/{file} is malformed: {error}"))
}

/// A file of `data/demo/`, compiled in. It cannot change after the build, so a broken
/// one is a bug: fail loudly, naming it (the tests load every file).
fn load_data_file<T: DeserializeOwned>(file: &str, text: &str) -> T {
    parse_data_file(file, text).unwrap_or_else(|message| panic!("{message}"))
}

#[cfg(test)]
mod tests;
