import { cleanFilters } from './interpolate';
import { DEFAULT_LIMIT, Dimension, Filters, PulsoQuery, QueryType } from './types';

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
  const base = { ...commonFields(query), queryType };
  switch (queryType) {
    case 'timeseries':
      return { ...base, metric: 'volume' };
    case 'mentions':
      return { ...base, limit: DEFAULT_LIMIT };
    case 'distribution':
    case 'dimension_values':
      return base;
  }
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
