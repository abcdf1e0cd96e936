//! The query parser on any bytes: it must answer every query with a `Query` or a `QueryError`,
//! never panic, and never echo more than a capped value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulso_core::query::{parse_query, QueryInput};

/// The query types Grafana may send beside the JSON; the last, empty, makes the parser read
/// `queryType` from the JSON.
const QUERY_TYPES: [&str; 10] = [
    "timeseries",
    "distribution",
    "mentions",
    "dimension_values",
    "trending_terms",
    "aspects",
    "anomalies",
    "insights",
    "no_such_type",
    "",
];

fuzz_target!(|data: &[u8]| {
    // The first bytes choose what travels beside the JSON: query type, interval, range.
    let Some((head, json)) = data.split_first_chunk::<17>() else {
        return;
    };
    let number = |at: usize| i64::from_le_bytes(head[at..at + 8].try_into().unwrap());
    let (from, interval) = (number(1), number(9));
    let input = QueryInput {
        json,
        query_type: QUERY_TYPES[usize::from(head[0]) % QUERY_TYPES.len()],
        interval_ms: interval,
        max_data_points: interval.rotate_left(17),
        time_range: (head[0] & 0x80 == 0).then(|| (from, from.wrapping_add(interval))),
    };
    if let Err(error) = parse_query(input) {
        // Values from the request are cut to 100 characters; the rest of a message is ours.
        let message = error.to_string();
        assert!(
            message.chars().count() <= 2_000,
            "an error echoed {} characters",
            message.chars().count()
        );
    }
});
