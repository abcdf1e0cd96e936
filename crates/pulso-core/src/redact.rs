//! Personal data is replaced by typed placeholders before anything is stored, reported or
//! logged. Patterns follow how Peruvians write contact data: mobiles `9xx xxx xxx` with or
//! without `+51`, Lima `(01) xxx-xxxx` and provincial `(0xx) xxxxxx` landlines, 8-digit DNI
//! numbers next to the word DNI, and Luhn-valid card numbers.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

pub const EMAIL: &str = "[email]";
pub const PHONE: &str = "[telefono]";
pub const DNI: &str = "[dni]";
pub const CARD: &str = "[tarjeta]";
pub const HANDLE: &str = "[usuario]";

static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}").unwrap()
});
/// 13 to 19 digits, optionally grouped by spaces or dashes; kept only when Luhn-valid.
static CARD_RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d(?:[ -]?\d){12,18}").unwrap());
/// The keyword stays ("mi DNI [dni]"), so the sentence still reads naturally.
static DNI_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:d\.?\s?n\.?\s?i\.?|documento(?:\s+de\s+identidad)?|doc\.)(?:\s*(?:es|nro\.?|n[°º.o]|número|numero|:|#|-))*\s*(\d{8})",
    )
    .unwrap()
});
static PHONE_RE: LazyLock<Regex> = LazyLock::new(|| {
    let country = r"(?:\(?\+?51\)?[ .-]?)";
    let mobile = format!(r"{country}?9\d{{2}}[ .-]?\d{{3}}[ .-]?\d{{3}}");
    // Lima: 01 + 7 digits; the rest of Peru: 0 + two-digit area code + 6 digits.
    let lima = format!(r"(?:{country}\(?1\)?|\(?01\)?)[ .-]?\d{{3}}[ .-]?\d{{4}}");
    let area = r"(?:4[1-4]|5[1-46]|6[1-7]|7[2-46]|8[2-4])";
    let province = format!(r"(?:{country}\(?{area}\)?|\(?0{area}\)?)[ .-]?\d{{3}}[ .-]?\d{{3}}");
    Regex::new(&format!("{mobile}|{lima}|{province}")).unwrap()
});
static HANDLE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?").unwrap());

/// How many of each kind were replaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RedactionCounts {
    pub email: u64,
    pub phone: u64,
    pub dni: u64,
    pub card: u64,
    pub handle: u64,
}

impl RedactionCounts {
    pub fn total(&self) -> u64 {
        self.email + self.phone + self.dni + self.card + self.handle
    }

    pub fn add(&mut self, other: &RedactionCounts) {
        self.email += other.email;
        self.phone += other.phone;
        self.dni += other.dni;
        self.card += other.card;
        self.handle += other.handle;
    }
}

/// What to redact beyond the always-on kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedactionRules {
    /// Social @handles (`@mafer_rv`), which identify people but also brands.
    pub handles: bool,
}

/// Replaces personal data in `text`; borrows when there is nothing to replace.
pub fn redact<'a>(
    text: &'a str,
    rules: RedactionRules,
    counts: &mut RedactionCounts,
) -> Cow<'a, str> {
    let has_at = text.contains('@');
    // Every digit pattern needs at least 8 digits; most feedback has none, so skip the regexes.
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let mut out = Cow::Borrowed(text);
    if has_at {
        out = replace(out, &EMAIL_RE, |_| Some(EMAIL), &mut counts.email);
    }
    if digits >= 8 {
        out = replace(
            out,
            &CARD_RE,
            |m| luhn_valid(m).then_some(CARD),
            &mut counts.card,
        );
        out = replace_group(out, &DNI_RE, DNI, &mut counts.dni);
        out = replace(out, &PHONE_RE, |_| Some(PHONE), &mut counts.phone);
    }
    if rules.handles && has_at {
        out = replace(out, &HANDLE_RE, |_| Some(HANDLE), &mut counts.handle);
    }
    out
}

/// Whether `c` may touch a number or handle without making it part of a longer token.
fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '@'
}

/// Replaces whole-token matches for which `placeholder` gives Some.
fn replace<'a>(
    text: Cow<'a, str>,
    pattern: &Regex,
    placeholder: impl Fn(&str) -> Option<&'static str>,
    count: &mut u64,
) -> Cow<'a, str> {
    let source: &str = &text;
    let mut out = String::new();
    let mut last = 0;
    for found in pattern.find_iter(source) {
        let before = source[..found.start()].chars().next_back();
        let after = source[found.end()..].chars().next();
        let digits_only = found
            .as_str()
            .starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '(');
        let glued = if digits_only {
            before.is_some_and(|c| c.is_ascii_digit()) || after.is_some_and(|c| c.is_ascii_digit())
        } else {
            before.is_some_and(is_token_char)
                || after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        };
        if glued {
            continue;
        }
        let Some(replacement) = placeholder(found.as_str()) else {
            continue;
        };
        out.push_str(&source[last..found.start()]);
        out.push_str(replacement);
        last = found.end();
        *count += 1;
    }
    if last == 0 {
        return text;
    }
    out.push_str(&source[last..]);
    Cow::Owned(out)
}

/// Replaces capture group 1 of each match, keeping the words around it.
fn replace_group<'a>(
    text: Cow<'a, str>,
    pattern: &Regex,
    placeholder: &str,
    count: &mut u64,
) -> Cow<'a, str> {
    let source: &str = &text;
    let mut out = String::new();
    let mut last = 0;
    for captures in pattern.captures_iter(source) {
        let Some(number) = captures.get(1) else {
            continue;
        };
        if source[number.end()..].starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        out.push_str(&source[last..number.start()]);
        out.push_str(placeholder);
        last = number.end();
        *count += 1;
    }
    if last == 0 {
        return text;
    }
    out.push_str(&source[last..]);
    Cow::Owned(out)
}

fn luhn_valid(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() < 13 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, handles: bool) -> (String, RedactionCounts) {
        let mut counts = RedactionCounts::default();
        let out = redact(text, RedactionRules { handles }, &mut counts).into_owned();
        (out, counts)
    }

    #[test]
    fn redacts_each_kind_with_its_placeholder() {
        let cases = [
            (
                "escríbanme a rosa.quispe85@gmail.com porfa",
                "escríbanme a [email] porfa",
            ),
            ("llámenme al 987 654 321", "llámenme al [telefono]"),
            ("mi cel +51 912345678.", "mi cel [telefono]."),
            ("al (+51) 987-654-321", "al [telefono]"),
            ("fijo (01) 434-5678 en Lima", "fijo [telefono] en Lima"),
            ("+51 1 434 5678", "[telefono]"),
            ("en Arequipa 054-271234", "en Arequipa [telefono]"),
            ("(054) 271234", "[telefono]"),
            ("mi DNI 45873216 por si acaso", "mi DNI [dni] por si acaso"),
            ("D.N.I. N° 70214588", "D.N.I. N° [dni]"),
            ("mi dni es 45873216", "mi dni es [dni]"),
            (
                "tarjeta 4111 1111 1111 1111 cobrada",
                "tarjeta [tarjeta] cobrada",
            ),
            ("5500-0000-0000-0004", "[tarjeta]"),
        ];
        for (input, expected) in cases {
            let (out, counts) = run(input, false);
            assert_eq!(out, expected, "{input}");
            assert_eq!(counts.total(), 1, "{input}");
        }
    }

    #[test]
    fn leaves_numbers_that_are_not_personal_data() {
        for input in [
            "pedido 45873216 llegó tarde",     // 8 digits without DNI context
            "4111 1111 1111 1112",             // fails Luhn
            "pagué S/ 39.90 por 2 pollos",     // prices
            "orden 19876543210 sin respuesta", // a mobile inside a longer number
            "el 12/10/2025 a las 19:30",       // dates
            "sigan a @QoriBrasaPe",            // handles are off by default
        ] {
            let (out, counts) = run(input, false);
            assert_eq!(out, input);
            assert_eq!(counts.total(), 0, "{input}");
        }
    }

    #[test]
    fn handles_only_when_configured_and_never_inside_emails() {
        let (out, counts) = run("@mafer_rv y @jorgito.pe: escriban a ana@pulso.pe.", true);
        assert_eq!(out, "[usuario] y [usuario]: escriban a [email].");
        assert_eq!((counts.handle, counts.email), (2, 1));
    }

    #[test]
    fn borrows_when_nothing_changes() {
        let mut counts = RedactionCounts::default();
        assert!(matches!(
            redact("rico el ceviche", RedactionRules::default(), &mut counts),
            Cow::Borrowed(_)
        ));
    }
}
