import { CustomVariableSupport, DataQueryRequest, DataQueryResponse } from '@grafana/data';
import { Observable, of } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './datasource';
import { isDimension, PulsoOptions, PulsoQuery, PulsoVariableQuery } from './types';

export const VARIABLE_REF_ID = 'PulsoVariableQuery';

/**
 * Turns what a variable stored into a `dimension_values` query. Older or hand-written variables
 * may store just the dimension name as a string.
 */
export function toDimensionValuesQuery(stored: PulsoVariableQuery | string | undefined): PulsoQuery {
  if (typeof stored === 'string') {
    const name = stored.trim();
    return {
      refId: VARIABLE_REF_ID,
      queryType: 'dimension_values',
      ...(isDimension(name) ? { dimension: name } : {}),
    };
  }
  const { refId, dimension, filters, minConfidence } = stored ?? { refId: VARIABLE_REF_ID };
  const query: PulsoQuery = { refId: refId || VARIABLE_REF_ID, queryType: 'dimension_values' };
  if (dimension) {
    query.dimension = dimension;
  }
  if (filters) {
    query.filters = filters;
  }
  if (minConfidence !== undefined) {
    query.minConfidence = minConfidence;
  }
  return query;
}

/**
 * Query variables run a `dimension_values` query through the normal query path, so their
 * filters may use other variables (`brand` values for `region = $region`). The result frame has
 * `text` and `value` columns, which Grafana turns into the variable's options.
 */
export class PulsoVariableSupport extends CustomVariableSupport<
  DataSource,
  PulsoVariableQuery,
  PulsoQuery,
  PulsoOptions
> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  getDefaultQuery(): Partial<PulsoVariableQuery> {
    return { queryType: 'dimension_values', dimension: 'region' };
  }

  query(request: DataQueryRequest<PulsoVariableQuery>): Observable<DataQueryResponse> {
    const targets = request.targets
      .map((target) => toDimensionValuesQuery(target))
      .filter((query) => this.datasource.filterQuery(query));
    if (targets.length === 0) {
      return of({ data: [] });
    }
    return this.datasource.query({ ...request, targets });
  }
}
