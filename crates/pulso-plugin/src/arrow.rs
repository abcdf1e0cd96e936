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

    fn new(name: &str, nullable: bool, values: Box<dyn Array>) -> Self {
        Self {
            name: name.to_string(),
            labels: BTreeMap::new(),
            nullable,
            values,
        }
    }
}

/// A data frame ready to encode: a name, columns of equal length, and metadata.
pub struct Frame {
    pub name: String,
    pub meta: Metadata,
    pub columns: Vec<Column>,
}

impl Frame {
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
        let metadata = BTreeMap::from([
            ("name".to_string(), self.name.clone()),
            ("refId".to_string(), ref_id.to_string()),
            ("meta".to_string(), serde_json::to_string(&self.meta)?),
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
