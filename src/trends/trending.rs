//! Trending terms: which terms are mentioned more in a range than in the range before it,
//! beyond what the change in volume alone explains.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::query::{Dimension, Filters, TimeRange};
use crate::store::{FeedbackStore, StoreError, TermScan};

use super::terms;

/// Sample texts read per candidate term to find its most common surface form.
const SURFACE_SAMPLES: usize = 12;
/// A shorter term is dropped when a longer candidate containing it has this share of its count.
const SUBSUMED_SHARE: f64 = 0.8;

#[derive(Debug, Clone, PartialEq)]
pub struct TrendingTerm {
    pub group: Option<String>,
    /// The most common way it is written.
    pub term: String,
    /// Stems, space-separated.
    pub key: String,
    pub count: i64,
    pub count_before: i64,
    /// Percent change; `None` when the term was not mentioned before.
    pub growth: Option<f64>,
    /// Percent of the range's mentions (in its group) that contain the term.
    pub share: f64,
    pub avg_score: Option<f64>,
    /// A recent mention that contains it.
    pub example_id: i64,
    /// How far the count rose above what the volume change predicts, in standard deviations
    /// of a Poisson count: the ranking key.
    pub rise: f64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrendingTerms {
    pub terms: Vec<TrendingTerm>,
    pub mentions: u64,
    pub mentions_before: u64,
    pub unindexed: u64,
    pub executed_sql: String,
}

/// Term hashes are already well mixed, so hashing them again is wasted work on a hot loop.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<IdentityHasher>>;

#[derive(Default, Clone, Copy)]
struct Tally {
    now: i64,
    before: i64,
    score_sum: f64,
    scored: i64,
    example: (i64, i64),
}

/// What to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendRequest {
    pub range: TimeRange,
    pub before: TimeRange,
    pub filters: Filters,
    pub group_by: Option<Dimension>,
    pub min_support: u32,
    pub limit: u32,
}

pub async fn trending_terms(
    store: &dyn FeedbackStore,
    request: &TrendRequest,
) -> Result<TrendingTerms, StoreError> {
    let scanned = store
        .term_rows(&TermScan {
            range: TimeRange {
                from_ms: request.before.from_ms.min(request.range.from_ms),
                to_ms: request.range.to_ms,
            },
            filters: request.filters.clone(),
            group_by: request.group_by,
        })
        .await?;
    let in_range = |t: i64| t >= request.range.from_ms && t <= request.range.to_ms;
    let in_before = |t: i64| t >= request.before.from_ms && t <= request.before.to_ms;

    // Groups are numbered so the hot loop keys on integers.
    let mut group_index: HashMap<Option<String>, u32> = HashMap::new();
    let mut groups: Vec<(Option<String>, u64, u64)> = Vec::new();
    let mut tallies: FastMap<u64, Tally> = FastMap::default();
    let mut row_groups: Vec<u32> = Vec::with_capacity(scanned.rows.len());
    for row in &scanned.rows {
        let g = *group_index.entry(row.group.clone()).or_insert_with(|| {
            groups.push((row.group.clone(), 0, 0));
            (groups.len() - 1) as u32
        });
        row_groups.push(g);
        let now = in_range(row.time_ms);
        if !now && !in_before(row.time_ms) {
            continue;
        }
        if now {
            groups[g as usize].1 += 1;
        } else {
            groups[g as usize].2 += 1;
        }
        for hash in &row.hashes {
            let tally = tallies
                .entry(u64::from(g) << 32 | u64::from(*hash))
                .or_default();
            if now {
                tally.now += 1;
                if let Some(score) = row.score {
                    tally.score_sum += score;
                    tally.scored += 1;
                }
                tally.example = tally.example.max((row.time_ms, row.id));
            } else {
                tally.before += 1;
            }
        }
    }

    // Rank per group by excess over expectation, keep twice the limit for the merging below.
    let keep = request.limit as usize * 2;
    let mut candidates: Vec<Vec<(u64, Tally, f64)>> = vec![Vec::new(); groups.len()];
    for (key, tally) in &tallies {
        if tally.now < i64::from(request.min_support) {
            continue;
        }
        let g = (key >> 32) as usize;
        let (_, now_total, before_total) = groups[g];
        let ratio = if before_total > 0 {
            now_total as f64 / before_total as f64
        } else {
            0.0
        };
        // A Poisson z-score of the rise: a jump from 3 to 14 outranks one from 57 to 99,
        // and a new term needs real support to top the list.
        let expected = tally.before as f64 * ratio;
        let rise = (tally.now as f64 - expected) / (expected + 1.0).sqrt();
        if rise > 0.0 {
            candidates[g].push((*key, *tally, rise));
        }
    }
    for list in &mut candidates {
        list.sort_by(|a, b| {
            b.2.total_cmp(&a.2)
                .then(b.1.now.cmp(&a.1.now))
                .then(a.0.cmp(&b.0))
        });
        list.truncate(keep);
    }

    // Sample mentions of each candidate to recover how people write it.
    let wanted: FastMap<u64, usize> = candidates
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| (c.0, i))
        .collect();
    let mut samples: Vec<Vec<i64>> = vec![Vec::new(); wanted.len()];
    for (row, g) in scanned.rows.iter().zip(&row_groups).rev() {
        if !in_range(row.time_ms) {
            continue;
        }
        for hash in &row.hashes {
            if let Some(&i) = wanted.get(&(u64::from(*g) << 32 | u64::from(*hash))) {
                if samples[i].len() < SURFACE_SAMPLES {
                    samples[i].push(row.id);
                }
            }
        }
    }
    let mut ids: Vec<i64> = samples.iter().flatten().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let texts: HashMap<i64, (String, String)> = store
        .mentions_by_id(&ids)
        .await?
        .into_iter()
        .map(|m| (m.id, (m.text, m.language)))
        .collect();

    let mut result = Vec::new();
    let mut position = 0;
    for (g, list) in candidates.iter().enumerate() {
        let (group, now_total, _) = &groups[g];
        let mut resolved: Vec<TrendingTerm> = Vec::new();
        for (key, tally, excess) in list {
            let hash = (*key & 0xffff_ffff) as u32;
            let sample = &samples[position];
            position += 1;
            let Some((term_key, surface)) = surface_form(hash, sample, &texts) else {
                continue;
            };
            resolved.push(TrendingTerm {
                group: group.clone(),
                term: surface,
                key: term_key,
                count: tally.now,
                count_before: tally.before,
                growth: (tally.before > 0)
                    .then(|| 100.0 * (tally.now - tally.before) as f64 / tally.before as f64),
                share: if *now_total > 0 {
                    100.0 * tally.now as f64 / *now_total as f64
                } else {
                    0.0
                },
                avg_score: (tally.scored > 0).then(|| tally.score_sum / tally.scored as f64),
                example_id: tally.example.1,
                rise: *excess,
            });
        }
        result.extend(drop_subsumed(resolved, request.limit as usize));
    }
    let (mentions, mentions_before) = groups
        .iter()
        .fold((0, 0), |acc, g| (acc.0 + g.1, acc.1 + g.2));
    Ok(TrendingTerms {
        terms: result,
        mentions,
        mentions_before,
        unindexed: scanned.unindexed,
        executed_sql: scanned.executed_sql,
    })
}

/// The key and most common surface form of the term with `hash` in the sample texts.
fn surface_form(
    hash: u32,
    sample: &[i64],
    texts: &HashMap<i64, (String, String)>,
) -> Option<(String, String)> {
    let mut surfaces: HashMap<(String, String), usize> = HashMap::new();
    for id in sample {
        let Some((text, language)) = texts.get(id) else {
            continue;
        };
        for occurrence in terms::extract(text, language) {
            if occurrence.hash == hash {
                *surfaces
                    .entry((occurrence.key, occurrence.surface))
                    .or_default() += 1;
            }
        }
    }
    // Most common first; ties go to the alphabetically first form, so results are stable.
    surfaces
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(pair, _)| pair)
}

/// Drops a term when a longer listed term contains it and carries most of its mentions
/// ("frío" under "llegó frío"), then keeps `limit`.
fn drop_subsumed(terms: Vec<TrendingTerm>, limit: usize) -> Vec<TrendingTerm> {
    let contains = |long: &str, short: &str| {
        long.len() > short.len() && format!(" {long} ").contains(&format!(" {short} "))
    };
    let kept: Vec<bool> = terms
        .iter()
        .map(|short| {
            !terms.iter().any(|long| {
                contains(&long.key, &short.key)
                    && long.count as f64 >= SUBSUMED_SHARE * short.count as f64
            })
        })
        .collect();
    terms
        .into_iter()
        .zip(kept)
        .filter(|(_, keep)| *keep)
        .map(|(t, _)| t)
        .take(limit)
        .collect()
}
