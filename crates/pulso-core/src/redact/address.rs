//! Street addresses, only where the writer says they are their own ("mi dirección es …",
//! "vivo en Av. …"): a shop's address in a review ("el local de Av. Larco 345") stays.

use std::sync::LazyLock;

use regex::Regex;

use super::{Found, Kind, WORDS};

/// The phrase that introduces the writer's address; `explicit` when it names an address,
/// which is then taken if it has a number or starts like a street. After "vivo en" or
/// "mi casa es", only text that starts like a street is.
static TRIGGER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:(?P<explicit>mi\s+direcci[oó]n(?:\s+de\s+(?:entrega|env[ií]o|casa))?|(?:la|nuestra)\s+direcci[oó]n\s+de\s+(?:mi|nuestra)\s+casa|mi\s+domicilio|my\s+(?:home\s+|delivery\s+)?address)|(?:mi|nuestra)\s+(?:casa|depa|departamento|hogar)|viv(?:o|imos)\s+en|i\s+live\s+(?:at|on))(?:\s+(?:es|queda|est[aá]|is|ser[aá])\b)?(?:\s+(?:en|el|la|at|on)\b)?\s*[:,\-]?\s*",
    )
    .unwrap()
});

/// The words every trigger has, as plain literals: most texts have none, and this is much
/// cheaper to rule out than the trigger itself.
static HINT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)direcci|domicilio|address|casa|depa|hogar|vivo|vivimos|live").unwrap()
});

/// Longest address taken, in bytes.
const MAX_LENGTH: usize = 160;

pub(super) fn find(text: &str, found: &mut Vec<Found>) {
    if !HINT.is_match(text) {
        return;
    }
    for trigger in TRIGGER.captures_iter(text) {
        let whole = trigger.get(0).expect("group 0");
        let explicit = trigger.name("explicit").is_some();
        // An address ends where other personal data was found, or at a bracket (a placeholder
        // of an earlier pass): it never swallows either.
        let start = whole.end();
        let end = found
            .iter()
            .map(|f| f.range.start)
            .filter(|&s| s >= start)
            .chain(text[start..].find('[').map(|i| start + i))
            .min()
            .unwrap_or(text.len());
        if let Some(length) = address_length(&text[start..end], explicit) {
            found.push(Found {
                range: whole.end()..whole.end() + length,
                kind: Kind::Address,
            });
        }
    }
}

/// The length of the address `body` starts with, if it starts with one: its first part up to
/// the next clause, then further comma-separated parts that read like address parts
/// ("San Borja", "piso 7") and not like the sentence going on ("llegaron a otra").
fn address_length(body: &str, explicit: bool) -> Option<usize> {
    let sentence = &body[..sentence_end(body)];
    let mut parts = sentence.split(',');
    let first_part = parts.next()?;
    let first = &first_part[..clause_end(first_part)];
    let first_word = bare_word(first.split_whitespace().next()?);
    let street_like = WORDS.street_types.contains(&first_word);
    let has_number = first.chars().any(|c| c.is_ascii_digit());
    if !(street_like || (explicit && has_number)) {
        return None;
    }
    let mut length = first.trim_end().len();
    // A clause word ("y", "pero") inside the first part ends the address there: what follows
    // the next comma belongs to that clause. (Counting on from the cut, as before, ended the
    // address at a wrong byte, inside a character.)
    if first.len() < first_part.len() {
        return Some(length);
    }
    let mut offset = first_part.len();
    for part in parts {
        let part_start = offset + 1;
        offset = part_start + part.len();
        let clause = &part[..clause_end(part)];
        let words: Vec<&str> = clause.split_whitespace().collect();
        let Some(word) = words.first() else {
            break;
        };
        let continues = word.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit())
            || WORDS.address_parts.contains(&bare_word(word));
        if !continues || words.len() > 5 {
            break;
        }
        length = part_start + clause.trim_end().len();
        if clause.len() < part.len() {
            break;
        }
    }
    Some(length)
}

/// Where the sentence ends: at `!?;` or a new line, or at a dot followed by a space that
/// does not close an abbreviation ("Av.", "Mz.", "dpto.") or an initial.
fn sentence_end(body: &str) -> usize {
    let limit = body
        .char_indices()
        .nth(MAX_LENGTH)
        .map_or(body.len(), |(i, _)| i);
    let mut word_start = 0;
    for (i, c) in body[..limit].char_indices() {
        match c {
            '\n' | '!' | '?' | ';' | '¡' | '¿' | '(' | ')' | '"' => return i,
            '.' => {
                let next = body[i + 1..].chars().next();
                let word = &body[word_start..i];
                let abbreviation = WORDS.abbreviations.contains(&bare_word(word))
                    || (word.chars().count() == 1 && word.chars().all(char::is_alphabetic));
                if next.is_none_or(char::is_whitespace) && !abbreviation {
                    return i;
                }
            }
            c if c.is_whitespace() => word_start = i + c.len_utf8(),
            _ => {}
        }
    }
    limit
}

/// Where a clause-starting word ("y", "pero", "cerca") begins in `part`, or its length.
fn clause_end(part: &str) -> usize {
    let mut at = 0;
    for word in part.split_inclusive(char::is_whitespace) {
        let bare = word.trim();
        if at > 0 && !bare.is_empty() && WORDS.connectors.contains(&bare.to_string()) {
            return at;
        }
        at += word.len();
    }
    part.len()
}

/// A word in lower case without the punctuation around it: "Av." → "av".
fn bare_word(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}
