//! Written insights: findings, the mentions behind them and what to do, from the statistics
//! the other trend queries compute. With an OpenAI-compatible LLM configured the findings are
//! written by it and checked against the mentions it was shown ([`llm`]); without one, or when
//! it fails, a deterministic offline summary is built from the same statistics.

pub mod llm;

use std::collections::HashSet;

use serde_json::json;
use thiserror::Error;

use pulso_core::analysis::text::fold_for_search;
use pulso_core::analysis::{terms, Aspect};
use pulso_core::query::{
    AnomaliesQuery, AnomalyView, Dimension, DistributionQuery, Filters, InsightsQuery, MentionRow,
    MentionsQuery, Metric, TimeRange,
};
use pulso_core::redact::{redact, RedactionCounts, RedactionRules};
use pulso_nlp::queue::ScoringQueue;
use pulso_store::{FeedbackReader, SampleOrder, SampleScan, StoreError};
use pulso_trends::anomalies::{anomalies, Spike};
use pulso_trends::aspect_stats::{distribution_of, distribution_scan, AspectRow};
use pulso_trends::trending::{trending_terms, TrendRequest, TrendingTerm};

use llm::{FindingKind, InsightCache, InsightRequest, LlmConfig, LlmError, SampleMention};

/// Candidate mentions read per finding; the most central three are cited.
const CANDIDATES: u32 = 24;
const EVIDENCE_PER_FINDING: usize = 3;
/// Aspects with fewer mentions are too thin to call the worst.
const MIN_ASPECT_MENTIONS: i64 = 5;

#[derive(Debug, Error)]
pub enum InsightsError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One written finding.
#[derive(Debug, Clone, PartialEq)]
pub struct InsightRow {
    pub kind: FindingKind,
    pub finding: String,
    pub evidence_ids: Vec<i64>,
    pub action: String,
}

/// Who wrote the findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeneratedBy {
    /// The deterministic summary built from the statistics.
    Offline,
    Llm {
        model: String,
    },
}

impl std::fmt::Display for GeneratedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Offline => f.write_str("offline"),
            Self::Llm { model } => write!(f, "llm:{model}"),
        }
    }
}

#[derive(Debug)]
pub struct Insights {
    pub rows: Vec<InsightRow>,
    pub generated_by: GeneratedBy,
    /// Why the LLM's answer is not shown, when one was configured and asked.
    pub llm_error: Option<LlmError>,
    /// How representative mentions were chosen.
    pub evidence_method: &'static str,
    pub mentions: u64,
}

/// The LLM to ask, when the data source has one.
pub struct LlmSetup<'a> {
    pub client: &'a reqwest::Client,
    pub config: &'a LlmConfig,
    pub cache: &'a InsightCache,
}

/// What the findings are built from.
#[derive(Debug, Default)]
struct Statistics {
    mentions: u64,
    mentions_before: u64,
    /// negative, neutral, positive counts, now and before.
    labels: [i64; 3],
    labels_before: [i64; 3],
    rising: Vec<TrendingTerm>,
    aspects: Vec<AspectRow>,
    aspects_before: Vec<AspectRow>,
    spikes: Vec<Spike>,
}

fn net(labels: [i64; 3]) -> Option<f64> {
    let scored = labels.iter().sum::<i64>();
    (scored > 0).then(|| 100.0 * (labels[2] - labels[0]) as f64 / scored as f64)
}

fn previous(range: TimeRange) -> TimeRange {
    let span = range.to_ms - range.from_ms;
    TimeRange {
        from_ms: range.from_ms - span - 1,
        to_ms: range.from_ms - 1,
    }
}

/// Negative, neutral and positive counts, in `Label::ALL` order.
async fn label_counts(
    store: &dyn FeedbackReader,
    range: TimeRange,
    filters: &Filters,
) -> Result<[i64; 3], StoreError> {
    let distribution = store
        .distribution(&DistributionQuery {
            range,
            group_by: None,
            filters: filters.clone(),
        })
        .await?;
    let mut counts = [0; 3];
    for row in distribution.rows {
        if let Some(label) = row.label {
            counts[label.index()] += row.count;
        }
    }
    Ok(counts)
}

async fn gather(
    store: &dyn FeedbackReader,
    query: &InsightsQuery,
) -> Result<Statistics, StoreError> {
    let before = previous(query.range);
    let trend = TrendRequest {
        range: query.range,
        before,
        filters: query.filters.clone(),
        group_by: None,
        min_support: 3,
        limit: 8,
    };
    let anomaly = AnomaliesQuery {
        range: query.range,
        metric: Metric::ShareNegative,
        group_by: Some(Dimension::Brand),
        bucket_ms: 86_400_000,
        baseline_buckets: 14,
        threshold: 3.5,
        view: AnomalyView::Spikes,
        filters: query.filters.clone(),
    };
    let (now_scan, before_scan) = (
        distribution_scan(query.range, &query.filters, &[]),
        distribution_scan(before, &query.filters, &[]),
    );
    // Independent reads, run together: on the analytics engine they share the cores, and
    // what the dashboard's other panels ask too is computed once.
    let (trending, spikes, labels, labels_before, aspects_now, aspects_before) = futures_util::try_join!(
        trending_terms(store, &trend),
        anomalies(store, &anomaly),
        label_counts(store, query.range, &query.filters),
        label_counts(store, before, &query.filters),
        store.aspect_counts(&now_scan),
        store.aspect_counts(&before_scan),
    )?;
    let mut aspects = [aspects_now, aspects_before]
        .into_iter()
        .map(|c| distribution_of(c).rows);
    Ok(Statistics {
        mentions: trending.mentions,
        mentions_before: trending.mentions_before,
        labels,
        labels_before,
        rising: trending
            .terms
            .into_iter()
            .filter(|t| t.growth.is_none_or(|g| g >= 25.0))
            .collect(),
        aspects: aspects.next().unwrap_or_default(),
        aspects_before: aspects.next().unwrap_or_default(),
        spikes: spikes.spikes,
    })
}

impl Statistics {
    /// Aspects by negative share, worst first, with enough mentions to mean something.
    fn worst_aspects(&self) -> Vec<&AspectRow> {
        let mut worst: Vec<&AspectRow> = self
            .aspects
            .iter()
            .filter(|a| a.mentions >= MIN_ASPECT_MENTIONS && a.negative > 0)
            .collect();
        worst.sort_by(|a, b| {
            b.share_negative()
                .unwrap_or(0.0)
                .total_cmp(&a.share_negative().unwrap_or(0.0))
        });
        worst
    }

    fn aspect_before(&self, aspect: Aspect) -> Option<&AspectRow> {
        self.aspects_before.iter().find(|a| a.aspect == aspect)
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "mentions": self.mentions,
            "mentionsPreviousPeriod": self.mentions_before,
            "sentiment": {"negative": self.labels[0], "neutral": self.labels[1], "positive": self.labels[2],
                          "netSentiment": net(self.labels).map(|v| v.round())},
            "sentimentPreviousPeriod": {"negative": self.labels_before[0], "neutral": self.labels_before[1],
                          "positive": self.labels_before[2], "netSentiment": net(self.labels_before).map(|v| v.round())},
            "risingTerms": self.rising.iter().map(|t| json!({
                "term": t.term, "count": t.count, "countBefore": t.count_before,
                "growthPercent": t.growth.map(f64::round), "avgScore": t.avg_score.map(|s| (s * 100.0).round() / 100.0),
            })).collect::<Vec<_>>(),
            "aspects": self.aspects.iter().map(|a| json!({
                "aspect": a.aspect.name(), "mentions": a.mentions,
                "negativePercent": a.share_negative().map(f64::round),
                "negativePercentPreviousPeriod": self.aspect_before(a.aspect).and_then(AspectRow::share_negative).map(f64::round),
            })).collect::<Vec<_>>(),
            "spikes": self.spikes.iter().take(5).map(|s| json!({
                "brand": s.group, "start": day(s.start_ms), "negativePercent": s.value.round(),
                "baselinePercent": s.baseline.round(), "zscore": (s.zscore * 10.0).round() / 10.0,
                "risingTerms": s.rising_terms, "worstAspects": s.worst_aspects,
            })).collect::<Vec<_>>(),
        })
    }
}

fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// What to do about a failing aspect: a starting point for the team, in Spanish.
fn playbook(aspect: Aspect) -> &'static str {
    match aspect {
        Aspect::Delivery => "Revisar con el operador de delivery los tiempos de despacho y el empaque térmico en las zonas afectadas, y comunicar tiempos de entrega reales.",
        Aspect::Taste => "Revisar la estandarización de recetas y sazón en cocina, con catas de control en los locales afectados.",
        Aspect::Price => "Comparar precios y promociones con la competencia y comunicar mejor el valor (porciones, combos).",
        Aspect::Service => "Reforzar la capacitación del personal de atención y revisar la dotación en horas punta.",
        Aspect::Hygiene => "Hacer una auditoría de limpieza inmediata en los locales mencionados y comunicar las medidas tomadas.",
        Aspect::Portion => "Revisar los gramajes estándar y que las porciones sean iguales en todos los locales.",
        Aspect::Freshness => "Revisar la rotación de insumos, las fechas de vencimiento y la cadena de frío del lote afectado.",
        Aspect::Packaging => "Auditar el lote y el sellado del empaque con el proveedor, y evaluar retirar el lote afectado.",
    }
}

/// The aspect a term speaks of, if any ("llegó frío" → delivery).
fn aspect_of_term(term: &str) -> Option<Aspect> {
    pulso_core::analysis::aspects::aspects_of(term)
        .into_iter()
        .next()
}

/// Similarity of two candidates, by index.
type Similarity = Box<dyn Fn(usize, usize) -> f64>;

/// Picks the most central mentions: the ones most similar, on average, to the others. Uses the
/// model's sentence embeddings when a model is loaded, shared terms otherwise.
async fn central(
    queue: Option<&ScoringQueue>,
    candidates: &[MentionRow],
    keep: usize,
) -> (Vec<i64>, &'static str) {
    if candidates.len() <= keep {
        return (candidates.iter().map(|m| m.id).collect(), "all candidates");
    }
    let mut vectors: Option<Vec<Vec<f32>>> = None;
    if let Some(queue) = queue {
        let texts = candidates.iter().map(|m| m.text.clone()).collect();
        if let Ok(results) = queue.score(texts).await {
            let embeddings: Vec<Vec<f32>> = results
                .into_iter()
                .map(|r| r.map(|p| p.embedding).unwrap_or_default())
                .collect();
            if embeddings.iter().all(|e| !e.is_empty()) {
                vectors = Some(embeddings);
            }
        }
    }
    let (similarity, method): (Similarity, &'static str) = match vectors {
        Some(vectors) => {
            let normalised: Vec<Vec<f32>> = vectors
                .into_iter()
                .map(|v| {
                    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-9);
                    v.into_iter().map(|x| x / norm).collect()
                })
                .collect();
            (
                Box::new(move |a, b| {
                    normalised[a]
                        .iter()
                        .zip(&normalised[b])
                        .map(|(x, y)| f64::from(x * y))
                        .sum()
                }),
                "embedding centrality",
            )
        }
        None => {
            let sets: Vec<HashSet<u32>> = candidates
                .iter()
                .map(|m| {
                    terms::term_hashes(&m.text, &m.language)
                        .into_iter()
                        .collect()
                })
                .collect();
            (
                Box::new(move |a, b| {
                    let shared = sets[a].intersection(&sets[b]).count() as f64;
                    let union = sets[a].union(&sets[b]).count().max(1) as f64;
                    shared / union
                }),
                "shared-term centrality (no sentiment model loaded)",
            )
        }
    };
    let n = candidates.len();
    let mut centrality: Vec<(f64, usize)> = (0..n)
        .map(|i| {
            let total: f64 = (0..n).filter(|&j| j != i).map(|j| similarity(i, j)).sum();
            (total / (n - 1) as f64, i)
        })
        .collect();
    centrality.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    (
        centrality
            .into_iter()
            .take(keep)
            .map(|(_, i)| candidates[i].id)
            .collect(),
        method,
    )
}

/// A finding in the making: its text, action and candidate mentions.
struct Draft {
    kind: FindingKind,
    finding: String,
    action: String,
    source: Source,
    candidates: Vec<MentionRow>,
}

/// Where a draft's candidate mentions come from.
enum Source {
    /// The latest mentions in range.
    Latest,
    Ids(Vec<i64>),
    /// Mentions whose folded text contains this.
    Search(String),
    /// The most negative mentions about the aspect.
    Aspect(Aspect),
}

async fn candidates(
    store: &dyn FeedbackReader,
    query: &InsightsQuery,
    source: &Source,
) -> Result<Vec<MentionRow>, StoreError> {
    match source {
        Source::Latest => {
            store
                .sample_mentions(&SampleScan {
                    range: query.range,
                    filters: query.filters.clone(),
                    order: SampleOrder::Latest,
                    limit: CANDIDATES,
                })
                .await
        }
        Source::Ids(ids) => store.mentions_by_id(ids).await,
        Source::Search(needle) => Ok(store
            .mentions(&MentionsQuery {
                range: query.range,
                limit: CANDIDATES,
                search: Some(needle.clone()),
                filters: query.filters.clone(),
            })
            .await?
            .rows),
        Source::Aspect(aspect) => {
            store
                .aspect_mentions(query.range, &query.filters, *aspect, CANDIDATES)
                .await
        }
    }
}

async fn drafts(
    store: &dyn FeedbackReader,
    query: &InsightsQuery,
    stats: &Statistics,
) -> Result<Vec<Draft>, StoreError> {
    let mut drafts = Vec::new();
    let change = |now: u64, before: u64| -> String {
        if before == 0 {
            "sin datos del periodo anterior".to_string()
        } else {
            format!(
                "{:+.0}% frente al periodo anterior",
                100.0 * (now as f64 - before as f64) / before as f64
            )
        }
    };
    let net_text = match (net(stats.labels), net(stats.labels_before)) {
        (Some(now), Some(before)) => {
            format!("Sentimiento neto {now:+.0} ({:+.0} puntos).", now - before)
        }
        (Some(now), None) => format!("Sentimiento neto {now:+.0}."),
        _ => "Aún no hay menciones puntuadas por el modelo de sentimiento.".to_string(),
    };
    drafts.push(Draft {
        kind: FindingKind::Summary,
        finding: format!(
            "{} menciones del {} al {} ({}). {net_text}",
            stats.mentions,
            day(query.range.from_ms),
            day(query.range.to_ms),
            change(stats.mentions, stats.mentions_before),
        ),
        action: String::new(),
        source: Source::Latest,
        candidates: Vec::new(),
    });
    for spike in stats.spikes.iter().take(2) {
        let who = spike.group.as_deref().unwrap_or("todas las marcas");
        let mut finding = format!(
            "Pico inusual de menciones negativas para {who} desde el {}: {:.0}% negativo frente a {:.0}% habitual (z = {:.1}).",
            day(spike.start_ms),
            spike.value,
            spike.baseline,
            spike.zscore
        );
        if !spike.rising_terms.is_empty() {
            finding.push_str(&format!(" Suben: {}.", spike.rising_terms.join(", ")));
        }
        let action = spike
            .worst_aspects
            .first()
            .and_then(|a| a.split(' ').next())
            .and_then(Aspect::from_name)
            .map(playbook)
            .unwrap_or("Leer las menciones del pico y responder a los clientes afectados.");
        drafts.push(Draft {
            kind: FindingKind::Driver,
            finding,
            action: action.to_string(),
            source: Source::Ids(spike.mention_ids.clone()),
            candidates: Vec::new(),
        });
    }
    for term in stats.rising.iter().take(3) {
        let growth = match term.growth {
            Some(g) => format!(
                "sube {g:.0}% ({} → {} menciones)",
                term.count_before, term.count
            ),
            None => format!("aparece con {} menciones (antes ninguna)", term.count),
        };
        let mood = match term.avg_score {
            Some(s) if s <= -0.2 => "mayormente negativas",
            Some(s) if s >= 0.2 => "mayormente positivas",
            Some(_) => "de tono mixto",
            None => "aún sin puntuar",
        };
        let action = match (term.avg_score, aspect_of_term(&term.term)) {
            (Some(s), Some(aspect)) if s < 0.0 => playbook(aspect).to_string(),
            (Some(s), None) if s < 0.0 => format!(
                "Responder a quienes mencionan «{}» y averiguar la causa con las tiendas.",
                term.term
            ),
            (Some(s), _) if s >= 0.2 => format!(
                "Aprovechar «{}» en la comunicación de marca mientras dura el interés.",
                term.term
            ),
            _ => format!("Seguir la evolución de «{}».", term.term),
        };
        drafts.push(Draft {
            kind: FindingKind::Driver,
            finding: format!("«{}» {growth}; menciones {mood}.", term.term),
            action,
            source: Source::Search(fold_for_search(&term.term)),
            candidates: Vec::new(),
        });
    }
    for aspect in stats.worst_aspects().into_iter().take(2) {
        let share = aspect.share_negative().unwrap_or(0.0);
        let before = stats
            .aspect_before(aspect.aspect)
            .and_then(AspectRow::share_negative)
            .map(|b| format!(" ({:+.0} puntos frente al periodo anterior)", share - b))
            .unwrap_or_default();
        drafts.push(Draft {
            kind: FindingKind::Driver,
            finding: format!(
                "{}: {share:.0}% de {} menciones son negativas{before}.",
                capitalise(aspect.aspect.spanish()),
                aspect.mentions
            ),
            action: playbook(aspect.aspect).to_string(),
            source: Source::Aspect(aspect.aspect),
            candidates: Vec::new(),
        });
    }
    // Every draft's candidates, read at once.
    let fetched = futures_util::future::try_join_all(
        drafts
            .iter()
            .map(|draft| candidates(store, query, &draft.source)),
    )
    .await?;
    for (draft, candidates) in drafts.iter_mut().zip(fetched) {
        draft.candidates = candidates;
    }
    Ok(drafts)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// Builds the offline summary, then, when asked and configured, the LLM's; an LLM failure
/// keeps the offline rows and reports the error.
pub async fn insights(
    store: &dyn FeedbackReader,
    queue: Option<&ScoringQueue>,
    query: &InsightsQuery,
    query_key: &[u8],
    llm: Option<LlmSetup<'_>>,
) -> Result<Insights, InsightsError> {
    let stats = gather(store, query).await?;
    if stats.mentions == 0 {
        return Ok(Insights {
            rows: Vec::new(),
            generated_by: GeneratedBy::Offline,
            llm_error: None,
            evidence_method: "all candidates",
            mentions: 0,
        });
    }
    let drafts = drafts(store, query, &stats).await?;
    let mut rows = Vec::new();
    let mut evidence_method = "all candidates";
    for draft in &drafts {
        let (ids, method) = central(queue, &draft.candidates, EVIDENCE_PER_FINDING).await;
        if draft.candidates.len() > EVIDENCE_PER_FINDING {
            evidence_method = method;
        }
        rows.push(InsightRow {
            kind: draft.kind,
            finding: draft.finding.clone(),
            evidence_ids: ids,
            action: draft.action.clone(),
        });
    }
    if let Some(top) = rows
        .iter()
        .find(|r| r.kind == FindingKind::Driver && !r.action.is_empty())
        .cloned()
    {
        rows.push(InsightRow {
            kind: FindingKind::Suggestion,
            finding: format!("Prioridad: {}", top.action),
            evidence_ids: top.evidence_ids,
            action: top.action,
        });
    }
    let offline = Insights {
        rows,
        generated_by: GeneratedBy::Offline,
        llm_error: None,
        evidence_method,
        mentions: stats.mentions,
    };
    let Some(setup) = llm.filter(|_| query.use_llm && stats.mentions > 0) else {
        return Ok(offline);
    };

    // The sample: every candidate, most useful first, personal data redacted once more.
    let mut seen = HashSet::new();
    let mut mentions = Vec::new();
    let rules = RedactionRules { handles: true };
    for draft in &drafts {
        for m in &draft.candidates {
            if seen.insert(m.id) {
                let mut counts = RedactionCounts::default();
                mentions.push(SampleMention {
                    id: m.id,
                    text: redact(&m.text, rules, &mut counts).into_owned(),
                    label: m.label.map(|l| l.name().to_string()),
                    region: m.region.clone(),
                    brand: m.brand.clone(),
                    time: day(m.time_ms),
                });
            }
        }
    }
    let fingerprint = store.fingerprint(query.range, &query.filters).await?;
    // The range is not in the query's JSON, and a changed key must not reuse another
    // account's answer; the key is hashed, never stored.
    let range = format!("{}..{}", query.range.from_ms, query.range.to_ms);
    let key = llm::cache_key(&[
        query_key,
        range.as_bytes(),
        fingerprint.as_bytes(),
        setup.config.base_url.as_bytes(),
        setup.config.model.as_bytes(),
        setup
            .config
            .api_key
            .as_deref()
            .unwrap_or_default()
            .as_bytes(),
    ]);
    let answer = match setup.cache.get(&key) {
        Some(answer) => Ok(answer),
        None => {
            let request = InsightRequest {
                statistics: stats.to_json(),
                mentions,
                language: "es".to_string(),
            };
            let answer = llm::ask(setup.client, setup.config, &request).await;
            if let Ok(answer) = &answer {
                setup.cache.insert(key, answer.clone());
            }
            answer
        }
    };
    match answer {
        Ok(answer) => Ok(Insights {
            rows: answer
                .findings
                .into_iter()
                .map(|f| InsightRow {
                    kind: f.kind,
                    finding: f.text,
                    evidence_ids: f.evidence_ids,
                    action: f.action.unwrap_or_default(),
                })
                .collect(),
            generated_by: GeneratedBy::Llm {
                model: setup.config.model.clone(),
            },
            llm_error: None,
            evidence_method: "cited by the LLM, checked against the mentions it was shown",
            mentions: stats.mentions,
        }),
        Err(error) => Ok(Insights {
            llm_error: Some(error),
            ..offline
        }),
    }
}
