//! Redaction on any text: it must never panic (its folded view maps every match back to the
//! original's character boundaries), must say it changed nothing exactly when it counted
//! nothing, and a second pass must leave its placeholders whole.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use pulso_core::redact::{
    redact, RedactionCounts, RedactionRules, ADDRESS, CARD, DNI, DOCUMENT, EMAIL, HANDLE, PHONE,
    RUC,
};

const PLACEHOLDERS: [&str; 8] = [EMAIL, PHONE, DNI, RUC, DOCUMENT, CARD, ADDRESS, HANDLE];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for handles in [false, true] {
        let rules = RedactionRules { handles };
        let mut counts = RedactionCounts::default();
        let once = redact(text, rules, &mut counts);
        assert_eq!(
            matches!(once, Cow::Borrowed(_)),
            counts.total() == 0,
            "changed text without counting, or counted without changing: {text:?}"
        );
        // A second pass keeps every placeholder of the first: none reads as personal data.
        let twice = redact(&once, rules, &mut RedactionCounts::default()).into_owned();
        for placeholder in PLACEHOLDERS {
            assert!(
                twice.matches(placeholder).count() >= once.matches(placeholder).count(),
                "a second pass took {placeholder} apart: {once:?} -> {twice:?}"
            );
        }
    }
});
