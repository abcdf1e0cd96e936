//! The background scorer: keeps every stored row scored by the active model. When the model
//! changes, the new one becomes active and rescores; earlier scores stay under their model id.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use pulso_nlp::queue::ScoringQueue;
use std::collections::BTreeMap;

use pulso_core::analysis::aspects::{aspects_of, clauses_to_score, Aspect, Clause};
use pulso_core::analysis::{Emotion, EmotionConfidences, Label};
use pulso_store::{FeedbackWriter, NewAspectScore, NewScore, StoreError};

const ROWS_PER_BATCH: u32 = 128;
const IDLE_POLL: Duration = Duration::from_secs(2);
const ERROR_BACKOFF: Duration = Duration::from_secs(10);

/// Batches the change feed keeps for a slow reader before it reports that it lagged.
const FEED_BATCHES: usize = 1_024;

/// Progress, for health checks, and the change feed of scored rows, for live streams.
pub struct ScoringStats {
    rows_scored: AtomicU64,
    /// Texts per second of the last batch, times 1,000 (atomics hold integers).
    last_batch_milli_per_second: AtomicU64,
    /// Wakes an idle scorer as soon as new rows are stored, instead of at its next poll.
    new_rows: tokio::sync::Notify,
    /// The ids each batch scored, sent once their scores are stored.
    scored: tokio::sync::broadcast::Sender<Arc<[i64]>>,
}

impl Default for ScoringStats {
    fn default() -> Self {
        Self {
            rows_scored: AtomicU64::default(),
            last_batch_milli_per_second: AtomicU64::default(),
            new_rows: tokio::sync::Notify::default(),
            scored: tokio::sync::broadcast::channel(FEED_BATCHES).0,
        }
    }
}

impl ScoringStats {
    /// The change feed: the ids of every batch scored from now on. A reader that falls more
    /// than [`FEED_BATCHES`] batches behind gets `Lagged` and should reread what it shows.
    pub fn scored_rows(&self) -> tokio::sync::broadcast::Receiver<Arc<[i64]>> {
        self.scored.subscribe()
    }

    /// Tells the scorer that new rows are waiting.
    pub fn wake(&self) {
        self.new_rows.notify_one();
    }

    pub fn rows_scored(&self) -> u64 {
        self.rows_scored.load(Ordering::Relaxed)
    }

    pub fn last_batch_texts_per_second(&self) -> Option<f64> {
        match self.last_batch_milli_per_second.load(Ordering::Relaxed) {
            0 => None,
            milli => Some(milli as f64 / 1_000.0),
        }
    }
}

/// Scores one batch of unscored rows; returns how many were scored (0 when none are left).
pub async fn score_next_batch(
    store: &dyn FeedbackWriter,
    queue: &ScoringQueue,
    stats: &ScoringStats,
) -> Result<usize, ScoringError> {
    let fetch_started = Instant::now();
    let rows = store.unscored_feedback(ROWS_PER_BATCH).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let started = Instant::now();
    let fetch = started - fetch_started;
    // Clauses that name an aspect are scored in the same batch as the mentions, so a mixed
    // review ("rico pero caro") gets praise for taste and a complaint about price.
    let plans: Vec<Option<Vec<Clause>>> = rows.iter().map(|(_, t)| clauses_to_score(t)).collect();
    let mut texts: Vec<String> = rows.iter().map(|(_, text)| text.clone()).collect();
    for clauses in plans.iter().flatten() {
        texts.extend(clauses.iter().map(|c| c.text.clone()));
    }
    let text_count = texts.len();
    let results = queue.score(texts).await?;
    let inference = started.elapsed();
    let model = queue.model();
    let probabilities = |p: &pulso_nlp::Prediction| -> [f64; 3] {
        Label::ALL.map(|label| {
            model
                .labels()
                .iter()
                .position(|l| l == label.name())
                .map_or(0.0, |i| f64::from(p.probabilities[i]))
        })
    };
    // Where each emotion sits in the model's `emotions` output; none unless it scores all six.
    let emotion_positions: Option<Vec<usize>> = Emotion::ALL
        .iter()
        .map(|e| model.emotion_labels().iter().position(|l| l == e.name()))
        .collect();
    let emotions = |p: &pulso_nlp::Prediction| -> Option<EmotionConfidences> {
        let positions = emotion_positions.as_ref()?;
        let mut confidences = [0.0; 6];
        for (confidence, &i) in confidences.iter_mut().zip(positions) {
            *confidence = f64::from(*p.emotions.get(i)?);
        }
        Some(confidences)
    };
    let mut clause_results = results[rows.len()..].iter();
    let mut aspect_scores = Vec::new();
    let mut scores = Vec::new();
    for (((id, text), result), plan) in rows.iter().zip(&results).zip(&plans) {
        // A row the model failed on, or gave a label Pulso does not know, stays unscored.
        let Some((p, label)) = result
            .as_ref()
            .ok()
            .and_then(|p| Label::from_name(&p.label).map(|l| (p, l)))
        else {
            // Skip this row's clauses too, to keep the clause results aligned.
            for _ in plan.iter().flatten() {
                clause_results.next();
            }
            continue;
        };
        let [p_negative, p_neutral, p_positive] = probabilities(p);
        scores.push(NewScore {
            feedback_id: *id,
            label,
            score: f64::from(p.score),
            p_negative,
            p_neutral,
            p_positive,
            emotions: emotions(p),
        });
        // Per aspect: the summed probabilities of the clauses naming it.
        let mut per_aspect: BTreeMap<Aspect, [f64; 3]> = BTreeMap::new();
        match plan {
            None => {
                for aspect in aspects_of(text) {
                    per_aspect.insert(aspect, [p_negative, p_neutral, p_positive]);
                }
            }
            Some(clauses) => {
                for clause in clauses {
                    let Some(Ok(cp)) = clause_results.next() else {
                        continue;
                    };
                    let probs = probabilities(cp);
                    for aspect in &clause.aspects {
                        let sum = per_aspect.entry(*aspect).or_insert([0.0; 3]);
                        for (s, p) in sum.iter_mut().zip(probs) {
                            *s += p;
                        }
                    }
                }
            }
        }
        for (aspect, [neg, neu, pos]) in per_aspect {
            let total = (neg + neu + pos).max(1e-9);
            aspect_scores.push(NewAspectScore {
                feedback_id: *id,
                aspect,
                label: Label::most_likely([neg, neu, pos]),
                score: (pos - neg) / total,
            });
        }
    }
    if scores.is_empty() {
        // Stored rows are never empty, so this means the model refuses them all; stop, loudly.
        return Err(ScoringError::Unscorable { rows: rows.len() });
    }
    let store_started = Instant::now();
    store
        .insert_analysis(model.model_id(), &scores, &aspect_scores)
        .await?;
    tracing::debug!(
        rows = rows.len(),
        texts = text_count,
        fetch_ms = fetch.as_secs_f64() * 1e3,
        inference_ms = inference.as_secs_f64() * 1e3,
        store_ms = store_started.elapsed().as_secs_f64() * 1e3,
        "scored a batch"
    );
    let elapsed = started.elapsed().as_secs_f64().max(1e-6);
    stats
        .rows_scored
        .fetch_add(scores.len() as u64, Ordering::Relaxed);
    // No receiver is not an error: nobody watches live.
    let _ = stats
        .scored
        .send(scores.iter().map(|s| s.feedback_id).collect());
    stats.last_batch_milli_per_second.store(
        (scores.len() as f64 / elapsed * 1_000.0) as u64,
        Ordering::Relaxed,
    );
    Ok(scores.len())
}

#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Model(#[from] pulso_nlp::NlpError),
    #[error("the model could score none of {rows} stored rows")]
    Unscorable { rows: usize },
}

/// Makes the queue's model active, then scores until the store has no unscored rows, and
/// keeps watching for new ones.
pub fn spawn(
    store: Arc<dyn FeedbackWriter>,
    queue: ScoringQueue,
    stats: Arc<ScoringStats>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let model_id = queue.model().model_id().to_string();
        loop {
            let outcome = match store.set_active_model(&model_id).await {
                Ok(()) => score_next_batch(store.as_ref(), &queue, &stats).await,
                Err(e) => Err(e.into()),
            };
            match outcome {
                Ok(0) => {
                    tokio::select! {
                        () = tokio::time::sleep(IDLE_POLL) => {}
                        () = stats.new_rows.notified() => {}
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "background scoring failed; retrying");
                    tokio::time::sleep(ERROR_BACKOFF).await;
                }
            }
        }
    })
}
