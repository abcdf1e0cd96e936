//! Sending the request and retrying it, and keeping the API key out of every upstream text
//! quoted back in an error.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;

use super::grounding::parse_answer;
use super::prompt::prepare;
use super::{InsightRequest, LlmAnswer, LlmConfig, LlmError, REDACTED};

/// Server text quoted in an error is cut to this many characters.
const MAX_QUOTE_CHARS: usize = 200;
/// A completion capped by `max_tokens` is tiny; anything this big is not what we asked for.
const MAX_RESPONSE_BYTES: usize = 2 * 1024 * 1024;

/// Asks the model for findings, retrying transient failures, and keeps only grounded claims.
pub async fn ask(
    client: &reqwest::Client,
    config: &LlmConfig,
    request: &InsightRequest,
) -> Result<LlmAnswer, LlmError> {
    if request.mentions.is_empty() {
        return Err(LlmError::NoMentions);
    }
    let prepared = prepare(config, request);
    if prepared.mentions_sent == 0 {
        return Err(LlmError::PromptTooLarge {
            needed: prepared.min_tokens,
            budget: config.max_prompt_tokens,
        });
    }
    let endpoint = endpoint_url(&config.base_url)?;
    let shown_url = redact_url(&endpoint);
    let auth = auth_header(config)?;
    let key = config.key();
    let max_attempts = config.max_attempts.max(1);
    tracing::debug!(
        url = %shown_url,
        model = %config.model,
        prompt_tokens_estimate = prepared.tokens,
        mentions_sent = prepared.mentions_sent,
        mentions_dropped = request.mentions.len() - prepared.mentions_sent,
        "asking the LLM for insights"
    );

    let mut attempt = 0;
    loop {
        attempt += 1;
        let started = Instant::now();
        let result = send_once(
            client,
            &endpoint,
            auth.as_ref(),
            &prepared.body,
            config.timeout,
        )
        .await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let (failure, retry_after) = match result {
            Ok(raw) if raw.status.is_success() => {
                let status = raw.status.as_u16();
                tracing::debug!(url = %shown_url, attempt, status, elapsed_ms, "LLM answered");
                // Scrubbed whole, before anything is parsed, quoted or cut short.
                return parse_answer(&scrub(&raw.body, key), &prepared, key);
            }
            Ok(raw) => {
                let code = raw.status.as_u16();
                let detail = quote_body(&scrub(&raw.body, key), key);
                if raw.status == StatusCode::TOO_MANY_REQUESTS {
                    (Failure::RateLimited(raw.retry_after), raw.retry_after)
                } else if raw.status.is_server_error() {
                    (Failure::Server { code, detail }, raw.retry_after)
                } else {
                    // Other 4xx mean bad settings; asking again would only fail again.
                    tracing::debug!(
                        url = %shown_url, attempt, status = code, elapsed_ms,
                        "LLM refused the request"
                    );
                    return Err(LlmError::Status {
                        url: shown_url,
                        code,
                        detail,
                    });
                }
            }
            Err(SendError::Timeout) => (Failure::Timeout, None),
            Err(SendError::Connect(detail)) => (
                Failure::Connect(truncate_chars(&scrub(&detail, key), MAX_QUOTE_CHARS)),
                None,
            ),
            Err(SendError::Builder) => {
                return Err(LlmError::InvalidUrl {
                    url: redact_url(&config.base_url),
                })
            }
            Err(SendError::TooLarge) => {
                return Err(malformed(
                    "the response is larger than 2 MiB, which is not a chat completion",
                    key,
                ))
            }
        };
        if attempt >= max_attempts {
            return Err(failure.into_error(shown_url, attempt, config.timeout));
        }
        let wait = retry_after
            .unwrap_or_else(|| backoff(config.initial_backoff, attempt))
            .min(config.max_retry_wait);
        tracing::warn!(
            url = %shown_url,
            attempt,
            max_attempts,
            reason = failure.reason(),
            elapsed_ms,
            wait_ms = wait.as_millis() as u64,
            "LLM attempt failed, retrying"
        );
        tokio::time::sleep(wait).await;
    }
}

/// A failure worth another attempt; turned into an [`LlmError`] when attempts run out.
enum Failure {
    Timeout,
    Connect(String),
    /// With the server's last `Retry-After`, for callers that want to back off themselves.
    RateLimited(Option<Duration>),
    Server {
        code: u16,
        detail: String,
    },
}

impl Failure {
    fn reason(&self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Connect(_) => "connection failed",
            Failure::RateLimited(_) => "rate limited (429)",
            Failure::Server { .. } => "server error (5xx)",
        }
    }

    fn into_error(self, url: String, attempts: u32, timeout: Duration) -> LlmError {
        match self {
            Failure::Timeout => LlmError::Timeout {
                url,
                timeout,
                attempts,
            },
            Failure::Connect(detail) => LlmError::Unreachable {
                url,
                detail,
                attempts,
            },
            Failure::RateLimited(retry_after) => LlmError::RateLimited {
                url,
                attempts,
                retry_after,
            },
            Failure::Server { code, detail } => LlmError::Status { url, code, detail },
        }
    }
}

fn backoff(initial: Duration, failed_attempt: u32) -> Duration {
    initial.saturating_mul(2u32.saturating_pow(failed_attempt.saturating_sub(1)))
}

struct RawResponse {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: String,
}

enum SendError {
    Timeout,
    Connect(String),
    Builder,
    TooLarge,
}

async fn send_once(
    client: &reqwest::Client,
    endpoint: &str,
    auth: Option<&HeaderValue>,
    body: &Value,
    timeout: Duration,
) -> Result<RawResponse, SendError> {
    let mut builder = client.post(endpoint).timeout(timeout).json(body);
    if let Some(auth) = auth {
        builder = builder.header(AUTHORIZATION, auth.clone());
    }
    let exchange = async {
        let mut response = builder.send().await.map_err(classify)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(SendError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            status,
            retry_after,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        })
    };
    // reqwest's own timeout should fire first; this one also bounds a client built without it.
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or(Err(SendError::Timeout))
}

fn classify(error: reqwest::Error) -> SendError {
    if error.is_timeout() {
        SendError::Timeout
    } else if error.is_builder() {
        SendError::Builder
    } else {
        // Refused, DNS, TLS or a connection dropped mid-answer: all worth another attempt.
        // The URL is dropped because it may carry user:password.
        SendError::Connect(error_chain(&error.without_url()))
    }
}

/// The distinct messages of an error and its sources, e.g. "error sending request: tcp connect
/// error: Connection refused (os error 111)".
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(err) = current {
        let text = err.to_string();
        if !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        current = err.source();
    }
    parts.join(": ")
}

fn auth_header(config: &LlmConfig) -> Result<Option<HeaderValue>, LlmError> {
    let Some(key) = config.key() else {
        return Ok(None);
    };
    let mut value =
        HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| LlmError::InvalidApiKey)?;
    // Sensitive headers print as "Sensitive" in HTTP-layer debug output.
    value.set_sensitive(true);
    Ok(Some(value))
}

/// `{base_url}/chat/completions`; a URL that already names the endpoint is kept as it is. A
/// query (Azure-style `?api-version=`) stays after the path.
fn endpoint_url(base_url: &str) -> Result<String, LlmError> {
    let base_url = base_url.trim();
    let (path, query) = base_url.split_at(base_url.find(['?', '#']).unwrap_or(base_url.len()));
    let trimmed = path.trim_end_matches('/');
    let lower = trimmed.to_ascii_lowercase();
    let host = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    if host.is_none_or(|rest| rest.is_empty() || rest.starts_with('/')) {
        return Err(LlmError::InvalidUrl {
            url: redact_url(base_url),
        });
    }
    if lower.ends_with("/chat/completions") {
        Ok(format!("{trimmed}{query}"))
    } else {
        Ok(format!("{trimmed}/chat/completions{query}"))
    }
}

/// The URL without user:password, query or fragment, which may all carry secrets.
pub(super) fn redact_url(url: &str) -> String {
    let url = url.trim();
    let (scheme, rest) = match url.find("://") {
        Some(index) => url.split_at(index + 3),
        None => ("", url),
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit('@').next().unwrap_or(authority);
    format!("{scheme}{host}{path}")
}

/// Replaces every copy of the key, in every form [`key_forms`] knows: some servers echo the
/// key they rejected, or the header that carried it.
fn scrub(text: &str, key: Option<&str>) -> String {
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return text.to_string();
    };
    let mut text = text.to_string();
    for form in key_forms(key) {
        if text.contains(&form) {
            text = text.replace(&form, REDACTED);
        }
    }
    text
}

/// Shorter encoded fragments could match ordinary text by chance.
const MIN_FORM_CHARS: usize = 8;

/// The key as it is, JSON-escaped, percent-encoded, and in base64 (standard and URL-safe) at
/// each of the three byte offsets it can have inside a longer encoded value such as an echoed
/// `Bearer <key>` header: only the characters that depend on the key's bytes alone, so the
/// fragment is found whatever surrounds the key. Longest first.
fn key_forms(key: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let mut forms = vec![key.to_string()];
    let json = Value::String(key.to_string()).to_string();
    forms.push(json[1..json.len() - 1].to_string());
    forms.push(key.replace('/', "\\/"));
    let mut percent_upper = String::new();
    let mut percent_lower = String::new();
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            percent_upper.push(byte as char);
            percent_lower.push(byte as char);
        } else {
            let _ = write!(percent_upper, "%{byte:02X}");
            let _ = write!(percent_lower, "%{byte:02x}");
        }
    }
    forms.push(percent_upper);
    forms.push(percent_lower);
    for offset in 0..3usize {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(key.as_bytes());
        // Character i covers bits 6i..6i+6: skip those that overlap the `offset` bytes before
        // the key or run past its end.
        let start = (4 * offset).div_ceil(3);
        let end = 4 * (offset + key.len()) / 3;
        for encoded in [
            STANDARD_NO_PAD.encode(&bytes),
            URL_SAFE_NO_PAD.encode(&bytes),
        ] {
            if end > start {
                forms.push(encoded[start..end].to_string());
            }
        }
    }
    forms.retain(|form| form == key || form.chars().count() >= MIN_FORM_CHARS);
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.dedup();
    forms
}

pub(super) fn malformed(detail: &str, key: Option<&str>) -> LlmError {
    LlmError::Malformed {
        detail: scrub(detail, key),
    }
}

pub(super) fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Whitespace collapsed, cut short and quoted, for error messages.
pub(super) fn quote_text(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("\"{}\"", truncate_chars(&collapsed, MAX_QUOTE_CHARS))
}

/// JSON never starts with '<'; a body that does is a proxy, login or error page.
pub(super) fn looks_like_markup(body: &str) -> bool {
    body.trim_start().starts_with('<')
}

/// "an HTML page titled \"502 Bad Gateway\"" instead of the whole page.
pub(super) fn html_note(body: &str) -> String {
    let lower = body.to_ascii_lowercase(); // ASCII lowering keeps byte offsets valid for `body`.
    let title = lower.find("<title").and_then(|open| {
        let start = open + lower[open..].find('>')? + 1;
        let end = start + lower[start..].find("</title")?;
        let title = body[start..end].split_whitespace().collect::<Vec<_>>();
        (!title.is_empty()).then(|| title.join(" "))
    });
    match title {
        Some(title) => format!("an HTML page titled \"{}\"", truncate_chars(&title, 80)),
        None => "an HTML page".to_string(),
    }
}

/// The `error.message` of an OpenAI-style error body.
pub(super) fn api_error_message(body: &Value) -> Option<String> {
    match body.get("error")? {
        Value::String(message) => Some(message.clone()),
        Value::Object(error) => error
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    }
}

/// A short description of an error response body for [`LlmError::Status`].
pub(super) fn quote_body(body: &str, key: Option<&str>) -> String {
    let body = body.trim();
    let quoted = if body.is_empty() {
        "no details in the response".to_string()
    } else if looks_like_markup(body) {
        html_note(body)
    } else {
        match serde_json::from_str::<Value>(body)
            .ok()
            .as_ref()
            .and_then(api_error_message)
        {
            Some(message) => quote_text(&message),
            None => quote_text(body),
        }
    };
    scrub(&quoted, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::build_messages;
    use crate::llm::test_support::{
        assert_no_key, client, completion, config, good_content, reply, request, serve, KEY,
    };
    use pulso_testkit::Reply;
    use std::fmt;
    use std::sync::Arc;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn request_carries_model_and_bearer_key_but_never_the_key_in_body() {
        let server = serve(vec![reply(200, completion(&good_content()))]).await;
        // A trailing slash must not give "//chat/completions".
        let config = config(&format!("{}/", server.url()));
        ask(&client(), &config, &request()).await.unwrap();

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let sent = &requests[0];
        assert_eq!(sent.method, "POST");
        assert_eq!(sent.path, "/v1/chat/completions");
        assert_eq!(
            sent.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert!(sent
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")));
        assert_no_key(&sent.body);

        let body: Value = serde_json::from_str(&sent.body).unwrap();
        assert_eq!(
            body,
            build_messages(&config, &request()),
            "sent what build_messages shows"
        );
        assert_eq!(body["model"], "qwen2.5-7b-instruct");
        assert_eq!(body["temperature"], 0);
        assert_eq!(body["max_tokens"], 800);
        assert_eq!(body["response_format"]["type"], "json_object");
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][1]["role"], "user");
        let system = body["messages"][0]["content"].as_str().unwrap();
        assert!(system.contains("Peru") && system.contains("Spanish"));
        assert!(system.contains(r#""suggestions":[{"text":"...","action":"...""#));
        let user = body["messages"][1]["content"].as_str().unwrap();
        assert!(user.contains(r#""risingTerms""#));
        assert!(user.contains(r#"{"id":2,"time":"2024-05-01T12:00:00Z","region":"Lima""#));
        assert!(user.contains("El pollo llegó frío"));
    }

    #[tokio::test]
    async fn no_key_sends_no_authorization_header() {
        let server = serve(vec![reply(200, completion(&good_content()))]).await;
        for key in [None, Some("   ".to_string())] {
            let mut config = config(&server.url());
            config.api_key = key;
            ask(&client(), &config, &request()).await.unwrap();
        }
        for sent in server.requests() {
            assert!(sent.header("authorization").is_none());
        }
    }

    #[tokio::test]
    async fn server_error_then_success_is_retried() {
        let server = serve(vec![
            reply(500, r#"{"error":{"message":"CUDA out of memory"}}"#),
            reply(200, completion(&good_content())),
        ])
        .await;
        let answer = ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap();
        assert_eq!(answer.findings.len(), 3);
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(
            requests[0].body, requests[1].body,
            "the same prompt is sent again"
        );
    }

    #[tokio::test]
    async fn rate_limit_honours_retry_after_then_succeeds() {
        let server = serve(vec![
            Reply::Http {
                status: 429,
                headers: vec![("Retry-After".to_string(), "1".to_string())],
                body: r#"{"error":{"message":"Rate limit reached"}}"#.to_string(),
            },
            reply(200, completion(&good_content())),
        ])
        .await;
        let started = Instant::now();
        ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap();
        let elapsed = started.elapsed();
        // The backoff alone would be 10 ms; Retry-After asks for 1 s.
        assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn retry_after_is_capped_by_max_retry_wait() {
        let server = serve(vec![
            Reply::Http {
                status: 429,
                headers: vec![("Retry-After".to_string(), "3600".to_string())],
                body: String::new(),
            },
            reply(200, completion(&good_content())),
        ])
        .await;
        let mut config = config(&server.url());
        config.max_retry_wait = Duration::from_millis(50);
        let started = Instant::now();
        ask(&client(), &config, &request()).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn persistent_rate_limit_is_a_rate_limited_error() {
        let server = serve(vec![Reply::Http {
            status: 429,
            headers: vec![("Retry-After".to_string(), "0".to_string())],
            body: "slow down".to_string(),
        }])
        .await;
        let err = ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                LlmError::RateLimited {
                    attempts: 3,
                    retry_after: Some(Duration::ZERO),
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("HTTP 429"));
        assert_eq!(server.requests().len(), 3);
    }

    #[tokio::test]
    async fn persistent_500_is_a_status_error_after_all_attempts() {
        let server = serve(vec![reply(
            503,
            r#"{"error":{"message":"the model is loading"}}"#,
        )])
        .await;
        let err = ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap_err();
        let LlmError::Status { code, detail, .. } = &err else {
            panic!("expected Status, got {err:?}");
        };
        assert_eq!(*code, 503);
        assert_eq!(detail, "\"the model is loading\"");
        assert!(err.to_string().contains("check its logs"));
        assert_eq!(server.requests().len(), 3);
    }

    #[tokio::test]
    async fn keys_echoed_past_the_cut_or_encoded_are_scrubbed() {
        use base64::Engine as _;
        let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
        for body in [
            // The key straddles the 200 characters an error quotes.
            format!(r#"{{"error":{{"message":"{} {KEY}"}}}}"#, "x".repeat(190)),
            format!(
                r#"{{"error":{{"message":"bad header {}"}}}}"#,
                b64(&format!("Bearer {KEY}"))
            ),
            format!(
                "plain text echo {} and {}",
                b64(KEY),
                b64(&format!("u:{KEY}"))
            ),
        ] {
            let server = serve(vec![reply(401, body.clone())]).await;
            let err = ask(&client(), &config(&server.url()), &request())
                .await
                .unwrap_err();
            let message = err.to_string();
            assert_no_key(&message);
            assert!(!message.contains("9f8e7d"), "part of the key in: {message}");
            for fragment in [b64(KEY), b64(&format!("Bearer {KEY}"))] {
                assert!(!message.contains(&fragment[8..24]), "{message}");
            }
        }
    }

    #[test]
    fn scrubbing_knows_the_json_percent_and_base64_forms_of_a_key() {
        use base64::Engine as _;
        let key = "sk-a/b\"c+d=SECRET-42";
        let engine = base64::engine::general_purpose::URL_SAFE;
        let text = format!(
            "{} | {} | {} | {} | {}",
            serde_json::to_string(key).unwrap(),
            key.replace('/', "\\/"),
            "sk-a%2Fb%22c%2Bd%3DSECRET-42",
            engine.encode(format!("token={key}")),
            engine.encode(format!("xy{key}zz")),
        );
        let scrubbed = scrub(&text, Some(key));
        assert!(!scrubbed.contains("SECRET"), "{scrubbed}");
        for (i, part) in scrubbed.split(" | ").enumerate() {
            assert!(part.contains(REDACTED), "form {i} kept: {part}");
        }
        // Ordinary text is left alone.
        assert_eq!(scrub("nothing to hide", Some(key)), "nothing to hide");
    }

    #[tokio::test]
    async fn client_errors_are_not_retried_and_echoed_keys_are_scrubbed() {
        let echo = format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}"}}}}"#);
        let server = serve(vec![reply(401, echo)]).await;
        let err = ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap_err();
        assert!(matches!(err, LlmError::Status { code: 401, .. }), "{err:?}");
        let message = err.to_string();
        assert_no_key(&message);
        assert_no_key(&format!("{err:?}"));
        assert!(
            message.contains("Incorrect API key provided: [redacted]"),
            "{message}"
        );
        assert!(message.contains("llmApiKey"));
        assert_eq!(server.requests().len(), 1);

        let server = serve(vec![reply(
            404,
            "<html><title>404 Not Found</title></html>",
        )])
        .await;
        let err = ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("HTTP 404: an HTML page titled \"404 Not Found\""),
            "{message}"
        );
        assert!(message.contains("Check llmUrl"));
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn silent_server_times_out_within_timeout_times_attempts() {
        let server = serve(vec![Reply::Hang]).await;
        let mut config = config(&server.url());
        config.timeout = Duration::from_millis(200);
        config.max_attempts = 2;
        let started = Instant::now();
        let err = ask(&client(), &config, &request()).await.unwrap_err();
        let elapsed = started.elapsed();
        assert!(
            matches!(err, LlmError::Timeout { attempts: 2, .. }),
            "{err:?}"
        );
        assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
        assert!(err.to_string().contains("within 0.2 s"), "{err}");
        assert_eq!(server.requests().len(), 2);
    }

    #[tokio::test]
    async fn closed_port_is_unreachable_and_hides_userinfo() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let mut config = config(&format!("http://pulso:hunter2@127.0.0.1:{port}/v1?key=abc"));
        config.max_attempts = 2;
        let err = ask(&client(), &config, &request()).await.unwrap_err();
        let LlmError::Unreachable { url, attempts, .. } = &err else {
            panic!("expected Unreachable, got {err:?}");
        };
        assert_eq!(url, &format!("http://127.0.0.1:{port}/v1/chat/completions"));
        assert_eq!(*attempts, 2);
        let message = err.to_string();
        assert!(message.contains("check llmUrl"), "{message}");
        assert!(!message.contains("hunter2") && !message.contains("key=abc"));
        assert_no_key(&message);
    }

    #[tokio::test]
    async fn bad_urls_and_keys_fail_before_any_request() {
        for url in [
            "",
            "127.0.0.1:8080/v1",
            "ftp://models/v1",
            "http://",
            "https:///v1",
        ] {
            let err = ask(&client(), &config(url), &request()).await.unwrap_err();
            assert!(matches!(err, LlmError::InvalidUrl { .. }), "{url}: {err:?}");
        }
        let mut config = config("http://127.0.0.1:9/v1");
        config.api_key = Some("sk-bad\nkey".to_string());
        let err = ask(&client(), &config, &request()).await.unwrap_err();
        assert!(matches!(err, LlmError::InvalidApiKey), "{err:?}");
        assert!(!err.to_string().contains("sk-bad"));
    }

    #[tokio::test]
    async fn empty_sample_is_an_error_without_a_request() {
        let server = serve(vec![reply(200, completion(&good_content()))]).await;
        let mut request = request();
        request.mentions.clear();
        let err = ask(&client(), &config(&server.url()), &request)
            .await
            .unwrap_err();
        assert!(matches!(err, LlmError::NoMentions), "{err:?}");
        assert!(server.requests().is_empty());
    }

    #[test]
    fn urls_are_joined_and_redacted() {
        assert_eq!(
            endpoint_url("http://127.0.0.1:8080/v1//").unwrap(),
            "http://127.0.0.1:8080/v1/chat/completions"
        );
        assert_eq!(
            endpoint_url(" https://api.openai.com/v1/chat/completions ").unwrap(),
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(
            endpoint_url("https://x.openai.azure.com/openai/deployments/d/?api-version=2024-02-01")
                .unwrap(),
            "https://x.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-02-01"
        );
        assert_eq!(
            redact_url("https://me:pw@host:1/v1?api-key=x#frag"),
            "https://host:1/v1"
        );
        assert_eq!(redact_url("host/path@x"), "host/path@x");
    }

    #[test]
    fn html_and_long_bodies_are_reduced() {
        let long = "a ".repeat(1000);
        let quoted = quote_body(&long, None);
        assert!(quoted.chars().count() <= MAX_QUOTE_CHARS + 2);
        assert_eq!(quote_body("", None), "no details in the response");
        assert_eq!(
            quote_body("<html><body>x</body></html>", None),
            "an HTML page"
        );
        assert_eq!(
            quote_body("<HTML><TITLE> 502  Bad\nGateway </TITLE></HTML>", None),
            "an HTML page titled \"502 Bad Gateway\""
        );
    }

    /// Records every tracing field of every event and span, to look for the key.
    struct Capture(Arc<std::sync::Mutex<String>>);

    struct Fields<'a>(&'a mut String);

    impl tracing::field::Visit for Fields<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
            let _ = write!(self.0, "{}={value:?} ", field.name());
        }
    }

    impl tracing::Subscriber for Capture {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            span.record(&mut Fields(&mut self.0.lock().unwrap()));
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
            values.record(&mut Fields(&mut self.0.lock().unwrap()));
        }
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            let mut out = self.0.lock().unwrap();
            let _ = write!(out, "{} ", event.metadata().level());
            event.record(&mut Fields(&mut out));
            out.push('\n');
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[tokio::test]
    async fn tracing_output_never_contains_the_key() {
        let logs = Arc::new(std::sync::Mutex::new(String::new()));
        // The test runtime is single-threaded, so a thread-local subscriber sees everything.
        let _guard = tracing::subscriber::set_default(Capture(Arc::clone(&logs)));
        let server = serve(vec![
            reply(500, format!(r#"{{"error":{{"message":"bad {KEY}"}}}}"#)),
            reply(200, completion(&good_content())),
        ])
        .await;
        let mut config = config(&format!("http://u:{KEY}@{}", &server.url()[7..]));
        ask(&client(), &config, &request()).await.unwrap();
        config.max_attempts = 1;
        let _ = ask(&client(), &config, &request()).await;

        let logs = logs.lock().unwrap().clone();
        assert!(logs.contains("asking the LLM"), "{logs}");
        assert!(logs.contains("retrying"), "{logs}");
        assert_no_key(&logs);
    }
}
