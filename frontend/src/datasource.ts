import {
  AnnotationQuery,
  CoreApp,
  DataFrame,
  DataQueryRequest,
  DataSourceInstanceSettings,
  ScopedVars,
  StreamingFrameAction,
  StreamingFrameOptions,
} from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv } from '@grafana/runtime';

import { interpolateFilters, interpolateList } from './interpolate';
import { withQueryType } from './query';
import { Aspect, DEFAULT_LIMIT, DEFAULT_QUERY, Dimension, DimensionValue, PulsoOptions, PulsoQuery } from './types';
import { PulsoVariableSupport } from './variables';

/** The refId Grafana gives an annotation's query when it has none. */
export const ANNOTATION_REF_ID = 'Anno';

/**
 * What a new annotation runs: the `anomalies` spikes table (time, timeEnd, title, text, tags),
 * which Grafana's standard annotation processing turns into events.
 */
export function defaultAnnotationQuery(): PulsoQuery {
  const { refId: _refId, ...anomalies } = withQueryType({ refId: ANNOTATION_REF_ID }, 'anomalies');
  return { refId: ANNOTATION_REF_ID, ...anomalies, view: 'spikes' };
}

/**
 * A stored annotation whose target is missing or has no query type gets the default spikes
 * query (what is there, such as filters, wins). Anything else is returned as it was (the same
 * object, so Grafana does not see a change and save it again).
 */
export function prepareAnnotation(json: AnnotationQuery<PulsoQuery>): AnnotationQuery<PulsoQuery> {
  if (!json || typeof json !== 'object' || json.target?.queryType) {
    return json;
  }
  return { ...json, target: { ...defaultAnnotationQuery(), ...(json.target ?? {}) } };
}

/**
 * How a live panel keeps what its channel sends. A mentions channel sends newly scored rows,
 * appended up to the query's limit; timeseries and distribution channels send the whole result
 * again, which replaces the last one.
 */
export function liveBufferOptions(
  request: DataQueryRequest<PulsoQuery>,
  frame: DataFrame
): Partial<StreamingFrameOptions> {
  const path = frame.meta?.channel ?? '';
  // On a range ending now, rows older than the range leave as new ones arrive.
  const maxDelta =
    request.rangeRaw?.to === 'now' ? request.range.to.valueOf() - request.range.from.valueOf() : undefined;
  if (!path.includes('/mentions/')) {
    return { action: StreamingFrameAction.Replace, maxLength: request.maxDataPoints ?? 10_000, maxDelta };
  }
  const target = request.targets.find((t) => t.refId === frame.refId);
  return { action: StreamingFrameAction.Append, maxLength: target?.limit ?? DEFAULT_LIMIT, maxDelta };
}

/**
 * One line for query history and the query inspector instead of the raw JSON, e.g.
 * `timeseries net_sentiment by brand, brand: Qori Brasa, Kusiy, confidence >= 0.7`.
 */
export function queryDisplayText(query: PulsoQuery): string {
  const type = query.queryType ?? 'timeseries';
  const parts: string[] = [];
  switch (type) {
    case 'timeseries':
    case 'anomalies':
      parts.push(`${type} ${query.metric ?? (type === 'anomalies' ? 'share_negative' : 'volume')}`);
      break;
    case 'aspects':
      parts.push(`aspects ${query.view ?? 'distribution'}`);
      if (query.aspects?.length) {
        parts[0] += ` (${query.aspects.join(', ')})`;
      }
      break;
    case 'dimension_values':
      parts.push(`values of ${query.dimension ?? '?'}`);
      break;
    default:
      parts.push(type);
  }
  if (query.groupBy && type !== 'dimension_values' && type !== 'mentions') {
    parts[0] += ` by ${query.groupBy}`;
  }
  if (type === 'mentions' && query.search?.trim()) {
    parts.push(`search "${query.search.trim()}"`);
  }
  for (const [dimension, values] of Object.entries(query.filters ?? {})) {
    if (values?.length) {
      parts.push(`${dimension}: ${values.join(', ')}`);
    }
  }
  if (query.minConfidence !== undefined) {
    parts.push(`confidence >= ${query.minConfidence}`);
  }
  if (query.live) {
    parts.push('live');
  }
  return parts.join(', ');
}

/** How long the dimension values the editors list are reused before being fetched again. */
const VALUES_TTL_MS = 60_000;

export class DataSource extends DataSourceWithBackend<PulsoQuery, PulsoOptions> {
  private readonly valueCache = new Map<string, { at: number; values: Promise<DimensionValue[]> }>();
  /** Whether an LLM endpoint and model are configured (insights otherwise use the offline summary). */
  readonly llmConfigured: boolean;

  constructor(instanceSettings: DataSourceInstanceSettings<PulsoOptions>) {
    super(instanceSettings);
    const jsonData = instanceSettings.jsonData ?? {};
    this.llmConfigured = Boolean(jsonData.llmUrl?.trim() && jsonData.llmModel?.trim());
    this.variables = new PulsoVariableSupport(this);
    this.streamOptionsProvider = liveBufferOptions;
    // Standard annotation support: the query editor edits the annotation's query, and frames with
    // time / timeEnd / title / text / tags fields (the anomalies spikes view) become events.
    this.annotations = {
      getDefaultQuery: () => defaultAnnotationQuery(),
      prepareAnnotation,
    };
  }

  getQueryDisplayText(query: PulsoQuery): string {
    return queryDisplayText(query);
  }

  getDefaultQuery(_: CoreApp): Partial<PulsoQuery> {
    return { ...DEFAULT_QUERY };
  }

  /**
   * Hidden queries and queries that cannot run yet are not sent to the backend. Every type but
   * `dimension_values` (which needs a dimension) runs with the backend's defaults for the fields
   * it lacks.
   */
  filterQuery(query: PulsoQuery): boolean {
    if (query.hide) {
      return false;
    }
    if (!query.queryType) {
      return false;
    }
    if (query.queryType === 'dimension_values' && !query.dimension) {
      return false;
    }
    return true;
  }

  /**
   * Expands template variables: each filter value that is a variable becomes that variable's
   * values (`$region` → `["Lima", "Cusco"]`); a variable on "All" (without a custom all value)
   * removes its filter, because an absent filter means every value. Text fields are interpolated
   * as plain strings.
   */
  applyTemplateVariables(query: PulsoQuery, scopedVars: ScopedVars): PulsoQuery {
    const templateSrv = getTemplateSrv();
    const out: PulsoQuery = { ...query };
    const replace = (text: string) => templateSrv.replace(text, scopedVars);

    const filters = interpolateFilters(query.filters, scopedVars, templateSrv);
    if (filters) {
      out.filters = filters;
    } else {
      delete out.filters;
    }
    if (typeof query.search === 'string') {
      out.search = replace(query.search);
    }
    if (typeof query.interval === 'string' && query.interval !== '') {
      out.interval = replace(query.interval);
    }
    // Dimension and metric pickers accept variables such as `$groupBy` too.
    if (query.groupBy) {
      out.groupBy = replace(query.groupBy) as Dimension;
    }
    if (query.dimension) {
      out.dimension = replace(query.dimension) as Dimension;
    }
    if (query.metric) {
      out.metric = replace(query.metric) as PulsoQuery['metric'];
    }
    // Aspects may be picked through a (multi-value) variable, like filter values; "All" means
    // every aspect, which the backend spells as no list.
    if (query.aspects !== undefined) {
      const aspects = interpolateList(query.aspects, scopedVars, templateSrv);
      if (aspects) {
        out.aspects = aspects as Aspect[];
      } else {
        delete out.aspects;
      }
    }
    return out;
  }

  /** `GET dimensions`: the dimension names the backend knows. */
  getDimensions(): Promise<string[]> {
    return this.getResource<string[]>('dimensions');
  }

  /**
   * `GET dimensions/<name>`: every stored value of one dimension (no filters), cached for a
   * minute so that opening a filter menu again does not refetch.
   */
  getDimensionValues(dimension: Dimension): Promise<DimensionValue[]> {
    const now = Date.now();
    const cached = this.valueCache.get(dimension);
    if (cached && now - cached.at < VALUES_TTL_MS) {
      return cached.values;
    }
    const values = this.getResource<DimensionValue[]>(`dimensions/${encodeURIComponent(dimension)}`).then(
      (found) => (Array.isArray(found) ? found : []),
      (error) => {
        this.valueCache.delete(dimension);
        throw error;
      }
    );
    this.valueCache.set(dimension, { at: now, values });
    return values;
  }
}
