//! `POST /feedback`: how the request's query string configures the import, and what can go
//! wrong with a push.

use thiserror::Error;

use pulso_ingest::fields::parse_scale;
use pulso_ingest::{IngestError, IngestOptions, InputFormat, Mapping};

use crate::InstanceError;

#[derive(Debug, Error)]
pub enum PushError {
    /// A query-string parameter is wrong.
    #[error(transparent)]
    Options(IngestError),
    #[error(transparent)]
    Instance(InstanceError),
    #[error(transparent)]
    Ingest(IngestError),
}

impl PushError {
    /// The HTTP status the push is answered with: the sender's mistakes are 400s, the
    /// plugin's own failures 500s, and a write the database cannot take for now (the write queue
    /// timed out, PostgreSQL is restarting, full or read-only) 503: retry it.
    pub fn status(&self) -> u16 {
        match self {
            Self::Ingest(IngestError::Store(error))
            | Self::Instance(InstanceError::Store(error))
                if error.is_unavailable() =>
            {
                503
            }
            Self::Instance(_) | Self::Ingest(IngestError::Store(_) | IngestError::ReaderFailed) => {
                500
            }
            Self::Options(_) | Self::Ingest(_) => 400,
        }
    }
}

/// Options from the query string: `source_type`, `platform`, `strict`, `redact_handles`,
/// `timezone`, `rating_scale` and `map.FIELD=COLUMN`; the camelCase spellings the query API
/// uses (`sourceType`, `redactHandles`, `ratingScale`) are accepted too.
pub(crate) fn push_options(url: &str) -> Result<IngestOptions, IngestError> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let mut mapping = Mapping::default();
    let mut options = IngestOptions::new(InputFormat::Json, Mapping::default());
    let flag = |name: &str, value: &str| match value {
        "" | "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(IngestError::Option {
            option: name.to_string(),
            value: value.to_string(),
            reason: "use true or false".into(),
        }),
    };
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "source_type" | "sourceType" => options.source_type = Some(value.into_owned()),
            "platform" => options.platform = Some(value.into_owned()),
            "strict" => options.strict = flag(&name, &value)?,
            "redact_handles" | "redactHandles" => options.redact_handles = flag(&name, &value)?,
            "timezone" => options.set_timezone("timezone", &value)?,
            "rating_scale" | "ratingScale" => {
                mapping.rating_scale = Some(parse_scale(&value).map_err(|reason| IngestError::Option {
                    option: "rating_scale".into(),
                    value: value.to_string(),
                    reason,
                })?);
            }
            other => match other.strip_prefix("map.") {
                Some(field) => mapping.add_column_flag(&format!("{field}={value}"))?,
                None => {
                    return Err(IngestError::Option {
                        option: "query parameter".into(),
                        value: other.to_string(),
                        reason: "use source_type, platform, strict, redact_handles, timezone, rating_scale or map.FIELD".into(),
                    })
                }
            },
        }
    }
    options.mapping = mapping;
    // Pushed mentions without a time are stamped with when they arrived.
    options.received_ms = Some(options.now_ms);
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_api_camel_case_option_names_are_aliases() {
        let options =
            push_options("/feedback?sourceType=social&redactHandles=false&ratingScale=0-10")
                .unwrap();
        assert_eq!(options.source_type.as_deref(), Some("social"));
        assert!(!options.redact_handles);
        assert!(options.mapping.rating_scale.is_some());
        let e = push_options("/feedback?sourcetype=social").unwrap_err();
        assert!(e.to_string().contains("sourcetype"), "{e}");
    }
}
