import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

/**
 * The query model is a contract with the Rust backend (src/query/parse.rs): field names and
 * values here must match it exactly.
 */

export const QUERY_TYPES = ['timeseries', 'mentions', 'distribution', 'dimension_values'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

export const METRICS = ['volume', 'avg_score', 'net_sentiment', 'share_positive', 'share_negative'] as const;
export type Metric = (typeof METRICS)[number];

export const DIMENSIONS = [
  'sourceType',
  'platform',
  'region',
  'category',
  'brand',
  'product',
  'language',
  'label',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Dimension → accepted values; an absent or empty list means "all". */
export type Filters = Partial<Record<Dimension, string[]>>;

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 5000;

export interface PulsoQuery extends DataQuery {
  queryType?: QueryType;
  /** timeseries: what each bucket measures; the backend defaults to `volume`. */
  metric?: Metric;
  /** timeseries and distribution: split the result by this dimension. */
  groupBy?: Dimension;
  /** timeseries: bucket width such as `5m` or `1d`; overrides the panel interval. */
  interval?: string;
  /** mentions: how many rows, 1..5000 (backend default 100). */
  limit?: number;
  /** mentions: substring match on the text, case and accent insensitive. */
  search?: string;
  /** dimension_values: which dimension's values to list. */
  dimension?: Dimension;
  filters?: Filters;
  /** Only rows whose sentiment confidence is at least this (0..1). */
  minConfidence?: number;
}

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
  /** SQLite database file; default `<Grafana data dir>/pulso/pulso.db`. */
  sqlitePath?: string;
  /** Folder of the sentiment model build. */
  modelPath?: string;
  /** OpenAI-compatible base URL, e.g. `http://localhost:11434/v1`. */
  llmUrl?: string;
  /** Model name sent to that endpoint. */
  llmModel?: string;
}

/** Values only the backend ever reads (secureJsonData); Grafana never sends them back. */
export interface PulsoSecureOptions {
  llmApiKey?: string;
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
};

export const METRIC_INFO: Record<Metric, { label: string; description: string }> = {
  volume: { label: 'Volume', description: 'Number of feedback rows in the bucket.' },
  avg_score: { label: 'Average score', description: 'Mean sentiment score, from -1 (negative) to 1 (positive).' },
  net_sentiment: {
    label: 'Net sentiment',
    description: 'Share of positive rows minus share of negative rows, from -1 to 1.',
  },
  share_positive: { label: 'Share positive', description: 'Fraction of rows scored positive (0 to 1).' },
  share_negative: { label: 'Share negative', description: 'Fraction of rows scored negative (0 to 1).' },
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
};

export function isDimension(value: unknown): value is Dimension {
  return typeof value === 'string' && (DIMENSIONS as readonly string[]).includes(value);
}
