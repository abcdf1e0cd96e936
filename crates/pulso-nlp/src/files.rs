//! A built model folder (`models/dist/<model-id>/`) and its configuration. Every start-up error
//! names the exact file and how to build it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::NlpError;

/// `config.json`, written by `models/build.py`.
#[derive(Debug, Clone, Deserialize)]
pub struct ModelConfig {
    pub model_id: String,
    pub labels: Vec<String>,
    /// The emotions of the `emotions` output, in its order; models built before the emotion
    /// head have none.
    #[serde(default)]
    pub emotion_labels: Vec<String>,
    pub input_prefix: String,
    pub max_length: usize,
    pub pad_id: u32,
}

/// The files of one model build.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub dir: PathBuf,
    pub config: ModelConfig,
    pub model: PathBuf,
    pub tokenizer: PathBuf,
    pub runtime_library: PathBuf,
}

fn require(path: PathBuf) -> Result<PathBuf, NlpError> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(NlpError::MissingFile { path })
    }
}

impl ModelFiles {
    pub fn open(dir: &Path) -> Result<Self, NlpError> {
        let config_path = require(dir.join("config.json"))?;
        let text = std::fs::read_to_string(&config_path).map_err(|e| NlpError::InvalidFile {
            path: config_path.clone(),
            reason: e.to_string(),
        })?;
        let config: ModelConfig =
            serde_json::from_str(&text).map_err(|e| NlpError::InvalidFile {
                path: config_path.clone(),
                reason: e.to_string(),
            })?;
        let runtime_library = match std::env::var_os("ORT_DYLIB_PATH") {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => dir.join("libonnxruntime.so.1.32.0"),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            model: require(dir.join("model.onnx"))?,
            tokenizer: require(dir.join("tokenizer.json"))?,
            runtime_library: require(runtime_library)?,
            config,
        })
    }
}

/// Where to look for the model when nothing is configured: `$PULSO_MODEL_DIR`, else `model/`
/// beside the executable (how the plugin is packaged), else the newest `models/dist/` build.
pub fn default_model_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PULSO_MODEL_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(beside_exe) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|p| p.join("model")))
        .filter(|dir| dir.is_dir())
    {
        return beside_exe;
    }
    latest_build(Path::new("models/dist")).unwrap_or_else(|| PathBuf::from("model"))
}

/// `models/dist/latest.json` names the last build's folder.
pub fn latest_build(dist: &Path) -> Option<PathBuf> {
    #[derive(Deserialize)]
    struct Latest {
        model_id: String,
    }
    let text = std::fs::read_to_string(dist.join("latest.json")).ok()?;
    let latest: Latest = serde_json::from_str(&text).ok()?;
    Some(dist.join(latest.model_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = ModelFiles::open(dir.path()).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&dir.path().join("config.json").display().to_string()),
            "{message}"
        );
        assert!(message.contains("python3 models/build.py"), "{message}");

        std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
        let err = ModelFiles::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("is invalid"), "{err}");

        std::fs::write(
            dir.path().join("config.json"),
            r#"{"model_id":"m","labels":[],"input_prefix":"query: ","max_length":512,"pad_id":1}"#,
        )
        .unwrap();
        let err = ModelFiles::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("model.onnx is missing"), "{err}");
    }
}
