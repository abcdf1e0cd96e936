//! Plain feedback records, shared by ingestion, the demo generator and the stores.

/// Where a piece of feedback came from. The string forms are stored and shown in Grafana.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceType {
    Social,
    Review,
    Survey,
    Delivery,
}

impl SourceType {
    pub const ALL: [SourceType; 4] = [Self::Social, Self::Review, Self::Survey, Self::Delivery];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Social => "social",
            Self::Review => "review",
            Self::Survey => "survey",
            Self::Delivery => "delivery",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// One piece of consumer feedback, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeedback {
    pub source_type: SourceType,
    /// e.g. "twitter", "instagram", "rappi", "pedidosya", "google_maps", "tripadvisor", "encuesta_nps".
    pub platform: String,
    /// Peru department (region), e.g. "Lima", "Arequipa", "La Libertad".
    pub region: String,
    pub city: String,
    /// e.g. "restaurants", "delivery", "packaged_foods", "beverages", "markets".
    pub category: String,
    pub brand: String,
    pub product: String,
    /// ISO 639-1 code: "es" or "en".
    pub language: String,
    pub text: String,
    /// Star or survey rating when the source has one, normalised to 1 to 5.
    pub rating: Option<f64>,
    /// The rating exactly as the source gave it ("8/10", "4 estrellas").
    pub rating_raw: Option<String>,
    /// How many pieces of personal data were replaced by placeholders in this row.
    pub redactions: u32,
    /// When the consumer wrote it, milliseconds since the Unix epoch (UTC).
    pub event_time_ms: i64,
    /// Identifier at the source; unique per platform, so re-ingesting is idempotent.
    pub external_id: String,
    /// The text's distinct term hashes (`analysis::terms::term_hashes`), computed by whoever
    /// makes the row so that trend queries count integers instead of re-reading text.
    pub terms: Vec<u32>,
}
