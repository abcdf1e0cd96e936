//! What Pulso's SQL record stores (SQLite, PostgreSQL) share: the query model's statements in
//! either dialect, the checks a row passes before it is stored, and counting stored term
//! hashes ([`terms`]). Every value is bound, every identifier comes from a whitelist
//! ([`column`]), so nothing a user types can change a statement.

pub mod rows;
pub mod terms;

use pulso_core::analysis::Aspect;
use pulso_core::query::{
    Dimension, DimensionValuesQuery, DistributionQuery, Filters, MentionsQuery, TimeRange,
    TimeseriesQuery,
};
use pulso_store::{AspectScan, SampleOrder, SampleScan};

/// The SQL dialect a statement is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    #[default]
    Sqlite,
    Postgres,
}

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Int(i64),
    Real(f64),
    Text(String),
}

/// A statement with its bound values, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub binds: Vec<Bind>,
}

impl Statement {
    /// A statement without bound values.
    pub fn plain(sql: &str) -> Self {
        Self {
            sql: sql.to_string(),
            binds: Vec::new(),
        }
    }

    /// The statement and its values, as shown in Grafana's query inspector.
    pub fn describe(&self) -> String {
        if self.binds.is_empty() {
            return self.sql.clone();
        }
        let values: Vec<String> = self
            .binds
            .iter()
            .map(|b| match b {
                Bind::Int(v) => v.to_string(),
                Bind::Real(v) => v.to_string(),
                Bind::Text(v) => format!("{v:?}"),
            })
            .collect();
        format!("{}\n-- values: [{}]", self.sql, values.join(", "))
    }
}

struct Builder {
    dialect: Dialect,
    sql: String,
    binds: Vec<Bind>,
}

impl Builder {
    fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            sql: String::new(),
            binds: Vec::new(),
        }
    }

    fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        match self.dialect {
            Dialect::Sqlite => self.sql.push('?'),
            Dialect::Postgres => {
                self.sql.push('$');
                self.sql.push_str(&self.binds.len().to_string());
            }
        }
        self
    }

    /// Rows for which `condition` holds, as an integer column (0 when there are none).
    fn count_where(&mut self, condition: &str) -> &mut Self {
        match self.dialect {
            Dialect::Sqlite => self.push(&format!("COALESCE(SUM({condition}), 0)")),
            Dialect::Postgres => self.push(&format!("COUNT(*) FILTER (WHERE {condition})")),
        }
    }

    /// An integer column that is NULL (PostgreSQL types an untyped NULL as text).
    fn null_integer(&mut self) -> &mut Self {
        match self.dialect {
            Dialect::Sqlite => self.push("NULL"),
            Dialect::Postgres => self.push("CAST(NULL AS BIGINT)"),
        }
    }

    /// Whether `haystack` contains the bound `needle`.
    fn contains(&mut self, haystack: &str, needle: String) -> &mut Self {
        let function = match self.dialect {
            Dialect::Sqlite => "instr",
            Dialect::Postgres => "strpos",
        };
        self.push(&format!(" AND {function}({haystack}, "))
            .bind(Bind::Text(needle))
            .push(") > 0")
    }

    fn finish(self) -> Statement {
        Statement {
            sql: self.sql,
            binds: self.binds,
        }
    }
}

/// The column behind a dimension. Sentiment columns hold the active model's scores.
pub fn column(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::SourceType => "f.source_type",
        Dimension::Platform => "f.platform",
        Dimension::Region => "f.region",
        Dimension::Category => "f.category",
        Dimension::Brand => "f.brand",
        Dimension::Product => "f.product",
        Dimension::Language => "f.language",
        Dimension::Label => "f.label",
        // Scored rows without a stored emotion are `none`; unscored rows stay NULL, so a
        // filter never matches them and a group shows them as `unscored`, as for the label.
        Dimension::Emotion => {
            "(CASE WHEN f.label IS NULL THEN NULL ELSE COALESCE(f.emotion, 'none') END)"
        }
    }
}

/// A score row's (alias `s`) dominant emotion, as `pulso_core::analysis::emotion::dominant`
/// picks it: the most confident at or above 0.5, the first in stored order on a tie. NULL when
/// the scores have no emotions (a model stores all six or none).
pub fn dominant_emotion_of_scores(dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => DOMINANT_EMOTION_OF_SCORES.to_string(),
        // PostgreSQL's `max` is only an aggregate; GREATEST is its multi-argument form.
        Dialect::Postgres => DOMINANT_EMOTION_OF_SCORES.replace("max(", "GREATEST("),
    }
}

const DOMINANT_EMOTION_OF_SCORES: &str = "(CASE \
     WHEN max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) IS NULL \
       OR max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) < 0.5 \
       THEN NULL \
     WHEN s.p_joy = max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) \
       THEN 'joy' \
     WHEN s.p_anger = max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) \
       THEN 'anger' \
     WHEN s.p_sadness = max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) \
       THEN 'sadness' \
     WHEN s.p_fear = max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) \
       THEN 'fear' \
     WHEN s.p_surprise = max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) \
       THEN 'surprise' \
     ELSE 'disgust' END)";

/// The same column without its table alias, for statements over `feedback` alone.
fn bare_column(dimension: Dimension) -> &'static str {
    column(dimension).trim_start_matches("f.")
}

fn where_clause(b: &mut Builder, range: Option<TimeRange>, filters: &Filters) {
    b.push(" WHERE 1 = 1");
    if let Some(range) = range {
        b.push(" AND f.event_time_ms >= ")
            .bind(Bind::Int(range.from_ms))
            .push(" AND f.event_time_ms <= ")
            .bind(Bind::Int(range.to_ms));
    }
    for (dimension, values) in &filters.values {
        b.push(" AND ").push(column(*dimension)).push(" IN (");
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                b.push(", ");
            }
            b.bind(Bind::Text(value.clone()));
        }
        b.push(")");
    }
    if let Some(min) = filters.min_confidence {
        b.push(" AND f.confidence >= ").bind(Bind::Real(min));
    }
}

/// Columns: bucket index, group, volume, scored, positive, negative, score sum.
pub fn timeseries(dialect: Dialect, query: &TimeseriesQuery) -> Statement {
    let mut b = Builder::new(dialect);
    b.push("SELECT (f.event_time_ms - ")
        .bind(Bind::Int(query.bucket_origin()))
        .push(") / ")
        .bind(Bind::Int(query.bucket_ms))
        .push(" AS bucket, ");
    match query.group_by {
        Some(d) => b.push(column(d)),
        None => b.push("NULL"),
    };
    b.push(" AS grp, COUNT(*) AS volume, COUNT(f.label) AS scored, ")
        .count_where("f.label = 'positive'")
        .push(" AS positive, ")
        .count_where("f.label = 'negative'")
        .push(" AS negative, SUM(f.score) AS score_sum FROM feedback f");
    where_clause(&mut b, Some(query.range), &query.filters);
    b.push(" GROUP BY bucket, grp");
    b.finish()
}

/// The columns every mention row is read from, in `MentionRow` order.
const MENTION_COLUMNS: &str = "SELECT f.event_time_ms, f.id, f.text, f.source_type, \
     f.platform, f.region, f.category, f.brand, f.label, f.score, f.confidence, f.language \
     FROM feedback f";

pub fn mentions(dialect: Dialect, query: &MentionsQuery) -> Statement {
    mentions_in(dialect, query, None)
}

/// [`mentions`] among the given rows only (the caller orders the chunks it sends).
pub fn mentions_among(dialect: Dialect, ids: &[i64], query: &MentionsQuery) -> Statement {
    mentions_in(dialect, query, Some(ids))
}

fn mentions_in(dialect: Dialect, query: &MentionsQuery, among: Option<&[i64]>) -> Statement {
    let mut b = Builder::new(dialect);
    b.push(MENTION_COLUMNS);
    where_clause(&mut b, Some(query.range), &query.filters);
    if let Some(needle) = &query.search {
        b.contains("f.text_folded", needle.clone());
    }
    if let Some(ids) = among {
        b.push(" AND f.id IN (");
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                b.push(", ");
            }
            b.bind(Bind::Int(*id));
        }
        b.push(")");
    }
    b.push(" ORDER BY f.event_time_ms DESC, f.id DESC LIMIT ")
        .bind(Bind::Int(i64::from(query.limit)));
    b.finish()
}

/// Mentions picked to illustrate a range: the most negative first, or the latest first.
pub fn sample_mentions(dialect: Dialect, scan: &SampleScan) -> Statement {
    sample(dialect, MENTION_COLUMNS, scan)
}

/// The ids [`sample_mentions`] would return, in the same order.
pub fn sample_ids(dialect: Dialect, scan: &SampleScan) -> Statement {
    sample(dialect, "SELECT f.id FROM feedback f", scan)
}

fn sample(dialect: Dialect, select: &str, scan: &SampleScan) -> Statement {
    let mut b = Builder::new(dialect);
    b.push(select);
    where_clause(&mut b, Some(scan.range), &scan.filters);
    match scan.order {
        SampleOrder::MostNegative => b.push(
            " AND f.label IS NOT NULL ORDER BY f.score ASC, f.event_time_ms DESC, f.id DESC LIMIT ",
        ),
        SampleOrder::Latest => b.push(" ORDER BY f.event_time_ms DESC, f.id DESC LIMIT "),
    };
    b.bind(Bind::Int(i64::from(scan.limit)));
    b.finish()
}

pub fn aspect_mentions(
    dialect: Dialect,
    range: TimeRange,
    filters: &Filters,
    aspect: Aspect,
    limit: u32,
) -> Statement {
    let mut b = Builder::new(dialect);
    b.push(MENTION_COLUMNS)
        .push(" JOIN aspect_scores a ON a.feedback_id = f.id");
    where_clause(&mut b, Some(range), filters);
    b.push(
        " AND a.model_id = (SELECT value FROM settings WHERE key = 'active_model_id') \
         AND a.label = 'negative' AND a.aspect = ",
    )
    .bind(Bind::Text(aspect.name().to_string()))
    .push(" ORDER BY a.score ASC, f.event_time_ms DESC, f.id DESC LIMIT ")
    .bind(Bind::Int(i64::from(limit)));
    b.finish()
}

pub fn mentions_by_id(dialect: Dialect, ids: &[i64]) -> Statement {
    let mut b = Builder::new(dialect);
    b.push(MENTION_COLUMNS).push(" WHERE f.id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            b.push(", ");
        }
        b.bind(Bind::Int(*id));
    }
    b.push(")");
    b.finish()
}

/// The rows a trending query counts: id, group, score. Read from the covering time index, so
/// it never visits the table. Columns: id, group, score.
pub fn term_rows(
    dialect: Dialect,
    range: TimeRange,
    filters: &Filters,
    group_by: Option<Dimension>,
) -> Statement {
    let mut b = Builder::new(dialect);
    b.push("SELECT f.id, ");
    push_term_group(&mut b, group_by);
    b.push(" AS grp, f.score FROM feedback f");
    where_clause(&mut b, Some(range), filters);
    b.finish()
}

/// The rows a trending query counts with their hashes, in (time, id) order, for a store that
/// keeps the hashes in the row only. Columns: id, time, group, score, hashes (NULL until
/// indexed).
pub fn term_rows_with_hashes(
    dialect: Dialect,
    range: TimeRange,
    filters: &Filters,
    group_by: Option<Dimension>,
) -> Statement {
    let mut b = Builder::new(dialect);
    b.push("SELECT f.id, f.event_time_ms, ");
    push_term_group(&mut b, group_by);
    b.push(" AS grp, f.score, f.terms FROM feedback f");
    where_clause(&mut b, Some(range), filters);
    b.push(" ORDER BY f.event_time_ms, f.id");
    b.finish()
}

fn push_term_group(b: &mut Builder, group_by: Option<Dimension>) {
    match group_by {
        Some(d) if d.needs_scores() => b.push(&format!("COALESCE({}, 'unscored')", column(d))),
        Some(d) => b.push(column(d)),
        None => b.push("CAST(NULL AS TEXT)"),
    };
}

/// The stored term hashes of a time range, in time order. Columns: id, time, hashes.
pub fn term_slices(dialect: Dialect, range: TimeRange) -> Statement {
    let mut b = Builder::new(dialect);
    b.push(
        "SELECT t.feedback_id, t.event_time_ms, t.terms FROM feedback_terms t \
         WHERE t.event_time_ms >= ",
    )
    .bind(Bind::Int(range.from_ms))
    .push(" AND t.event_time_ms <= ")
    .bind(Bind::Int(range.to_ms));
    b.finish()
}

/// Columns: bucket (or NULL), aspect, mentions, positive, negative, neutral, score sum. Reads
/// the active model's aspect results; joins the feedback only when filters need it.
pub fn aspect_counts(dialect: Dialect, scan: &AspectScan) -> Statement {
    let mut b = Builder::new(dialect);
    b.push("SELECT ");
    match scan.buckets {
        Some((origin, width)) => b
            .push("(a.event_time_ms - ")
            .bind(Bind::Int(origin))
            .push(") / ")
            .bind(Bind::Int(width)),
        None => b.null_integer(),
    };
    b.push(" AS bucket, a.aspect, COUNT(*) AS mentions, ")
        .count_where("a.label = 'positive'")
        .push(" AS positive, ")
        .count_where("a.label = 'negative'")
        .push(" AS negative, ")
        .count_where("a.label = 'neutral'")
        .push(" AS neutral, SUM(a.score) AS score_sum FROM aspect_scores a");
    if scan.filters.is_empty() {
        b.push(" WHERE 1 = 1");
    } else {
        b.push(" JOIN feedback f ON f.id = a.feedback_id");
        where_clause(&mut b, None, &scan.filters);
    }
    b.push(
        " AND a.model_id = (SELECT value FROM settings WHERE key = 'active_model_id') \
         AND a.event_time_ms >= ",
    )
    .bind(Bind::Int(scan.range.from_ms))
    .push(" AND a.event_time_ms <= ")
    .bind(Bind::Int(scan.range.to_ms));
    if !scan.aspects.is_empty() {
        b.push(" AND a.aspect IN (");
        for (i, aspect) in scan.aspects.iter().enumerate() {
            if i > 0 {
                b.push(", ");
            }
            b.bind(Bind::Text(aspect.name().to_string()));
        }
        b.push(")");
    }
    b.push(" GROUP BY bucket, a.aspect ORDER BY bucket, a.aspect");
    b.finish()
}

/// Changes whenever rows in the range are added or scored: a cache key for written insights.
pub fn fingerprint(dialect: Dialect, range: TimeRange, filters: &Filters) -> Statement {
    let mut b = Builder::new(dialect);
    b.push(
        "SELECT COUNT(*) || ':' || COALESCE(MAX(f.id), 0) || ':' || COUNT(f.label) || ':' || \
         COALESCE(SUM(f.score), 0) FROM feedback f",
    );
    where_clause(&mut b, Some(range), filters);
    b.finish()
}

/// Columns: label (or `unscored`), group, count.
pub fn distribution(dialect: Dialect, query: &DistributionQuery) -> Statement {
    let mut b = Builder::new(dialect);
    b.push("SELECT COALESCE(f.label, 'unscored') AS label, ");
    match query.group_by {
        Some(d) if d.needs_scores() => b.push(&format!("COALESCE({}, 'unscored')", column(d))),
        Some(d) => b.push(column(d)),
        None => b.push("NULL"),
    };
    b.push(" AS grp, COUNT(*) AS count FROM feedback f");
    where_clause(&mut b, Some(query.range), &query.filters);
    b.push(" GROUP BY label, grp ORDER BY grp, label");
    b.finish()
}

/// Distinct values of a feedback dimension. Without filters, PostgreSQL walks the dimension's
/// index one value at a time (a loose index scan), one seek per value; SQLite keeps no index
/// per dimension (migration 0009) and reads the covering time index once.
pub fn dimension_values(dialect: Dialect, query: &DimensionValuesQuery) -> Statement {
    let mut b = Builder::new(dialect);
    if query.filters.is_empty() && dialect == Dialect::Postgres {
        let col = bare_column(query.dimension);
        b.push(&format!(
            "WITH RECURSIVE v(value) AS (SELECT MIN({col}) FROM feedback \
             UNION ALL SELECT (SELECT MIN({col}) FROM feedback WHERE {col} > v.value) \
             FROM v WHERE v.value IS NOT NULL) SELECT value FROM v WHERE value IS NOT NULL"
        ));
    } else {
        let col = column(query.dimension);
        b.push(&format!("SELECT DISTINCT {col} AS value FROM feedback f"));
        where_clause(&mut b, None, &query.filters);
        b.push(&format!(" AND {col} IS NOT NULL ORDER BY 1 LIMIT 10000"));
    }
    b.finish()
}

/// The change feed's rows: every row, or those whose revision is above `since`, in id order.
/// Columns: id, time, the seven dimensions, label, score, confidence, terms, emotion.
pub fn feed_rows(dialect: Dialect, since: Option<i64>) -> Statement {
    let mut b = Builder::new(dialect);
    b.push(
        "SELECT id, event_time_ms, source_type, platform, region, category, brand, product, \
         language, label, score, confidence, terms, emotion FROM feedback",
    );
    if let Some(revision) = since {
        // Without statistics SQLite would rather scan the table in id order than sort the
        // few changed rows: make it use the revision index.
        if dialect == Dialect::Sqlite {
            b.push(" INDEXED BY feedback_revision");
        }
        b.push(" WHERE revision > ").bind(Bind::Int(revision));
    }
    b.push(" ORDER BY id");
    b.finish()
}

/// The active model's aspect results of the feed's rows, in feedback id order.
/// Columns: feedback id, aspect, label, score.
pub fn feed_aspects(dialect: Dialect, since: Option<i64>, model_id: &str) -> Statement {
    let mut b = Builder::new(dialect);
    match since {
        None => b
            .push(
                "SELECT a.feedback_id, a.aspect, a.label, a.score FROM aspect_scores a \
                 WHERE a.model_id = ",
            )
            .bind(Bind::Text(model_id.to_string())),
        Some(revision) => b
            .push(match dialect {
                Dialect::Sqlite => {
                    "SELECT a.feedback_id, a.aspect, a.label, a.score FROM feedback f \
                     INDEXED BY feedback_revision CROSS JOIN aspect_scores a ON a.model_id = "
                }
                Dialect::Postgres => {
                    "SELECT a.feedback_id, a.aspect, a.label, a.score FROM feedback f \
                     JOIN aspect_scores a ON a.model_id = "
                }
            })
            .bind(Bind::Text(model_id.to_string()))
            .push(" AND a.feedback_id = f.id WHERE f.revision > ")
            .bind(Bind::Int(revision)),
    };
    b.push(" ORDER BY a.feedback_id, a.aspect");
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulso_core::query::Metric;

    fn filters_with_injection() -> Filters {
        Filters {
            values: vec![(
                Dimension::Region,
                vec!["Lima'); DROP TABLE feedback; --".to_string()],
            )],
            min_confidence: Some(0.5),
        }
    }

    #[test]
    fn user_values_are_bound_never_inlined() {
        let stmt = mentions(
            Dialect::Sqlite,
            &MentionsQuery {
                range: TimeRange {
                    from_ms: 0,
                    to_ms: 10,
                },
                limit: 5,
                search: Some("' OR 1=1 --".to_string()),
                filters: filters_with_injection(),
            },
        );
        assert!(!stmt.sql.contains("DROP"), "{}", stmt.sql);
        assert!(!stmt.sql.contains("OR 1=1"), "{}", stmt.sql);
        assert_eq!(stmt.sql.matches('?').count(), stmt.binds.len());
        assert!(stmt.binds.contains(&Bind::Text("' OR 1=1 --".to_string())));
    }

    #[test]
    fn postgres_placeholders_are_numbered_in_bind_order() {
        let stmt = mentions(
            Dialect::Postgres,
            &MentionsQuery {
                range: TimeRange {
                    from_ms: 0,
                    to_ms: 10,
                },
                limit: 5,
                search: Some("pollo".to_string()),
                filters: filters_with_injection(),
            },
        );
        assert!(!stmt.sql.contains('?'), "{}", stmt.sql);
        let numbered: Vec<String> = (1..=stmt.binds.len()).map(|i| format!("${i}")).collect();
        let mut rest = stmt.sql.as_str();
        for placeholder in &numbered {
            let at = rest
                .find(placeholder.as_str())
                .unwrap_or_else(|| panic!("{placeholder} missing or out of order in {}", stmt.sql));
            rest = &rest[at + placeholder.len()..];
        }
        assert!(stmt.sql.contains("strpos(f.text_folded, $"), "{}", stmt.sql);
        assert!(!stmt.sql.contains(&format!("${}", stmt.binds.len() + 1)));
    }

    #[test]
    fn buckets_align_to_the_epoch_and_sentiment_needs_no_join() {
        let query = TimeseriesQuery {
            range: TimeRange {
                from_ms: 5_000,
                to_ms: 20_000,
            },
            metric: Metric::NetSentiment,
            group_by: Some(Dimension::Label),
            bucket_ms: 3_000,
            filters: Filters::default(),
        };
        let stmt = timeseries(Dialect::Sqlite, &query);
        assert!(!stmt.sql.contains("JOIN"), "{}", stmt.sql);
        assert_eq!(stmt.binds[..2], [Bind::Int(3_000), Bind::Int(3_000)]);
    }
}
