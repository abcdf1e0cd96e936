//! Personal data is replaced by typed placeholders before anything is stored, reported or
//! logged. The patterns read a folded copy of the text (`fold`), in which every way of writing
//! a digit, a space or a dash is one and invisible characters are gone, so "٩٨٧ ٦٥٤ ٣٢١",
//! "987–654–321" and "987\u{200B}654\u{200B}321" are all "987 654 321"; what they match is
//! replaced in the original. What is found:
//! - e-mails, accents and all (`josé.pérez@gmail.com`), also written "arroba" or "(at)";
//! - Peruvian phones: mobiles, Lima and provincial landlines, with or without +51/0051, in any
//!   grouping, and any 6–9 digits after a word like "telf." (`numbers`);
//! - DNI (8 digits next to the word DNI, before or after), a person's RUC (10/15/17 + DNI +
//!   check digit), carnet de extranjería and passport numbers, Luhn-valid card numbers;
//! - an address the writer calls their own ("mi dirección es …", `address`);
//! - and, when asked, @handles.

mod address;
#[cfg(test)]
mod corpus;
mod fold;
mod numbers;

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

pub const EMAIL: &str = "[email]";
pub const PHONE: &str = "[telefono]";
pub const DNI: &str = "[dni]";
pub const RUC: &str = "[ruc]";
pub const DOCUMENT: &str = "[documento]";
pub const CARD: &str = "[tarjeta]";
pub const ADDRESS: &str = "[direccion]";
pub const HANDLE: &str = "[usuario]";

/// The word lists in `data/redaction/words.toml`.
#[derive(Deserialize)]
struct Words {
    phone_keywords: Vec<String>,
    street_types: Vec<String>,
    abbreviations: Vec<String>,
    connectors: Vec<String>,
    address_parts: Vec<String>,
}

static WORDS: LazyLock<Words> = LazyLock::new(|| {
    toml::from_str(include_str!("../../../../data/redaction/words.toml"))
        .expect("data/redaction/words.toml is valid")
});

/// E-mails: letters of any language, "@" also as "arroba", "(at)" or "[at]", and dots in the
/// domain also as "punto" or "[dot]" ("carlos_rios arroba gmail punto com").
static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    let dot = r"(?:\.|\s*\[dot\]\s*|\s*\(dot\)\s*|\s+punto\s+)";
    Regex::new(&format!(
        r"(?i)[\p{{L}}\p{{N}}_][\p{{L}}\p{{M}}\p{{N}}._%+\-]*(?:@\s?|\s+@\s+|\s*\(at\)\s*|\s*\[at\]\s*|\s+arroba\s+)[\p{{L}}\p{{N}}\-]+(?:{dot}[\p{{L}}\p{{N}}\-]+)*{dot}\p{{L}}{{2,}}"
    ))
    .unwrap()
});
static EMAIL_HINT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)@|arroba|[\[(]at[\])]").unwrap());
/// A passport number with letters ("AB1234567"); digit-only ones are found with the numbers.
static LETTERED_DOCUMENT_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[a-z]{1,3}[0-9]{5,10}\b").unwrap());
static HANDLE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?").unwrap());

/// How many of each kind were replaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RedactionCounts {
    pub email: u64,
    pub phone: u64,
    pub dni: u64,
    pub ruc: u64,
    pub document: u64,
    pub card: u64,
    pub address: u64,
    pub handle: u64,
}

impl RedactionCounts {
    pub fn total(&self) -> u64 {
        self.email
            + self.phone
            + self.dni
            + self.ruc
            + self.document
            + self.card
            + self.address
            + self.handle
    }

    pub fn add(&mut self, other: &RedactionCounts) {
        self.email += other.email;
        self.phone += other.phone;
        self.dni += other.dni;
        self.ruc += other.ruc;
        self.document += other.document;
        self.card += other.card;
        self.address += other.address;
        self.handle += other.handle;
    }

    fn count(&mut self, kind: Kind) {
        *match kind {
            Kind::Email => &mut self.email,
            Kind::Phone => &mut self.phone,
            Kind::Dni => &mut self.dni,
            Kind::Ruc => &mut self.ruc,
            Kind::Document => &mut self.document,
            Kind::Card => &mut self.card,
            Kind::Address => &mut self.address,
            Kind::Handle => &mut self.handle,
        } += 1;
    }
}

/// What to redact beyond the always-on kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedactionRules {
    /// Social @handles (`@mafer_rv`), which identify people but also brands.
    pub handles: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Phone,
    Dni,
    Ruc,
    Document,
    Card,
    Address,
    Handle,
}

impl Kind {
    fn placeholder(self) -> &'static str {
        match self {
            Kind::Email => EMAIL,
            Kind::Phone => PHONE,
            Kind::Dni => DNI,
            Kind::Ruc => RUC,
            Kind::Document => DOCUMENT,
            Kind::Card => CARD,
            Kind::Address => ADDRESS,
            Kind::Handle => HANDLE,
        }
    }
}

/// A piece of personal data, by its byte range in the folded text.
struct Found {
    range: Range<usize>,
    kind: Kind,
}

/// Replaces personal data in `text`; borrows when there is nothing to replace.
pub fn redact<'a>(
    text: &'a str,
    rules: RedactionRules,
    counts: &mut RedactionCounts,
) -> Cow<'a, str> {
    let folded = fold::Folded::new(text);
    let view: &str = &folded.text;
    // Searches in order of precedence: a later find that overlaps an earlier one is dropped
    // (the digits of "juan.987654321@gmail.com" are part of an e-mail).
    let mut found = Vec::new();
    if EMAIL_HINT.is_match(view) {
        find_tokens(view, &EMAIL_RE, Kind::Email, &mut found);
    }
    let digits = view.bytes().filter(u8::is_ascii_digit).count();
    if digits >= 5 {
        find_lettered_documents(view, &mut found);
    }
    if digits >= 6 {
        numbers::find(view, &mut found);
    }
    address::find(view, &mut found);
    if rules.handles && view.contains('@') {
        find_tokens(view, &HANDLE_RE, Kind::Handle, &mut found);
    }
    if found.is_empty() {
        return Cow::Borrowed(text);
    }

    let mut kept: Vec<Found> = Vec::with_capacity(found.len());
    for candidate in found {
        let overlaps = kept
            .iter()
            .any(|k| k.range.start < candidate.range.end && candidate.range.start < k.range.end);
        if !overlaps {
            kept.push(candidate);
        }
    }
    kept.sort_by_key(|f| f.range.start);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for piece in kept {
        let range = folded.original_range(piece.range);
        if range.start < last {
            // Two finds that touch one original character folded into several ("¾" is "3⁄4"):
            // the first placeholder covers both.
            last = last.max(range.end);
            continue;
        }
        out.push_str(&text[last..range.start]);
        out.push_str(piece.kind.placeholder());
        last = range.end;
        counts.count(piece.kind);
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// Whether `c` may touch an e-mail or handle without making it part of a longer token.
fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '@' || c == '.'
}

/// Whole-token matches of `pattern`.
fn find_tokens(text: &str, pattern: &Regex, kind: Kind, found: &mut Vec<Found>) {
    for m in pattern.find_iter(text) {
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        let glued = before.is_some_and(is_token_char)
            || after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '@');
        if !glued {
            found.push(Found {
                range: m.range(),
                kind,
            });
        }
    }
}

/// Lettered passport numbers right after a document keyword.
fn find_lettered_documents(text: &str, found: &mut Vec<Found>) {
    for m in LETTERED_DOCUMENT_RE.find_iter(text) {
        if numbers::DOCUMENT_BEFORE.is_match(numbers::tail(&text[..m.start()], 60)) {
            found.push(Found {
                range: m.range(),
                kind: Kind::Document,
            });
        }
    }
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
    fn an_address_stops_at_other_personal_data_and_placeholders() {
        // Found by the redaction fuzz target: the address used to swallow the document's
        // placeholder on a second pass.
        let (once, counts) = run("vivo en Calle Sol 12 pasaporte AB1234567 ya", false);
        // The address runs to the number ("pasaporte" goes with it); nothing is left whole.
        assert_eq!(once, "vivo en [direccion] [documento] ya");
        assert_eq!((counts.address, counts.document), (1, 1));
        let (twice, again) = run(&once, false);
        assert_eq!(twice, once);
        assert_eq!(again.total(), 0);
    }

    #[test]
    fn finds_that_share_one_original_character_are_replaced_once() {
        // Found by the redaction fuzz target: "¾" folds to "3⁄4", and an e-mail ending in it
        // and a number starting in it both mapped back onto it (a panic slicing the text).
        for text in ["\0@0\u{be}@184.but=015 \0y", "ana@x.pe¾ 987 654 321"] {
            let (out, counts) = run(text, false);
            assert_eq!(
                out.matches('[').count() as u64,
                counts.total(),
                "{text:?} -> {out:?}"
            );
        }
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

#[cfg(test)]
mod fuzz_regressions {
    use super::*;

    /// Found by the fuzz smoke test: redacting twice must not panic.
    #[test]
    fn an_address_before_an_accented_word_is_cut_on_a_character_boundary() {
        let text =
            "vivo en Calle Las Begonias 2451 Su43rquillo y nunca llegóas 245, Su43hquillo y ";
        for handles in [false, true] {
            let rules = RedactionRules { handles };
            let once = redact(text, rules, &mut RedactionCounts::default());
            // The address ends where "y" starts a new clause; the part after the comma
            // belongs to that clause, not to the address.
            assert_eq!(
                once, "vivo en [direccion] y nunca llegóas 245, Su43hquillo y ",
                "handles: {handles}"
            );
            let twice = redact(&once, rules, &mut RedactionCounts::default());
            assert_eq!(twice, once);
        }
    }
}
