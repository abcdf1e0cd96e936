//! Writing generated rows into a record store, optionally with fixture scores.

use super::fixture::{fixture_aspect_scores, fixture_score, FIXTURE_MODEL_ID};
use super::{DemoGenerator, DemoOptions, LabelledFeedback, Polarity};
use pulso_core::analysis::aspects::aspects_of;
use pulso_core::analysis::Aspect;
use pulso_store::{FeedbackWriter, NewFeedback, NewScore, StoreError};

/// Rows per transaction: large enough to amortise a commit, small enough to stay in cache.
const ROWS_PER_BATCH: usize = 50_000;

/// What writing a demo database did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub inserted: u64,
    /// Rows whose ids were already stored (the same seed run twice).
    pub duplicates: u64,
    /// Rows given fixture scores.
    pub fixture_scored: u64,
}

/// One batch as the generating thread hands it to the writer.
struct GeneratedBatch {
    rows: Vec<NewFeedback>,
    polarities: Vec<Polarity>,
    /// The aspects each text names, for fixture aspect results.
    aspects: Vec<Vec<Aspect>>,
}

/// Batches the generating thread may run ahead of the writer.
const BATCHES_AHEAD: usize = 2;

/// Generates `options` and stores the rows. With `fixture_scores`, every new row also gets a
/// fixture score and aspect results (model id [`FIXTURE_MODEL_ID`], made active), following
/// the feeling its text was written with. `progress` is told the rows written so far.
///
/// Rows are generated on a thread of their own while the previous batch is written, so the
/// text generation and the store's writes use a core each.
pub async fn write_demo(
    store: &dyn FeedbackWriter,
    options: &DemoOptions,
    fixture_scores: bool,
    mut progress: impl FnMut(u64),
) -> Result<DemoReport, StoreError> {
    if fixture_scores {
        // Active first, so each batch's scores go straight into the rows queries read.
        store.set_active_model(FIXTURE_MODEL_ID).await?;
    }
    let (sender, mut batches) = tokio::sync::mpsc::channel::<GeneratedBatch>(BATCHES_AHEAD);
    let options = *options;
    let generator = std::thread::Builder::new()
        .name("pulso-demo-generator".to_string())
        .spawn(move || {
            let mut generator = DemoGenerator::new(&options);
            loop {
                let labelled: Vec<LabelledFeedback> = generator
                    .map_while_labelled()
                    .take(ROWS_PER_BATCH)
                    .collect();
                if labelled.is_empty() {
                    return;
                }
                let aspects = if fixture_scores {
                    labelled
                        .iter()
                        .map(|row| aspects_of(&row.feedback.text))
                        .collect()
                } else {
                    Vec::new()
                };
                let (rows, polarities) = labelled
                    .into_iter()
                    .map(|row| (row.feedback, row.polarity))
                    .unzip();
                let batch = GeneratedBatch {
                    rows,
                    polarities,
                    aspects,
                };
                // The writer stopped (it failed): nothing more to generate.
                if sender.blocking_send(batch).is_err() {
                    return;
                }
            }
        })
        .expect("start the demo generator thread");
    let mut report = DemoReport::default();
    while let Some(batch) = batches.recv().await {
        let inserted = if fixture_scores {
            // Rows and their fixture scores in one write, labels included.
            let analyse = |first_id: i64| {
                let scores: Vec<NewScore> = batch
                    .polarities
                    .iter()
                    .enumerate()
                    .map(|(i, polarity)| fixture_score(first_id + i as i64, *polarity))
                    .collect();
                let aspects = scores
                    .iter()
                    .zip(&batch.aspects)
                    .flat_map(|(score, aspects)| fixture_aspect_scores(score, aspects))
                    .collect();
                (scores, aspects)
            };
            match store
                .insert_analysed_feedback(&batch.rows, FIXTURE_MODEL_ID, &analyse)
                .await
            {
                Ok(inserted) => {
                    report.fixture_scored += inserted.inserted;
                    inserted
                }
                // Some rows of this batch exist already (the same seed again): the new ones
                // are stored and left for the scorer.
                Err(StoreError::AlreadyStored { .. }) => store.insert_feedback(&batch.rows).await?,
                Err(error) => return Err(error),
            }
        } else {
            store.insert_feedback(&batch.rows).await?
        };
        report.inserted += inserted.inserted;
        report.duplicates += inserted.duplicates;
        progress(report.inserted + report.duplicates);
    }
    generator
        .join()
        .expect("the demo generator thread panicked");
    Ok(report)
}

impl DemoGenerator {
    /// The generator as an iterator of labelled rows.
    fn map_while_labelled(&mut self) -> impl Iterator<Item = LabelledFeedback> + '_ {
        std::iter::from_fn(move || self.next_labelled())
    }
}
