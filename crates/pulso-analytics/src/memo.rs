//! Results shared by the queries that read one snapshot: when several panels (or insights
//! and the panels beside it) ask the engine the same question at once, it is answered once.
//! Entries are keyed by the question and live until the snapshot changes.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use pulso_store::StoreError;

/// More distinct questions than this in one snapshot start the memo afresh.
const MAX_ENTRIES: usize = 512;

type Cell = Arc<OnceCell<Arc<dyn Any + Send + Sync>>>;

#[derive(Default)]
pub struct Memo {
    state: Mutex<(i64, HashMap<String, Cell>)>,
}

impl Memo {
    /// The answer to `key` at `revision`, computed by `compute` once however many ask
    /// together; a failure is not kept, so the next asker tries again.
    pub async fn get_or_compute<T, F>(
        &self,
        revision: i64,
        key: String,
        compute: F,
    ) -> Result<T, StoreError>
    where
        T: Clone + Send + Sync + 'static,
        F: Future<Output = Result<T, StoreError>>,
    {
        let cell = {
            let mut state = self.state.lock().expect("memo lock");
            if state.0 != revision || state.1.len() >= MAX_ENTRIES {
                *state = (revision, HashMap::new());
            }
            state.1.entry(key).or_default().clone()
        };
        let value = cell
            .get_or_try_init(|| async {
                compute
                    .await
                    .map(|v| Arc::new(v) as Arc<dyn Any + Send + Sync>)
            })
            .await?;
        Ok(value
            .downcast_ref::<T>()
            .expect("one key, one result type")
            .clone())
    }
}
