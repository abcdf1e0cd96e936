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
use pulso_store::{Analysis, FeedbackWriter, NewAspectScore, NewScore, StoreError};

const ROWS_PER_BATCH: u32 = 128;
/// Texts (mentions and clauses) one batch scores when it can choose: about half a second of
/// the model on 2 cores, so a mention that arrives during a batch waits for at most one more.
const TEXTS_PER_BATCH: usize = 96;
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

/// How one batch handles a row's clauses.
enum ClausePlan {
    /// No clause to score apart: every aspect the text names (if any) gets the row's own result.
    Whole,
    /// These clauses are scored in this batch.
    Scored(Vec<Clause>),
    /// The batch has no room for them: the row is stored with its aspects at the row's own
    /// result, and a later batch scores its clauses.
    Deferred,
}

/// Per aspect, the summed probabilities of the clauses that name it.
type AspectSums = BTreeMap<Aspect, [f64; 3]>;

fn aspect_results(feedback_id: i64, sums: AspectSums, out: &mut Vec<NewAspectScore>) {
    for (aspect, [neg, neu, pos]) in sums {
        let total = (neg + neu + pos).max(1e-9);
        out.push(NewAspectScore {
            feedback_id,
            aspect,
            label: Label::most_likely([neg, neu, pos]),
            score: (pos - neg) / total,
        });
    }
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchScored {
    /// Rows that got their score.
    pub rows: usize,
    /// Rows scored earlier whose deferred clauses this batch scored.
    pub clauses_of_rows: usize,
}

impl BatchScored {
    /// Nothing was waiting.
    pub fn is_empty(&self) -> bool {
        self.rows == 0 && self.clauses_of_rows == 0
    }
}

/// Scores one batch: the newest unscored rows first, then, with the room left, clauses that
/// earlier batches deferred.
pub async fn score_next_batch(
    store: &dyn FeedbackWriter,
    queue: &ScoringQueue,
    stats: &ScoringStats,
) -> Result<BatchScored, ScoringError> {
    let fetch_started = Instant::now();
    let rows = store.unscored_feedback(ROWS_PER_BATCH).await?;
    let model = queue.model().clone();
    // Clauses that name an aspect are scored in the same batch as their mention, so a mixed
    // review ("rico pero caro") gets praise for taste and a complaint about price, as long as
    // the batch has room: past TEXTS_PER_BATCH texts, a mention goes without its clauses, so
    // that a scorer that is behind labels mentions ~1.6x faster and the newest stay fresh.
    let mut room = TEXTS_PER_BATCH.saturating_sub(rows.len());
    let plans: Vec<ClausePlan> = rows
        .iter()
        .map(|(_, text)| match clauses_to_score(text) {
            None => ClausePlan::Whole,
            Some(clauses) if clauses.len() <= room => {
                room -= clauses.len();
                ClausePlan::Scored(clauses)
            }
            Some(_) => ClausePlan::Deferred,
        })
        .collect();
    // Deferred clauses fill what room is left, once no unscored row waits behind this batch.
    let mut refining: Vec<(i64, Vec<Clause>)> = Vec::new();
    if rows.len() < ROWS_PER_BATCH as usize && room > 0 {
        for (id, text) in store
            .rows_awaiting_clauses(model.model_id(), room as u32)
            .await?
        {
            let clauses = clauses_to_score(&text).unwrap_or_default();
            // A mention with more clauses than a batch holds goes alone, or it would wait
            // for ever.
            if clauses.len() > room && !refining.is_empty() {
                break;
            }
            room = room.saturating_sub(clauses.len());
            refining.push((id, clauses));
        }
    }
    if rows.is_empty() && refining.is_empty() {
        return Ok(BatchScored::default());
    }
    let started = Instant::now();
    let fetch = started - fetch_started;
    let mut texts: Vec<String> = rows.iter().map(|(_, text)| text.clone()).collect();
    for plan in &plans {
        if let ClausePlan::Scored(clauses) = plan {
            texts.extend(clauses.iter().map(|c| c.text.clone()));
        }
    }
    for (_, clauses) in &refining {
        texts.extend(clauses.iter().map(|c| c.text.clone()));
    }
    let text_count = texts.len();
    let results = queue.score(texts).await?;
    let inference = started.elapsed();
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
    // Sums the clause results of `clauses`, taking them in order from `clause_results`.
    let mut clause_results = results[rows.len()..].iter();
    let mut sum_clauses = |clauses: &[Clause]| -> AspectSums {
        let mut sums = AspectSums::new();
        for clause in clauses {
            let Some(Ok(cp)) = clause_results.next() else {
                continue;
            };
            let probs = probabilities(cp);
            for aspect in &clause.aspects {
                let sum = sums.entry(*aspect).or_insert([0.0; 3]);
                for (s, p) in sum.iter_mut().zip(probs) {
                    *s += p;
                }
            }
        }
        sums
    };
    let mut aspect_scores = Vec::new();
    let mut scores = Vec::new();
    let mut deferred = Vec::new();
    for (((id, text), result), plan) in rows.iter().zip(&results).zip(&plans) {
        // Consumed whether or not the row scored, to keep the clause results aligned.
        let clause_sums = match plan {
            ClausePlan::Scored(clauses) => Some(sum_clauses(clauses)),
            _ => None,
        };
        // A row the model failed on, or gave a label Pulso does not know, stays unscored.
        let Some((p, label)) = result
            .as_ref()
            .ok()
            .and_then(|p| Label::from_name(&p.label).map(|l| (p, l)))
        else {
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
        let sums = clause_sums.unwrap_or_else(|| {
            aspects_of(text)
                .into_iter()
                .map(|aspect| (aspect, [p_negative, p_neutral, p_positive]))
                .collect()
        });
        if matches!(plan, ClausePlan::Deferred) {
            deferred.push(*id);
        }
        aspect_results(*id, sums, &mut aspect_scores);
    }
    let mut refined = Vec::new();
    for (id, clauses) in &refining {
        aspect_results(*id, sum_clauses(clauses), &mut aspect_scores);
        refined.push(*id);
    }
    if scores.is_empty() && !rows.is_empty() {
        // Stored rows are never empty, so this means the model refuses them all; stop, loudly.
        return Err(ScoringError::Unscorable { rows: rows.len() });
    }
    let store_started = Instant::now();
    store
        .store_analysis(
            model.model_id(),
            &Analysis {
                scores: &scores,
                aspects: &aspect_scores,
                clauses_deferred: &deferred,
                clauses_scored: &refined,
            },
        )
        .await?;
    tracing::debug!(
        rows = rows.len(),
        clauses_deferred = deferred.len(),
        clauses_refined = refined.len(),
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
    if !scores.is_empty() {
        // No receiver is not an error: nobody watches live.
        let _ = stats
            .scored
            .send(scores.iter().map(|s| s.feedback_id).collect());
    }
    stats.last_batch_milli_per_second.store(
        (text_count as f64 / elapsed * 1_000.0) as u64,
        Ordering::Relaxed,
    );
    Ok(BatchScored {
        rows: scores.len(),
        clauses_of_rows: refined.len(),
    })
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

/// Makes the queue's model active (or waits while another instance's model is, on a shared
/// store), then scores until the store has no unscored rows, and keeps watching for new ones.
pub fn spawn(
    store: Arc<dyn FeedbackWriter>,
    queue: ScoringQueue,
    stats: Arc<ScoringStats>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let model_id = queue.model().model_id().to_string();
        let mut waiting = false;
        loop {
            let outcome = match store.claim_active_model(&model_id).await {
                Ok(true) => {
                    waiting = false;
                    score_next_batch(store.as_ref(), &queue, &stats).await
                }
                Ok(false) => {
                    if !waiting {
                        tracing::warn!(
                            model = %model_id,
                            "another instance sharing this database scores with a different sentiment model, so this one waits until that instance stops; run the same Pulso version on every Grafana instance"
                        );
                    }
                    waiting = true;
                    Ok(BatchScored::default())
                }
                Err(e) => Err(e.into()),
            };
            match outcome {
                Ok(done) if done.is_empty() => {
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
