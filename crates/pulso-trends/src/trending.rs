//! Trending terms: which terms are mentioned more in a range than in the range before it,
//! beyond what the change in volume alone explains.

use std::collections::HashMap;

use pulso_core::query::{Dimension, Filters, TimeRange};
use pulso_store::{FeedbackReader, StoreError, TermSampleScan, TermScan, TermTallies, TermTally};

use pulso_core::analysis::terms;

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
    store: &dyn FeedbackReader,
    request: &TrendRequest,
) -> Result<TrendingTerms, StoreError> {
    Ok(trending_terms_many(store, std::slice::from_ref(request))
        .await?
        .pop()
        .unwrap_or_default())
}

impl TrendRequest {
    fn scan(&self) -> TermScan {
        TermScan {
            range: self.range,
            before: self.before,
            filters: self.filters.clone(),
            group_by: self.group_by,
            min_support: self.min_support,
        }
    }
}

/// Several trending queries answered with one tally read, then one sample read each and one
/// read of the sampled texts for all.
pub async fn trending_terms_many(
    store: &dyn FeedbackReader,
    requests: &[TrendRequest],
) -> Result<Vec<TrendingTerms>, StoreError> {
    let scans: Vec<TermScan> = requests.iter().map(TrendRequest::scan).collect();
    let started = std::time::Instant::now();
    // One scan goes through `term_tallies`, which an engine shares between queries.
    let tallies = match scans.as_slice() {
        [scan] => vec![store.term_tallies(scan).await?],
        _ => store.term_tallies_many(&scans).await?,
    };
    tracing::debug!(
        scans = scans.len(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "term tallies"
    );
    let mut ranked = Vec::with_capacity(requests.len());
    let mut sample_scans = Vec::with_capacity(requests.len());
    for (request, tallies) in requests.iter().zip(tallies) {
        let candidates = rank(request, &tallies);
        // Sample mentions of each candidate to recover how people write it; the latest one
        // is the example.
        let wanted: Vec<(Option<String>, u32)> = candidates
            .iter()
            .flatten()
            .map(|(t, _)| (tallies.groups[t.group].group.clone(), t.hash))
            .collect();
        sample_scans.push(TermSampleScan {
            range: request.range,
            filters: request.filters.clone(),
            group_by: request.group_by,
            wanted,
            per_term: SURFACE_SAMPLES,
        });
        ranked.push((tallies, candidates));
    }
    let started = std::time::Instant::now();
    let samples = store.term_samples_many(&sample_scans).await?;
    tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "term samples");
    let mut all_ids: Vec<i64> = samples.iter().flatten().flatten().copied().collect();
    all_ids.sort_unstable();
    all_ids.dedup();
    let started = std::time::Instant::now();
    let texts: HashMap<i64, (String, String)> = store
        .mentions_by_id(&all_ids)
        .await?
        .into_iter()
        .map(|m| (m.id, (m.text, m.language)))
        .collect();
    tracing::debug!(
        ids = all_ids.len(),
        ms = started.elapsed().as_secs_f64() * 1e3,
        "sample texts"
    );

    let mut out = Vec::with_capacity(requests.len());
    for (request, ((tallies, candidates), samples)) in
        requests.iter().zip(ranked.into_iter().zip(samples))
    {
        let mut result = Vec::new();
        let mut position = 0;
        for (g, list) in candidates.iter().enumerate() {
            let totals = &tallies.groups[g];
            let mut resolved: Vec<TrendingTerm> = Vec::new();
            for (tally, rise) in list {
                let sample = &samples[position];
                position += 1;
                let Some((term_key, surface)) = surface_form(tally.hash, sample, &texts) else {
                    continue;
                };
                resolved.push(TrendingTerm {
                    group: totals.group.clone(),
                    term: surface,
                    key: term_key,
                    count: tally.now,
                    count_before: tally.before,
                    growth: (tally.before > 0)
                        .then(|| 100.0 * (tally.now - tally.before) as f64 / tally.before as f64),
                    share: if totals.now > 0 {
                        100.0 * tally.now as f64 / totals.now as f64
                    } else {
                        0.0
                    },
                    avg_score: (tally.scored > 0).then(|| tally.score_sum / tally.scored as f64),
                    example_id: sample.first().copied().unwrap_or_default(),
                    rise: *rise,
                });
            }
            result.extend(drop_subsumed(resolved, request.limit as usize));
        }
        out.push(TrendingTerms {
            terms: result,
            mentions: tallies.mentions(),
            mentions_before: tallies.mentions_before(),
            unindexed: tallies.unindexed,
            executed_sql: tallies.executed_sql,
        });
    }
    Ok(out)
}

/// Per group, the terms that rose most above what the change in volume predicts, with their
/// rise, ranked; twice the limit is kept for the merging of sub-terms.
fn rank(request: &TrendRequest, tallies: &TermTallies) -> Vec<Vec<(TermTally, f64)>> {
    let keep = request.limit as usize * 2;
    let mut candidates: Vec<Vec<(TermTally, f64)>> = vec![Vec::new(); tallies.groups.len()];
    for tally in &tallies.tallies {
        if tally.now < i64::from(request.min_support) {
            continue;
        }
        let group = &tallies.groups[tally.group];
        let ratio = if group.before > 0 {
            group.now as f64 / group.before as f64
        } else {
            0.0
        };
        // A Poisson z-score of the rise: a jump from 3 to 14 outranks one from 57 to 99,
        // and a new term needs real support to top the list.
        let expected = tally.before as f64 * ratio;
        let rise = (tally.now as f64 - expected) / (expected + 1.0).sqrt();
        if rise > 0.0 {
            candidates[tally.group].push((*tally, rise));
        }
    }
    for list in &mut candidates {
        list.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(b.0.now.cmp(&a.0.now))
                .then(a.0.hash.cmp(&b.0.hash))
        });
        list.truncate(keep);
    }
    candidates
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
