//! What the PostgreSQL benchmarks share: a store on the benchmark server's database, and the
//! social post they write, which only its text, id and time tell apart.

use pulso_postgres::{PostgresConfig, PostgresStore};
use pulso_store::{NewFeedback, SourceType};

/// A store on `url` (a superuser URL with its password, as `tools/postgres.sh` prints it).
pub async fn connect(url: &str) -> anyhow::Result<PostgresStore> {
    Ok(PostgresStore::connect(&PostgresConfig {
        url: url.to_string(),
        password: None,
        ssl_mode: None,
        pool_size: 4,
    })
    .await?)
}

/// A Spanish tweet about a chicken restaurant in Lima.
pub fn social_post(text: String, external_id: String, event_time_ms: i64) -> NewFeedback {
    NewFeedback {
        source_type: SourceType::Social,
        platform: "twitter".to_string(),
        region: "Lima".to_string(),
        city: "Lima".to_string(),
        category: "restaurants".to_string(),
        brand: "Qori Brasa".to_string(),
        product: "pollo a la brasa".to_string(),
        language: "es".to_string(),
        text,
        rating: None,
        rating_raw: None,
        redactions: 0,
        event_time_ms,
        external_id,
        terms: Vec::new(),
    }
}
