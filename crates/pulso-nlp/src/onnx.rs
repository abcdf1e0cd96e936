//! The ONNX Runtime backend: multilingual-e5-small with a folded sentiment head.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;
use tokenizers::{Tokenizer, TruncationParams};

use super::files::ModelFiles;
use super::{prediction, NlpError, SentimentModel, TextError, TextResult};

/// Longest batch in tokens; long texts go in smaller batches so memory stays bounded.
const MAX_BATCH_TOKENS: usize = 16_384;
const MAX_BATCH_TEXTS: usize = 64;
/// What one more inference call costs beyond its tokens, in tokens. Of 16, 64 and 256 tried
/// with `examples/scoring_profile.rs`, 16 was slowest and 64 and 256 measured alike.
const CALL_COST_TOKENS: usize = 64;
/// ONNX Runtime graph optimisers the session leaves out (names separated by ';').
const UNFUSED_OPTIMIZERS: &str = "SkipLayerNormFusion";

/// Splits texts sorted by token count (ascending) into runs, each padded to its longest text,
/// so that the tokens computed (padding included) plus a fixed cost per call are the fewest.
/// A mention and its short clauses thus go in separate runs instead of padding every clause to
/// the mention's length. Returns the end of each run.
fn plan_runs(sorted_lengths: &[usize]) -> Vec<usize> {
    let n = sorted_lengths.len();
    // best[k]: the least cost of the first k texts; from[k]: where its last run starts.
    let mut best = vec![usize::MAX; n + 1];
    let mut from = vec![0; n + 1];
    best[0] = 0;
    for end in 1..=n {
        let width = sorted_lengths[end - 1].max(1);
        for start in end.saturating_sub(MAX_BATCH_TEXTS)..end {
            let rows = end - start;
            // Sorted ascending, so a run's last text is its longest.
            if rows > 1 && rows * width > MAX_BATCH_TOKENS {
                continue;
            }
            let cost = best[start].saturating_add(CALL_COST_TOKENS + rows * width);
            if cost < best[end] {
                best[end] = cost;
                from[end] = start;
            }
        }
    }
    let mut ends = Vec::new();
    let mut end = n;
    while end > 0 {
        ends.push(end);
        end = from[end];
    }
    ends.reverse();
    ends
}

/// ONNX Runtime allows one environment per process, bound to the library loaded first.
static ENVIRONMENT: OnceLock<Result<(Environment, PathBuf), String>> = OnceLock::new();

fn environment(library: &Path) -> Result<&'static Environment, NlpError> {
    ENVIRONMENT
        .get_or_init(|| {
            let environment = ort::init_from(library)
                .map_err(|e| e.to_string())?
                .with_name("pulso")
                .build()
                .map_err(|e| e.to_string())?;
            Ok((environment, library.to_path_buf()))
        })
        .as_ref()
        .map(|(environment, _)| environment)
        .map_err(|reason| NlpError::Runtime {
            path: library.to_path_buf(),
            reason: reason.clone(),
        })
}

/// The ONNX Runtime version, e.g. "1.32.0", once a model has loaded the library. Read from
/// the versioned file name the model build ships (`libonnxruntime.so.1.32.0`).
pub fn runtime_version() -> Option<String> {
    let (_, library) = ENVIRONMENT.get()?.as_ref().ok()?;
    let resolved = std::fs::canonicalize(library).unwrap_or_else(|_| library.clone());
    let name = resolved.file_name()?.to_str()?;
    let version = name.split(".so.").nth(1)?;
    Some(version.to_string())
}

/// One tokenised text, ready to batch.
struct Encoded {
    ids: Vec<i64>,
    truncated: bool,
}

pub struct OnnxSentimentModel {
    files: ModelFiles,
    tokenizer: Tokenizer,
    session: Mutex<Session>,
    has_head: bool,
}

/// Raw outputs for one text.
pub struct Inference {
    pub embedding: Vec<f32>,
    pub probabilities: Option<Vec<f32>>,
    /// A sigmoid confidence per emotion, where the model has an emotion head.
    pub emotions: Option<Vec<f32>>,
    pub truncated: bool,
}

impl OnnxSentimentModel {
    /// Loads the model folder. `intra_threads` bounds ONNX Runtime's threads per inference.
    pub fn load(dir: &Path, intra_threads: usize) -> Result<Self, NlpError> {
        Self::load_with(dir, intra_threads, UNFUSED_OPTIMIZERS)
    }

    /// Loads it with every ONNX Runtime optimiser, as the model build's Python reference run
    /// does: the same numbers as `reference.json`, for tests that compare with it. Slower
    /// than [`OnnxSentimentModel::load`]; its outputs differ from it by rounding only.
    pub fn load_as_built(dir: &Path, intra_threads: usize) -> Result<Self, NlpError> {
        Self::load_with(dir, intra_threads, "")
    }

    fn load_with(
        dir: &Path,
        intra_threads: usize,
        disabled_optimizers: &str,
    ) -> Result<Self, NlpError> {
        let files = ModelFiles::open(dir)?;
        let invalid = |path: &Path, reason: String| NlpError::InvalidFile {
            path: path.to_path_buf(),
            reason,
        };
        let mut tokenizer = Tokenizer::from_file(&files.tokenizer)
            .map_err(|e| invalid(&files.tokenizer, e.to_string()))?;
        // Padding is done per batch, to the batch's own longest text.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: files.config.max_length,
                ..Default::default()
            }))
            .map_err(|e| invalid(&files.tokenizer, e.to_string()))?;
        let environment = environment(&files.runtime_library)?;
        let session = Session::builder(environment)
            .map_err(|e| invalid(&files.model, e.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| invalid(&files.model, e.to_string()))?
            .with_intra_threads(intra_threads.max(1))
            .map_err(|e| invalid(&files.model, e.to_string()))?
            // Idle threads sleep instead of spinning: the plugin shares its cores with ingestion,
            // queries and Grafana, and spinning took 9 to 16 % of the process's samples while
            // scoring 100 mentions/s (perf, issue 14).
            .with_intra_op_spinning(false)
            .map_err(|e| invalid(&files.model, e.to_string()))?
            // LayerNormalization runs faster unfused: ONNX Runtime 1.32's SkipLayerNormalization
            // kernel took 19 % of the model's time (a scalar loop, one division per value);
            // the plain LayerNormalization and Add kernels take 6 % for the same work. Measured
            // with onnxruntime's profiler, 64 texts of 26 tokens, 2 threads: 348 texts/s
            // fused, 437 unfused. The outputs differ by rounding, which int8 activation scaling
            // can carry to the second decimal (tests/it/nlp_inference.rs bounds it; issue 14).
            .with_disabled_optimizers(disabled_optimizers)
            .map_err(|e| invalid(&files.model, e.to_string()))?
            .commit_from_file(&files.model)
            .map_err(|e| invalid(&files.model, e.to_string()))?;
        let has_head = session
            .outputs()
            .iter()
            .any(|o| o.name() == "probabilities");
        if has_head && files.config.labels.is_empty() {
            return Err(invalid(
                &files.dir.join("config.json"),
                "the model has a head but config.json lists no labels".to_string(),
            ));
        }
        let has_emotions = session.outputs().iter().any(|o| o.name() == "emotions");
        if has_emotions && files.config.emotion_labels.is_empty() {
            return Err(invalid(
                &files.dir.join("config.json"),
                "the model has an emotion head but config.json lists no emotion_labels".to_string(),
            ));
        }
        Ok(Self {
            files,
            tokenizer,
            session: Mutex::new(session),
            has_head,
        })
    }

    pub fn files(&self) -> &ModelFiles {
        &self.files
    }

    fn encode(&self, text: &str) -> Result<Encoded, NlpError> {
        let input = format!("{}{}", self.files.config.input_prefix, text);
        let encoding = self
            .tokenizer
            .encode(input, true)
            .map_err(|e| NlpError::Inference(format!("tokenizer: {e}")))?;
        Ok(Encoded {
            ids: encoding.get_ids().iter().map(|&id| i64::from(id)).collect(),
            truncated: !encoding.get_overflowing().is_empty(),
        })
    }

    /// The token ids the model reads for `text`, prefix and special tokens included.
    pub fn token_ids(&self, text: &str) -> Result<Vec<i64>, NlpError> {
        Ok(self.encode(text)?.ids)
    }

    /// Runs the graph on texts, batching texts of similar length together so little padding
    /// is computed. Results come back in input order.
    pub fn infer(&self, texts: &[&str]) -> Result<Vec<Inference>, NlpError> {
        let encoded = texts
            .iter()
            .map(|t| self.encode(t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        order.sort_by_key(|&i| encoded[i].ids.len());
        let mut results: Vec<Option<Inference>> = (0..encoded.len()).map(|_| None).collect();
        let lengths: Vec<usize> = order.iter().map(|&i| encoded[i].ids.len()).collect();
        let mut start = 0;
        for end in plan_runs(&lengths) {
            let batch: Vec<&Encoded> = order[start..end].iter().map(|&i| &encoded[i]).collect();
            for (slot, inference) in order[start..end].iter().zip(self.run_batch(&batch)?) {
                results[*slot] = Some(inference);
            }
            start = end;
        }
        Ok(results.into_iter().flatten().collect())
    }

    fn run_batch(&self, batch: &[&Encoded]) -> Result<Vec<Inference>, NlpError> {
        let rows = batch.len();
        let width = batch.iter().map(|e| e.ids.len()).max().unwrap_or(1);
        let pad = i64::from(self.files.config.pad_id);
        let mut ids = vec![pad; rows * width];
        let mut mask = vec![0i64; rows * width];
        for (row, encoded) in batch.iter().enumerate() {
            ids[row * width..row * width + encoded.ids.len()].copy_from_slice(&encoded.ids);
            mask[row * width..row * width + encoded.ids.len()].fill(1);
        }
        let failed = |e: ort::Error| NlpError::Inference(e.to_string());
        let ids = Tensor::from_array(([rows, width], ids)).map_err(failed)?;
        let mask = Tensor::from_array(([rows, width], mask)).map_err(failed)?;
        let mut session = self
            .session
            .lock()
            .map_err(|_| NlpError::Inference("a previous inference panicked".to_string()))?;
        let outputs = session
            .run(ort::inputs!["input_ids" => ids, "attention_mask" => mask])
            .map_err(failed)?;
        let read = |name: &str| -> Result<Option<(usize, Vec<f32>)>, NlpError> {
            let Some(value) = outputs.get(name) else {
                return Ok(None);
            };
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(failed)?;
            let columns = shape.last().copied().unwrap_or(0) as usize;
            Ok(Some((columns, data.to_vec())))
        };
        let (dim, embeddings) = read("embedding")?.ok_or_else(|| {
            NlpError::Inference("model.onnx has no `embedding` output".to_string())
        })?;
        let probabilities = read("probabilities")?;
        let emotions = read("emotions")?;
        if let Some((columns, _)) = &emotions {
            if *columns != self.files.config.emotion_labels.len() {
                return Err(NlpError::Inference(format!(
                    "model.onnx scores {columns} emotions but config.json names {}: rebuild the \
                     model folder with `python3 models/build.py`",
                    self.files.config.emotion_labels.len()
                )));
            }
        }
        Ok(batch
            .iter()
            .enumerate()
            .map(|(row, encoded)| Inference {
                embedding: embeddings[row * dim..(row + 1) * dim].to_vec(),
                probabilities: probabilities
                    .as_ref()
                    .map(|(n, p)| p[row * n..(row + 1) * n].to_vec()),
                emotions: emotions
                    .as_ref()
                    .map(|(n, e)| e[row * n..(row + 1) * n].to_vec()),
                truncated: encoded.truncated,
            })
            .collect())
    }
}

impl SentimentModel for OnnxSentimentModel {
    fn model_id(&self) -> &str {
        &self.files.config.model_id
    }

    fn labels(&self) -> &[String] {
        &self.files.config.labels
    }

    fn emotion_labels(&self) -> &[String] {
        &self.files.config.emotion_labels
    }

    fn predict(&self, texts: &[&str]) -> Result<Vec<TextResult>, NlpError> {
        if !self.has_head {
            return Err(NlpError::NoHead {
                path: self.files.dir.clone(),
            });
        }
        let scorable: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| !t.trim().is_empty())
            .collect();
        let mut inferred = self.infer(&scorable)?.into_iter();
        Ok(texts
            .iter()
            .map(|text| {
                if text.trim().is_empty() {
                    return Err(TextError::Empty);
                }
                let inference = inferred.next().expect("one inference per non-empty text");
                let probabilities = inference.probabilities.unwrap_or_default();
                let mut result = prediction(self.labels(), probabilities, inference.truncated);
                result.embedding = inference.embedding;
                result.emotions = inference.emotions.unwrap_or_default();
                Ok(result)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(lengths: &[usize]) -> Vec<Vec<usize>> {
        let mut start = 0;
        plan_runs(lengths)
            .into_iter()
            .map(|end| {
                let run = lengths[start..end].to_vec();
                start = end;
                run
            })
            .collect()
    }

    #[test]
    fn short_clauses_are_not_padded_to_a_long_mention() {
        let mut lengths = vec![12; 40];
        lengths.extend([56; 20]);
        assert_eq!(runs(&lengths), vec![vec![12; 40], vec![56; 20]]);
    }

    #[test]
    fn nearly_equal_lengths_share_a_call() {
        let lengths: Vec<usize> = (30..40).collect();
        assert_eq!(runs(&lengths), vec![lengths.clone()]);
    }

    #[test]
    fn runs_respect_the_text_and_token_bounds() {
        let lengths = vec![10; 200];
        assert!(runs(&lengths).iter().all(|r| r.len() <= MAX_BATCH_TEXTS));
        assert_eq!(runs(&lengths).concat(), lengths);
        let long = vec![512; 100];
        assert!(runs(&long)
            .iter()
            .all(|r| r.len() * 512 <= MAX_BATCH_TOKENS));
        assert_eq!(runs(&[]), Vec::<Vec<usize>>::new());
        assert_eq!(
            runs(&[100_000]),
            vec![vec![100_000]],
            "one text always runs"
        );
    }
}
