//! The fields Pulso stores, the column names exports use for them, and the mapping file or
//! flags that name the columns when the defaults do not.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

use super::IngestError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Text,
    Time,
    Region,
    City,
    Rating,
    ExternalId,
    Platform,
    SourceType,
    Brand,
    Product,
    Category,
    Language,
}

pub const FIELD_COUNT: usize = 12;

impl Field {
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::Text,
        Field::Time,
        Field::Region,
        Field::City,
        Field::Rating,
        Field::ExternalId,
        Field::Platform,
        Field::SourceType,
        Field::Brand,
        Field::Product,
        Field::Category,
        Field::Language,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::Text => "text",
            Field::Time => "time",
            Field::Region => "region",
            Field::City => "city",
            Field::Rating => "rating",
            Field::ExternalId => "external_id",
            Field::Platform => "platform",
            Field::SourceType => "source_type",
            Field::Brand => "brand",
            Field::Product => "product",
            Field::Category => "category",
            Field::Language => "language",
        }
    }

    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn valid_names() -> String {
        Field::ALL.map(Field::name).join(", ")
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Column names (already in `column_key` form) recognised without a mapping, English and
    /// Spanish, and the camelCase names of Pulso's queries (`sourceType`, `externalId`), which
    /// `column_key` folds to one word. A column also matches when it starts with one of these and `_`, so
    /// "Fecha de respuesta" is a time and "Puntuación (1-5)" a rating.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Text => &[
                "text",
                "texto",
                "comentario",
                "comentarios",
                "comment",
                "comments",
                "opinion",
                "opiniones",
                "review",
                "review_text",
                "resena",
                "mensaje",
                "message",
                "body",
                "content",
                "contenido",
                "post",
                "tweet",
                "feedback",
                "observacion",
                "observaciones",
                "respuesta_abierta",
                "verbatim",
            ],
            Field::Time => &[
                "time",
                "fecha",
                "date",
                "created_at",
                "created",
                "timestamp",
                "datetime",
                "fecha_hora",
                "published_at",
                "submitted_at",
                "posted_at",
                "event_time",
                "eventtime",
                "createdat",
            ],
            Field::Region => &["region", "departamento", "department", "dpto", "state"],
            Field::City => &[
                "city",
                "ciudad",
                "distrito",
                "district",
                "localidad",
                "location",
            ],
            Field::Rating => &[
                "rating",
                "puntuacion",
                "puntaje",
                "estrellas",
                "stars",
                "score",
                "calificacion",
                "nota",
                "valoracion",
                "nps",
            ],
            Field::ExternalId => &[
                "id",
                "external_id",
                "externalid",
                "review_id",
                "post_id",
                "tweet_id",
                "comment_id",
                "message_id",
                "response_id",
                "id_respuesta",
                "respuesta_id",
                "codigo",
            ],
            Field::Platform => &[
                "platform",
                "plataforma",
                "red_social",
                "canal",
                "channel",
                "app",
            ],
            Field::SourceType => &[
                "source_type",
                "sourcetype",
                "tipo_fuente",
                "tipo_de_fuente",
                "fuente",
                "source",
            ],
            Field::Brand => &[
                "brand",
                "marca",
                "empresa",
                "restaurante",
                "restaurant",
                "tienda",
            ],
            Field::Product => &["product", "producto", "plato", "dish", "item", "sku"],
            Field::Category => &["category", "categoria", "rubro", "segmento"],
            Field::Language => &["language", "lang", "idioma", "lengua"],
        }
    }
}

/// A column name reduced for matching: lower case, no accents, `_` between words.
pub fn column_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for c in name
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
    {
        if c.is_alphanumeric() {
            key.push(c);
        } else if !key.is_empty() && !key.ends_with('_') {
            key.push('_');
        }
    }
    while key.ends_with('_') {
        key.pop();
    }
    key
}

/// Where each field's value comes from: a column position (CSV) or a key (JSON).
pub type Resolved<T> = [Option<T>; FIELD_COUNT];

/// How the columns of an export map to Pulso's fields, plus per-import constants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    /// Field -> column name as written in the file's header or JSON keys.
    pub columns: BTreeMap<Field, String>,
    /// Field -> value used when a row has none (e.g. `platform = "encuesta_web"`).
    pub defaults: BTreeMap<Field, String>,
    /// The rating scale, (min, max), when the values do not say it themselves.
    pub rating_scale: Option<(f64, f64)>,
    pub timezone: Option<String>,
    pub delimiter: Option<u8>,
    pub redact_handles: Option<bool>,
}

/// The mapping file, TOML or JSON: `[columns] text = "Comentario"`, `[defaults] platform = "x"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
    rating_scale: Option<String>,
    timezone: Option<String>,
    delimiter: Option<String>,
    redact_handles: Option<bool>,
}

impl Mapping {
    pub fn from_file(path: &Path) -> Result<Mapping, IngestError> {
        let invalid = |reason: String| IngestError::Mapping {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| invalid(e.to_string()))?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let file: MappingFile = if is_json {
            serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?
        } else {
            toml::from_str(&text).map_err(|e| invalid(e.to_string()))?
        };
        let mut mapping = Mapping::default();
        for (section, entries, target) in [
            ("columns", &file.columns, &mut mapping.columns),
            ("defaults", &file.defaults, &mut mapping.defaults),
        ] {
            for (name, value) in entries {
                let field = Field::from_name(name).ok_or_else(|| {
                    invalid(format!(
                        "{section}.{name} is not a Pulso field: use one of {}",
                        Field::valid_names()
                    ))
                })?;
                target.insert(field, value.clone());
            }
        }
        if let Some(scale) = &file.rating_scale {
            mapping.rating_scale =
                Some(parse_scale(scale).map_err(|e| invalid(format!("rating_scale: {e}")))?);
        }
        if let Some(delimiter) = &file.delimiter {
            mapping.delimiter =
                Some(parse_delimiter(delimiter).map_err(|e| invalid(format!("delimiter: {e}")))?);
        }
        mapping.timezone = file.timezone;
        mapping.redact_handles = file.redact_handles;
        Ok(mapping)
    }

    /// Applies one `FIELD=COLUMN` flag.
    pub fn add_column_flag(&mut self, flag: &str) -> Result<(), IngestError> {
        let invalid = |reason: String| IngestError::Option {
            option: "--map".into(),
            value: flag.into(),
            reason,
        };
        let (name, column) = flag.split_once('=').ok_or_else(|| {
            invalid("write it as FIELD=COLUMN, e.g. --map text=Comentario".into())
        })?;
        let field = Field::from_name(name.trim()).ok_or_else(|| {
            invalid(format!(
                "{name} is not a Pulso field: use one of {}",
                Field::valid_names()
            ))
        })?;
        if column.trim().is_empty() {
            return Err(invalid("the column name is empty".into()));
        }
        self.columns.insert(field, column.trim().to_string());
        Ok(())
    }

    /// Finds each field among `names` (a CSV header or a JSON object's keys). Columns named in
    /// the mapping must exist; the others are matched by alias, exact names before prefixes.
    pub fn resolve(&self, names: &[String]) -> Result<Resolved<usize>, String> {
        let keys: Vec<String> = names.iter().map(|n| column_key(n)).collect();
        let mut resolved: Resolved<usize> = [None; FIELD_COUNT];
        let mut taken = vec![false; names.len()];
        for (field, column) in &self.columns {
            let wanted = column_key(column);
            let position = names
                .iter()
                .position(|n| n == column)
                .or_else(|| keys.iter().position(|k| *k == wanted))
                .ok_or_else(|| {
                    format!(
                        "the column {column:?} mapped to {} is not among the columns ({})",
                        field.name(),
                        names.join(", ")
                    )
                })?;
            resolved[field.index()] = Some(position);
            taken[position] = true;
        }
        // Exact names first, then "fecha_de_respuesta"-style prefixes, then nested JSON keys
        // such as "place_region".
        for pass in [Pass::Exact, Pass::Prefix, Pass::Suffix] {
            for field in Field::ALL {
                if resolved[field.index()].is_some() {
                    continue;
                }
                let found = keys.iter().enumerate().find(|(i, key)| {
                    !taken[*i]
                        && field.aliases().iter().any(|alias| match pass {
                            Pass::Exact => key == alias,
                            Pass::Prefix => key
                                .strip_prefix(alias)
                                .is_some_and(|rest| rest.starts_with('_')),
                            Pass::Suffix => key
                                .strip_suffix(alias)
                                .is_some_and(|rest| rest.ends_with('_')),
                        })
                });
                if let Some((i, _)) = found {
                    resolved[field.index()] = Some(i);
                    taken[i] = true;
                }
            }
        }
        Ok(resolved)
    }
}

impl Mapping {
    /// Columns left out that look like a field's column: the header names it twice, or, for the
    /// text, a second of its names ("texto" and "comentario"). Fields mapped by the user are
    /// left alone. Each as (field, the column used, the column left out).
    pub fn shadowed(
        &self,
        names: &[String],
        resolved: &Resolved<usize>,
    ) -> Vec<(Field, usize, usize)> {
        let keys: Vec<String> = names.iter().map(|n| column_key(n)).collect();
        let taken: Vec<usize> = resolved.iter().flatten().copied().collect();
        let mut out = Vec::new();
        for field in Field::ALL {
            if self.columns.iter().any(|(mapped, _)| *mapped == field) {
                continue;
            }
            let Some(used) = resolved[field.index()] else {
                continue;
            };
            for (other, key) in keys.iter().enumerate() {
                let same = *key == keys[used]
                    || (field == Field::Text && field.aliases().contains(&key.as_str()));
                if other != used && !taken.contains(&other) && same {
                    out.push((field, used, other));
                }
            }
        }
        out
    }
}

#[derive(Clone, Copy)]
enum Pass {
    Exact,
    Prefix,
    Suffix,
}

/// `1-5`, `0-10`, `1–10`.
pub fn parse_scale(value: &str) -> Result<(f64, f64), String> {
    let (min, max) = value
        .split_once(['-', '–'])
        .ok_or_else(|| format!("{value:?} is not MIN-MAX, e.g. 1-5 or 0-10"))?;
    let parse = |s: &str| s.trim().replace(',', ".").parse::<f64>();
    match (parse(min), parse(max)) {
        (Ok(min), Ok(max)) if min < max => Ok((min, max)),
        _ => Err(format!(
            "{value:?} is not MIN-MAX with MIN below MAX, e.g. 1-5 or 0-10"
        )),
    }
}

/// One character, or `tab`.
pub fn parse_delimiter(value: &str) -> Result<u8, String> {
    match value {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        v if v.len() == 1 && v.is_ascii() => Ok(v.as_bytes()[0]),
        v => Err(format!("{v:?} is not a single ASCII character (or `tab`)")),
    }
}

/// A scale written in a column name, e.g. "Puntuación (1-5)" or "NPS 0-10".
pub fn scale_in_name(name: &str) -> Option<(f64, f64)> {
    let key = column_key(name);
    let parts: Vec<&str> = key.split('_').collect();
    parts.windows(2).rev().find_map(|pair| {
        let min: f64 = pair[0].parse().ok()?;
        let max: f64 = pair[1].parse().ok()?;
        (min < max && max <= 100.0).then_some((min, max))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn spanish_survey_headers_resolve_without_a_mapping() {
        let header = names(&[
            "ID Respuesta",
            "Fecha de respuesta",
            "Departamento",
            "Ciudad",
            "Marca",
            "Producto",
            "Puntuación (1-5)",
            "Comentario",
        ]);
        let resolved = Mapping::default().resolve(&header).unwrap();
        let at = |f: Field| resolved[f.index()];
        assert_eq!(at(Field::ExternalId), Some(0));
        assert_eq!(at(Field::Time), Some(1));
        assert_eq!(at(Field::Region), Some(2));
        assert_eq!(at(Field::City), Some(3));
        assert_eq!(at(Field::Brand), Some(4));
        assert_eq!(at(Field::Product), Some(5));
        assert_eq!(at(Field::Rating), Some(6));
        assert_eq!(at(Field::Text), Some(7));
        assert_eq!(at(Field::Platform), None);
        assert_eq!(scale_in_name("Puntuación (1-5)"), Some((1.0, 5.0)));
        assert_eq!(scale_in_name("NPS 0-10"), Some((0.0, 10.0)));
    }

    #[test]
    fn the_query_api_camel_case_names_resolve_too() {
        let header = names(&["externalId", "sourceType", "eventTime", "text", "platform"]);
        let resolved = Mapping::default().resolve(&header).unwrap();
        let at = |f: Field| resolved[f.index()];
        assert_eq!(at(Field::ExternalId), Some(0));
        assert_eq!(at(Field::SourceType), Some(1));
        assert_eq!(at(Field::Time), Some(2));
        assert_eq!(at(Field::Text), Some(3));
        assert_eq!(at(Field::Platform), Some(4));
    }

    #[test]
    fn mapped_columns_win_and_missing_ones_are_named() {
        let mut mapping = Mapping::default();
        mapping
            .add_column_flag("text=Qué nos quieres contar")
            .unwrap();
        let header = names(&["Comentario interno", "Qué nos quieres contar"]);
        assert_eq!(
            mapping.resolve(&header).unwrap()[Field::Text.index()],
            Some(1)
        );
        mapping.add_column_flag("time=Cuándo").unwrap();
        assert_eq!(
            mapping.resolve(&header).unwrap_err(),
            "the column \"Cuándo\" mapped to time is not among the columns (Comentario interno, Qué nos quieres contar)"
        );
        assert!(mapping
            .add_column_flag("txt=a")
            .unwrap_err()
            .to_string()
            .contains("txt is not a Pulso field"));
    }

    #[test]
    fn mapping_files_are_toml_or_json_and_typos_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let toml_path = dir.path().join("map.toml");
        std::fs::write(
            &toml_path,
            "rating_scale = \"0-10\"\ndelimiter = \";\"\n[columns]\ntext = \"Opinión\"\n[defaults]\nplatform = \"encuesta_web\"\n",
        )
        .unwrap();
        let mapping = Mapping::from_file(&toml_path).unwrap();
        assert_eq!(mapping.columns[&Field::Text], "Opinión");
        assert_eq!(mapping.defaults[&Field::Platform], "encuesta_web");
        assert_eq!(mapping.rating_scale, Some((0.0, 10.0)));
        assert_eq!(mapping.delimiter, Some(b';'));
        let json_path = dir.path().join("map.json");
        std::fs::write(&json_path, r#"{"columns": {"texto": "x"}}"#).unwrap();
        let error = Mapping::from_file(&json_path).unwrap_err().to_string();
        assert!(
            error.contains("columns.texto is not a Pulso field"),
            "{error}"
        );
    }
}
