//! Counting stored term hashes row by row: how the record store answers term tallies. The
//! analytics engine answers the same questions with SQL over its mirror.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use pulso_store::{GroupTotals, TermScan, TermTally};

/// One stored row's terms, as the record store reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct TermRow {
    pub id: i64,
    pub time_ms: i64,
    pub group: Option<String>,
    pub hashes: Vec<u32>,
    pub score: Option<f64>,
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
}

/// Tallies every term of `rows` (the scan's rows that have terms) per group, keeping the terms
/// with at least `scan.min_support` mentions in the range.
pub fn tally_term_rows(scan: &TermScan, rows: &[TermRow]) -> (Vec<GroupTotals>, Vec<TermTally>) {
    let in_range = |t: i64| t >= scan.range.from_ms && t <= scan.range.to_ms;
    let in_before = |t: i64| t >= scan.before.from_ms && t <= scan.before.to_ms;
    // Groups are numbered so the hot loop keys on integers; renumbered in sorted order below.
    let mut group_index: HashMap<Option<&str>, u32> = HashMap::new();
    let mut groups: Vec<(Option<&str>, u64, u64)> = Vec::new();
    let mut tallies: FastMap<u64, Tally> = FastMap::default();
    for row in rows {
        let now = in_range(row.time_ms);
        if !now && !in_before(row.time_ms) {
            continue;
        }
        let g = *group_index.entry(row.group.as_deref()).or_insert_with(|| {
            groups.push((row.group.as_deref(), 0, 0));
            (groups.len() - 1) as u32
        });
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
            } else {
                tally.before += 1;
            }
        }
    }
    let sorted: BTreeMap<Option<&str>, usize> =
        groups.iter().enumerate().map(|(i, g)| (g.0, i)).collect();
    let mut position = vec![0usize; groups.len()];
    let totals = sorted
        .values()
        .enumerate()
        .map(|(new, &old)| {
            position[old] = new;
            GroupTotals {
                group: groups[old].0.map(str::to_string),
                now: groups[old].1,
                before: groups[old].2,
            }
        })
        .collect();
    let kept = tallies
        .into_iter()
        .filter(|(_, t)| t.now >= i64::from(scan.min_support))
        .map(|(key, t)| TermTally {
            group: position[(key >> 32) as usize],
            hash: (key & 0xffff_ffff) as u32,
            now: t.now,
            before: t.before,
            score_sum: t.score_sum,
            scored: t.scored,
        })
        .collect();
    (totals, kept)
}

/// For each `(group, hash)` wanted, the ids of up to `per_term` of the latest rows (by time,
/// then id) in `rows` that contain it. `rows` must be in ascending (time, id) order.
pub fn latest_rows_with_terms(
    rows: &[TermRow],
    wanted: &[(Option<String>, u32)],
    per_term: usize,
) -> Vec<Vec<i64>> {
    let index: HashMap<(Option<&str>, u32), usize> = wanted
        .iter()
        .enumerate()
        .map(|(i, (g, h))| ((g.as_deref(), *h), i))
        .collect();
    let mut samples = vec![Vec::new(); wanted.len()];
    for row in rows.iter().rev() {
        for hash in &row.hashes {
            if let Some(&i) = index.get(&(row.group.as_deref(), *hash)) {
                if samples[i].len() < per_term {
                    samples[i].push(row.id);
                }
            }
        }
    }
    samples
}
