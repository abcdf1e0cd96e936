import { cleanFilters } from './interpolate';
import {
  AnomalyView,
  AspectView,
  DEFAULT_ANOMALY_INTERVAL,
  DEFAULT_ANOMALY_METRIC,
  DEFAULT_ANOMALY_VIEW,
  DEFAULT_ASPECT_METRIC,
  DEFAULT_ASPECT_VIEW,
  DEFAULT_BASELINE_BUCKETS,
  DEFAULT_LIMIT,
  DEFAULT_LLM,
  DEFAULT_MIN_SUPPORT,
  DEFAULT_THRESHOLD,
  DEFAULT_TRENDING_LIMIT,
  Dimension,
  Filters,
  LIVE_QUERY_TYPES,
  PulsoQuery,
  QueryType,
} from './types';

/** The fields every query type shares; type-specific fields are dropped when the type changes. */
function commonFields(query: PulsoQuery): PulsoQuery {
  const { refId, hide, key, datasource, filters, minConfidence } = query;
  const out: PulsoQuery = { refId };
  if (hide !== undefined) {
    out.hide = hide;
  }
  if (key !== undefined) {
    out.key = key;
  }
  if (datasource !== undefined) {
    out.datasource = datasource;
  }
  const cleaned = cleanFilters(filters);
  if (cleaned) {
    out.filters = cleaned;
  }
  if (minConfidence !== undefined) {
    out.minConfidence = minConfidence;
  }
  return out;
}

/**
 * The query switched to another type: filters and minConfidence stay, fields the new type does
 * not read go, and the new type's defaults are set (so the JSON matches the backend contract).
 */
export function withQueryType(query: PulsoQuery, queryType: QueryType): PulsoQuery {
  if (query.queryType === queryType) {
    return query;
  }
  const base: PulsoQuery = { ...commonFields(query), queryType };
  // Live stays on between the types that can stream.
  if (query.live && LIVE_QUERY_TYPES.includes(queryType)) {
    base.live = true;
  }
  switch (queryType) {
    case 'timeseries':
      return { ...base, metric: 'volume' };
    case 'mentions':
      return { ...base, limit: DEFAULT_LIMIT };
    case 'distribution':
    case 'dimension_values':
      return base;
    case 'trending_terms':
      return { ...base, minSupport: DEFAULT_MIN_SUPPORT, limit: DEFAULT_TRENDING_LIMIT };
    case 'aspects':
      return { ...base, view: DEFAULT_ASPECT_VIEW };
    case 'anomalies':
      return {
        ...base,
        metric: DEFAULT_ANOMALY_METRIC,
        interval: DEFAULT_ANOMALY_INTERVAL,
        baselineBuckets: DEFAULT_BASELINE_BUCKETS,
        threshold: DEFAULT_THRESHOLD,
        view: DEFAULT_ANOMALY_VIEW,
      };
    case 'insights':
      return { ...base, llm: DEFAULT_LLM };
  }
}

/**
 * An `aspects` query switched view: the time series view reads a metric (set to its default when
 * absent) and an interval; the distribution view reads neither, so they go.
 */
export function withAspectView(query: PulsoQuery, view: AspectView): PulsoQuery {
  if (view === 'timeseries') {
    return { ...query, view, metric: query.metric ?? DEFAULT_ASPECT_METRIC };
  }
  const { metric: _metric, interval: _interval, ...rest } = query;
  return { ...rest, view };
}

/** An `anomalies` query switched view; every other field applies to both views. */
export function withAnomalyView(query: PulsoQuery, view: AnomalyView): PulsoQuery {
  return { ...query, view };
}

/** The query with one dimension's filter replaced; an empty list removes it. */
export function withFilter(query: PulsoQuery, dimension: Dimension, values: string[]): PulsoQuery {
  const filters: Filters = { ...(query.filters ?? {}), [dimension]: values };
  const cleaned = cleanFilters(filters);
  const { filters: _old, ...rest } = query;
  return cleaned ? { ...rest, filters: cleaned } : rest;
}

/** The query with an optional field set, or removed when `value` is undefined. */
export function withField<K extends keyof PulsoQuery>(query: PulsoQuery, field: K, value: PulsoQuery[K] | undefined) {
  const out = { ...query };
  if (value === undefined) {
    delete out[field];
  } else {
    out[field] = value;
  }
  return out;
}

/** Accepts Grafana-style durations the backend parses (`30s`, `5m`, `1h`, `1d`, `1w`, `500ms` ≥ 1 s). */
export const INTERVAL_PATTERN = /^\d+(ms|s|m|h|d|w)$/;

export function isValidInterval(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'auto' || trimmed.includes('$')) {
    return true;
  }
  if (!INTERVAL_PATTERN.test(trimmed)) {
    return false;
  }
  return !(trimmed.endsWith('ms') && parseInt(trimmed, 10) < 1000) && parseInt(trimmed, 10) > 0;
}
