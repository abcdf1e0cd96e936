//! Frames in Grafana's Arrow IPC layout.
//!
//! The SDK's own encoder drops field labels whenever a field also has a config (its match arms
//! are swapped), and labels are what multi-series panels and alert rules key on. So frames are
//! encoded here, with both labels and config written whenever present.

use std::collections::BTreeMap;

use grafana_plugin_sdk::arrow2::array::{Array, PrimitiveArray, Utf8Array};
use grafana_plugin_sdk::arrow2::chunk::Chunk;
use grafana_plugin_sdk::arrow2::datatypes::{DataType, Field, Schema, TimeUnit};
use grafana_plugin_sdk::arrow2::io::ipc::write::{FileWriter, WriteOptions};
use grafana_plugin_sdk::data::Metadata;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum EncodeError {
    #[error("cannot serialise frame metadata: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot encode the frame as Arrow: {0}")]
    Arrow(#[from] grafana_plugin_sdk::arrow2::error::Error),
}

/// One column of a frame.
pub struct Column {
    name: String,
    labels: BTreeMap<String, String>,
    nullable: bool,
    values: Box<dyn Array>,
}

impl Column {
    /// Times in epoch milliseconds, encoded as Arrow `timestamp[ns]` without a time zone.
    pub fn time(name: &str, epoch_ms: &[i64]) -> Self {
        let nanos: Vec<i64> = epoch_ms
            .iter()
            .map(|ms| ms.saturating_mul(1_000_000))
            .collect();
        let array = PrimitiveArray::<i64>::from_vec(nanos)
            .to(DataType::Timestamp(TimeUnit::Nanosecond, None));
        Self::new(name, false, array.boxed())
    }

    pub fn int64(name: &str, values: Vec<i64>) -> Self {
        Self::new(name, false, PrimitiveArray::<i64>::from_vec(values).boxed())
    }

    pub fn float64_opt(name: &str, values: Vec<Option<f64>>) -> Self {
        Self::new(name, true, PrimitiveArray::<f64>::from(values).boxed())
    }

    pub fn string<S: AsRef<str>>(name: &str, values: &[S]) -> Self {
        Self::new(name, false, Utf8Array::<i32>::from_slice(values).boxed())
    }

    pub fn string_opt<S: AsRef<str>>(name: &str, values: &[Option<S>]) -> Self {
        Self::new(name, true, Utf8Array::<i32>::from(values).boxed())
    }

    pub fn with_labels(mut self, labels: BTreeMap<String, String>) -> Self {
        self.labels = labels;
        self
    }

    /// The field as frame JSON's schema lists it.
    fn schema(&self) -> serde_json::Value {
        let (kind, frame_type) = match self.values.data_type() {
            DataType::Timestamp(_, _) => ("time", "time.Time"),
            DataType::Int64 => ("number", "int64"),
            DataType::Float64 => ("number", "float64"),
            _ => ("string", "string"),
        };
        let mut type_info = serde_json::json!({ "frame": frame_type });
        if self.nullable {
            type_info["nullable"] = true.into();
        }
        let mut field = serde_json::json!({
            "name": self.name,
            "type": kind,
            "typeInfo": type_info,
        });
        if !self.labels.is_empty() {
            field["labels"] = serde_json::json!(self.labels);
        }
        field
    }

    /// The values as frame JSON holds them, and the entities (NaN, Inf, -Inf positions).
    fn json_values(&self) -> Result<(serde_json::Value, serde_json::Value), EncodeError> {
        use serde_json::Value;
        let any = self.values.as_any();
        let unsupported = || {
            EncodeError::Arrow(grafana_plugin_sdk::arrow2::error::Error::NotYetImplemented(
                format!("frame JSON for {:?}", self.values.data_type()),
            ))
        };
        let values = match self.values.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, _) | DataType::Int64 => {
                let divisor = match self.values.data_type() {
                    DataType::Int64 => 1,
                    _ => 1_000_000,
                };
                let array = any
                    .downcast_ref::<PrimitiveArray<i64>>()
                    .ok_or_else(unsupported)?;
                array
                    .iter()
                    .map(|v| v.map_or(Value::Null, |v| Value::from(*v / divisor)))
                    .collect()
            }
            DataType::Float64 => {
                let array = any
                    .downcast_ref::<PrimitiveArray<f64>>()
                    .ok_or_else(unsupported)?;
                let mut entities: [(&str, Vec<usize>); 3] =
                    [("NaN", vec![]), ("Inf", vec![]), ("NegInf", vec![])];
                let mut values = Vec::with_capacity(array.len());
                for (i, v) in array.iter().enumerate() {
                    let v = v.copied();
                    let entity = match v {
                        Some(v) if v.is_nan() => Some(0),
                        Some(v) if v == f64::INFINITY => Some(1),
                        Some(v) if v == f64::NEG_INFINITY => Some(2),
                        _ => None,
                    };
                    if let Some(entity) = entity {
                        entities[entity].1.push(i);
                    }
                    let number = v.and_then(serde_json::Number::from_f64);
                    values.push(number.map_or(Value::Null, Value::Number));
                }
                let entities: serde_json::Map<String, Value> = entities
                    .into_iter()
                    .filter(|(_, positions)| !positions.is_empty())
                    .map(|(name, positions)| (name.to_string(), positions.into()))
                    .collect();
                let entities = if entities.is_empty() {
                    Value::Null
                } else {
                    Value::Object(entities)
                };
                return Ok((Value::Array(values), entities));
            }
            DataType::Utf8 => {
                let array = any
                    .downcast_ref::<Utf8Array<i32>>()
                    .ok_or_else(unsupported)?;
                array
                    .iter()
                    .map(|v| v.map_or(Value::Null, Value::from))
                    .collect()
            }
            _ => return Err(unsupported()),
        };
        Ok((values, Value::Null))
    }

    fn new(name: &str, nullable: bool, values: Box<dyn Array>) -> Self {
        Self {
            name: name.to_string(),
            labels: BTreeMap::new(),
            nullable,
            values,
        }
    }
}

/// The dataplane contract a frame follows (`meta.type` and `meta.typeVersion`), so that SQL
/// expressions, alerting and panels read it by its declared shape instead of guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FrameKind {
    /// One time field, ascending, then numeric fields told apart by their labels.
    TimeseriesWide,
    /// String fields naming each row's dimensions, numeric fields holding its values.
    NumericLong,
    /// Rows to read as they are (mentions, terms, spikes, insights).
    #[default]
    Table,
}

impl FrameKind {
    pub fn type_name(self) -> &'static str {
        match self {
            Self::TimeseriesWide => "timeseries-wide",
            Self::NumericLong => "numeric-long",
            Self::Table => "table",
        }
    }

    pub fn type_version(self) -> [u32; 2] {
        match self {
            Self::TimeseriesWide | Self::NumericLong => [0, 1],
            Self::Table => [0, 0],
        }
    }
}

/// A data frame ready to encode: a name, columns of equal length, and metadata.
pub struct Frame {
    pub name: String,
    pub meta: Metadata,
    pub columns: Vec<Column>,
    pub kind: FrameKind,
}

/// Which parts of a frame a JSON encoding carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonParts {
    SchemaAndData,
    DataOnly,
}

impl Frame {
    /// Encodes the frame as Grafana's frame JSON (`{"schema": …, "data": …}`), the form Live
    /// stream packets take. Times are epoch milliseconds; NaN and infinities are written as
    /// null and listed under `entities`, as Grafana's SDKs do.
    pub fn to_json(&self, ref_id: &str, parts: JsonParts) -> Result<Vec<u8>, EncodeError> {
        // Grafana's Go decoder needs "schema" before "data", and serde_json's map sorts keys,
        // so the object is written by hand.
        let mut out = b"{".to_vec();
        if parts == JsonParts::SchemaAndData {
            let fields: Vec<serde_json::Value> = self.columns.iter().map(Column::schema).collect();
            let mut schema = serde_json::json!({ "name": self.name, "fields": fields });
            if !ref_id.is_empty() {
                schema["refId"] = ref_id.into();
            }
            out.extend_from_slice(b"\"schema\":");
            serde_json::to_writer(&mut out, &schema)?;
            out.push(b',');
        }
        let mut values = Vec::with_capacity(self.columns.len());
        let mut entities = Vec::with_capacity(self.columns.len());
        for column in &self.columns {
            let (column_values, column_entities) = column.json_values()?;
            values.push(column_values);
            entities.push(column_entities);
        }
        let mut data = serde_json::json!({ "values": values });
        if entities.iter().any(|e| !e.is_null()) {
            data["entities"] = entities.into();
        }
        out.extend_from_slice(b"\"data\":");
        serde_json::to_writer(&mut out, &data)?;
        out.push(b'}');
        Ok(out)
    }

    /// Encodes the frame as an Arrow IPC file, the way Grafana's Go SDK reads it.
    pub fn encode(&self, ref_id: &str) -> Result<Vec<u8>, EncodeError> {
        let fields: Vec<Field> = self
            .columns
            .iter()
            .map(|c| {
                let mut metadata = BTreeMap::new();
                if !c.labels.is_empty() {
                    metadata.insert("labels".to_string(), serde_json::to_string(&c.labels)?);
                }
                Ok(
                    Field::new(c.name.clone(), c.values.data_type().clone(), c.nullable)
                        .with_metadata(metadata),
                )
            })
            .collect::<Result<_, serde_json::Error>>()?;
        // The SDK's Metadata has no type fields: they are added to its JSON.
        let mut meta = serde_json::to_value(&self.meta)?;
        if let Some(meta) = meta.as_object_mut() {
            meta.insert("type".to_string(), self.kind.type_name().into());
            meta.insert("typeVersion".to_string(), self.kind.type_version().into());
        }
        let metadata = BTreeMap::from([
            ("name".to_string(), self.name.clone()),
            ("refId".to_string(), ref_id.to_string()),
            ("meta".to_string(), serde_json::to_string(&meta)?),
        ]);
        let schema = Schema::from(fields).with_metadata(metadata);
        let mut buffer = Vec::new();
        {
            let mut writer =
                FileWriter::try_new(&mut buffer, schema, None, WriteOptions::default())?;
            if !self.columns.is_empty() {
                let chunk =
                    Chunk::try_new(self.columns.iter().map(|c| c.values.clone()).collect())?;
                writer.write(&chunk, None)?;
            }
            writer.finish()?;
        }
        Ok(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_json_is_what_grafana_decodes() {
        let frame = Frame {
            name: "mentions".into(),
            meta: Metadata::default(),
            kind: FrameKind::Table,
            columns: vec![
                Column::time("time", &[1_000, 2_000, 3_000]),
                Column::int64("id", vec![7, 8, 9]),
                Column::float64_opt("score", vec![Some(f64::NAN), None, Some(f64::NEG_INFINITY)])
                    .with_labels(BTreeMap::from([("brand".into(), "Gloria".into())])),
                Column::string_opt("label", &[Some("negative"), None, Some("positive")]),
            ],
        };
        let json =
            String::from_utf8(frame.to_json("A", JsonParts::SchemaAndData).unwrap()).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"schema":{"fields":["#,
                r#"{"name":"time","type":"time","typeInfo":{"frame":"time.Time"}},"#,
                r#"{"name":"id","type":"number","typeInfo":{"frame":"int64"}},"#,
                r#"{"labels":{"brand":"Gloria"},"name":"score","type":"number","typeInfo":{"frame":"float64","nullable":true}},"#,
                r#"{"name":"label","type":"string","typeInfo":{"frame":"string","nullable":true}}"#,
                r#"],"name":"mentions","refId":"A"},"#,
                r#""data":{"entities":[null,null,{"NaN":[0],"NegInf":[2]},null],"#,
                r#""values":[[1000,2000,3000],[7,8,9],[null,null,null],["negative",null,"positive"]]}}"#,
            )
        );
        let data_only = frame.to_json("A", JsonParts::DataOnly).unwrap();
        assert!(data_only.starts_with(br#"{"data":{"#), "no schema");
    }
}
