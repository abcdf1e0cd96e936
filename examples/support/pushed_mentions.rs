//! The mentions `freshness_bench` pushes, shared with `scoring_profile`, which measures the
//! model on the same texts.

use pulso_demo::{generate, DemoOptions};

/// `count` demo texts, each made unique by its number, so none is a duplicate of another.
pub fn pushed_mentions(count: usize) -> Vec<String> {
    generate(&DemoOptions {
        rows: count,
        days: 30,
        seed: 11,
        end_time_ms: 1_764_000_000_000,
    })
    .enumerate()
    .map(|(i, row)| format!("{} (pedido {i})", row.text))
    .collect()
}
