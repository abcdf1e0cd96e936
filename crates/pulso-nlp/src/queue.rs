//! A bounded queue in front of a model. Callers wait when it is full (back-pressure), and one
//! worker thread drains it, merging requests into batches up to `max_batch` texts.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{NlpError, SentimentModel, TextResult};

struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<TextResult>, NlpError>>,
}

#[derive(Clone)]
pub struct ScoringQueue {
    sender: mpsc::Sender<Job>,
    model: Arc<dyn SentimentModel>,
}

impl ScoringQueue {
    /// `capacity` requests may wait; the next caller waits for room.
    pub fn start(model: Arc<dyn SentimentModel>, capacity: usize, max_batch: usize) -> Self {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let worker_model = model.clone();
        std::thread::Builder::new()
            .name("pulso-scoring".to_string())
            .spawn(move || drain(worker_model, receiver, max_batch.max(1)))
            .expect("spawn the scoring thread");
        Self { sender, model }
    }

    pub fn model(&self) -> &Arc<dyn SentimentModel> {
        &self.model
    }

    pub async fn score(&self, texts: Vec<String>) -> Result<Vec<TextResult>, NlpError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Job { texts, reply })
            .await
            .map_err(|_| NlpError::QueueClosed)?;
        answer.await.map_err(|_| NlpError::QueueClosed)?
    }
}

fn drain(model: Arc<dyn SentimentModel>, mut receiver: mpsc::Receiver<Job>, max_batch: usize) {
    while let Some(first) = receiver.blocking_recv() {
        let mut jobs = vec![first];
        let mut queued: usize = jobs[0].texts.len();
        while queued < max_batch {
            match receiver.try_recv() {
                Ok(job) => {
                    queued += job.texts.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let texts: Vec<&str> = jobs
            .iter()
            .flat_map(|j| j.texts.iter().map(String::as_str))
            .collect();
        match model.predict(&texts) {
            Ok(results) => {
                let mut results = results.into_iter();
                for job in jobs {
                    let mine: Vec<TextResult> = results.by_ref().take(job.texts.len()).collect();
                    let _ = job.reply.send(Ok(mine));
                }
            }
            Err(error) => {
                let message = error.to_string();
                for job in jobs {
                    let _ = job.reply.send(Err(NlpError::Inference(message.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{prediction, TextError};

    /// A stand-in that labels by a keyword, to test the queue's plumbing, not inference.
    struct KeywordModel {
        labels: Vec<String>,
    }

    impl SentimentModel for KeywordModel {
        fn model_id(&self) -> &str {
            "keyword"
        }
        fn labels(&self) -> &[String] {
            &self.labels
        }
        fn predict(&self, texts: &[&str]) -> Result<Vec<TextResult>, NlpError> {
            Ok(texts
                .iter()
                .map(|t| match *t {
                    "" => Err(TextError::Empty),
                    t if t.contains("rico") => {
                        Ok(prediction(&self.labels, vec![0.0, 0.1, 0.9], false))
                    }
                    _ => Ok(prediction(&self.labels, vec![0.8, 0.1, 0.1], false)),
                })
                .collect())
        }
    }

    #[tokio::test]
    async fn concurrent_callers_get_their_own_results_in_order() {
        let labels = ["negative", "neutral", "positive"]
            .map(String::from)
            .to_vec();
        let queue = ScoringQueue::start(Arc::new(KeywordModel { labels }), 2, 8);
        let calls = (0..20).map(|i| {
            let queue = queue.clone();
            async move {
                let texts = vec![
                    format!("pedido {i} rico"),
                    String::new(),
                    format!("pedido {i} frío"),
                ];
                (i, queue.score(texts).await.unwrap())
            }
        });
        for (_, results) in futures_util::future::join_all(calls).await {
            assert_eq!(results[0].as_ref().unwrap().label, "positive");
            assert_eq!(results[1], Err(TextError::Empty));
            assert_eq!(results[2].as_ref().unwrap().label, "negative");
        }
    }
}
