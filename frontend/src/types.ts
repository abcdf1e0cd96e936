import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

/**
 * The query model is a contract with the Rust backend (src/query/parse.rs): field names and
 * values here must match it exactly.
 */

export const QUERY_TYPES = [
  'timeseries',
  'mentions',
  'distribution',
  'dimension_values',
  'trending_terms',
  'aspects',
  'anomalies',
  'insights',
] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

export const METRICS = [
  'volume',
  'avg_score',
  'net_sentiment',
  'share_positive',
  'share_negative',
  'share_of_voice',
] as const;
export type Metric = (typeof METRICS)[number];

/** The metrics an `anomalies` query can watch. */
export const ANOMALY_METRICS = ['share_negative', 'volume'] as const;
export type AnomalyMetric = (typeof ANOMALY_METRICS)[number];

/** What a product or service is praised or blamed for; the backend's aspect keys. */
export const ASPECTS = [
  'taste',
  'price',
  'service',
  'delivery',
  'hygiene',
  'portion',
  'freshness',
  'packaging',
] as const;
export type Aspect = (typeof ASPECTS)[number];

/** `aspects` views: a table per aspect, or one series per aspect over time. */
export const ASPECT_VIEWS = ['distribution', 'timeseries'] as const;
export type AspectView = (typeof ASPECT_VIEWS)[number];

/** `anomalies` views: z-score series (alertable), or a table of spikes (usable as annotations). */
export const ANOMALY_VIEWS = ['timeseries', 'spikes'] as const;
export type AnomalyView = (typeof ANOMALY_VIEWS)[number];

export const DIMENSIONS = [
  'sourceType',
  'platform',
  'region',
  'category',
  'brand',
  'product',
  'language',
  'label',
  'emotion',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Query types that count terms (trending_terms, anomalies) cannot group by emotion. */
export const TERM_GROUP_DIMENSIONS: readonly Dimension[] = DIMENSIONS.filter((d) => d !== 'emotion');

/** Dimension → accepted values; an absent or empty list means "all". */
export type Filters = Partial<Record<Dimension, string[]>>;

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 5000;

/** trending_terms: a term must appear in at least this many mentions (>= 1). */
export const DEFAULT_MIN_SUPPORT = 5;
export const MIN_MIN_SUPPORT = 1;
export const MAX_MIN_SUPPORT = 1_000_000;
/** trending_terms: how many terms, 1..500. */
export const DEFAULT_TRENDING_LIMIT = 20;
export const MAX_TRENDING_LIMIT = 500;
/** aspects (timeseries view): what each bucket measures. */
export const DEFAULT_ASPECT_METRIC: Metric = 'share_negative';
export const DEFAULT_ASPECT_VIEW: AspectView = 'distribution';
/** anomalies: the defaults the backend applies. */
export const DEFAULT_ANOMALY_METRIC: AnomalyMetric = 'share_negative';
export const DEFAULT_ANOMALY_INTERVAL = '1d';
export const DEFAULT_ANOMALY_VIEW: AnomalyView = 'timeseries';
export const DEFAULT_BASELINE_BUCKETS = 14;
export const MIN_BASELINE_BUCKETS = 3;
export const MAX_BASELINE_BUCKETS = 180;
export const DEFAULT_THRESHOLD = 3.5;
export const MIN_THRESHOLD = 0.5;
export const MAX_THRESHOLD = 50;
/** insights: ask the configured LLM (false forces the offline summary). */
export const DEFAULT_LLM = true;

export interface PulsoQuery extends DataQuery {
  queryType?: QueryType;
  /**
   * timeseries: what each bucket measures (default `volume`); aspects, timeseries view: the same
   * metrics (default `share_negative`); anomalies: `share_negative` (default) or `volume`.
   */
  metric?: Metric;
  /** timeseries, distribution, trending_terms and anomalies: split the result by this dimension. */
  groupBy?: Dimension;
  /**
   * timeseries and aspects (timeseries view): bucket width such as `5m` or `1d`; overrides the
   * panel interval. anomalies: bucket width, default `1d`.
   */
  interval?: string;
  /** mentions: how many rows, 1..5000 (default 100). trending_terms: how many terms, 1..500 (default 20). */
  limit?: number;
  /** trending_terms: fewest mentions a term must appear in, >= 1 (default 5). */
  minSupport?: number;
  /** aspects: `distribution` (default) or `timeseries`; anomalies: `timeseries` (default) or `spikes`. */
  view?: AspectView | AnomalyView;
  /** aspects: which aspects; absent means all of them. */
  aspects?: Aspect[];
  /** anomalies: how many trailing buckets form the baseline, 3..180 (default 14). */
  baselineBuckets?: number;
  /** anomalies: robust z-score from which a bucket is a spike, 0.5..50 (default 3.5). */
  threshold?: number;
  /** insights: ask the configured LLM (default true); false forces the offline summary. */
  llm?: boolean;
  /** mentions: substring match on the text, case and accent insensitive. */
  search?: string;
  /** dimension_values: which dimension's values to list. */
  dimension?: Dimension;
  filters?: Filters;
  /** Only rows whose sentiment confidence is at least this (0..1). */
  minConfidence?: number;
  /**
   * mentions, timeseries and distribution: stream updates through Grafana Live as rows are
   * scored (mentions append rows; the aggregates are replaced over a window ending now).
   */
  live?: boolean;
}

/** The query types that can stream through Grafana Live. */
export const LIVE_QUERY_TYPES: readonly QueryType[] = ['mentions', 'timeseries', 'distribution'];

export const DEFAULT_QUERY: Partial<PulsoQuery> = {
  queryType: 'timeseries',
  metric: 'volume',
};

/** The query a "Query" template variable stores; it always runs as `dimension_values`. */
export interface PulsoVariableQuery extends DataQuery {
  queryType?: 'dimension_values';
  dimension?: Dimension;
  filters?: Filters;
  minConfidence?: number;
}

/** Options configured for each data source instance (jsonData). */
export interface PulsoOptions extends DataSourceJsonData {
  /** Where mentions are stored: a SQLite file in the plugin (default) or a shared PostgreSQL. */
  storage?: 'sqlite' | 'postgres';
  /** SQLite database file; default `<Grafana data dir>/pulso/<org>/<uid>.db`. */
  sqlitePath?: string;
  /** `postgres://user@host:5432/database`, without the password (that is secure). */
  postgresUrl?: string;
  /** disable, allow, prefer, require, verify-ca or verify-full; default: the URL's, else prefer. */
  postgresSslMode?: string;
  /** Connections the data source opens at most, 2 to 100; default 10. */
  postgresPoolSize?: number;
  /** Folder of the sentiment model build. */
  modelPath?: string;
  /** OpenAI-compatible base URL, e.g. `http://localhost:11434/v1`. */
  llmUrl?: string;
  /** Model name sent to that endpoint. */
  llmModel?: string;
  /** Seconds per LLM attempt (1 to 300; the backend's default is 10). */
  llmTimeoutSeconds?: number;
}

/** Values only the backend ever reads (secureJsonData); Grafana never sends them back. */
export interface PulsoSecureOptions {
  llmApiKey?: string;
  postgresPassword?: string;
}

/** What `GET dimensions/<name>` returns, one entry per value. */
export interface DimensionValue {
  text: string;
  value: string;
}

export const QUERY_TYPE_INFO: Record<QueryType, { label: string; description: string }> = {
  timeseries: {
    label: 'Time series',
    description: 'A metric per time bucket, optionally one series per value of a dimension.',
  },
  mentions: {
    label: 'Mentions',
    description: 'The raw feedback rows with their sentiment, newest first.',
  },
  distribution: {
    label: 'Distribution',
    description: 'Counts of negative, neutral and positive rows, optionally per value of a dimension.',
  },
  dimension_values: {
    label: 'Dimension values',
    description: 'The distinct values of one dimension (useful for tables and variables).',
  },
  trending_terms: {
    label: 'Trending terms',
    description:
      'Words and phrases that rose in this range compared with the previous range of equal length, with their growth and sentiment.',
  },
  aspects: {
    label: 'Aspects',
    description:
      'Sentiment per aspect (taste, price, service, delivery…): a table per aspect, or one series per aspect over time.',
  },
  anomalies: {
    label: 'Anomalies',
    description:
      'Unusual buckets of negative share or volume against a trailing baseline (robust z-score): alertable series, or spikes to show as annotations.',
  },
  insights: {
    label: 'Insights',
    description:
      'Findings, drivers and suggested actions with the mentions behind them, written by the configured LLM or offline.',
  },
};

export const METRIC_INFO: Record<Metric, { label: string; description: string }> = {
  volume: { label: 'Volume', description: 'Number of feedback rows in the bucket.' },
  avg_score: { label: 'Average score', description: 'Mean sentiment score, from -1 (negative) to 1 (positive).' },
  net_sentiment: {
    label: 'Net sentiment',
    description: 'Percent of scored rows that are positive minus percent negative, from -100 to 100.',
  },
  share_positive: { label: 'Share positive', description: 'Percent of scored rows that are positive (0 to 100).' },
  share_negative: { label: 'Share negative', description: 'Percent of scored rows that are negative (0 to 100).' },
  share_of_voice: {
    label: 'Share of voice',
    description:
      "Each group's percent of all mentions in the bucket that pass the same filters (0 to 100): a brand's share of the conversation. Use it with a group-by.",
  },
};

export const ASPECT_INFO: Record<Aspect, { label: string; description: string }> = {
  taste: { label: 'taste — taste / sabor / sazón', description: 'Flavour and seasoning of the food or drink.' },
  price: { label: 'price — price / precio / caro', description: 'Price and value for money.' },
  service: { label: 'service — service / atención / mozo', description: 'Staff, attention and waiting at the venue.' },
  delivery: {
    label: 'delivery — delivery / demora / motorizado',
    description: 'Delivery time, the rider and the state the order arrived in.',
  },
  hygiene: {
    label: 'hygiene — hygiene / limpieza / higiene',
    description: 'Cleanliness of the place, staff and food.',
  },
  portion: { label: 'portion — portion / porción / cantidad', description: 'Size of the portions.' },
  freshness: {
    label: 'freshness — freshness / fresco / frescura',
    description: 'Whether the ingredients and products are fresh.',
  },
  packaging: {
    label: 'packaging — packaging / empaque / envase',
    description: 'Containers, bags and how well the order was packed.',
  },
};

export const ASPECT_VIEW_INFO: Record<AspectView, { label: string; description: string }> = {
  distribution: {
    label: 'Table per aspect',
    description: 'view distribution: mentions, positive, neutral and negative counts and shares per aspect.',
  },
  timeseries: {
    label: 'Series per aspect',
    description: 'view timeseries: one series of the chosen metric per aspect (alertable).',
  },
};

export const ANOMALY_VIEW_INFO: Record<AnomalyView, { label: string; description: string }> = {
  timeseries: {
    label: 'Z-score series',
    description: 'view timeseries: the z-score per bucket, one series per group (alertable, e.g. last > 3.5).',
  },
  spikes: {
    label: 'Spikes',
    description: 'view spikes: a table of the buckets above the threshold, usable as Grafana annotations.',
  },
};

export const DIMENSION_INFO: Record<Dimension, { label: string; description: string }> = {
  sourceType: { label: 'Source type', description: 'Kind of source: review, social, survey or delivery.' },
  platform: { label: 'Platform', description: 'Where the feedback was posted, e.g. google_maps or tripadvisor.' },
  region: { label: 'Region', description: 'Region of Peru the feedback is about, e.g. Lima or Cusco.' },
  category: { label: 'Category', description: 'Category of the product or business.' },
  brand: { label: 'Brand', description: 'Brand the feedback mentions.' },
  product: { label: 'Product', description: 'Product the feedback mentions.' },
  language: { label: 'Language', description: 'Language of the text, e.g. es or en.' },
  label: { label: 'Sentiment label', description: 'negative, neutral or positive, as scored by the model.' },
  emotion: {
    label: 'Emotion',
    description:
      'The most confident of joy, anger, sadness, fear, surprise and disgust at 0.5 or above; none when no emotion reaches it. Time series and distribution only.',
  },
};

export function isAspect(value: unknown): value is Aspect {
  return typeof value === 'string' && (ASPECTS as readonly string[]).includes(value);
}

export function isDimension(value: unknown): value is Dimension {
  return typeof value === 'string' && (DIMENSIONS as readonly string[]).includes(value);
}
