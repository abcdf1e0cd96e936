//! Redaction on any text: it must never panic (its folded view maps every match back to the
//! original's character boundaries), must say it changed nothing exactly when it counted
//! nothing, and must not find personal data in its own placeholders.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use pulso_core::redact::{redact, RedactionCounts, RedactionRules};

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
        let placeholders_only: String = once
            .split(['[', ']'])
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, inside)| format!("[{inside}] "))
            .collect();
        let mut again = RedactionCounts::default();
        redact(&placeholders_only, rules, &mut again);
        assert_eq!(again.total(), 0, "a placeholder looked like personal data");
    }
});
