//! Tests of the demo generator as a whole: reproducibility, shape of the data, text
//! variety and the planted trends.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::calendar::{local_days, local_hour, DAY_MS};
use super::*;

/// 2025-06-01 00:00 in Lima.
const END_MS: i64 = 1_748_754_000_000;
/// 2025-03-01 00:00 in Lima.
const END_OF_SUMMER_MS: i64 = 1_740_805_200_000;

fn options(rows: usize, days: u32, seed: u64) -> DemoOptions {
    DemoOptions {
        rows,
        days,
        seed,
        end_time_ms: END_MS,
    }
}

fn labelled(opts: &DemoOptions) -> Vec<LabelledFeedback> {
    let mut generator = generate(opts);
    std::iter::from_fn(|| generator.next_labelled()).collect()
}

/// The CLI's default run, generated once and shared by the tests that inspect it.
fn default_rows() -> &'static [LabelledFeedback] {
    static ROWS: OnceLock<Vec<LabelledFeedback>> = OnceLock::new();
    ROWS.get_or_init(|| labelled(&options(DEFAULT_ROWS, DEFAULT_DAYS, 7)))
}

fn share(count: usize, total: usize) -> f64 {
    count as f64 / total.max(1) as f64
}

/// SHA-256 of every field of every row `opts` gives, one line per row. Strings are
/// written with `{:?}` so separators inside them cannot collide, floats as raw bits.
fn rows_digest(opts: &DemoOptions) -> String {
    let mut hasher = Sha256::new();
    let mut line = String::new();
    let mut generator = generate(opts);
    while let Some(LabelledFeedback { feedback, polarity }) = generator.next_labelled() {
        // Destructured without `..`: a new field must be added to the digest too.
        let NewFeedback {
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
            redactions,
            event_time_ms,
            external_id,
            terms,
        } = feedback;
        // Derived from the text, so checked against it rather than hashed.
        assert_eq!(
            terms,
            pulso_core::analysis::terms::term_hashes(&text, &language)
        );
        line.clear();
        writeln!(
            line,
            "{:?}|{platform:?}|{region:?}|{city:?}|{category:?}|{brand:?}|{product:?}|\
             {language:?}|{text:?}|{:?}|{rating_raw:?}|{redactions}|{event_time_ms}|\
             {external_id:?}|{polarity:?}",
            source_type.as_str(),
            rating.map(f64::to_bits),
        )
        .unwrap();
        hasher.update(line.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Pins the exact output: the same seed must give the same rows, byte for byte, whatever
/// is refactored. Only a deliberate change to the generated data may update these.
#[test]
fn seeds_give_exactly_the_recorded_rows() {
    let cases = [
        (
            options(20_000, 180, 42),
            "0438c8e50e153f250dff7f7bcbbe1dbacb250fe51887d7298b7c2e96b7fb04ee",
        ),
        (
            options(5_000, 180, 7),
            "6eac669d8be094c62e13724a90d482ad31b3aaff0504db0357fa3dfc0cc9aaff",
        ),
        (
            options(5_000, 180, 1234),
            "5d3a282fcea331e5d7163106f3fd4bd8fabe378b3fa3bed56e39658db876c051",
        ),
    ];
    let started = std::time::Instant::now();
    let digests: Vec<String> = cases.iter().map(|(opts, _)| rows_digest(opts)).collect();
    println!("30,000 rows digested in {:?}", started.elapsed());
    let expected: Vec<&str> = cases.iter().map(|(_, digest)| *digest).collect();
    // All three compared at once, so a failure shows every new digest.
    assert_eq!(digests, expected, "rows changed");
}

#[test]
fn data_files_load() {
    // Each loader panics naming its file if it is malformed; the catalog also checks that
    // both corpora have every brand's specialty.
    assert!(!catalog().brands.is_empty());
    assert!(!corpus::spanish().food.positive.is_empty());
    assert!(!corpus::english().food.positive.is_empty());
}

#[test]
fn malformed_data_names_its_file() {
    let error = parse_data_file::<catalog::Catalog>("catalog.json", r#"{"brands": []}"#)
        .expect_err("regions are missing");
    assert!(
        error.starts_with("data/demo/catalog.json is malformed: missing field `regions`"),
        "{error}"
    );
    let bank = r#"{"positive": [], "neutral": [], "negative": [], "mixed": []}"#;
    let error = parse_data_file::<corpus::Bank>("corpus_en.json", bank).expect_err("unknown");
    assert!(
        error.starts_with("data/demo/corpus_en.json") && error.contains("unknown field `mixed`"),
        "{error}"
    );
}

#[test]
fn same_options_give_identical_rows() {
    let opts = options(3_000, 90, 11);
    let first: Vec<NewFeedback> = generate(&opts).collect();
    let second: Vec<NewFeedback> = generate(&opts).collect();
    assert_eq!(first, second);
}

#[test]
fn different_seeds_give_different_rows() {
    let first: Vec<NewFeedback> = generate(&options(2_000, 90, 1)).collect();
    let second: Vec<NewFeedback> = generate(&options(2_000, 90, 2)).collect();
    let same_text = first
        .iter()
        .zip(&second)
        .filter(|(a, b)| a.text == b.text)
        .count();
    assert!(same_text < 20, "{same_text} rows identical across seeds");
}

#[test]
fn yields_exactly_the_requested_rows() {
    for rows in [0, 1, 17, 2_500] {
        let generator = generate(&options(rows, 30, 3));
        assert_eq!(generator.len(), rows);
        assert_eq!(generator.count(), rows);
    }
    // Degenerate windows still produce rows inside them.
    let tiny = DemoOptions {
        rows: 500,
        days: 0,
        seed: 5,
        end_time_ms: END_MS + 7 * 3_600_000,
    };
    let rows: Vec<NewFeedback> = generate(&tiny).collect();
    assert_eq!(rows.len(), 500);
    assert!(rows
        .iter()
        .all(|row| (tiny.end_time_ms - DAY_MS..tiny.end_time_ms).contains(&row.event_time_ms)));
}

#[test]
fn rows_are_well_formed() {
    let rows = default_rows();
    let start = END_MS - i64::from(DEFAULT_DAYS) * DAY_MS;
    let mut ids = HashSet::new();
    for LabelledFeedback {
        feedback: row,
        polarity,
    } in rows
    {
        assert!((start..END_MS).contains(&row.event_time_ms), "{row:?}");
        assert!(
            ids.insert((row.platform.clone(), row.external_id.clone())),
            "{row:?}"
        );
        assert!(row.language == "es" || row.language == "en", "{row:?}");
        assert!(!row.text.trim().is_empty());
        assert!(
            !row.text.contains(['{', '}']),
            "unfilled placeholder: {}",
            row.text
        );
        assert!(!row.text.contains("  "), "double space: {:?}", row.text);
        let brand = catalog()
            .brand(&row.brand)
            .unwrap_or_else(|| panic!("unknown brand {}", row.brand));
        assert_eq!(row.category, brand.category(row.source_type));
        // Launched products included: the launch test checks when they appear.
        assert!(brand.product(&row.product).is_some(), "{row:?}");
        let region = catalog()
            .region(&row.region)
            .unwrap_or_else(|| panic!("unknown region {}", row.region));
        assert!(
            region.cities.iter().any(|(city, _)| *city == row.city),
            "{row:?}"
        );
        match (row.source_type, row.rating) {
            (SourceType::Social, None) => {}
            (SourceType::Social, Some(_)) => panic!("social posts have no rating: {row:?}"),
            (_, None) => panic!("missing rating: {row:?}"),
            (_, Some(rating)) => {
                assert!((1.0..=5.0).contains(&rating));
                match polarity {
                    Polarity::Positive => assert!(rating >= 4.0, "{row:?}"),
                    Polarity::Negative => assert!(rating <= 2.0, "{row:?}"),
                    Polarity::Neutral => assert!((2.0..=4.0).contains(&rating), "{row:?}"),
                }
            }
        }
    }
}

#[test]
fn distributions_look_like_peru() {
    let rows = default_rows();
    let total = rows.len();
    let count = |predicate: &dyn Fn(&LabelledFeedback) -> bool| {
        rows.iter().filter(|r| predicate(r)).count()
    };

    let lima = share(count(&|r| r.feedback.region == "Lima"), total);
    let arequipa = share(count(&|r| r.feedback.region == "Arequipa"), total);
    let cusco = share(count(&|r| r.feedback.region == "Cusco"), total);
    assert!((0.30..0.50).contains(&lima), "Lima {lima}");
    assert!((0.03..0.08).contains(&arequipa), "Arequipa {arequipa}");
    assert!((0.02..0.07).contains(&cusco), "Cusco {cusco}");
    let regions: HashSet<&str> = rows.iter().map(|r| r.feedback.region.as_str()).collect();
    assert_eq!(regions.len(), catalog().regions.len());

    for source in SourceType::ALL {
        let source_share = share(count(&|r| r.feedback.source_type == source), total);
        assert!(
            (0.1..0.5).contains(&source_share),
            "{source:?} {source_share}"
        );
    }
    let platforms: HashSet<&str> = rows.iter().map(|r| r.feedback.platform.as_str()).collect();
    assert_eq!(platforms.len(), catalog().platforms.len());

    let english = share(count(&|r| r.feedback.language == "en"), total);
    assert!((0.05..0.12).contains(&english), "English {english}");
    let cusco_rows = count(&|r| r.feedback.region == "Cusco");
    let cusco_english = share(
        count(&|r| r.feedback.region == "Cusco" && r.feedback.language == "en"),
        cusco_rows,
    );
    assert!(
        cusco_english > 2.0 * english,
        "Cusco English {cusco_english}"
    );

    let positive = share(count(&|r| r.polarity == Polarity::Positive), total);
    let neutral = share(count(&|r| r.polarity == Polarity::Neutral), total);
    let negative = share(count(&|r| r.polarity == Polarity::Negative), total);
    assert!((0.40..0.52).contains(&positive), "positive {positive}");
    assert!((0.19..0.31).contains(&neutral), "neutral {neutral}");
    assert!((0.24..0.36).contains(&negative), "negative {negative}");
    println!(
        "es/en {:.3}/{english:.3}, pos/neu/neg {positive:.3}/{neutral:.3}/{negative:.3}",
        1.0 - english
    );
}

#[test]
fn texts_rarely_repeat() {
    let rows = default_rows();
    let distinct: HashSet<&str> = rows.iter().map(|r| r.feedback.text.as_str()).collect();
    let duplicate_rate = share(rows.len() - distinct.len(), rows.len());
    println!(
        "duplicate texts at {} rows: {:.2}%",
        rows.len(),
        duplicate_rate * 100.0
    );
    assert!(duplicate_rate < 0.03, "duplicate rate {duplicate_rate}");

    let lengths: Vec<usize> = rows
        .iter()
        .map(|r| r.feedback.text.split_whitespace().count())
        .collect();
    let short = share(
        lengths.iter().filter(|&&words| words <= 4).count(),
        rows.len(),
    );
    let long = share(
        lengths.iter().filter(|&&words| words >= 30).count(),
        rows.len(),
    );
    assert!(short > 0.02 && long > 0.02, "short {short}, long {long}");
}

#[test]
fn delivery_slump_grows_in_arequipa() {
    let rows = default_rows();
    let trend = &PLANTED_TRENDS[0];
    let is_slump_complaint = |r: &&LabelledFeedback| {
        r.polarity == Polarity::Negative
            && r.feedback.brand == trend.brand
            && Some(r.feedback.region.as_str()) == trend.region
            && Some(r.feedback.source_type) == trend.source_type
    };
    let in_days = |r: &&LabelledFeedback, from: i64, to: i64| {
        (END_MS - from * DAY_MS..END_MS - to * DAY_MS).contains(&r.feedback.event_time_ms)
    };
    let complaints = |from: i64, to: i64| {
        rows.iter()
            .filter(is_slump_complaint)
            .filter(|r| in_days(r, from, to))
            .count()
    };
    let first_month = complaints(180, 150);
    let last_month = complaints(30, 0);
    assert!(
        last_month >= 100,
        "only {last_month} complaints in the last 30 days"
    );
    assert!(
        last_month > 5 * first_month.max(1),
        "{first_month} -> {last_month}"
    );
    // Steady growth, not a step.
    let (early, middle, late) = (complaints(30, 20), complaints(20, 10), complaints(10, 0));
    assert!(early < middle && middle < late, "{early} {middle} {late}");

    // Among that brand's delivery reviews in Arequipa, complaints take over.
    let negative_share = |from: i64, to: i64| {
        let scoped: Vec<&LabelledFeedback> = rows
            .iter()
            .filter(|r| {
                r.feedback.brand == trend.brand
                    && r.feedback.region == "Arequipa"
                    && r.feedback.source_type == SourceType::Delivery
            })
            .filter(|r| in_days(r, from, to))
            .collect();
        share(
            scoped
                .iter()
                .filter(|r| r.polarity == Polarity::Negative)
                .count(),
            scoped.len(),
        )
    };
    let (before, after) = (negative_share(180, 90), negative_share(30, 0));
    assert!(
        before < 0.55 && after > 0.75,
        "negative share {before} -> {after}"
    );
}

#[test]
fn launch_gets_positive_buzz_after_launch_only() {
    let rows = default_rows();
    let trend = &PLANTED_TRENDS[1];
    let launch_ms = END_MS - i64::from(trend.starts_days_before_end) * DAY_MS;
    let launched: Vec<&LabelledFeedback> = rows
        .iter()
        .filter(|r| Some(r.feedback.product.as_str()) == trend.product)
        .collect();
    assert!(launched.len() > 100, "{} launch rows", launched.len());
    assert!(launched
        .iter()
        .all(|r| r.feedback.event_time_ms >= launch_ms));
    assert!(launched.iter().all(|r| r.feedback.brand == trend.brand));
    let positive = share(
        launched
            .iter()
            .filter(|r| r.polarity == Polarity::Positive)
            .count(),
        launched.len(),
    );
    assert!(positive > 0.65, "positive share {positive}");
    let first_week = launched
        .iter()
        .filter(|r| r.feedback.event_time_ms < launch_ms + 7 * DAY_MS)
        .count();
    let last_week = launched
        .iter()
        .filter(|r| r.feedback.event_time_ms >= END_MS - 7 * DAY_MS)
        .count();
    assert!(
        first_week > last_week,
        "first week {first_week}, last week {last_week}"
    );
}

#[test]
fn packaging_spike_is_short_and_sharp() {
    let rows = default_rows();
    let trend = &PLANTED_TRENDS[2];
    let spike = END_MS - i64::from(trend.starts_days_before_end) * DAY_MS
        ..END_MS - i64::from(trend.ends_days_before_end) * DAY_MS;
    let complaints: Vec<i64> = rows
        .iter()
        .filter(|r| {
            r.polarity == Polarity::Negative
                && r.feedback.brand == trend.brand
                && Some(r.feedback.product.as_str()) == trend.product
        })
        .map(|r| r.feedback.event_time_ms)
        .collect();
    let inside = complaints.iter().filter(|t| spike.contains(t)).count();
    let spike_days = f64::from(trend.starts_days_before_end - trend.ends_days_before_end);
    let per_day_inside = inside as f64 / spike_days;
    let per_day_outside =
        (complaints.len() - inside) as f64 / (f64::from(DEFAULT_DAYS) - spike_days);
    assert!(inside > 60, "{inside} complaints in the spike");
    assert!(
        per_day_inside > 10.0 * per_day_outside,
        "{per_day_inside} vs {per_day_outside} a day"
    );
}

#[test]
fn volume_follows_the_calendar() {
    let opts = DemoOptions {
        rows: 120_000,
        days: 365,
        seed: 9,
        end_time_ms: END_OF_SUMMER_MS,
    };
    let rows: Vec<NewFeedback> = generate(&opts).collect();
    let days = local_days(END_OF_SUMMER_MS - 365 * DAY_MS, END_OF_SUMMER_MS);
    let mut per_day = vec![0usize; days.len()];
    let mut per_day_paneton = vec![0usize; days.len()];
    for row in &rows {
        let index = ((row.event_time_ms - days[0].start_utc_ms) / DAY_MS) as usize;
        per_day[index] += 1;
        if row.brand == "Panetones Abuela Rosa" {
            per_day_paneton[index] += 1;
        }
    }
    let average = |counts: &[usize], keep: &dyn Fn(&calendar::LocalDay) -> bool| {
        let picked: Vec<usize> = days
            .iter()
            .zip(counts)
            .filter(|(d, _)| keep(d))
            .map(|(_, c)| *c)
            .collect();
        picked.iter().sum::<usize>() as f64 / picked.len().max(1) as f64
    };
    let fiestas_patrias = average(&per_day, &|d| d.month == 7 && (28..=29).contains(&d.day));
    let early_july = average(&per_day, &|d| d.month == 7 && d.day <= 20);
    assert!(
        fiestas_patrias > 1.4 * early_july,
        "{fiestas_patrias} vs {early_july}"
    );
    let weekend = average(&per_day, &|d| {
        d.weekday >= 5 && d.month >= 4 && d.month <= 10
    });
    let weekday = average(&per_day, &|d| {
        d.weekday <= 3 && d.month >= 4 && d.month <= 10
    });
    assert!(weekend > 1.2 * weekday, "{weekend} vs {weekday}");
    let december_paneton = average(&per_day_paneton, &|d| d.month == 12);
    let spring_paneton = average(&per_day_paneton, &|d| (4..=6).contains(&d.month));
    assert!(
        december_paneton > 5.0 * spring_paneton,
        "{december_paneton} vs {spring_paneton}"
    );

    // Ceviche is a summer thing.
    let in_months = |months: &[u32]| {
        let scoped: Vec<&NewFeedback> = rows
            .iter()
            .filter(|r| {
                let index = ((r.event_time_ms - days[0].start_utc_ms) / DAY_MS) as usize;
                months.contains(&days[index].month)
            })
            .collect();
        share(
            scoped
                .iter()
                .filter(|r| r.brand == "La Lancha de Chalo")
                .count(),
            scoped.len(),
        )
    };
    let (summer, winter) = (in_months(&[1, 2]), in_months(&[6, 7, 8]));
    assert!(summer > 1.3 * winter, "ceviche share {summer} vs {winter}");

    // Restaurants are reviewed around lunch and dinner.
    let restaurant_delivery: Vec<u32> = rows
        .iter()
        .filter(|r| r.source_type == SourceType::Delivery && r.category == "delivery")
        .map(|r| local_hour(r.event_time_ms))
        .collect();
    let meal_hours = restaurant_delivery
        .iter()
        .filter(|h| (12..=14).contains(*h) || (19..=21).contains(*h))
        .count();
    assert!(share(meal_hours, restaurant_delivery.len()) > 0.45);
}

#[test]
#[ignore = "prints sample rows; run with --ignored --nocapture"]
fn print_sample_rows() {
    let rows = default_rows();
    let mut seen = HashMap::new();
    for row in rows.iter().step_by(997).take(60) {
        let f = &row.feedback;
        *seen.entry(f.platform.as_str()).or_insert(0) += 1;
        println!(
            "[{}/{} {:?} {} {}/{} {} | {} | {:?}] {}",
            f.source_type.as_str(),
            f.platform,
            row.polarity,
            f.language,
            f.region,
            f.city,
            f.brand,
            f.product,
            f.rating,
            f.text
        );
    }
    println!("{seen:?}");
}

#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn generates_a_million_rows_quickly() {
    let started = std::time::Instant::now();
    let opts = options(1_000_000, DEFAULT_DAYS, 1);
    let bytes: usize = generate(&opts).map(|row| row.text.len()).sum();
    println!(
        "1,000,000 rows ({bytes} bytes of text) in {:?}",
        started.elapsed()
    );
}
