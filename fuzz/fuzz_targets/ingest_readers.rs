//! The CSV, JSON-array and NDJSON readers and the row normaliser on any bytes: every input
//! must end in rows, row problems or one input error, never a panic or a hang.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use pulso_ingest::normalise::Normaliser;
use pulso_ingest::read::{rows, InputFormat, Item};
use pulso_ingest::{IngestOptions, Mapping, RedactionCounts};

fuzz_target!(|data: &[u8]| {
    let Some((&choice, input)) = data.split_first() else {
        return;
    };
    let format = match choice % 4 {
        0 => InputFormat::Csv { delimiter: None },
        1 => InputFormat::Csv {
            delimiter: Some(b';'),
        },
        _ => InputFormat::Json,
    };
    let mut options = IngestOptions::new(format, Mapping::default());
    options.source_type = Some("review".into());
    options.platform = Some("fuzz".into());
    options.now_ms = 1_765_000_000_000;
    if choice & 0x80 != 0 {
        options.received_ms = Some(options.now_ms);
    }
    let Ok(items) = rows(
        Box::new(std::io::Cursor::new(input.to_vec())),
        format,
        &options.mapping,
        Arc::default(),
    ) else {
        return;
    };
    let mut normaliser = Normaliser::new(&options);
    let mut issues = Vec::new();
    let mut counts = RedactionCounts::default();
    for item in items {
        match item {
            Ok(Item::Row(raw)) => {
                normaliser.normalise(&raw, &mut issues, &mut counts);
            }
            Ok(Item::Problem(issue) | Item::Warning(issue)) => issues.push(issue),
            Err(_) => break,
        }
    }
    for issue in &issues {
        // Shown values are capped: 80 characters and a note of the full length.
        assert!(issue.value.chars().count() <= 120, "{issue:?}");
    }
});
