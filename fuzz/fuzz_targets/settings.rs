//! The data source settings parser on any `jsonData` and API key: it must answer with settings
//! or a `SettingsError`, never panic, and never show the key in either.
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
    let secure = HashMap::from([("llmApiKey".to_string(), key.clone())]);
    let shown = match DataSourceSettings::parse(json, &secure) {
        Ok(settings) => format!("{settings:?} {:?}", settings.llm.as_ref().err()),
        Err(error) => format!("{error} {error:?}"),
    };
    // Short keys may appear by chance in the rest of the text.
    if key.trim().len() >= 12 {
        assert!(!shown.contains(key.trim()), "the key was shown: {shown}");
    }
});
