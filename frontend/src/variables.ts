import { CustomVariableSupport, DataQueryRequest, DataQueryResponse } from '@grafana/data';
import { Observable, of } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import { toDimensionValuesQuery } from './variableQuery';
import type { DataSource } from './datasource';
import { PulsoOptions, PulsoQuery, PulsoVariableQuery } from './types';

// Kept importable from here, where it was first defined.
export { toDimensionValuesQuery, VARIABLE_REF_ID } from './variableQuery';

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
