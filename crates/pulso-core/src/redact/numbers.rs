//! Numbers that are personal data, found in runs of digit groups ("987 654 321",
//! "(+51) 987-654-321", "4242.4242.4242.4242", "DNI 4672 0392") and told apart by their
//! length, their check digits, how they are grouped, and the words around them.

use std::sync::LazyLock;

use regex::Regex;

use super::{Found, Kind, WORDS};

/// Digit groups joined by up to two spaces, with at most two of `-./()` between them.
static RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9]+(?:(?: {0,2}[-./()]{1,2} {0,2}| {1,2})[0-9]+)*").unwrap());

/// The keyword and filler words that may come between a keyword and its number.
/// One word may qualify the keyword ("ruc personal", "pasaporte venezolano").
const FILLER: &str = r"(?:\s+\p{L}{3,15})?(?:\s*(?:es|el|la|del\s+titular|de|nro\.?|n[°o]\.?|n[uú]mero|number|no\.?|:|#|-))*\s*$";

static DNI_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?:\bd\.?\s?n\.?\s?i\b\.?|\bdocumento(?:\s+(?:nacional\s+)?de\s+identidad)?|\bdoc\.){FILLER}"
    ))
    .unwrap()
});
/// "45873216 es mi DNI", "45873216 (DNI)", "45873216, ese es mi número de DNI".
static DNI_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^[\s,(<=:\-]*(?:(?:ese|que)\s+)?(?:es\s+)?(?:(?:mi|el|su)\s+)?(?:n[uú]mero\s+de\s+)?d\.?\s?n\.?\s?i\b",
    )
    .unwrap()
});
/// Carnet de extranjería and passport: the number that follows is an identity document.
pub(super) static DOCUMENT_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?:carn[eé]t?\s+de\s+extranjer[ií]a|\bc\.\s?e\b\.?|\bce\b|\bpasaporte|\bpassport|\bpasap\.){FILLER}"
    ))
    .unwrap()
});
static RUC_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"(?i)\br\.?\s?u\.?\s?c\b\.?{FILLER}")).unwrap());
static PHONE_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    let words = WORDS
        .phone_keywords
        .iter()
        .map(|w| regex::escape(w))
        .collect::<Vec<_>>()
        .join("|");
    Regex::new(&format!(
        r"(?i)\b(?:{words})\b\.?(?:\s*(?:es|el|de\s+mi\s+casa|:|#|-|nro\.?|n[°o]\.?))*\s*$"
    ))
    .unwrap()
});

/// Province area codes, without the trunk 0: 41 Amazonas … 84 Cusco (Lima is 1).
const AREA_CODES: [&str; 23] = [
    "41", "42", "43", "44", "51", "52", "53", "54", "56", "61", "62", "63", "64", "65", "66", "67",
    "72", "73", "74", "76", "82", "83", "84",
];

/// One group of digits in a run, by its byte range in the folded text.
struct Group {
    start: usize,
    end: usize,
}

/// Finds every personal number in `text` (already folded).
pub(super) fn find(text: &str, found: &mut Vec<Found>) {
    for run in RUN.find_iter(text) {
        let groups = digit_groups(text, run.start(), run.end());
        let mut first = 0;
        while first < groups.len() {
            let mut matched = None;
            // Longest first: "51 987 654 321" is one phone, not "51" and a phone.
            for last in (first..groups.len().min(first + 12)).rev() {
                if let Some(kind) = classify(text, &groups[first..=last]) {
                    matched = Some((last, kind));
                    break;
                }
            }
            match matched {
                Some((last, kind)) => {
                    let mut start = groups[first].start;
                    let mut end = groups[last].end;
                    if kind == Kind::Phone {
                        // "(+51) 987…", "+51 987…", "(01) 434…": the sign and brackets go too.
                        start = text[..start].trim_end_matches(['+', '(']).len();
                        if text[end..].starts_with(')') && text[start..end].contains('(') {
                            end += 1;
                        }
                    }
                    found.push(Found {
                        range: start..end,
                        kind,
                    });
                    first = last + 1;
                }
                None => first += 1,
            }
        }
    }
}

fn digit_groups(text: &str, start: usize, end: usize) -> Vec<Group> {
    let bytes = text.as_bytes();
    let mut groups = Vec::new();
    let mut at = start;
    while at < end {
        if bytes[at].is_ascii_digit() {
            let group_start = at;
            while at < end && bytes[at].is_ascii_digit() {
                at += 1;
            }
            groups.push(Group {
                start: group_start,
                end: at,
            });
        } else {
            at += 1;
        }
    }
    groups
}

/// What the digits of `groups` are, read with the words before and after them.
fn classify(text: &str, groups: &[Group]) -> Option<Kind> {
    let (start, end) = (groups[0].start, groups[groups.len() - 1].end);
    let digits: String = groups.iter().map(|g| &text[g.start..g.end]).collect();
    let sizes: Vec<usize> = groups.iter().map(|g| g.end - g.start).collect();
    let before = tail(&text[..start], 60);
    let after = &text[end..];
    let length = digits.len();

    // A keyword says what the number is.
    if (6..=12).contains(&length) && DOCUMENT_BEFORE.is_match(before) {
        return Some(Kind::Document);
    }
    if length == 8 && (DNI_BEFORE.is_match(before) || DNI_AFTER.is_match(after)) {
        return Some(Kind::Dni);
    }
    let ruc_keyword = RUC_BEFORE.is_match(before);
    if length == 11 && is_personal_ruc_prefix(&digits) && (ruc_keyword || ruc_check_valid(&digits))
    {
        return Some(Kind::Ruc);
    }
    if ruc_keyword {
        // A company's RUC (20…) is public: it stays, and no part of it is a phone.
        return None;
    }
    if (6..=9).contains(&length) && PHONE_BEFORE.is_match(before) {
        return Some(Kind::Phone);
    }
    // Without a keyword, a number glued to letters is a code ("1Z999AA1012…", "B001-…").
    let glued = before.ends_with(|c: char| c.is_alphabetic())
        || after.starts_with(|c: char| c.is_alphabetic());
    if glued {
        return None;
    }
    if (13..=19).contains(&length) && is_card(&digits) {
        return Some(Kind::Card);
    }
    if is_phone(&digits, &sizes) {
        return Some(Kind::Phone);
    }
    None
}

/// The last `max` bytes of `text`, cut at a character boundary.
pub(super) fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

fn is_card(digits: &str) -> bool {
    // Issuers' numbers start with 2 to 6; a run of one digit ("0000 0000 …") is a placeholder.
    let first = digits.as_bytes()[0];
    (b'2'..=b'6').contains(&first) && digits.bytes().any(|d| d != first) && luhn_valid(digits)
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            match (i % 2 == 1, d * 2) {
                (true, doubled) if doubled > 9 => doubled - 9,
                (true, doubled) => doubled,
                (false, _) => d,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A person's RUC is 10 + DNI (or 15, 17 for others without one) + a check digit.
fn is_personal_ruc_prefix(digits: &str) -> bool {
    ["10", "15", "17"].iter().any(|p| digits.starts_with(p))
}

/// SUNAT's check digit: weights 5 4 3 2 7 6 5 4 3 2, 11 minus the sum mod 11, 10→0, 11→1.
fn ruc_check_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    let weights = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = d.iter().zip(weights).map(|(a, w)| a * w).sum();
    let check = match 11 - sum % 11 {
        10 => 0,
        11 => 1,
        c => c,
    };
    d.len() == 11 && d[10] == check
}

/// Peruvian phone numbers, with or without the country code: mobiles 9 + 8 digits, Lima
/// (0)1 + 7 digits, provinces (0) + a two-digit area code + 6 digits. Grouping tells them from
/// dates and counts: after the first group, every group has two digits or more, unless every
/// group has one ("9 8 7 6 5 4 3 2 1").
fn is_phone(digits: &str, sizes: &[usize]) -> bool {
    let (national, sizes) = if let Some(rest) = digits.strip_prefix("0051") {
        (rest, without_prefix(sizes, 4))
    } else if let Some(rest) = digits.strip_prefix("51").filter(|r| r.len() >= 8) {
        (rest, without_prefix(sizes, 2))
    } else {
        (digits, Some(sizes.to_vec()))
    };
    let Some(sizes) = sizes else {
        return false;
    };
    let has_country_code = national.len() != digits.len();
    let spelled_out = sizes.iter().all(|&s| s == 1);
    let grouped = sizes.iter().skip(1).all(|&s| s >= 2);
    if !(spelled_out || grouped) {
        return false;
    }
    let mobile = national.len() == 9 && national.starts_with('9');
    // The first group of a mobile is its start ("987"), not an area code: one digit alone
    // there is a count or a day ("9/12/2025 19").
    if mobile {
        return spelled_out || sizes[0] >= 2;
    }
    let landline = |rest: &str| {
        (rest.len() == 8 && rest.starts_with('1'))
            || (rest.len() == 8 && AREA_CODES.contains(&&rest[..2]))
    };
    if has_country_code {
        landline(national)
    } else {
        national.len() == 9 && national.starts_with('0') && landline(&national[1..])
    }
}

/// The group sizes once the country code's `length` digits are taken off the front; None when
/// the code is not a whole group or the start of one.
fn without_prefix(sizes: &[usize], length: usize) -> Option<Vec<usize>> {
    let mut rest = sizes.to_vec();
    let mut left = length;
    while left > 0 {
        let first = rest.first_mut()?;
        if *first <= left {
            left -= *first;
            rest.remove(0);
        } else {
            *first -= left;
            left = 0;
        }
    }
    (!rest.is_empty()).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruc_check_digit() {
        assert!(ruc_check_valid("20100047218"));
        assert!(!ruc_check_valid("20100047219"));
    }

    #[test]
    fn phones_by_grouping() {
        assert!(is_phone("987654321", &[3, 3, 3]));
        assert!(is_phone("987654321", &[1; 9]));
        assert!(is_phone("51987654321", &[2, 3, 3, 3]));
        assert!(is_phone("5114345678", &[2, 1, 3, 4]));
        assert!(is_phone("054271234", &[3, 6]));
        assert!(!is_phone("912202519", &[1, 2, 4, 2]));
        assert!(!is_phone("100234987", &[9]));
    }
}
