//! Reading the model's answer and keeping only the claims that cite mentions it was shown.

use std::collections::HashSet;

use serde_json::Value;

use super::client::{
    api_error_message, html_note, looks_like_markup, malformed, quote_text, truncate_chars,
};
use super::prompt::Prepared;
use super::{Finding, FindingKind, LlmAnswer, LlmError, MAX_TEXT_CHARS};

const MAX_FINDINGS_PER_KIND: usize = 10;
const MAX_EVIDENCE_PER_FINDING: usize = 20;

pub(super) fn parse_answer(
    body: &str,
    prepared: &Prepared,
    key: Option<&str>,
) -> Result<LlmAnswer, LlmError> {
    let body = body.trim();
    if looks_like_markup(body) {
        return Err(malformed(
            &format!(
                "the server sent {} instead of JSON, so llmUrl may point at a web page rather than the API",
                html_note(body)
            ),
            key,
        ));
    }
    let envelope: Value = serde_json::from_str(body).map_err(|_| {
        malformed(
            &format!("the response is not JSON: {}", quote_text(body)),
            key,
        )
    })?;
    if let Some(message) = api_error_message(&envelope) {
        return Err(malformed(
            &format!(
                "the server answered with an error: {}",
                quote_text(&message)
            ),
            key,
        ));
    }
    let choice = envelope
        .get("choices")
        .and_then(|choices| choices.get(0))
        .ok_or_else(|| malformed("the response has no choices", key))?;
    let content = choice
        .pointer("/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("the response has no choices[0].message.content text", key))?;
    let object = extract_json_object(content).ok_or_else(|| {
        let mut detail = format!(
            "the model's reply is not a JSON object: {}",
            quote_text(content)
        );
        if choice.get("finish_reason").and_then(Value::as_str) == Some("length") {
            detail.push_str(" (the reply was cut off at max_output_tokens)");
        }
        malformed(&detail, key)
    })?;
    let (findings, dropped) = collect_findings(&object, &prepared.sent_ids).ok_or_else(|| {
        malformed(
            "the model's JSON has none of the summary, drivers or suggestions lists",
            key,
        )
    })?;
    if findings.is_empty() {
        return Err(LlmError::NoGroundedFindings { dropped });
    }
    Ok(LlmAnswer {
        findings,
        dropped_claims: dropped,
        prompt_tokens_estimate: prepared.tokens,
        mentions_sent: prepared.mentions_sent,
    })
}

/// The JSON object in the model's reply, tolerating a ``` fence or prose around it, which
/// models add even when asked for JSON only.
fn extract_json_object(content: &str) -> Option<Value> {
    let mut text = content.trim();
    if let Some(fenced) = text.strip_prefix("```") {
        // Drop the info string ("json") with the rest of the opening line.
        text = fenced.split_once('\n').map_or("", |(_, rest)| rest);
        text = text.trim_end().trim_end_matches("```");
    }
    let parse = |candidate: &str| {
        serde_json::from_str::<Value>(candidate)
            .ok()
            .filter(Value::is_object)
    };
    parse(text).or_else(|| {
        let start = text.find('{')?;
        let end = text.rfind('}')?;
        (start < end).then(|| parse(&text[start..=end])).flatten()
    })
}

/// Findings whose evidence cites mentions we sent, and how many claims were dropped; `None`
/// when the object has none of the expected lists.
fn collect_findings(object: &Value, known: &HashSet<i64>) -> Option<(Vec<Finding>, usize)> {
    let mut findings = Vec::new();
    let mut dropped = 0;
    let mut any_list = false;
    for (field, kind) in [
        ("summary", FindingKind::Summary),
        ("drivers", FindingKind::Driver),
        ("suggestions", FindingKind::Suggestion),
    ] {
        let Some(value) = object.get(field) else {
            continue;
        };
        any_list = true;
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            Value::Null => Vec::new(),
            single => vec![single],
        };
        let mut kept = 0;
        for item in items {
            match grounded_finding(item, kind, known) {
                Some(finding) if kept < MAX_FINDINGS_PER_KIND => {
                    findings.push(finding);
                    kept += 1;
                }
                Some(_) => {} // over the cap, but grounded: not counted as dropped
                None => dropped += 1,
            }
        }
    }
    any_list.then_some((findings, dropped))
}

fn grounded_finding(item: &Value, kind: FindingKind, known: &HashSet<i64>) -> Option<Finding> {
    // A bare string is a claim with no evidence; it is parsed only to be dropped and counted.
    let Value::Object(item) = item else {
        return None;
    };
    let text = clean_text(item.get("text")?.as_str()?)?;
    let evidence = ["evidence", "evidence_ids", "evidenceIds"]
        .iter()
        .find_map(|field| item.get(*field))?;
    let candidates: Vec<&Value> = match evidence {
        Value::Array(values) => values.iter().collect(),
        single => vec![single],
    };
    let mut evidence_ids = Vec::new();
    for id in candidates.into_iter().filter_map(evidence_id) {
        if known.contains(&id) && !evidence_ids.contains(&id) {
            evidence_ids.push(id);
        }
    }
    if evidence_ids.is_empty() {
        return None;
    }
    evidence_ids.truncate(MAX_EVIDENCE_PER_FINDING);
    let action = item
        .get("action")
        .and_then(Value::as_str)
        .and_then(clean_text);
    Some(Finding {
        kind,
        text,
        evidence_ids,
        action,
    })
}

/// 12, 12.0, "12" and "#12" all cite mention 12.
fn evidence_id(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(text) => text.trim().trim_start_matches('#').parse().ok(),
        _ => None,
    }
}

fn clean_text(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| truncate_chars(text, MAX_TEXT_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ask;
    use crate::llm::test_support::{
        client, completion, config, good_content, reply, request, serve,
    };
    use pulso_testkit::Reply;
    use serde_json::json;

    #[tokio::test]
    async fn good_answer_keeps_grounded_findings_and_drops_the_rest() {
        let fenced = format!("```json\n{}\n```", good_content());
        let server = serve(vec![reply(200, completion(&fenced))]).await;
        let answer = ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap();

        assert_eq!(
            answer.dropped_claims, 1,
            "the driver citing only 404 is dropped"
        );
        assert_eq!(answer.mentions_sent, 3);
        assert!(answer.prompt_tokens_estimate > 0);
        let kinds: Vec<&str> = answer.findings.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(kinds, ["summary", "driver", "suggestion"]);
        assert_eq!(
            answer.findings[0].evidence_ids,
            [1],
            "unknown id 99 removed"
        );
        assert_eq!(
            answer.findings[1].evidence_ids,
            [2, 1],
            "deduplicated, '#1' accepted"
        );
        assert_eq!(answer.findings[1].action, None);
        assert_eq!(answer.findings[2].evidence_ids, [1, 3]);
        assert_eq!(
            answer.findings[2].action.as_deref(),
            Some("Auditar la cadena de delivery en Lima")
        );
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn long_texts_are_capped_and_prose_around_json_is_tolerated() {
        let long = "x".repeat(2000);
        let content = format!(
            "Here is the analysis:\n{}\nHope it helps.",
            json!({"summary": [{"text": long, "evidence": [2]}]})
        );
        let server = serve(vec![reply(200, completion(&content))]).await;
        let answer = ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap();
        assert_eq!(answer.findings.len(), 1);
        assert_eq!(answer.findings[0].text.chars().count(), MAX_TEXT_CHARS);
        assert!(answer.findings[0].text.ends_with('…'));
    }

    #[tokio::test]
    async fn garbage_text_is_malformed_without_retry() {
        let server = serve(vec![reply(200, "hello, I am not JSON")]).await;
        let err = ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap_err();
        assert!(matches!(err, LlmError::Malformed { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("not JSON") && message.contains("hello, I am not JSON"));
        assert!(message.contains("llmUrl"));
        assert_eq!(
            server.requests().len(),
            1,
            "malformed output is not retried"
        );
    }

    #[tokio::test]
    async fn html_page_with_200_is_malformed_with_a_short_note() {
        let page = format!(
            "<!DOCTYPE html><html><head><title>Open WebUI</title></head><body>{}</body></html>",
            "<div>app</div>".repeat(500)
        );
        let server = serve(vec![Reply::Http {
            status: 200,
            headers: vec![("Content-Type".to_string(), "text/html".to_string())],
            body: page,
        }])
        .await;
        let err = ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap_err();
        let LlmError::Malformed { detail } = &err else {
            panic!("expected Malformed, got {err:?}");
        };
        assert!(
            detail.contains("an HTML page titled \"Open WebUI\""),
            "{detail}"
        );
        assert!(!detail.contains('<'), "no markup quoted: {detail}");
        assert!(err.to_string().len() < 400);
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn envelopes_without_usable_content_are_malformed() {
        let cases = [
            (
                json!({"object": "list", "data": []}).to_string(),
                "no choices",
            ),
            (
                json!({"choices": [{"message": {"role": "assistant"}}]}).to_string(),
                "no choices[0].message.content",
            ),
            (completion("Las ventas subieron."), "not a JSON object"),
            (completion(r#"{"answer": "ok"}"#), "none of the summary"),
            (
                json!({"error": {"message": "model not loaded"}}).to_string(),
                "model not loaded",
            ),
        ];
        for (body, expected) in cases {
            let server = serve(vec![reply(200, body)]).await;
            let err = ask(&client(), &config(&server.url()), &request())
                .await
                .unwrap_err();
            assert!(matches!(err, LlmError::Malformed { .. }), "{err:?}");
            assert!(err.to_string().contains(expected), "{err} lacks {expected}");
            assert_eq!(server.requests().len(), 1);
        }
    }

    #[tokio::test]
    async fn truncated_reply_says_it_was_cut_off() {
        let body = json!({"choices": [{
            "message": {"role": "assistant", "content": "{\"summary\": [{\"text\": \"Las"},
            "finish_reason": "length",
        }]})
        .to_string();
        let server = serve(vec![reply(200, body)]).await;
        let err = ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("cut off at max_output_tokens"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn no_grounded_findings_when_every_claim_cites_unknown_ids() {
        let content = json!({
            "summary": [{"text": "Todo mal.", "evidence": [77]}],
            "drivers": ["Demoras"],
            "suggestions": [{"text": "Mejorar.", "action": "Mejorar", "evidence": []}],
        })
        .to_string();
        let server = serve(vec![reply(200, completion(&content))]).await;
        let err = ask(&client(), &config(&server.url()), &request())
            .await
            .unwrap_err();
        assert!(
            matches!(err, LlmError::NoGroundedFindings { dropped: 3 }),
            "{err:?}"
        );
    }
}
