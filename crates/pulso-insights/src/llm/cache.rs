//! Answers kept in memory, keyed by a hash of everything that went into them.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::LlmAnswer;

/// SHA-256 hex of the parts. Each part is length-prefixed, so `["ab", "c"]` and `["a", "bc"]`
/// differ. Callers should include the URL, model and language as well as query and data.
pub fn cache_key(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut out, byte| {
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// In-memory cache of answers, so dashboard refreshes over the same data do not pay for (or
/// wait on) the model again. Entries expire after `ttl`; when full, the oldest entry goes.
pub struct InsightCache {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<String, CacheEntry>>,
}

struct CacheEntry {
    stored_at: Instant,
    answer: LlmAnswer,
}

impl InsightCache {
    pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
    pub const DEFAULT_MAX_ENTRIES: usize = 256;

    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        InsightCache {
            ttl,
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &str) -> Option<LlmAnswer> {
        let mut entries = self.lock();
        match entries.get(key) {
            Some(entry) if entry.stored_at.elapsed() < self.ttl => Some(entry.answer.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn insert(&self, key: String, answer: LlmAnswer) {
        if self.max_entries == 0 {
            return;
        }
        let mut entries = self.lock();
        if !entries.contains_key(&key) && entries.len() >= self.max_entries {
            let ttl = self.ttl;
            entries.retain(|_, entry| entry.stored_at.elapsed() < ttl);
            // Still full: evict the oldest. A linear scan is fine at a few hundred entries.
            if entries.len() >= self.max_entries {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, entry)| entry.stored_at)
                    .map(|(key, _)| key.clone());
                if let Some(oldest) = oldest {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(
            key,
            CacheEntry {
                stored_at: Instant::now(),
                answer,
            },
        );
    }

    /// Live (unexpired) entries.
    pub fn len(&self) -> usize {
        let ttl = self.ttl;
        let mut entries = self.lock();
        entries.retain(|_, entry| entry.stored_at.elapsed() < ttl);
        entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CacheEntry>> {
        // A panic elsewhere cannot leave a half-written entry, so a poisoned map is still good.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for InsightCache {
    fn default() -> Self {
        InsightCache::new(Self::DEFAULT_TTL, Self::DEFAULT_MAX_ENTRIES)
    }
}

impl fmt::Debug for InsightCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InsightCache")
            .field("ttl", &self.ttl)
            .field("max_entries", &self.max_entries)
            .field("entries", &self.lock().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{Finding, FindingKind};
    use std::sync::Arc;

    fn answer(text: &str) -> LlmAnswer {
        LlmAnswer {
            findings: vec![Finding {
                kind: FindingKind::Summary,
                text: text.to_string(),
                evidence_ids: vec![1],
                action: None,
            }],
            dropped_claims: 0,
            prompt_tokens_estimate: 10,
            mentions_sent: 1,
        }
    }

    #[test]
    fn cache_hits_misses_expires_and_evicts() {
        let cache = InsightCache::new(Duration::from_secs(60), 2);
        assert!(cache.get("a").is_none(), "miss on an empty cache");
        cache.insert("a".to_string(), answer("A"));
        assert_eq!(cache.get("a"), Some(answer("A")), "hit");
        assert!(cache.get("b").is_none(), "miss on another key");

        cache.insert("b".to_string(), answer("B"));
        std::thread::sleep(Duration::from_millis(5));
        cache.insert("a".to_string(), answer("A2")); // refresh: a is now newest
        cache.insert("c".to_string(), answer("C")); // full: evicts the oldest, b
        assert_eq!(cache.len(), 2);
        assert!(cache.get("b").is_none());
        assert_eq!(cache.get("a"), Some(answer("A2")));
        assert_eq!(cache.get("c"), Some(answer("C")));

        let short = InsightCache::new(Duration::from_millis(30), 8);
        short.insert("k".to_string(), answer("K"));
        assert!(short.get("k").is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert!(short.get("k").is_none(), "expired");
        assert!(short.is_empty());

        let off = InsightCache::new(Duration::from_secs(60), 0);
        off.insert("k".to_string(), answer("K"));
        assert!(off.get("k").is_none(), "max_entries 0 disables the cache");
        assert!(format!("{:?}", InsightCache::default()).contains("max_entries: 256"));
    }

    #[test]
    fn cache_is_shared_across_threads() {
        let cache = Arc::new(InsightCache::default());
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || cache.insert(format!("k{i}"), answer("x")))
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        assert_eq!(cache.len(), 4);
    }

    #[test]
    fn cache_key_is_stable_hex_and_unambiguous() {
        let key = cache_key(&[b"query", b"data"]);
        assert_eq!(key.len(), 64);
        assert!(key
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(key, cache_key(&[b"query", b"data"]));
        assert_ne!(cache_key(&[b"ab", b"c"]), cache_key(&[b"a", b"bc"]));
        assert_ne!(cache_key(&[b"abc"]), cache_key(&[b"ab", b"c"]));
        // SHA-256 of the 8-byte zero length prefix alone.
        assert_eq!(
            cache_key(&[b""]),
            "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc"
        );
    }
}
