//! The data source settings parser on any `jsonData` and API key: it must answer with settings
//! or a `SettingsError`, never panic, and never show the key (or the PostgreSQL password) in either (what it shows is the
//! same whatever the key).
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use pulso_core::settings::DataSourceSettings;

fuzz_target!(|data: &[u8]| {
    // The first byte says how long the key is; the rest is jsonData.
    let Some((&key_length, rest)) = data.split_first() else {
        return;
    };
    let (key, json) = rest.split_at(usize::from(key_length).min(rest.len()));
    let key = String::from_utf8_lossy(key).into_owned();
    // The same key with every visible character changed: blank stays blank, so only where
    // the key itself is shown can the two answers differ.
    let other: String = key
        .chars()
        .map(|c| if c.is_whitespace() { c } else { 'x' })
        .collect();
    let shown = |key: &str| {
        let secure = HashMap::from([
            ("llmApiKey".to_string(), key.to_string()),
            ("postgresPassword".to_string(), key.to_string()),
        ]);
        match DataSourceSettings::parse(json, &secure) {
            Ok(settings) => format!("{settings:?} {:?}", settings.llm.as_ref().err()),
            Err(error) => format!("{error} {error:?}"),
        }
    };
    assert_eq!(shown(&key), shown(&other), "the key was shown");
});
