//! The analytics engine as a [`FeedbackReader`]: aggregates run on DataFusion over one mirror
//! snapshot, so every part of a query sees the same data; mention texts come from the record
//! store.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::UInt32Array;
use datafusion::arrow::record_batch::RecordBatch;

use super::engine::{floats, ints, Engine, Table};
use super::memo::Memo;
use super::mirror::{dimension_column, schema, term_day_schema, Snapshot, TermDay};
use super::sql::{aspect_predicate, decode_group, group_column, is_label, predicate};
use pulso_core::analysis::{Aspect, Label};
use pulso_core::query::{
    Dimension, DimensionValues, DimensionValuesQuery, Distribution, DistributionQuery,
    DistributionRow, Filters, MentionRow, Mentions, MentionsQuery, TimeRange, Timeseries,
    TimeseriesQuery,
};
use pulso_store::{
    AspectCount, AspectCounts, AspectScan, FeedbackReader, GroupTotals, SampleOrder, SampleScan,
    StoreError, TermSampleScan, TermScan, TermTallies, TermTally,
};

/// Most distinct values a filtered variable query lists, as in the record store.
const MAX_DIMENSION_VALUES: usize = 10_000;
/// How far back term samples look first; each miss widens the window fourfold.
const FIRST_SAMPLE_WINDOW_MS: i64 = 86_400_000;

pub struct SnapshotReader {
    pub(super) snapshot: Arc<Snapshot>,
    pub(super) engine: Arc<Engine>,
    /// For mention rows and texts.
    pub(super) store: Arc<dyn FeedbackReader>,
    pub(super) memo: Arc<Memo>,
}

impl SnapshotReader {
    fn header(&self) -> String {
        format!(
            "-- analytics engine (DataFusion) over the in-memory mirror at revision {}, {} rows",
            self.snapshot.revision, self.snapshot.rows
        )
    }

    async fn run(&self, span: TimeRange, sql: &str) -> Result<Vec<RecordBatch>, StoreError> {
        self.engine
            .run(&self.snapshot, (span.from_ms, span.to_ms), sql)
            .await
    }

    async fn run_branches(
        &self,
        spans: impl IntoIterator<Item = TimeRange>,
        sql: &str,
    ) -> Result<Vec<RecordBatch>, StoreError> {
        let spans: Vec<(i64, i64)> = spans.into_iter().map(|r| (r.from_ms, r.to_ms)).collect();
        self.engine.run_branches(&self.snapshot, &spans, sql).await
    }

    fn described(&self, sql: &str) -> String {
        format!("{}\n{sql}", self.header())
    }

    /// The record store's rows for `ids`, in the order of `ids`.
    async fn rows_in_order(&self, ids: &[i64]) -> Result<Vec<MentionRow>, StoreError> {
        let mut rows = self.store.mentions_by_id(ids).await?;
        let order: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        rows.sort_by_key(|r| order.get(&r.id).copied().unwrap_or(usize::MAX));
        Ok(rows)
    }

    fn group(&self, group_by: Option<Dimension>, code: Option<i64>) -> Option<String> {
        decode_group(&self.snapshot, group_by, code)
    }
}

/// Tallies are computed with at most this minimum of mentions, so that queries asking for
/// more can share them.
const TALLY_FLOOR: u32 = 3;

/// Term tallies pack (scan, group, term hash) into one integer: the hash in the low 32 bits,
/// the group code in the next 16, the scan above.
const GROUP_BIT: i64 = 1 << 32;
const SCAN_BIT: i64 = 1 << 48;
/// The group code of rows without a label, when grouping by label.
const NO_LABEL: i64 = 0xffff;

/// SQL for a row's group code, 0 without a group.
fn group_key(group_by: Option<Dimension>) -> String {
    match group_column(group_by) {
        Some(column) => format!("CAST(COALESCE({column}, {NO_LABEL}) AS BIGINT)"),
        None => "0".to_string(),
    }
}

/// A group code back to what [`decode_group`] takes.
fn decode_group_key(code: i64) -> Option<i64> {
    (code != NO_LABEL).then_some(code)
}

/// Takes a day's mentions of each needed term off what is still needed.
fn credit(day: &TermDay, needed: &mut HashMap<u32, usize>) {
    let terms: &UInt32Array = day.batch.column(0).as_any().downcast_ref().expect("terms");
    let mentions: &UInt32Array = day
        .batch
        .column(1)
        .as_any()
        .downcast_ref()
        .expect("mentions");
    needed.retain(|hash, still| {
        if let Ok(i) = terms.values().binary_search(hash) {
            *still = still.saturating_sub(mentions.value(i) as usize);
        }
        *still > 0
    });
}

/// The smallest range that holds all of `ranges`.
fn hull(ranges: impl IntoIterator<Item = TimeRange>) -> TimeRange {
    ranges.into_iter().fold(
        TimeRange {
            from_ms: i64::MAX,
            to_ms: i64::MIN,
        },
        |a, r| TimeRange {
            from_ms: a.from_ms.min(r.from_ms),
            to_ms: a.to_ms.max(r.to_ms),
        },
    )
}

fn in_range(column: &str, range: TimeRange) -> String {
    format!(
        "{column} >= {} AND {column} <= {}",
        range.from_ms, range.to_ms
    )
}

/// Per wanted `(group, hash)`, its position in the scan.
fn wanted_index(scan: &TermSampleScan) -> HashMap<(Option<&str>, u32), usize> {
    scan.wanted
        .iter()
        .enumerate()
        .map(|(i, (g, h))| ((g.as_deref(), *h), i))
        .collect()
}

/// The latest `per_term` ids of each list of `(time, id)`.
fn latest(samples: Vec<Vec<(i64, i64)>>, per_term: usize) -> Vec<Vec<i64>> {
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(|a, b| b.cmp(a));
            s.dedup();
            s.into_iter().take(per_term).map(|(_, id)| id).collect()
        })
        .collect()
}

/// The rows of `window` that hold one of the scan's wanted terms: scan, group, term, time, id.
fn sample_rows_sql(
    snapshot: &Snapshot,
    w: usize,
    table: usize,
    scan: &TermSampleScan,
    window: TimeRange,
) -> String {
    let hashes: HashSet<u32> = scan.wanted.iter().map(|(_, h)| *h).collect();
    let hashes: Vec<String> = hashes.iter().map(u32::to_string).collect();
    format!(
        "SELECT {w} AS w, grp, term, time, id FROM (SELECT {group} AS grp, time, id, \
         unnest(terms) AS term FROM feedback_{table} WHERE {predicate} AND terms IS NOT NULL) \
         WHERE term IN ({hashes})",
        group = group_column(scan.group_by).unwrap_or("0"),
        predicate = predicate(snapshot, Some(window), &scan.filters),
        hashes = hashes.join(", "),
    )
}

impl SnapshotReader {
    /// A window at the end of the scan's range that surely holds every wanted term's samples:
    /// the whole range when it is at most two days, or, without filters or groups, as many
    /// whole days back as the per-day term counts say are needed. `None` when neither holds.
    fn sample_window(&self, scan: &TermSampleScan) -> Option<TimeRange> {
        const TWO_DAYS_MS: i64 = 2 * 86_400_000;
        if scan.range.to_ms - scan.range.from_ms <= TWO_DAYS_MS {
            return Some(scan.range);
        }
        if scan.group_by.is_some() || !scan.filters.is_empty() {
            return None;
        }
        let mut needed: HashMap<u32, usize> = scan
            .wanted
            .iter()
            .map(|(_, h)| (*h, scan.per_term))
            .collect();
        let mut from_ms = scan.range.to_ms;
        for day in self.snapshot.term_days.values().rev() {
            if day.max_time_ms < scan.range.from_ms || day.min_time_ms > scan.range.to_ms {
                continue;
            }
            from_ms = from_ms.min(day.day);
            // Only a day wholly inside the range counts: an edge day's mentions may fall out.
            if day.min_time_ms >= scan.range.from_ms && day.max_time_ms <= scan.range.to_ms {
                credit(day, &mut needed);
            }
            if needed.is_empty() {
                break;
            }
        }
        Some(TimeRange {
            from_ms: from_ms.max(scan.range.from_ms),
            to_ms: scan.range.to_ms,
        })
    }

    /// Reads backwards from the end of the range, widening the window fourfold while some
    /// term still lacks samples.
    async fn term_samples_widening(
        &self,
        scan: &TermSampleScan,
    ) -> Result<Vec<Vec<i64>>, StoreError> {
        let index = wanted_index(scan);
        let mut samples: Vec<Vec<(i64, i64)>> = vec![Vec::new(); scan.wanted.len()];
        let mut to_ms = scan.range.to_ms;
        let mut width = FIRST_SAMPLE_WINDOW_MS;
        while to_ms >= scan.range.from_ms {
            let window = TimeRange {
                from_ms: to_ms.saturating_sub(width - 1).max(scan.range.from_ms),
                to_ms,
            };
            let sql = sample_rows_sql(&self.snapshot, 0, 0, scan, window);
            for batch in self.run_branches([window], &sql).await? {
                let [grp, term, time, id] = [1, 2, 3, 4].map(|c| ints(&batch, c));
                let (grp, term, time, id) = (grp?, term?, time?, id?);
                for i in 0..batch.num_rows() {
                    let group = self.group(scan.group_by, grp[i]);
                    let hash = term[i].unwrap_or(0) as u32;
                    if let Some(&w) = index.get(&(group.as_deref(), hash)) {
                        samples[w].push((time[i].unwrap_or(0), id[i].unwrap_or(0)));
                    }
                }
            }
            if samples.iter().all(|s| s.len() >= scan.per_term) {
                break;
            }
            to_ms = window.from_ms - 1;
            width = width.saturating_mul(4);
        }
        Ok(latest(samples, scan.per_term))
    }

    /// Term tallies without filters or groups: the days a range covers whole are read from
    /// their per-day term counts, only the days at its edges row by row.
    async fn term_tallies_rolled_up(&self, scan: &TermScan) -> Result<TermTallies, StoreError> {
        let span = hull([scan.range, scan.before]);
        let within =
            |r: TimeRange, d: &TermDay| d.min_time_ms >= r.from_ms && d.max_time_ms <= r.to_ms;
        let (mut days_now, mut days_before) = (Vec::new(), Vec::new());
        let mut whole: HashSet<i64> = HashSet::new();
        let (mut totals_now, mut totals_before, mut unindexed) = (0u64, 0u64, 0u64);
        for day in self.snapshot.term_days.values() {
            let list = if within(scan.range, day) {
                totals_now += day.indexed_rows;
                &mut days_now
            } else if within(scan.before, day) {
                totals_before += day.indexed_rows;
                &mut days_before
            } else {
                continue;
            };
            unindexed += day.unindexed_rows;
            whole.insert(day.day);
            list.push(day.batch.clone());
        }
        let edges: Vec<RecordBatch> = self
            .snapshot
            .partitions
            .iter()
            .filter(|p| p.overlaps(span.from_ms, span.to_ms) && !whole.contains(&p.day))
            .map(|p| p.batch.clone())
            .collect();
        let rows = format!(
            "SELECT CASE WHEN {now} THEN 1 ELSE 0 END AS now, score, terms FROM feedback \
             WHERE {span} AND ({now} OR {before})",
            now = in_range("time", scan.range),
            before = in_range("time", scan.before),
            span = in_range("time", span),
        );
        let terms_sql = format!(
            "SELECT term, SUM(n_now) AS mentions_now, SUM(n_before) AS mentions_before, \
             SUM(s) AS score_sum, SUM(k) AS scored FROM (\
             SELECT term, CAST(mentions AS BIGINT) AS n_now, CAST(0 AS BIGINT) AS n_before, \
             score_sum AS s, CAST(scored AS BIGINT) AS k FROM days_now \
             UNION ALL SELECT term, CAST(0 AS BIGINT), CAST(mentions AS BIGINT), \
             CAST(0.0 AS DOUBLE), CAST(0 AS BIGINT) FROM days_before \
             UNION ALL SELECT term, now, 1 - now, CASE WHEN now = 1 THEN score END, \
             CASE WHEN now = 1 AND score IS NOT NULL THEN 1 ELSE 0 END \
             FROM (SELECT now, score, unnest(terms) AS term FROM ({rows}) \
             WHERE terms IS NOT NULL)) GROUP BY term HAVING SUM(n_now) >= {min}",
            min = scan.min_support,
        );
        let totals_sql = format!(
            "SELECT SUM(CASE WHEN terms IS NOT NULL THEN now ELSE 0 END), \
             SUM(CASE WHEN terms IS NOT NULL THEN 1 - now ELSE 0 END), \
             SUM(CASE WHEN terms IS NULL THEN 1 ELSE 0 END) FROM ({rows})"
        );
        let tables = || {
            vec![
                Table::new("feedback", schema(), edges.clone()),
                Table::new("days_now", term_day_schema(), days_now.clone()),
                Table::new("days_before", term_day_schema(), days_before.clone()),
            ]
        };
        let (term_batches, total_batches) = futures_util::try_join!(
            self.engine.run_tables(tables(), &terms_sql),
            self.engine.run_tables(tables(), &totals_sql),
        )?;
        for batch in &total_batches {
            if batch.num_rows() == 0 {
                continue;
            }
            totals_now += ints(batch, 0)?[0].unwrap_or(0) as u64;
            totals_before += ints(batch, 1)?[0].unwrap_or(0) as u64;
            unindexed += ints(batch, 2)?[0].unwrap_or(0) as u64;
        }
        let mut tallies = Vec::new();
        for batch in &term_batches {
            let [term, now, before, scored] = [0, 1, 2, 4].map(|c| ints(batch, c));
            let (term, now, before, scored) = (term?, now?, before?, scored?);
            let score_sum = floats(batch, 3)?;
            for i in 0..batch.num_rows() {
                tallies.push(TermTally {
                    group: 0,
                    hash: term[i].unwrap_or(0) as u32,
                    now: now[i].unwrap_or(0),
                    before: before[i].unwrap_or(0),
                    score_sum: score_sum[i].unwrap_or(0.0),
                    scored: scored[i].unwrap_or(0),
                });
            }
        }
        let groups = if totals_now + totals_before > 0 {
            vec![GroupTotals {
                group: None,
                now: totals_now,
                before: totals_before,
            }]
        } else {
            tallies.clear();
            Vec::new()
        };
        Ok(TermTallies {
            groups,
            tallies,
            unindexed,
            executed_sql: self.described(&format!(
                "-- {} whole days read from their term counts ({} before), {} edge partitions row by row\n{totals_sql};\n{terms_sql}",
                days_now.len() + days_before.len(),
                days_before.len(),
                edges.len()
            )),
        })
    }
}

#[async_trait]
impl FeedbackReader for SnapshotReader {
    async fn timeseries(&self, query: &TimeseriesQuery) -> Result<Timeseries, StoreError> {
        let origin = query.bucket_origin();
        let bucket = format!("(time - {origin}) / {}", query.bucket_ms);
        let group = group_column(query.group_by);
        let sql = format!(
            "SELECT {bucket} AS bucket, {group_select}COUNT(*) AS volume, COUNT(label) AS scored, \
             SUM({positive}) AS positive, SUM({negative}) AS negative, SUM(score) AS score_sum \
             FROM feedback WHERE {predicate} GROUP BY {bucket}{group_by}",
            group_select = group.map(|g| format!("{g} AS grp, ")).unwrap_or_default(),
            positive = is_label("label", Label::Positive),
            negative = is_label("label", Label::Negative),
            predicate = predicate(&self.snapshot, Some(query.range), &query.filters),
            group_by = group.map(|g| format!(", {g}")).unwrap_or_default(),
        );
        let batches = self.run(query.range, &sql).await?;
        let buckets = query.bucket_starts();
        let mut groups = BTreeMap::new();
        let offset = usize::from(group.is_some());
        for batch in &batches {
            let bucket = ints(batch, 0)?;
            let codes = match group {
                Some(_) => ints(batch, 1)?,
                None => vec![None; batch.num_rows()],
            };
            let [volume, scored, positive, negative] =
                [1, 2, 3, 4].map(|c| ints(batch, c + offset));
            let (volume, scored, positive, negative) = (volume?, scored?, positive?, negative?);
            let score_sum = floats(batch, 5 + offset)?;
            for i in 0..batch.num_rows() {
                let index = usize::try_from(bucket[i].unwrap_or(0))
                    .unwrap_or(usize::MAX)
                    .min(buckets.len() - 1);
                let counts =
                    [volume[i], scored[i], positive[i], negative[i]].map(|v| v.unwrap_or(0));
                groups
                    .entry(self.group(query.group_by, codes[i]))
                    .or_insert_with(Vec::new)
                    .push((index, counts, score_sum[i]));
            }
        }
        Ok(Timeseries::assemble(
            query,
            buckets,
            groups,
            self.described(&sql),
        ))
    }

    async fn distribution(&self, query: &DistributionQuery) -> Result<Distribution, StoreError> {
        let key = format!("distribution {query:?}");
        self.memo
            .get_or_compute(self.snapshot.revision, key, self.distribution_once(query))
            .await
    }

    async fn dimension_values(
        &self,
        query: &DimensionValuesQuery,
    ) -> Result<DimensionValues, StoreError> {
        self.dimension_values_once(query).await
    }

    async fn aspect_counts(&self, scan: &AspectScan) -> Result<AspectCounts, StoreError> {
        let key = format!("aspects {scan:?}");
        self.memo
            .get_or_compute(self.snapshot.revision, key, async {
                Ok(self
                    .aspect_counts_many(std::slice::from_ref(scan))
                    .await?
                    .pop()
                    .unwrap_or_default())
            })
            .await
    }

    async fn term_tallies(&self, scan: &TermScan) -> Result<TermTallies, StoreError> {
        // Computed with a floor of at most TALLY_FLOOR mentions and filtered here, so that
        // insights (3) and the trending panel (5) share one computation.
        let floor = scan.min_support.min(TALLY_FLOOR);
        let shared = TermScan {
            min_support: floor,
            ..scan.clone()
        };
        let key = format!("tallies {shared:?}");
        let mut tallies: TermTallies = self
            .memo
            .get_or_compute(self.snapshot.revision, key, async {
                Ok(self
                    .term_tallies_many(std::slice::from_ref(&shared))
                    .await?
                    .pop()
                    .unwrap_or_default())
            })
            .await?;
        tallies
            .tallies
            .retain(|t| t.now >= i64::from(scan.min_support));
        Ok(tallies)
    }
    async fn aspect_counts_many(
        &self,
        scans: &[AspectScan],
    ) -> Result<Vec<AspectCounts>, StoreError> {
        if scans.is_empty() {
            return Ok(Vec::new());
        }
        // One branch per scan, answered in one plan.
        let branches: Vec<String> = scans
            .iter()
            .enumerate()
            .map(|(w, scan)| {
                let bucket = match scan.buckets {
                    Some((origin, width)) => format!("(time - {origin}) / {width}"),
                    None => "0".to_string(),
                };
                format!(
                    "SELECT {w} AS w, bucket, a, COUNT(*) AS mentions, SUM({positive}) AS positive, \
                     SUM({negative}) AS negative, SUM({neutral}) AS neutral, SUM(s) AS score_sum \
                     FROM (SELECT {bucket} AS bucket, unnest(aspect) AS a, \
                     unnest(aspect_label) AS al, unnest(aspect_score) AS s FROM feedback_{w} \
                     WHERE {predicate}) WHERE {aspects} GROUP BY bucket, a",
                    positive = is_label("al", Label::Positive),
                    negative = is_label("al", Label::Negative),
                    neutral = is_label("al", Label::Neutral),
                    predicate = predicate(&self.snapshot, Some(scan.range), &scan.filters),
                    aspects = aspect_predicate("a", &scan.aspects),
                )
            })
            .collect();
        let sql = branches.join("\nUNION ALL\n");
        let batches = self
            .run_branches(scans.iter().map(|s| s.range), &sql)
            .await?;
        let mut out: Vec<AspectCounts> = scans
            .iter()
            .map(|_| AspectCounts {
                counts: Vec::new(),
                executed_sql: self.described(&sql),
            })
            .collect();
        for batch in &batches {
            let [w, bucket, aspect, mentions, positive, negative, neutral] =
                [0, 1, 2, 3, 4, 5, 6].map(|c| ints(batch, c));
            let (w, bucket, aspect, mentions) = (w?, bucket?, aspect?, mentions?);
            let (positive, negative, neutral) = (positive?, negative?, neutral?);
            let score_sum = floats(batch, 7)?;
            for i in 0..batch.num_rows() {
                let scan = w[i].unwrap_or(0) as usize;
                let Some(aspect) = aspect[i].and_then(|c| Aspect::ALL.get(c as usize).copied())
                else {
                    continue;
                };
                out[scan].counts.push(AspectCount {
                    bucket: scans[scan].buckets.map(|_| bucket[i].unwrap_or(0)),
                    aspect,
                    mentions: mentions[i].unwrap_or(0),
                    positive: positive[i].unwrap_or(0),
                    negative: negative[i].unwrap_or(0),
                    neutral: neutral[i].unwrap_or(0),
                    score_sum: score_sum[i].unwrap_or(0.0),
                });
            }
        }
        // As the record store orders them: by bucket, then aspect name.
        for counts in &mut out {
            counts.counts.sort_by(|a, b| {
                a.bucket
                    .cmp(&b.bucket)
                    .then(a.aspect.name().cmp(b.aspect.name()))
            });
        }
        Ok(out)
    }

    async fn term_tallies_many(&self, scans: &[TermScan]) -> Result<Vec<TermTallies>, StoreError> {
        if scans.is_empty() {
            return Ok(Vec::new());
        }
        if let [scan] = scans {
            if scan.group_by.is_none() && scan.filters.is_empty() {
                return Ok(vec![self.term_tallies_rolled_up(scan).await?]);
            }
        }
        // One branch per scan: the rows in the range or before it, flagged `now`, keyed by
        // scan and group packed into one integer, since the engine groups a single integer
        // column far faster than several.
        let rows = |scan: &TermScan, w: usize| {
            let group = group_key(scan.group_by);
            let span = hull([scan.range, scan.before]);
            format!(
                "SELECT {w} * {SCAN_BIT} + {group} * {GROUP_BIT} AS sg, \
                 CASE WHEN {now} THEN 1 ELSE 0 END AS now, score, terms FROM feedback_{w} \
                 WHERE {predicate} AND ({now} OR {before})",
                now = in_range("time", scan.range),
                before = in_range("time", scan.before),
                predicate = predicate(&self.snapshot, Some(span), &scan.filters),
            )
        };
        let branches: Vec<String> = scans
            .iter()
            .enumerate()
            .map(|(w, scan)| rows(scan, w))
            .collect();
        let all_rows = branches.join("\nUNION ALL\n");
        let min_supports: Vec<String> = scans
            .iter()
            .enumerate()
            .map(|(w, scan)| format!("WHEN {w} THEN {}", scan.min_support))
            .collect();
        let terms_sql = format!(
            "SELECT key, SUM(now) AS mentions_now, COUNT(*) - SUM(now) AS mentions_before, \
             SUM(CASE WHEN now = 1 THEN score END) AS score_sum, \
             COUNT(CASE WHEN now = 1 THEN score END) AS scored \
             FROM (SELECT sg + CAST(term AS BIGINT) AS key, now, score \
             FROM (SELECT sg, now, score, unnest(terms) AS term FROM ({all_rows}) \
             WHERE terms IS NOT NULL)) \
             GROUP BY key HAVING SUM(now) >= CASE key / {SCAN_BIT} {} END",
            min_supports.join(" ")
        );
        let totals_sql = format!(
            "SELECT sg, SUM(CASE WHEN terms IS NOT NULL THEN now ELSE 0 END) AS mentions_now, \
             SUM(CASE WHEN terms IS NOT NULL THEN 1 - now ELSE 0 END) AS mentions_before, \
             SUM(CASE WHEN terms IS NULL THEN 1 ELSE 0 END) AS unindexed \
             FROM ({all_rows}) GROUP BY sg"
        );
        let spans: Vec<TimeRange> = scans.iter().map(|s| hull([s.range, s.before])).collect();
        let (term_batches, total_batches) = futures_util::try_join!(
            self.run_branches(spans.clone(), &terms_sql),
            self.run_branches(spans.clone(), &totals_sql)
        )?;

        let executed = self.described(&format!("{totals_sql};\n{terms_sql}"));
        let mut out: Vec<TermTallies> = scans
            .iter()
            .map(|_| TermTallies {
                executed_sql: executed.clone(),
                ..TermTallies::default()
            })
            .collect();
        // Group totals first, sorted by group value as the record store sorts them.
        let mut positions: Vec<HashMap<i64, usize>> = vec![HashMap::new(); scans.len()];
        let mut totals: Vec<Vec<(Option<String>, i64, u64, u64)>> = vec![Vec::new(); scans.len()];
        for batch in &total_batches {
            let [sg, now, before, unindexed] = [0, 1, 2, 3].map(|c| ints(batch, c));
            let (sg, now, before, unindexed) = (sg?, now?, before?, unindexed?);
            for i in 0..batch.num_rows() {
                let key = sg[i].unwrap_or(0);
                let scan = (key / SCAN_BIT) as usize;
                out[scan].unindexed += unindexed[i].unwrap_or(0) as u64;
                let (now, before) = (now[i].unwrap_or(0) as u64, before[i].unwrap_or(0) as u64);
                if now + before == 0 {
                    // Only unindexed rows: the record store never sees this group.
                    continue;
                }
                let group_code = (key % SCAN_BIT) / GROUP_BIT;
                let group = self.group(scans[scan].group_by, decode_group_key(group_code));
                totals[scan].push((group, group_code, now, before));
            }
        }
        for (scan, mut groups) in totals.into_iter().enumerate() {
            groups.sort_by(|a, b| a.0.cmp(&b.0));
            for (i, (group, code, now, before)) in groups.into_iter().enumerate() {
                positions[scan].insert(code, i);
                out[scan].groups.push(GroupTotals { group, now, before });
            }
        }
        for batch in &term_batches {
            let [key, now, before, scored] = [0, 1, 2, 4].map(|c| ints(batch, c));
            let (key, now, before, scored) = (key?, now?, before?, scored?);
            let score_sum = floats(batch, 3)?;
            for i in 0..batch.num_rows() {
                let key = key[i].unwrap_or(0);
                let scan = (key / SCAN_BIT) as usize;
                let Some(&group) = positions[scan].get(&((key % SCAN_BIT) / GROUP_BIT)) else {
                    continue;
                };
                out[scan].tallies.push(TermTally {
                    group,
                    hash: (key % GROUP_BIT) as u32,
                    now: now[i].unwrap_or(0),
                    before: before[i].unwrap_or(0),
                    score_sum: score_sum[i].unwrap_or(0.0),
                    scored: scored[i].unwrap_or(0),
                });
            }
        }
        Ok(out)
    }

    async fn term_samples(&self, scan: &TermSampleScan) -> Result<Vec<Vec<i64>>, StoreError> {
        Ok(self
            .term_samples_many(std::slice::from_ref(scan))
            .await?
            .pop()
            .unwrap_or_default())
    }

    async fn term_samples_many(
        &self,
        scans: &[TermSampleScan],
    ) -> Result<Vec<Vec<Vec<i64>>>, StoreError> {
        // Each scan's window: as much of the end of its range as surely holds its samples.
        // Scans whose window is not known read backwards, widening, on their own.
        let mut out: Vec<Option<Vec<Vec<i64>>>> = vec![None; scans.len()];
        let mut batched = Vec::new();
        for (w, scan) in scans.iter().enumerate() {
            if scan.wanted.is_empty() {
                out[w] = Some(Vec::new());
            } else if let Some(window) = self.sample_window(scan) {
                batched.push((w, window));
            } else {
                out[w] = Some(self.term_samples_widening(scan).await?);
            }
        }
        if !batched.is_empty() {
            let branches: Vec<String> = batched
                .iter()
                .enumerate()
                .map(|(table, (w, window))| {
                    sample_rows_sql(&self.snapshot, *w, table, &scans[*w], *window)
                })
                .collect();
            let sql = branches.join("\nUNION ALL\n");
            let batches = self.run_branches(batched.iter().map(|b| b.1), &sql).await?;
            let mut found: HashMap<usize, Vec<Vec<(i64, i64)>>> = batched
                .iter()
                .map(|(w, _)| (*w, vec![Vec::new(); scans[*w].wanted.len()]))
                .collect();
            let indexes: HashMap<usize, HashMap<(Option<&str>, u32), usize>> = batched
                .iter()
                .map(|(w, _)| (*w, wanted_index(&scans[*w])))
                .collect();
            for batch in &batches {
                let [w, grp, term, time, id] = [0, 1, 2, 3, 4].map(|c| ints(batch, c));
                let (w, grp, term, time, id) = (w?, grp?, term?, time?, id?);
                for i in 0..batch.num_rows() {
                    let scan = w[i].unwrap_or(0) as usize;
                    let group = self.group(scans[scan].group_by, grp[i]);
                    let hash = term[i].unwrap_or(0) as u32;
                    if let Some(&k) = indexes[&scan].get(&(group.as_deref(), hash)) {
                        found.get_mut(&scan).expect("a batched scan")[k]
                            .push((time[i].unwrap_or(0), id[i].unwrap_or(0)));
                    }
                }
            }
            for (scan, samples) in found {
                out[scan] = Some(latest(samples, scans[scan].per_term));
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }

    async fn sample_ids_many(&self, scans: &[SampleScan]) -> Result<Vec<Vec<i64>>, StoreError> {
        if scans.is_empty() {
            return Ok(Vec::new());
        }
        let branches: Vec<String> = scans
            .iter()
            .enumerate()
            .map(|(w, scan)| {
                let (extra, order) = match scan.order {
                    SampleOrder::MostNegative => {
                        (" AND label IS NOT NULL", "score ASC, time DESC, id DESC")
                    }
                    SampleOrder::Latest => ("", "time DESC, id DESC"),
                };
                format!(
                    "SELECT * FROM (SELECT {w} AS w, id, time, score FROM feedback_{w} \
                     WHERE {predicate}{extra} ORDER BY {order} LIMIT {limit})",
                    predicate = predicate(&self.snapshot, Some(scan.range), &scan.filters),
                    limit = scan.limit,
                )
            })
            .collect();
        let sql = branches.join("\nUNION ALL\n");
        let batches = self
            .run_branches(scans.iter().map(|s| s.range), &sql)
            .await?;
        let mut picked: Vec<Vec<(i64, i64, Option<f64>)>> = vec![Vec::new(); scans.len()];
        for batch in &batches {
            let [w, id, time] = [0, 1, 2].map(|c| ints(batch, c));
            let (w, id, time) = (w?, id?, time?);
            let score = floats(batch, 3)?;
            for i in 0..batch.num_rows() {
                picked[w[i].unwrap_or(0) as usize].push((
                    id[i].unwrap_or(0),
                    time[i].unwrap_or(0),
                    score[i],
                ));
            }
        }
        Ok(picked
            .into_iter()
            .zip(scans)
            .map(|(mut rows, scan)| {
                match scan.order {
                    SampleOrder::MostNegative => rows.sort_by(|a, b| {
                        a.2.unwrap_or(0.0)
                            .total_cmp(&b.2.unwrap_or(0.0))
                            .then(b.1.cmp(&a.1))
                            .then(b.0.cmp(&a.0))
                    }),
                    SampleOrder::Latest => rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0))),
                }
                rows.into_iter().map(|r| r.0).collect()
            })
            .collect())
    }

    async fn fingerprint(&self, range: TimeRange, filters: &Filters) -> Result<String, StoreError> {
        let sql = format!(
            "SELECT COUNT(*), MAX(id), COUNT(label), SUM(score) FROM feedback WHERE {}",
            predicate(&self.snapshot, Some(range), filters)
        );
        let batches = self.run(range, &sql).await?;
        let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
            return Ok(String::new());
        };
        Ok(format!(
            "{}:{}:{}:{}",
            ints(batch, 0)?[0].unwrap_or(0),
            ints(batch, 1)?[0].unwrap_or(0),
            ints(batch, 2)?[0].unwrap_or(0),
            floats(batch, 3)?[0].unwrap_or(0.0)
        ))
    }

    async fn mentions(&self, query: &MentionsQuery) -> Result<Mentions, StoreError> {
        // A text search needs the texts, which only the record store holds.
        if query.search.is_some() {
            return self.store.mentions(query).await;
        }
        // The newest rows that pass the filters are picked on the engine, which reads only the
        // range's days, whatever the filters; only those rows are read from the record store.
        // (SQLite keeps no index per dimension, ADR 0008: there a rare combination of filters
        // meant scanning the whole range.)
        let sql = format!(
            "SELECT id FROM feedback WHERE {predicate} ORDER BY time DESC, id DESC LIMIT {limit}",
            predicate = predicate(&self.snapshot, Some(query.range), &query.filters),
            limit = query.limit,
        );
        let mut ids = Vec::new();
        for batch in self.run(query.range, &sql).await? {
            ids.extend(ints(&batch, 0)?.into_iter().flatten());
        }
        Ok(Mentions {
            rows: self.rows_in_order(&ids).await?,
            executed_sql: self.described(&sql),
        })
    }

    async fn sample_mentions(&self, scan: &SampleScan) -> Result<Vec<MentionRow>, StoreError> {
        let ids = self
            .sample_ids_many(std::slice::from_ref(scan))
            .await?
            .pop()
            .unwrap_or_default();
        self.rows_in_order(&ids).await
    }

    async fn aspect_mentions(
        &self,
        range: TimeRange,
        filters: &Filters,
        aspect: Aspect,
        limit: u32,
    ) -> Result<Vec<MentionRow>, StoreError> {
        // The ranking runs on the engine; only the chosen rows are read from the record store.
        let sql = format!(
            "SELECT id, time, s FROM (SELECT id, time, unnest(aspect) AS a, \
             unnest(aspect_label) AS al, unnest(aspect_score) AS s FROM feedback \
             WHERE {predicate}) WHERE a = {code} AND al = {negative} \
             ORDER BY s ASC, time DESC, id DESC LIMIT {limit}",
            predicate = predicate(&self.snapshot, Some(range), filters),
            code = aspect as u8,
            negative = Label::Negative.index(),
        );
        let mut ranked = Vec::new();
        for batch in self.run(range, &sql).await? {
            let [id, time] = [0, 1].map(|c| ints(&batch, c));
            let (id, time) = (id?, time?);
            let score = floats(&batch, 2)?;
            for i in 0..batch.num_rows() {
                ranked.push((
                    score[i].unwrap_or(0.0),
                    time[i].unwrap_or(0),
                    id[i].unwrap_or(0),
                ));
            }
        }
        ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
        let ids: Vec<i64> = ranked.iter().map(|r| r.2).collect();
        Ok(self.rows_in_order(&ids).await?)
    }

    async fn mentions_by_id(&self, ids: &[i64]) -> Result<Vec<MentionRow>, StoreError> {
        self.store.mentions_by_id(ids).await
    }

    async fn mentions_among(
        &self,
        ids: &[i64],
        query: &MentionsQuery,
    ) -> Result<Vec<MentionRow>, StoreError> {
        self.store.mentions_among(ids, query).await
    }
}

impl SnapshotReader {
    async fn distribution_once(
        &self,
        query: &DistributionQuery,
    ) -> Result<Distribution, StoreError> {
        let group = group_column(query.group_by.filter(|d| *d != Dimension::Label));
        let sql = format!(
            "SELECT label, {group_select}COUNT(*) AS count FROM feedback WHERE {predicate} \
             GROUP BY label{group_by}",
            group_select = group.map(|g| format!("{g} AS grp, ")).unwrap_or_default(),
            predicate = predicate(&self.snapshot, Some(query.range), &query.filters),
            group_by = group.map(|g| format!(", {g}")).unwrap_or_default(),
        );
        let batches = self.run(query.range, &sql).await?;
        let mut rows = Vec::new();
        for batch in &batches {
            let labels = ints(batch, 0)?;
            let codes = match group {
                Some(_) => ints(batch, 1)?,
                None => vec![None; batch.num_rows()],
            };
            let counts = ints(batch, 1 + usize::from(group.is_some()))?;
            for i in 0..batch.num_rows() {
                let label = labels[i].and_then(|c| Label::ALL.get(c as usize).copied());
                let group = match query.group_by {
                    Some(Dimension::Label) => {
                        Some(pulso_core::analysis::label::label_or_unscored(label).to_string())
                    }
                    other => self.group(other, codes[i]),
                };
                rows.push(DistributionRow {
                    label,
                    group,
                    count: counts[i].unwrap_or(0),
                });
            }
        }
        // As the record store orders them: by group, then label name.
        rows.sort_by(|a, b| {
            a.group.cmp(&b.group).then_with(|| {
                pulso_core::analysis::label::label_or_unscored(a.label)
                    .cmp(pulso_core::analysis::label::label_or_unscored(b.label))
            })
        });
        Ok(Distribution {
            rows,
            executed_sql: self.described(&sql),
        })
    }

    async fn dimension_values_once(
        &self,
        query: &DimensionValuesQuery,
    ) -> Result<DimensionValues, StoreError> {
        if query.dimension.needs_scores() && query.filters.is_empty() {
            return Ok(DimensionValues::of_scores(query.dimension));
        }
        if query.filters.is_empty() {
            let dictionary = self
                .snapshot
                .dictionary(query.dimension)
                .expect("a feed dimension");
            let mut values = dictionary.values().to_vec();
            values.sort();
            return Ok(DimensionValues {
                values,
                executed_sql: format!(
                    "{}\n-- the values of {} are the mirror's dictionary",
                    self.header(),
                    dimension_column(query.dimension)
                ),
            });
        }
        let column = dimension_column(query.dimension);
        let sql = format!(
            "SELECT DISTINCT {column} FROM feedback WHERE {} AND {column} IS NOT NULL",
            predicate(&self.snapshot, None, &query.filters)
        );
        let everything = TimeRange {
            from_ms: i64::MIN,
            to_ms: i64::MAX,
        };
        let batches = self.run(everything, &sql).await?;
        let mut values = Vec::new();
        for batch in &batches {
            for code in ints(batch, 0)? {
                if let Some(value) = self.group(Some(query.dimension), code) {
                    values.push(value);
                }
            }
        }
        values.sort();
        values.truncate(MAX_DIMENSION_VALUES);
        Ok(DimensionValues {
            values,
            executed_sql: self.described(&sql),
        })
    }
}
