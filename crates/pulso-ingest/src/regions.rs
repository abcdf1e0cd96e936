//! Peru's 24 departments plus the Constitutional Province of Callao, however an export spells
//! them ("CUZCO", "Lima Metropolitana", "Ancash", "Dpto. de Junín"), and the main cities, so a
//! region column that holds a city still lands in the right department.

use pulso_core::analysis::text::fold_for_search;

/// The value stored when a region is given but is not in Peru.
pub const UNKNOWN_REGION: &str = "unknown";

/// Canonical names, as the demo data and dashboards use them.
pub const DEPARTMENTS: [&str; 25] = [
    "Amazonas",
    "Áncash",
    "Apurímac",
    "Arequipa",
    "Ayacucho",
    "Cajamarca",
    "Callao",
    "Cusco",
    "Huancavelica",
    "Huánuco",
    "Ica",
    "Junín",
    "La Libertad",
    "Lambayeque",
    "Lima",
    "Loreto",
    "Madre de Dios",
    "Moquegua",
    "Pasco",
    "Piura",
    "Puno",
    "San Martín",
    "Tacna",
    "Tumbes",
    "Ucayali",
];

/// Other spellings, folded (lower case, no accents), and the department they mean.
const ALIASES: [(&str, &str); 14] = [
    ("cuzco", "Cusco"),
    ("qosqo", "Cusco"),
    ("lima metropolitana", "Lima"),
    ("lima metropolitano", "Lima"),
    ("lima provincias", "Lima"),
    ("lima provincia", "Lima"),
    ("lima region", "Lima"),
    ("lima metro", "Lima"),
    ("provincia constitucional del callao", "Callao"),
    ("prov const del callao", "Callao"),
    ("el callao", "Callao"),
    ("ancash", "Áncash"),
    ("madre dios", "Madre de Dios"),
    ("libertad", "La Libertad"),
];

/// Cities (folded) that people write in a region field, with their department.
const CITIES: [(&str, &str); 34] = [
    ("chachapoyas", "Amazonas"),
    ("huaraz", "Áncash"),
    ("chimbote", "Áncash"),
    ("abancay", "Apurímac"),
    ("huamanga", "Ayacucho"),
    ("juliaca", "Puno"),
    ("huancayo", "Junín"),
    ("tarma", "Junín"),
    ("trujillo", "La Libertad"),
    ("chiclayo", "Lambayeque"),
    ("iquitos", "Loreto"),
    ("puerto maldonado", "Madre de Dios"),
    ("ilo", "Moquegua"),
    ("cerro de pasco", "Pasco"),
    ("sullana", "Piura"),
    ("talara", "Piura"),
    ("tarapoto", "San Martín"),
    ("moyobamba", "San Martín"),
    ("pucallpa", "Ucayali"),
    ("chincha", "Ica"),
    ("pisco", "Ica"),
    ("nazca", "Ica"),
    ("huacho", "Lima"),
    ("miraflores", "Lima"),
    ("san isidro", "Lima"),
    ("barranco", "Lima"),
    ("surco", "Lima"),
    ("san juan de lurigancho", "Lima"),
    ("los olivos", "Lima"),
    ("la molina", "Lima"),
    ("chorrillos", "Lima"),
    ("san miguel", "Lima"),
    ("jesus maria", "Lima"),
    ("bellavista", "Callao"),
];

/// Words that frame a department name without changing it.
const PREFIXES: [&str; 7] = [
    "departamento de ",
    "departamento del ",
    "departamento ",
    "dpto de ",
    "dpto ",
    "region ",
    "gobierno regional de ",
];

/// What a region value resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Region {
    Department(&'static str),
    /// A known city: its department, and the city's own name for the city column.
    City {
        department: &'static str,
    },
    Unknown,
}

/// Lower case, no accents, punctuation as spaces, single spaces.
fn key(value: &str) -> String {
    let folded = fold_for_search(value);
    let spaced: String = folded
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn resolve(value: &str) -> Region {
    let mut key = key(value);
    for prefix in PREFIXES {
        if let Some(rest) = key.strip_prefix(prefix) {
            key = rest.to_string();
            break;
        }
    }
    if let Some(rest) = key.strip_suffix(" peru") {
        key = rest.to_string();
    }
    if let Some(department) = DEPARTMENTS.iter().find(|d| self::key(d) == key) {
        return Region::Department(department);
    }
    if let Some((_, department)) = ALIASES.iter().find(|(alias, _)| *alias == key) {
        return Region::Department(canonical(department));
    }
    if let Some((_, department)) = CITIES.iter().find(|(city, _)| *city == key) {
        return Region::City {
            department: canonical(department),
        };
    }
    // Department capitals that share the department's name ("Arequipa", "Cusco") were caught
    // above; a trailing ", Perú" or " - Lima" is common in social locations.
    if let Some((_, last)) = key.rsplit_once(' ') {
        if let Region::Department(d) = resolve(last) {
            if key.starts_with(&self::key(d)) || CITIES.iter().any(|(c, _)| key.starts_with(c)) {
                return Region::Department(d);
            }
        }
    }
    Region::Unknown
}

fn canonical(name: &str) -> &'static str {
    DEPARTMENTS
        .iter()
        .find(|d| **d == name)
        .copied()
        .unwrap_or(UNKNOWN_REGION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_lands_on_its_department() {
        for (input, expected) in [
            ("Cusco", "Cusco"),
            ("CUZCO", "Cusco"),
            ("Lima Metropolitana", "Lima"),
            ("lima provincias", "Lima"),
            ("Áncash", "Áncash"),
            ("Ancash", "Áncash"),
            ("ANCASH", "Áncash"),
            ("Prov. Const. del Callao", "Callao"),
            ("Junin", "Junín"),
            ("Dpto. de Junín", "Junín"),
            ("Región San Martin", "San Martín"),
            ("madre de dios", "Madre de Dios"),
            ("  la   libertad ", "La Libertad"),
            ("Cusco, Perú", "Cusco"),
        ] {
            assert_eq!(
                resolve(input),
                Region::Department(canonical(expected)),
                "{input}"
            );
        }
    }

    #[test]
    fn cities_map_to_departments_and_fiction_is_unknown() {
        assert_eq!(
            resolve("Trujillo"),
            Region::City {
                department: "La Libertad"
            }
        );
        assert_eq!(resolve("Miraflores"), Region::City { department: "Lima" });
        assert_eq!(resolve("Narnia"), Region::Unknown);
        assert_eq!(resolve("Buenos Aires"), Region::Unknown);
        assert_eq!(
            DEPARTMENTS
                .iter()
                .filter(|d| resolve(d) == Region::Department(d))
                .count(),
            25
        );
    }
}
