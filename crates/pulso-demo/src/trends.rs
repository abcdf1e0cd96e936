//! The stories planted in the demo data, and how strongly each one shows on each day.

use pulso_store::feedback::SourceType;

use super::compose::Theme;
use super::Polarity;

/// A pattern deliberately hidden in the demo data for dashboards to find.
///
/// Brands, products and regions are names from `data/demo/catalog.json`.
///
/// Days count back from `DemoOptions::end_time_ms`: the trend covers events at or after
/// `end - starts_days_before_end` days and before `end - ends_days_before_end` days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlantedTrend {
    pub name: &'static str,
    pub brand: &'static str,
    pub product: Option<&'static str>,
    pub region: Option<&'static str>,
    pub source_type: Option<SourceType>,
    pub starts_days_before_end: u32,
    pub ends_days_before_end: u32,
    /// The feeling most of its rows carry.
    pub polarity: Polarity,
    pub description: &'static str,
}

const DELIVERY_SLUMP: PlantedTrend = PlantedTrend {
    name: "delivery_slump",
    brand: "Qori Brasa",
    product: None,
    region: Some("Arequipa"),
    source_type: Some(SourceType::Delivery),
    starts_days_before_end: 30,
    ends_days_before_end: 0,
    polarity: Polarity::Negative,
    description: "Late, cold Qori Brasa delivery orders in Arequipa: negative delivery-app \
                  reviews grow steadily from nothing to about 5% of a day's feedback over the \
                  last 30 days.",
};

const PRODUCT_LAUNCH: PlantedTrend = PlantedTrend {
    name: "product_launch",
    brand: "Killa",
    product: Some("Killa Camu Camu 500ml"),
    region: None,
    source_type: None,
    starts_days_before_end: 21,
    ends_days_before_end: 0,
    polarity: Polarity::Positive,
    description: "Killa launches Killa Camu Camu 500ml 21 days before the end: mostly positive \
                  buzz on social media and in post-purchase surveys, peaking in the first days \
                  and settling afterwards. The product does not exist before the launch.",
};

const PACKAGING_SPIKE: PlantedTrend = PlantedTrend {
    name: "packaging_spike",
    brand: "Kusiy",
    product: Some("galletas de kion"),
    region: None,
    source_type: None,
    starts_days_before_end: 45,
    ends_days_before_end: 42,
    polarity: Polarity::Negative,
    description: "Three-day burst of complaints about badly sealed, stale Kusiy galletas de \
                  kion (a bad batch), 45 to 42 days before the end, nationwide.",
};

/// Every planted trend, in the order the generator plants them.
pub const PLANTED_TRENDS: &[PlantedTrend] = &[DELIVERY_SLUMP, PRODUCT_LAUNCH, PACKAGING_SPIKE];

/// How a planted trend is generated.
pub(crate) struct TrendRecipe {
    pub trend: &'static PlantedTrend,
    pub theme: Theme,
    /// Extra rows per day as a fraction of an average day's volume, at points through
    /// the trend's window (0.0 = its first instant, 1.0 = its last); linear in between.
    pub shape: &'static [(f64, f64)],
}

pub(crate) const RECIPES: [TrendRecipe; 3] = [
    TrendRecipe {
        trend: &DELIVERY_SLUMP,
        theme: Theme::DeliverySlump,
        // A steady ramp: complaints pile up week after week.
        shape: &[(0.0, 0.0), (1.0, 0.05)],
    },
    TrendRecipe {
        trend: &PRODUCT_LAUNCH,
        theme: Theme::Launch,
        // Launch-day buzz, then a long tail.
        shape: &[(0.0, 0.0), (0.05, 0.07), (0.15, 0.075), (1.0, 0.025)],
    },
    TrendRecipe {
        trend: &PACKAGING_SPIKE,
        theme: Theme::PackagingIssue,
        // Word spreads on day one, peaks on day two, fades on day three.
        shape: &[
            (0.0, 0.0),
            (0.15, 0.14),
            (0.5, 0.2),
            (0.85, 0.08),
            (1.0, 0.0),
        ],
    },
];

impl TrendRecipe {
    /// Intensity at `position` (0.0–1.0) through the trend's window.
    pub(crate) fn intensity(&self, position: f64) -> f64 {
        if !(0.0..=1.0).contains(&position) {
            return 0.0;
        }
        self.shape
            .windows(2)
            .find(|pair| position <= pair[1].0)
            .map_or(0.0, |pair| {
                let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
                if x1 <= x0 {
                    y1
                } else {
                    y0 + (y1 - y0) * (position - x0) / (x1 - x0)
                }
            })
    }

    pub(crate) fn peak(&self) -> f64 {
        self.shape.iter().map(|(_, y)| *y).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::super::catalog::catalog;
    use super::*;

    #[test]
    fn recipes_match_the_published_trends() {
        assert_eq!(RECIPES.len(), PLANTED_TRENDS.len());
        for (recipe, trend) in RECIPES.iter().zip(PLANTED_TRENDS) {
            assert_eq!(recipe.trend, trend);
            assert!(trend.starts_days_before_end > trend.ends_days_before_end);
            assert_eq!(recipe.shape.first().map(|p| p.0), Some(0.0));
            assert_eq!(recipe.shape.last().map(|p| p.0), Some(1.0));
        }
    }

    #[test]
    fn trends_name_what_the_catalog_has() {
        let catalog = catalog();
        for trend in PLANTED_TRENDS {
            let brand = catalog.brand(trend.brand).expect(trend.brand);
            if let Some(product) = trend.product {
                assert!(brand.product(product).is_some(), "{product}");
            }
            if let Some(region) = trend.region {
                assert!(catalog.region(region).is_some(), "{region}");
            }
        }
        // Only planted rows name the launched product.
        let launch = &PLANTED_TRENDS[1];
        let killa = catalog.brand(launch.brand).expect(launch.brand);
        assert!(killa
            .launches
            .iter()
            .any(|p| Some(p.name.as_str()) == launch.product));
    }

    #[test]
    fn intensity_interpolates_linearly() {
        let ramp = &RECIPES[0];
        assert!((ramp.intensity(0.5) - 0.025).abs() < 1e-12);
        assert_eq!(ramp.intensity(1.5), 0.0);
        assert!((RECIPES[2].intensity(0.5) - 0.2).abs() < 1e-12);
        assert!((RECIPES[2].peak() - 0.2).abs() < 1e-12);
    }
}
