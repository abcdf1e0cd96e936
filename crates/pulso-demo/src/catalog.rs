//! Static world of the demo: fictional brands with their products, Peru's regions with
//! real cities, the platforms feedback comes from and the friends people tag. The data is
//! in `data/demo/catalog.json`; this module gives it types and the weights that tie
//! brands to sources and platforms.
//!
//! Every brand name there is invented on purpose; none belongs to a real company.

use std::sync::LazyLock;

use serde::{Deserialize, Deserializer};

use pulso_store::feedback::SourceType;

use super::corpus;

/// What a brand sells; drives sources, aspects and vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BrandGroup {
    Restaurant,
    Packaged,
    Beverage,
    Market,
}

/// A time of year when a product, brand or phrase is more likely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Season {
    #[default]
    AllYear,
    /// January to March: beach, heat, ceviche and cold drinks.
    Summer,
    /// June to August: soups and hot drinks.
    Winter,
    /// The last ten days of July (independence day on the 28th and 29th).
    FiestasPatrias,
    /// Mid-November to the end of December.
    Christmas,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Product {
    /// Stored in the `product` column.
    pub name: String,
    /// Ways people write it in Spanish, always with an article so the text engine can
    /// make adjectives agree ("el chaufa estaba rico", "las papas estaban ricas").
    pub aliases_es: Vec<String>,
    /// Ways people write it in English, without article ("the" is in the templates).
    pub aliases_en: Vec<String>,
    pub weight: f64,
    #[serde(default)]
    pub peak: Season,
    /// Multiplies `weight` in its peak season.
    #[serde(default = "no_boost")]
    pub peak_boost: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Brand {
    pub name: String,
    pub handle: String,
    pub hashtag: String,
    pub group: BrandGroup,
    /// Relative share of all feedback outside any season.
    pub weight: f64,
    #[serde(default)]
    pub peak: Season,
    #[serde(default = "no_boost")]
    pub peak_boost: f64,
    /// Multiplies the chance of negative feedback (1.0 = average brand).
    pub negativity: f64,
    /// Key of the brand's own phrase bank in each corpus's `specialties`.
    pub specialty: String,
    /// What ordinary rows talk about, picked by `weight` (and season).
    pub products: Vec<Product>,
    /// Products launched inside the demo window: only planted rows name them.
    #[serde(default)]
    pub launches: Vec<Product>,
}

impl Brand {
    /// The value stored in `category`; delivery-app feedback is filed under "delivery".
    pub(crate) fn category(&self, source: SourceType) -> &'static str {
        if source == SourceType::Delivery {
            return "delivery";
        }
        match self.group {
            BrandGroup::Restaurant => "restaurants",
            BrandGroup::Packaged => "packaged_foods",
            BrandGroup::Beverage => "beverages",
            BrandGroup::Market => "markets",
        }
    }

    /// One of its products or launches, by name.
    pub(crate) fn product(&self, name: &str) -> Option<&Product> {
        self.products
            .iter()
            .chain(&self.launches)
            .find(|product| product.name == name)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Region {
    pub name: String,
    pub hashtag: String,
    /// Population in thousands, skewed towards the places that post online.
    pub weight: f64,
    /// How likely an English-speaking visitor or expat is (1.0 = average).
    pub visitors: f64,
    /// On the Pacific coast, where summer means beach.
    pub coast: bool,
    /// Cities and districts with their relative weight.
    pub cities: Vec<(String, f64)>,
    /// Where most visitors writing in English stay, when the region has such districts.
    #[serde(default)]
    pub visitor_districts: Vec<String>,
}

/// How a platform's posts are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Style {
    Tweet,
    Instagram,
    #[serde(rename = "tiktok")]
    TikTok,
    Facebook,
    DeliveryApp,
    GoogleMaps,
    Tripadvisor,
    SurveyNps,
    SurveyPurchase,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Platform {
    /// Stored in the `platform` column.
    pub id: String,
    /// How people name it in text ("lo pedí por Rappi").
    pub display: String,
    #[serde(deserialize_with = "source_type")]
    pub source: SourceType,
    pub style: Style,
    /// Share of its source's feedback for an average brand.
    pub share: f64,
    /// Chance that an average writer on this platform writes in English.
    pub english: f64,
}

/// Who gets tagged: `{friend}` writes "@" + name, often with digits or a surname.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Friends {
    pub names: Vec<String>,
    pub surnames: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Catalog {
    pub brands: Vec<Brand>,
    pub regions: Vec<Region>,
    /// Districts and towns where tourists and expats concentrate.
    pub visitor_hotspots: Vec<String>,
    pub platforms: Vec<Platform>,
    pub friends: Friends,
    /// Display names of the delivery platforms, in catalog order, for `{app}`.
    #[serde(skip)]
    pub delivery_apps: Vec<String>,
}

impl Catalog {
    /// A brand by name; the planted trends name theirs.
    pub(crate) fn brand(&self, name: &str) -> Option<&Brand> {
        self.brands.iter().find(|brand| brand.name == name)
    }

    pub(crate) fn region(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|region| region.name == name)
    }

    pub(crate) fn is_visitor_hotspot(&self, city: &str) -> bool {
        self.visitor_hotspots.iter().any(|hotspot| hotspot == city)
    }

    /// Fails on what serde cannot see: empty tables the generator picks from, and
    /// specialty keys missing from a corpus.
    fn check(&self) -> Result<(), String> {
        let corpora = [
            ("corpus_es.json", &corpus::spanish().specialties),
            ("corpus_en.json", &corpus::english().specialties),
        ];
        let nonempty = |what: &str, len: usize| {
            if len == 0 {
                Err(format!("{what} is empty"))
            } else {
                Ok(())
            }
        };
        nonempty("brands", self.brands.len())?;
        nonempty("regions", self.regions.len())?;
        nonempty("platforms", self.platforms.len())?;
        nonempty("friends.names", self.friends.names.len())?;
        nonempty("friends.surnames", self.friends.surnames.len())?;
        nonempty("delivery platforms", self.delivery_apps.len())?;
        for brand in &self.brands {
            nonempty(&format!("{}: products", brand.name), brand.products.len())?;
            for product in brand.products.iter().chain(&brand.launches) {
                let what = format!("{}: {}", brand.name, product.name);
                nonempty(&format!("{what}: aliases_es"), product.aliases_es.len())?;
                nonempty(&format!("{what}: aliases_en"), product.aliases_en.len())?;
            }
            for (file, specialties) in corpora {
                if !specialties.contains_key(&brand.specialty) {
                    return Err(format!(
                        "{}: specialty {:?} is not in data/demo/{file}",
                        brand.name, brand.specialty
                    ));
                }
            }
        }
        for region in &self.regions {
            nonempty(&format!("{}: cities", region.name), region.cities.len())?;
        }
        Ok(())
    }
}

const CATALOG_FILE: &str = "catalog.json";

/// The catalog, parsed on first use.
pub(crate) fn catalog() -> &'static Catalog {
    static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
        let mut catalog: Catalog = super::load_data_file(
            CATALOG_FILE,
            include_str!("../../../data/demo/catalog.json"),
        );
        catalog.delivery_apps = catalog
            .platforms
            .iter()
            .filter(|platform| platform.source == SourceType::Delivery)
            .map(|platform| platform.display.clone())
            .collect();
        if let Err(problem) = catalog.check() {
            panic!("data/demo/{CATALOG_FILE} is invalid: {problem}");
        }
        catalog
    });
    &CATALOG
}

fn no_boost() -> f64 {
    1.0
}

fn source_type<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SourceType, D::Error> {
    let name = String::deserialize(deserializer)?;
    SourceType::parse(&name).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "unknown source {name:?}; expected one of social, review, survey, delivery"
        ))
    })
}

/// Relative weight of each platform within its source, for one kind of brand.
pub(crate) fn platform_weight(platform: &Platform, group: BrandGroup) -> f64 {
    use BrandGroup::{Beverage, Market, Packaged, Restaurant};
    let fit = match (platform.style, group) {
        (Style::Instagram, Restaurant | Beverage) => 1.15,
        (Style::Instagram, _) => 0.85,
        (Style::Facebook, Market) => 1.4,
        (Style::TikTok, Beverage | Packaged) => 1.4,
        (Style::TikTok, _) => 0.9,
        (Style::GoogleMaps, Market) => 1.2,
        (Style::Tripadvisor, Market) => 0.25,
        (Style::SurveyNps, Restaurant | Market) => 1.1,
        (Style::SurveyNps, _) => 0.6,
        (Style::SurveyPurchase, Restaurant | Market) => 0.9,
        (Style::SurveyPurchase, _) => 1.4,
        _ => 1.0,
    };
    platform.share * fit
}

/// Share of each source for one kind of brand: packaged goods and drinks have no
/// delivery-app or map reviews, so they live on social media and in surveys.
pub(crate) fn source_weight(source: SourceType, group: BrandGroup) -> f64 {
    match (group, source) {
        (BrandGroup::Restaurant, SourceType::Social) => 34.0,
        (BrandGroup::Restaurant, SourceType::Review) => 24.0,
        (BrandGroup::Restaurant, SourceType::Delivery) => 30.0,
        (BrandGroup::Restaurant, SourceType::Survey) => 12.0,
        (BrandGroup::Market, SourceType::Social) => 30.0,
        (BrandGroup::Market, SourceType::Review) => 30.0,
        (BrandGroup::Market, SourceType::Delivery) => 20.0,
        (BrandGroup::Market, SourceType::Survey) => 20.0,
        (BrandGroup::Packaged | BrandGroup::Beverage, SourceType::Social) => 74.0,
        (BrandGroup::Packaged | BrandGroup::Beverage, SourceType::Survey) => 26.0,
        (BrandGroup::Packaged | BrandGroup::Beverage, _) => 0.0,
    }
}
