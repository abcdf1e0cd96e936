//! Terms for rows stored before term indexing existed, or under another tokeniser version:
//! new rows get theirs when they are ingested, so this finishes and stops.

use pulso_core::analysis::terms::term_hashes;
use pulso_store::{FeedbackWriter, StoreError};

/// Computes and stores the terms of up to `limit` rows that have none; returns how many.
pub async fn index_missing_terms(
    store: &dyn FeedbackWriter,
    limit: u32,
) -> Result<u64, StoreError> {
    let rows = store.rows_without_terms(limit).await?;
    let computed: Vec<(i64, Vec<u32>)> = rows
        .iter()
        .map(|(id, text, language)| (*id, term_hashes(text, language)))
        .collect();
    store.store_terms(&computed).await?;
    Ok(computed.len() as u64)
}
