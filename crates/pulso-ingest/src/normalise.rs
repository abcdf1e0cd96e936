//! One raw row to one storable row: Unicode NFC, personal data redacted, region, time, rating
//! and language normalised, and an idempotent id. Every problem is reported against the row,
//! the field and the (redacted) value.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use chrono_tz::Tz;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;
use whatlang::{Detector, Lang};

use super::fields::{column_key, Field};
use super::read::RawRow;
use super::redact::{redact, RedactionCounts, RedactionRules};
use super::regions::{self, Region, UNKNOWN_REGION};
use super::time::parse_time;
use super::{IngestOptions, RowIssue};
use pulso_store::{NewFeedback, SourceType};

/// Longest text stored; longer feedback is almost always a mis-parsed file.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest dimension value (brand, product, city, ...) and id.
pub const MAX_LABEL_CHARS: usize = 200;
/// The value stored for a dimension the row does not have.
pub const UNKNOWN: &str = "unknown";

/// What became of a row.
// Short-lived, one per row: boxing the kept row would cost an allocation per row.
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    Keep(NewFeedback),
    Rejected,
    /// The same (platform, id) with the same content appeared earlier in this input.
    DuplicateInInput,
}

pub struct Normaliser {
    defaults: HashMap<Field, String>,
    scale: Option<(f64, f64)>,
    zone: Tz,
    rules: RedactionRules,
    now_ms: i64,
    received_ms: Option<i64>,
    detector: Detector,
    /// Hash of (platform, id) -> (first row, hash of its content), to catch repeats in one input.
    seen: HashMap<u64, (u64, u64)>,
}

impl Normaliser {
    pub fn new(options: &IngestOptions) -> Normaliser {
        let mut defaults: HashMap<Field, String> = options
            .mapping
            .defaults
            .iter()
            .map(|(f, v)| (*f, v.clone()))
            .collect();
        if let Some(source_type) = &options.source_type {
            defaults.insert(Field::SourceType, source_type.clone());
        }
        if let Some(platform) = &options.platform {
            defaults.insert(Field::Platform, platform.clone());
        }
        Normaliser {
            defaults,
            scale: options.mapping.rating_scale,
            zone: options.timezone,
            rules: RedactionRules {
                handles: options.redact_handles,
            },
            now_ms: options.now_ms,
            received_ms: options.received_ms,
            // Feedback here is Spanish or English; with Portuguese allowed, 3 of the 131
            // Spanish sample rows were detected as Portuguese.
            detector: Detector::with_allowlist(vec![Lang::Spa, Lang::Eng]),
            seen: HashMap::new(),
        }
    }

    fn value<'a>(&'a self, raw: &'a RawRow, field: Field) -> Option<&'a str> {
        raw.get(field)
            .or_else(|| self.defaults.get(&field).map(String::as_str))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    pub fn normalise(
        &mut self,
        raw: &RawRow,
        issues: &mut Vec<RowIssue>,
        counts: &mut RedactionCounts,
    ) -> Outcome {
        let errors_before = issues.iter().filter(|i| i.is_error()).count();
        let mut row_counts = RedactionCounts::default();
        let mut error = |field: Field, value: &str, reason: String| {
            issues.push(RowIssue::error(
                raw.row,
                raw.line,
                field.name(),
                value,
                reason,
            ));
        };

        let text = match self.value(raw, Field::Text) {
            None => {
                error(
                    Field::Text,
                    "",
                    "it is missing or empty: every row needs the feedback text".into(),
                );
                None
            }
            Some(text) => {
                let length = text.chars().count();
                if length > MAX_TEXT_CHARS {
                    error(
                        Field::Text,
                        text,
                        format!("it has {length} characters; the limit is {MAX_TEXT_CHARS}: check the quoting, or split the text"),
                    );
                    None
                } else {
                    let clean = clean_text(text);
                    Some(redact(&clean, self.rules, &mut row_counts).into_owned())
                }
            }
        };

        let source_type = match self.value(raw, Field::SourceType) {
            None => {
                error(Field::SourceType, "", "it is missing: pass --source-type (social, review, survey or delivery) or map a column".into());
                None
            }
            Some(value) => {
                let parsed = parse_source_type(value);
                if parsed.is_none() {
                    error(
                        Field::SourceType,
                        value,
                        "it is not one of social, review, survey, delivery".into(),
                    );
                }
                parsed
            }
        };

        let platform = match self.value(raw, Field::Platform) {
            None => {
                error(Field::Platform, "", "it is missing: pass --platform (e.g. google_maps, twitter, encuesta_nps) or map a column".into());
                None
            }
            Some(value) => {
                let key = column_key(value);
                let mut found = RedactionCounts::default();
                let personal = redact(value, RedactionRules { handles: false }, &mut found);
                if found.total() > 0 {
                    // Stored as a key, it would keep the address whole ("jose_perez_gmail_com").
                    error(
                        Field::Platform,
                        &personal,
                        "it holds personal data (an e-mail, phone or document number): a platform is a name such as google_maps; map the column that names the source".into(),
                    );
                    None
                } else if key.is_empty() || key.len() > 64 {
                    error(
                        Field::Platform,
                        value,
                        "it must have 1 to 64 letters, digits or _".into(),
                    );
                    None
                } else {
                    Some(key)
                }
            }
        };

        let given_time = raw
            .get(Field::Time)
            .map(str::trim)
            .filter(|v| !v.is_empty());
        let event_time_ms = match (given_time, self.received_ms) {
            (Some(value), _) => match parse_time(value, self.zone, self.now_ms) {
                Ok(ms) => Some(ms),
                Err(reason) => {
                    error(Field::Time, value, reason);
                    None
                }
            },
            (None, Some(received)) => Some(received),
            (None, None) => {
                error(
                    Field::Time,
                    "",
                    "it is missing: map the column with the date (--map time=COLUMN)".into(),
                );
                None
            }
        };

        let mut region_city = None;
        let region = match self.value(raw, Field::Region) {
            None => UNKNOWN_REGION.to_string(),
            Some(value) => match regions::resolve(value) {
                Region::Department(name) => name.to_string(),
                Region::City { department } => {
                    region_city = Some(clean_label(value));
                    department.to_string()
                }
                Region::Unknown => {
                    issues.push(RowIssue::warning(
                        raw.row,
                        raw.line,
                        Field::Region.name(),
                        value,
                        "it is not a Peru department or a known city: stored as unknown".into(),
                    ));
                    UNKNOWN_REGION.to_string()
                }
            },
        };
        let mut error = |field: Field, value: &str, reason: String| {
            issues.push(RowIssue::error(
                raw.row,
                raw.line,
                field.name(),
                value,
                reason,
            ));
        };

        let mut label = |field: Field, fallback: Option<String>| -> Option<String> {
            match self.value(raw, field) {
                None => Some(fallback.unwrap_or_else(|| UNKNOWN.to_string())),
                Some(value) if value.chars().count() > MAX_LABEL_CHARS => {
                    error(field, value, format!("it is longer than {MAX_LABEL_CHARS} characters: is the right column mapped?"));
                    None
                }
                Some(value) => {
                    Some(redact(&clean_label(value), self.rules, &mut row_counts).into_owned())
                }
            }
        };
        let city = label(Field::City, region_city);
        let brand = label(Field::Brand, None);
        let product = label(Field::Product, None);
        let category = label(Field::Category, None);

        let scale = raw.rating_scale.or(self.scale);
        let rating = match self.value(raw, Field::Rating) {
            None => Some((None, None)),
            Some(value) => match parse_rating(value, scale) {
                Ok(normalised) => Some((Some(normalised), Some(value.chars().take(32).collect()))),
                Err(reason) => {
                    error(Field::Rating, value, reason);
                    None
                }
            },
        };

        let language = match self
            .value(raw, Field::Language)
            .and_then(normalise_language)
        {
            Some(code) => code.to_string(),
            None => text
                .as_deref()
                .and_then(|t| self.detector.detect_lang(t))
                .map_or("und", |lang| if lang == Lang::Eng { "en" } else { "es" })
                .to_string(),
        };

        let given_id = self.value(raw, Field::ExternalId).map(str::to_string);
        if let Some(id) = &given_id {
            if id.chars().count() > MAX_LABEL_CHARS {
                error(
                    Field::ExternalId,
                    id,
                    format!("it is longer than {MAX_LABEL_CHARS} characters"),
                );
            }
        }

        let errors_now = issues.iter().filter(|i| i.is_error()).count();
        let (
            Some(text),
            Some(source_type),
            Some(platform),
            Some(event_time_ms),
            Some(city),
            Some(brand),
            Some(product),
            Some(category),
            Some((rating, rating_raw)),
        ) = (
            text,
            source_type,
            platform,
            event_time_ms,
            city,
            brand,
            product,
            category,
            rating,
        )
        else {
            return Outcome::Rejected;
        };
        if errors_now > errors_before {
            return Outcome::Rejected;
        }

        let external_id = match given_id {
            Some(id) => {
                let mut id_counts = RedactionCounts::default();
                // An id that is an e-mail or a phone number is personal data: keep only its hash.
                if redact(&id, RedactionRules { handles: false }, &mut id_counts) != id.as_str() {
                    row_counts.add(&id_counts);
                    format!("h:{}", sha256_hex(&[&platform, &id]))
                } else {
                    id
                }
            }
            // Without an id the row's own time tells repeated mentions apart; a time stamped on
            // arrival does not, or pushing the same mention twice would store it twice.
            None if given_time.is_some() => format!(
                "h:{}",
                sha256_hex(&[&platform, &event_time_ms.to_string(), &text])
            ),
            None => format!("h:{}", sha256_hex(&[&platform, "received", &text])),
        };

        let key = hash_of(&(&platform, &external_id));
        let content = hash_of(&(&text, event_time_ms));
        if let Some((first_row, first_content)) = self.seen.get(&key).copied() {
            if first_content == content {
                return Outcome::DuplicateInInput;
            }
            issues.push(RowIssue::error(
                raw.row,
                raw.line,
                Field::ExternalId.name(),
                &external_id,
                format!("row {first_row} has the same id with different text or time: ids must be unique per platform"),
            ));
            return Outcome::Rejected;
        }
        self.seen.insert(key, (raw.row, content));

        counts.add(&row_counts);
        // Terms come from the redacted text, so no personal data reaches the trend index.
        let terms = pulso_core::analysis::terms::term_hashes(&text, &language);
        Outcome::Keep(NewFeedback {
            source_type,
            platform,
            region,
            city,
            category,
            brand,
            product,
            language,
            text,
            rating,
            rating_raw,
            redactions: row_counts.total().min(u64::from(u32::MAX)) as u32,
            event_time_ms,
            external_id,
            terms,
        })
    }
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0x1f]);
    }
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// NFC, trimmed, Windows line ends and control characters (other than new lines and tabs)
/// removed.
fn clean_text(text: &str) -> String {
    text.nfc()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_string()
}

/// NFC with runs of white space collapsed, for dimension values.
fn clean_label(value: &str) -> String {
    let nfc: String = value.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_source_type(value: &str) -> Option<SourceType> {
    match column_key(value).as_str() {
        "social" | "redes" | "red_social" | "redes_sociales" | "social_media" => {
            Some(SourceType::Social)
        }
        "review" | "reviews" | "resena" | "resenas" | "opiniones" => Some(SourceType::Review),
        "survey" | "surveys" | "encuesta" | "encuestas" => Some(SourceType::Survey),
        "delivery" | "app_de_delivery" => Some(SourceType::Delivery),
        _ => None,
    }
}

fn normalise_language(value: &str) -> Option<&'static str> {
    match column_key(value).as_str() {
        "es" | "spa" | "espanol" | "spanish" | "castellano" | "es_pe" => Some("es"),
        "en" | "eng" | "english" | "ingles" | "en_us" | "en_gb" => Some("en"),
        "pt" | "por" | "portugues" | "portuguese" | "pt_br" => Some("pt"),
        "qu" | "que" | "quechua" | "runasimi" => Some("qu"),
        _ => None,
    }
}

/// A rating as written ("4", "4,5", "8/10", "★★★★☆", "4 estrellas") to the 1-5 scale.
pub fn parse_rating(value: &str, scale: Option<(f64, f64)>) -> Result<f64, String> {
    let value = value.trim();
    let stars = value.chars().filter(|c| *c == '★').count();
    if stars > 0
        && value
            .chars()
            .all(|c| c == '★' || c == '☆' || c.is_whitespace())
    {
        return Ok((stars as f64).clamp(1.0, 5.0));
    }
    let number = |s: &str| {
        s.trim()
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
    };
    if let Some((given, out_of)) = value.split_once('/') {
        let (Some(given), Some(out_of)) = (number(given), number(out_of)) else {
            return Err("it is not a number, N/M, or stars: use e.g. 4, 4.5, 8/10".into());
        };
        if out_of <= 0.0 || given < 0.0 || given > out_of {
            return Err(format!("{given} out of {out_of} is not a rating"));
        }
        return Ok(round2((given / out_of * 5.0).clamp(1.0, 5.0)));
    }
    let digits = value
        .trim_end_matches(|c: char| c.is_alphabetic() || c.is_whitespace() || c == '.')
        .trim();
    let Some(given) = number(digits) else {
        return Err("it is not a number, N/M, or stars: use e.g. 4, 4.5, 8/10".into());
    };
    let (min, max) = scale.unwrap_or((1.0, 5.0));
    if given < min || given > max {
        return Err(format!(
            "it is outside the rating scale {min}-{max}: give the scale with --rating-scale (e.g. 0-10) or rating_scale in the mapping file"
        ));
    }
    Ok(round2(1.0 + 4.0 * (given - min) / (max - min)))
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_in_every_shape_land_on_one_to_five() {
        assert_eq!(parse_rating("4", None), Ok(4.0));
        assert_eq!(parse_rating("4,5", None), Ok(4.5));
        assert_eq!(parse_rating("4 estrellas", None), Ok(4.0));
        assert_eq!(parse_rating("8/10", None), Ok(4.0));
        assert_eq!(parse_rating("4/5", None), Ok(4.0));
        assert_eq!(parse_rating("★★★☆☆", None), Ok(3.0));
        assert_eq!(parse_rating("10", Some((0.0, 10.0))), Ok(5.0));
        assert_eq!(parse_rating("0", Some((0.0, 10.0))), Ok(1.0));
        assert!(parse_rating("7", None)
            .unwrap_err()
            .contains("outside the rating scale 1-5"));
        assert!(parse_rating("muy bueno", None)
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_rating("6/5", None).is_err());
    }

    #[test]
    fn source_types_and_languages_accept_spanish_names() {
        assert_eq!(parse_source_type("Encuesta"), Some(SourceType::Survey));
        assert_eq!(
            parse_source_type("Redes sociales"),
            Some(SourceType::Social)
        );
        assert_eq!(parse_source_type("reseñas"), Some(SourceType::Review));
        assert_eq!(parse_source_type("tv"), None);
        assert_eq!(normalise_language("Español"), Some("es"));
        assert_eq!(normalise_language("EN"), Some("en"));
        assert_eq!(normalise_language("klingon"), None);
    }

    #[test]
    fn text_is_nfc_and_trimmed() {
        // "é" as e + combining acute becomes one code point.
        assert_eq!(clean_text("  cafe\u{301} rico\u{0}\r\n"), "café rico");
        assert_eq!(clean_label("  Qori   Brasa "), "Qori Brasa");
    }
}
