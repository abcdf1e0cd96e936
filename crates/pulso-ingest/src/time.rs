//! Timestamps as feedback exports write them: ISO 8601 (with or without an offset), epoch
//! seconds or milliseconds, and the Peruvian `dd/mm/yyyy[ hh:mm[:ss]]`. Times without an
//! offset are local to the import's time zone (America/Lima unless configured).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// Epoch values at or above this are milliseconds (1e11 s is the year 5138).
const MILLIS_THRESHOLD: f64 = 1e11;
/// Earliest accepted time, 2000-01-01 UTC: older dates are almost always a wrong column.
pub const EARLIEST_MS: i64 = 946_684_800_000;
/// Clocks differ; feedback up to a day ahead of the server is accepted.
pub const FUTURE_SLACK_MS: i64 = 86_400_000;

const NAIVE_FORMATS: [&str; 6] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
];
const OFFSET_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M%:z",
];

/// Parses `value` into milliseconds since the epoch (UTC), or says why it cannot.
pub fn parse_time(value: &str, zone: Tz, now_ms: i64) -> Result<i64, String> {
    let value = value.trim();
    let ms = parse_any(value, zone)?;
    if ms < EARLIEST_MS {
        return Err(
            "it is before the year 2000: check that the right column is mapped to time".into(),
        );
    }
    if ms > now_ms + FUTURE_SLACK_MS {
        return Err(
            "it is more than a day in the future: check the time zone and the day/month order"
                .into(),
        );
    }
    Ok(ms)
}

fn parse_any(value: &str, zone: Tz) -> Result<i64, String> {
    if value.is_empty() {
        return Err("it is empty".into());
    }
    if value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let number: f64 = value
            .parse()
            .map_err(|_| "it is not a number of seconds or milliseconds".to_string())?;
        let ms = if number >= MILLIS_THRESHOLD {
            number
        } else {
            number * 1000.0
        };
        return Ok(ms.round() as i64);
    }
    if let Some(ms) = parse_day_first(value, zone)? {
        return Ok(ms);
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Ok(time.timestamp_millis());
    }
    for format in OFFSET_FORMATS {
        if let Ok(time) = DateTime::parse_from_str(value, format) {
            return Ok(time.timestamp_millis());
        }
    }
    for format in NAIVE_FORMATS {
        if let Ok(naive) = NaiveDateTime::parse_from_str(value, format) {
            return local_to_utc(naive, zone);
        }
    }
    if let Some(ms) = parse_iso_date(value, zone)? {
        return Ok(ms);
    }
    Err(format!(
        "it is not a time Pulso reads: use ISO 8601 (2025-03-14T19:30:00-05:00), epoch seconds or milliseconds, or dd/mm/yyyy hh:mm ({zone} time)"
    ))
}

/// `dd/mm/yyyy`, optionally followed by `hh:mm` or `hh:mm:ss`. Ok(None) when it is not that shape.
fn parse_day_first(value: &str, zone: Tz) -> Result<Option<i64>, String> {
    let (date, time) = match value.split_once([' ', 'T']) {
        Some((date, time)) => (date, Some(time.trim())),
        None => (value, None),
    };
    let parts: Vec<&str> = date.split('/').collect();
    let [day, month, year] = parts.as_slice() else {
        return Ok(None);
    };
    let numeric = |s: &str, max_len: usize| {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (Some(day), Some(month), Some(year)) =
        (numeric(day, 2), numeric(month, 2), numeric(year, 4))
    else {
        return Ok(None);
    };
    if year < 1000 {
        return Err("the year must have four digits (dd/mm/yyyy)".into());
    }
    if !(1..=12).contains(&month) {
        return Err(format!(
            "month {month} does not exist: dates are read as dd/mm/yyyy"
        ));
    }
    let Some(date) = NaiveDate::from_ymd_opt(year as i32, month, day) else {
        return Err(format!("day {day} does not exist in {month:02}/{year}"));
    };
    let time = match time {
        None | Some("") => NaiveTime::MIN,
        Some(time) => NaiveTime::parse_from_str(time, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
            .map_err(|_| format!("the time of day {time:?} is not hh:mm or hh:mm:ss"))?,
    };
    local_to_utc(date.and_time(time), zone).map(Some)
}

/// `yyyy-mm-dd`, with a clear message for impossible dates such as 2025-02-31.
fn parse_iso_date(value: &str, zone: Tz) -> Result<Option<i64>, String> {
    let parts: Vec<&str> = value.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return Ok(None);
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Ok(None);
    }
    let (Ok(year), Ok(month), Ok(day)) = (
        year.parse::<i32>(),
        month.parse::<u32>(),
        day.parse::<u32>(),
    ) else {
        return Ok(None);
    };
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => local_to_utc(date.and_time(NaiveTime::MIN), zone).map(Some),
        None => Err(format!("{value} is not a real date (yyyy-mm-dd)")),
    }
}

fn local_to_utc(naive: NaiveDateTime, zone: Tz) -> Result<i64, String> {
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| format!("{naive} does not exist in {zone} (a daylight-saving gap)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000; // 2025-11-24
    const LIMA: Tz = chrono_tz::America::Lima;

    fn ms(value: &str) -> Result<i64, String> {
        parse_time(value, LIMA, NOW)
    }

    #[test]
    fn reads_every_documented_shape() {
        // 2025-03-14 19:30 in Lima is 2025-03-15 00:30 UTC.
        let expected = 1_741_998_600_000;
        for value in [
            "2025-03-14T19:30:00-05:00",
            "2025-03-15T00:30:00Z",
            "2025-03-14 19:30:00-05:00",
            "2025-03-14T19:30:00",
            "2025-03-14 19:30",
            "14/03/2025 19:30",
            "14/03/2025 19:30:00",
            "1741998600",
            "1741998600000",
        ] {
            assert_eq!(ms(value), Ok(expected), "{value}");
        }
        assert_eq!(
            ms("14/03/2025"),
            Ok(expected - 19 * 3_600_000 - 30 * 60_000)
        );
        assert_eq!(ms("2025-03-14"), ms("14/03/2025"));
    }

    #[test]
    fn explains_impossible_and_unreadable_times() {
        assert_eq!(
            ms("31/02/2025").unwrap_err(),
            "day 31 does not exist in 02/2025"
        );
        assert_eq!(
            ms("2025-02-31").unwrap_err(),
            "2025-02-31 is not a real date (yyyy-mm-dd)"
        );
        assert!(ms("03/14/2025")
            .unwrap_err()
            .contains("month 14 does not exist"));
        assert!(ms("ayer").unwrap_err().contains("ISO 8601"));
        assert!(ms("1999-12-31")
            .unwrap_err()
            .contains("before the year 2000"));
        assert!(ms("01/01/2031").unwrap_err().contains("in the future"));
        assert_eq!(ms(" ").unwrap_err(), "it is empty");
    }
}
