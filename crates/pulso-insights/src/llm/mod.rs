//! Client for an OpenAI-compatible `/chat/completions` endpoint that turns Pulso's aggregated
//! statistics and a sample of mentions into findings for the `insights` query.
//!
//! Grounding: every claim the model makes must cite ids of sample mentions it was shown. Claims
//! that cite none are dropped, so an invented finding cannot reach a panel without evidence a
//! person can click through to.
//!
//! Secrets: the API key only ever travels in the `Authorization` header. It is redacted from
//! `Debug`, scrubbed from any server text quoted in errors, and never passed to `tracing`.

mod cache;
mod client;
mod grounding;
mod prompt;

use std::fmt;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

pub use cache::{cache_key, InsightCache};
pub use client::ask;
pub use prompt::{build_messages, estimate_tokens};

use client::redact_url;

/// Longest finding text or action kept from the model: they end up in table cells.
pub const MAX_TEXT_CHARS: usize = 500;
/// Longest mention text put in the prompt, so one long review cannot eat the whole budget.
pub const MAX_MENTION_CHARS: usize = 600;
const REDACTED: &str = "[redacted]";

/// Where and how to ask the model. Build it with [`LlmConfig::new`] and adjust fields.
#[derive(Clone, PartialEq)]
pub struct LlmConfig {
    /// API root such as `http://127.0.0.1:8080/v1` or `https://api.openai.com/v1`.
    pub base_url: String,
    pub model: String,
    /// Sent as `Authorization: Bearer <key>` when set; never logged.
    pub api_key: Option<String>,
    /// Limit for one attempt, from connecting until the whole body has arrived.
    pub timeout: Duration,
    pub max_attempts: u32,
    /// Wait before the second attempt; doubles for each later one.
    pub initial_backoff: Duration,
    /// Cap on one wait between attempts, whether from backoff or from `Retry-After`.
    pub max_retry_wait: Duration,
    /// Budget for system plus user message, estimated with [`estimate_tokens`].
    pub max_prompt_tokens: usize,
    pub max_output_tokens: u32,
}

impl LlmConfig {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
    pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);
    pub const DEFAULT_MAX_RETRY_WAIT: Duration = Duration::from_secs(10);
    pub const DEFAULT_MAX_PROMPT_TOKENS: usize = 6000;
    pub const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 800;

    /// A config with the defaults above. A blank key counts as no key, since Grafana stores an
    /// emptied secure field as an empty string.
    pub fn new(
        base_url: impl Into<String>,
        model: impl Into<String>,
        api_key: Option<String>,
    ) -> Self {
        LlmConfig {
            base_url: base_url.into(),
            model: model.into(),
            api_key: api_key.filter(|key| !key.trim().is_empty()),
            timeout: Self::DEFAULT_TIMEOUT,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            initial_backoff: Self::DEFAULT_INITIAL_BACKOFF,
            max_retry_wait: Self::DEFAULT_MAX_RETRY_WAIT,
            max_prompt_tokens: Self::DEFAULT_MAX_PROMPT_TOKENS,
            max_output_tokens: Self::DEFAULT_MAX_OUTPUT_TOKENS,
        }
    }

    /// The key as sent, trimmed because pasted keys often carry a trailing new line.
    fn key(&self) -> Option<&str> {
        self.api_key
            .as_deref()
            .map(str::trim)
            .filter(|key| !key.is_empty())
    }
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            // The URL may carry user:password, so it is shown the way errors show it.
            .field("base_url", &redact_url(&self.base_url))
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| REDACTED))
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_retry_wait", &self.max_retry_wait)
            .field("max_prompt_tokens", &self.max_prompt_tokens)
            .field("max_output_tokens", &self.max_output_tokens)
            .finish()
    }
}

/// One mention shown to the model, which cites it by `id`.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleMention {
    pub id: i64,
    /// Already PII-redacted by the caller.
    pub text: String,
    pub label: Option<String>,
    pub region: String,
    pub brand: String,
    pub time: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InsightRequest {
    /// Aggregated statistics: volumes, rising terms, aspects, spikes.
    pub statistics: Value,
    /// Sample mentions, most useful first: mentions are dropped from the end to fit the budget.
    pub mentions: Vec<SampleMention>,
    /// Language of the answer, e.g. "es".
    pub language: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    Summary,
    Driver,
    Suggestion,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Summary => "summary",
            FindingKind::Driver => "driver",
            FindingKind::Suggestion => "suggestion",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub text: String,
    /// Ids of mentions that were in the prompt, in the order the model gave them.
    pub evidence_ids: Vec<i64>,
    pub action: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmAnswer {
    pub findings: Vec<Finding>,
    /// Claims dropped because they cited no mention id from the prompt (or had no text).
    pub dropped_claims: usize,
    pub prompt_tokens_estimate: usize,
    /// How many sample mentions fitted in the prompt.
    pub mentions_sent: usize,
}

#[derive(Debug, Clone, Error)]
pub enum LlmError {
    #[error("llmUrl {url:?} is not an http:// or https:// URL: check llmUrl in the data source settings (for example http://127.0.0.1:8080/v1)")]
    InvalidUrl { url: String },
    #[error("llmApiKey contains characters that cannot be sent in an HTTP header: enter the key again in the data source settings")]
    InvalidApiKey,
    #[error(
        "there are no sample mentions to ground insights on: widen the time range or the filters"
    )]
    NoMentions,
    #[error("the insights prompt needs about {needed} tokens (statistics plus one sample mention) but the budget is {budget}: narrow the time range or the filters so fewer statistics are sent")]
    PromptTooLarge { needed: usize, budget: usize },
    #[error("the LLM at {url} did not answer within {:.1} s on any of {attempts} attempt(s): check that the model server is running and not overloaded, or choose a smaller llmModel", .timeout.as_secs_f64())]
    Timeout {
        url: String,
        timeout: Duration,
        attempts: u32,
    },
    #[error("cannot reach the LLM at {url} ({detail}) after {attempts} attempt(s): check llmUrl in the data source settings and that the model server is running")]
    Unreachable {
        url: String,
        detail: String,
        attempts: u32,
    },
    #[error("the LLM at {url} answered HTTP {code}: {detail}. {}", status_hint(*.code))]
    Status {
        url: String,
        code: u16,
        detail: String,
    },
    #[error("the LLM at {url} is rate limiting Pulso (HTTP 429 on all {attempts} attempt(s)): wait a minute, refresh dashboards less often, or raise the rate limit of the API account")]
    RateLimited {
        url: String,
        attempts: u32,
        retry_after: Option<Duration>,
    },
    #[error("the LLM answer could not be used: {detail}. Check that llmUrl points to an OpenAI-compatible API (ending in /v1) and that llmModel can answer in JSON")]
    Malformed { detail: String },
    #[error("the LLM gave no finding backed by a sample mention ({dropped} claim(s) cited no known mention id): try again, widen the time range, or choose a stronger llmModel")]
    NoGroundedFindings { dropped: usize },
}

fn status_hint(code: u16) -> &'static str {
    match code {
        401 | 403 => "Check llmApiKey in the data source settings",
        404 => "Check llmUrl (it usually ends in /v1) and llmModel in the data source settings",
        400 | 422 => "Check llmModel in the data source settings; the server may not support JSON answers (response_format)",
        500..=599 => "The model server failed: check its logs, or try again later",
        _ => "Check llmUrl and llmModel in the data source settings",
    }
}

/// Helpers shared by the tests of the `llm` modules.
#[cfg(test)]
mod test_support {
    use super::*;
    use pulso_testkit::{FakeLlm, Reply};
    use serde_json::json;

    pub(super) const KEY: &str = "sk-test-9f8e7d6c5b4a-SECRET";

    pub(super) fn reply(status: u16, body: impl Into<String>) -> Reply {
        Reply::json(status, body)
    }

    /// The scripted server (pulso-testkit), playing `replies` in order, repeating the last.
    pub(super) async fn serve(replies: Vec<Reply>) -> FakeLlm {
        FakeLlm::sequence(replies).await
    }

    pub(super) fn client() -> reqwest::Client {
        // No proxy: a proxy from the environment must not intercept 127.0.0.1.
        reqwest::Client::builder().no_proxy().build().unwrap()
    }

    pub(super) fn config(base_url: &str) -> LlmConfig {
        let mut config = LlmConfig::new(base_url, "qwen2.5-7b-instruct", Some(KEY.to_string()));
        config.timeout = Duration::from_secs(5);
        config.initial_backoff = Duration::from_millis(10);
        config.max_retry_wait = Duration::from_secs(2);
        config
    }

    pub(super) fn mention(id: i64, text: &str) -> SampleMention {
        SampleMention {
            id,
            text: text.to_string(),
            label: Some("negative".to_string()),
            region: "Lima".to_string(),
            brand: "Pollería Don Tito".to_string(),
            time: "2024-05-01T12:00:00Z".to_string(),
        }
    }

    pub(super) fn request() -> InsightRequest {
        InsightRequest {
            statistics: json!({
                "volume": {"current": 120, "previous": 80},
                "risingTerms": [{"term": "demora", "growth": 150.0}],
                "aspects": [{"aspect": "delivery", "shareNegative": 62.5}],
            }),
            mentions: vec![
                mention(1, "El delivery demoró más de una hora"),
                mention(2, "El pollo llegó frío"),
                mention(3, "Buen sabor pero caro"),
            ],
            language: "es".to_string(),
        }
    }

    /// An OpenAI-style completion whose assistant message is `content`.
    pub(super) fn completion(content: &str) -> String {
        json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50},
        })
        .to_string()
    }

    pub(super) fn good_content() -> String {
        json!({
            "summary": [{"text": "Las quejas por demora subieron en Lima.", "evidence": [1, 99]}],
            "drivers": [
                {"text": "Pedidos que llegan fríos.", "evidence": [2, "#1", 2]},
                {"text": "Precios altos.", "evidence": [404]},
            ],
            "suggestions": [{
                "text": "Revisar los tiempos de reparto.",
                "action": "Auditar la cadena de delivery en Lima",
                "evidence": [1, 3],
            }],
        })
        .to_string()
    }

    pub(super) fn assert_no_key(text: &str) {
        assert!(!text.contains(KEY), "the API key leaked into: {text}");
        assert!(
            !text.contains("SECRET"),
            "part of the API key leaked into: {text}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::client::{malformed, quote_body};
    use super::test_support::{assert_no_key, config, KEY};
    use super::*;

    #[test]
    fn error_messages_and_config_debug_never_contain_the_key() {
        let config = config("https://user:pass@api.example.com/v1");
        let debug = format!("{config:?}");
        assert!(debug.contains("api_key: Some(\"[redacted]\")"), "{debug}");
        assert!(!debug.contains("pass@"));
        assert_no_key(&debug);
        let keyless = format!("{:?}", LlmConfig::new("http://x/v1", "m", None));
        assert!(keyless.contains("api_key: None"));

        let url = "https://api.example.com/v1/chat/completions".to_string();
        let errors = [
            LlmError::InvalidUrl { url: url.clone() },
            LlmError::InvalidApiKey,
            LlmError::NoMentions,
            LlmError::PromptTooLarge {
                needed: 9000,
                budget: 6000,
            },
            LlmError::Timeout {
                url: url.clone(),
                timeout: Duration::from_secs(20),
                attempts: 3,
            },
            LlmError::Unreachable {
                url: url.clone(),
                detail: "connection refused".to_string(),
                attempts: 3,
            },
            LlmError::Status {
                url: url.clone(),
                code: 401,
                detail: quote_body(&format!("bad key {KEY}"), Some(KEY)),
            },
            LlmError::RateLimited {
                url: url.clone(),
                attempts: 3,
                retry_after: None,
            },
            malformed(&format!("echo {KEY}"), Some(KEY)),
            LlmError::NoGroundedFindings { dropped: 4 },
        ];
        for err in &errors {
            let message = err.to_string();
            assert_no_key(&message);
            assert_no_key(&format!("{err:?}"));
            // Every message tells the user what to do next.
            assert!(
                ["check", "Check", "enter", "widen", "narrow", "wait", "try"]
                    .iter()
                    .any(|verb| message.contains(verb)),
                "no advice in: {message}"
            );
        }
    }
}
