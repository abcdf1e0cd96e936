//! Peru's calendar as it shapes feedback volume: local days (UTC−5, no daylight saving),
//! weekly rhythm, holidays and seasons, and the hours people eat and post.
//!
//! Only +, −, × and ÷ are used on floats here (no `exp`, `sin`…), so weights are
//! bit-identical on every platform and a seed always gives the same rows.

use chrono::{Datelike, NaiveDate};

use super::catalog::{Brand, BrandGroup, Season};

pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;
/// Peru is UTC−5 all year.
const PERU_OFFSET_MS: i64 = -5 * HOUR_MS;
/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// What people are celebrating on a day; shows up in the text and in the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Occasion {
    Ordinary,
    Summer,
    FiestasPatrias,
    /// Third Sunday of July.
    PolloDay,
    /// 1–25 December.
    Christmas,
    NewYear,
    /// Second Sunday of May.
    MothersDay,
}

/// One calendar day in Peru. The first and last may stick out of the demo window.
pub(crate) struct LocalDay {
    /// Local midnight, as UTC epoch milliseconds.
    pub start_utc_ms: i64,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: usize,
    pub month: u32,
    pub day: u32,
    pub occasion: Occasion,
}

impl LocalDay {
    fn new(local_day_number: i64) -> Self {
        // 1970-01-01 was a Thursday (weekday 3 when Monday is 0).
        let weekday = usize::try_from((local_day_number + 3).rem_euclid(7)).unwrap_or(0);
        let date = i32::try_from(local_day_number + UNIX_EPOCH_DAYS_FROM_CE)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt);
        // Dates chrono cannot represent are treated as an ordinary day with no season.
        let (month, day) = date.map_or((0, 0), |d| (d.month(), d.day()));
        let mut local_day = Self {
            start_utc_ms: local_day_number
                .saturating_mul(DAY_MS)
                .saturating_sub(PERU_OFFSET_MS),
            weekday,
            month,
            day,
            occasion: Occasion::Ordinary,
        };
        local_day.occasion = local_day.find_occasion();
        local_day
    }

    fn is_sunday(&self) -> bool {
        self.weekday == 6
    }

    pub(crate) fn is_weekend(&self) -> bool {
        self.weekday >= 5
    }

    fn find_occasion(&self) -> Occasion {
        match (self.month, self.day) {
            (7, 15..=21) if self.is_sunday() => Occasion::PolloDay,
            (5, 8..=14) if self.is_sunday() => Occasion::MothersDay,
            (7, 24..=31) => Occasion::FiestasPatrias,
            (12, 1..=25) => Occasion::Christmas,
            (12, 26..=31) | (1, 1..=2) => Occasion::NewYear,
            (1..=3, _) => Occasion::Summer,
            _ => Occasion::Ordinary,
        }
    }

    pub(crate) fn in_season(&self, season: Season) -> bool {
        match season {
            Season::AllYear => true,
            Season::Summer => (1..=3).contains(&self.month),
            Season::Winter => (6..=8).contains(&self.month),
            Season::FiestasPatrias => self.month == 7 && self.day >= 20,
            Season::Christmas => self.month == 12 || (self.month == 11 && self.day >= 15),
        }
    }

    /// How busy the day is relative to an ordinary Thursday.
    pub(crate) fn volume_factor(&self) -> f64 {
        const WEEKDAY: [f64; 7] = [0.88, 0.9, 0.95, 1.0, 1.12, 1.3, 1.25];
        let holiday = match (self.month, self.day) {
            (7, 27) => 1.3,
            (7, 28) => 1.9,
            (7, 29) => 1.75,
            (7, 30) => 1.2,
            // Christmas shopping builds up through December.
            (12, d @ 1..=20) => 1.05 + 0.02 * f64::from(d - 1),
            (12, 21..=24) => 1.6,
            (12, 25) => 1.5,
            (12, 26..=30) => 1.1,
            (12, 31) => 1.4,
            (1, 1) => 1.3,
            (1..=3, _) => 1.08,
            _ => 1.0,
        };
        let occasion = match self.occasion {
            Occasion::PolloDay => 1.4,
            Occasion::MothersDay => 1.5,
            _ => 1.0,
        };
        WEEKDAY[self.weekday] * holiday * occasion
    }

    /// How much more (or less) a brand is talked about on this day.
    pub(crate) fn brand_factor(&self, brand: &Brand) -> f64 {
        let mut factor = if self.in_season(brand.peak) {
            brand.peak_boost
        } else {
            1.0
        };
        // Ceviche and cold drinks sell less in the grey Lima winter.
        if brand.peak == Season::Summer && self.in_season(Season::Winter) {
            factor *= 0.85;
        }
        match self.occasion {
            // Only pollerías celebrate the Día del Pollo a la Brasa.
            Occasion::PolloDay if brand.specialty == "polleria" => {
                factor *= 3.0;
            }
            Occasion::MothersDay if brand.group == BrandGroup::Restaurant => factor *= 1.4,
            _ => {}
        }
        // Panetón sells a little in November and around Fiestas Patrias too.
        if brand.peak == Season::Christmas && brand.group == BrandGroup::Packaged {
            if self.month == 11 && self.day < 15 {
                factor *= 2.5;
            } else if self.month == 7 {
                factor *= 1.5;
            }
        }
        factor
    }
}

/// The local days touched by `[start_ms, end_ms)`, oldest first.
pub(crate) fn local_days(start_ms: i64, end_ms: i64) -> Vec<LocalDay> {
    let first = local_day_number(start_ms);
    let last = local_day_number(end_ms.saturating_sub(1)).max(first);
    (first..=last).map(LocalDay::new).collect()
}

fn local_day_number(utc_ms: i64) -> i64 {
    utc_ms.saturating_add(PERU_OFFSET_MS).div_euclid(DAY_MS)
}

/// The local hour (0–23) of a UTC timestamp.
pub(crate) fn local_hour(utc_ms: i64) -> u32 {
    let hour = utc_ms
        .saturating_add(PERU_OFFSET_MS)
        .rem_euclid(DAY_MS)
        .div_euclid(HOUR_MS);
    u32::try_from(hour).unwrap_or(0)
}

/// The daily rhythm of a kind of feedback, in Peru local hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HourProfile {
    /// Restaurants and delivery: lunch (12–15) and dinner (19–22) peaks.
    Meals,
    /// Social media: builds through the day, peaks in the evening.
    Social,
    /// Surveys and markets: office and shopping hours.
    Daytime,
}

impl HourProfile {
    pub(crate) fn weights(self) -> &'static [f64; 24] {
        match self {
            Self::Meals => &[
                0.6, 0.35, 0.2, 0.1, 0.1, 0.15, 0.3, 0.5, 0.7, 0.8, 1.0, 1.6, 3.2, 3.8, 3.0, 1.8,
                1.4, 1.6, 2.4, 3.4, 3.8, 3.2, 2.0, 1.2,
            ],
            Self::Social => &[
                1.2, 0.7, 0.4, 0.2, 0.15, 0.2, 0.5, 0.9, 1.2, 1.4, 1.5, 1.6, 2.0, 2.2, 1.9, 1.7,
                1.7, 1.9, 2.3, 2.7, 3.0, 3.1, 2.6, 1.9,
            ],
            Self::Daytime => &[
                0.2, 0.1, 0.05, 0.05, 0.05, 0.2, 0.8, 1.6, 2.4, 2.8, 2.8, 2.6, 2.4, 2.2, 2.0, 2.0,
                2.2, 2.4, 2.4, 2.2, 1.8, 1.2, 0.8, 0.4,
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_days_follow_peru_time() {
        // 2024-07-28 00:00 in Lima is 05:00 UTC.
        let lima_midnight = 1_722_142_800_000;
        let days = local_days(lima_midnight - DAY_MS, lima_midnight + DAY_MS);
        assert_eq!(days.len(), 2);
        assert_eq!((days[1].month, days[1].day), (7, 28));
        assert_eq!(days[1].start_utc_ms, lima_midnight);
        assert_eq!(days[1].weekday, 6, "28 July 2024 was a Sunday");
        assert_eq!(days[1].occasion, Occasion::FiestasPatrias);
        assert_eq!(local_hour(lima_midnight + 13 * HOUR_MS), 13);
    }

    #[test]
    fn pollo_day_is_third_sunday_of_july() {
        // 2024-07-21 was the third Sunday of July.
        let lima_midnight = 1_721_538_000_000;
        let days = local_days(lima_midnight, lima_midnight + DAY_MS);
        assert_eq!((days[0].month, days[0].day), (7, 21));
        assert_eq!(days[0].occasion, Occasion::PolloDay);
    }
}
