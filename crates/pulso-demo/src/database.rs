//! Writing generated rows into a record store, optionally with fixture scores.

use super::fixture::{fixture_aspects, fixture_score, FIXTURE_MODEL_ID};
use super::{DemoGenerator, DemoOptions, LabelledFeedback};
use pulso_store::{FeedbackWriter, NewScore, StoreError};

/// Rows per transaction: large enough to amortise a commit, small enough to stay in cache.
const ROWS_PER_BATCH: usize = 10_000;

/// What writing a demo database did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub inserted: u64,
    /// Rows whose ids were already stored (the same seed run twice).
    pub duplicates: u64,
    /// Rows given fixture scores.
    pub fixture_scored: u64,
}

/// Generates `options` and stores the rows. With `fixture_scores`, every new row also gets a
/// fixture score and aspect results (model id [`FIXTURE_MODEL_ID`], made active), following
/// the feeling its text was written with. `progress` is told the rows written so far.
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
    let mut generator = DemoGenerator::new(options);
    let mut report = DemoReport::default();
    let mut batch: Vec<LabelledFeedback> = Vec::with_capacity(ROWS_PER_BATCH);
    loop {
        batch.clear();
        batch.extend(generator.map_while_labelled().take(ROWS_PER_BATCH));
        if batch.is_empty() {
            break;
        }
        let rows: Vec<_> = batch.iter().map(|r| r.feedback.clone()).collect();
        let inserted = store.insert_feedback(&rows).await?;
        report.inserted += inserted.inserted;
        report.duplicates += inserted.duplicates;
        if let (true, Some(first_id)) = (fixture_scores, inserted.first_id) {
            let scores: Vec<NewScore> = batch
                .iter()
                .enumerate()
                .map(|(i, row)| fixture_score(first_id + i as i64, row.polarity))
                .collect();
            let aspects: Vec<_> = scores
                .iter()
                .zip(&batch)
                .flat_map(|(score, row)| fixture_aspects(score, &row.feedback.text))
                .collect();
            store
                .insert_analysis(FIXTURE_MODEL_ID, &scores, &aspects)
                .await?;
            report.fixture_scored += scores.len() as u64;
        }
        progress(report.inserted + report.duplicates);
    }
    Ok(report)
}

impl DemoGenerator {
    /// The generator as an iterator of labelled rows.
    fn map_while_labelled(&mut self) -> impl Iterator<Item = LabelledFeedback> + '_ {
        std::iter::from_fn(move || self.next_labelled())
    }
}
