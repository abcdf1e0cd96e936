import { isDimension, PulsoQuery, PulsoVariableQuery } from './types';

// What a template variable stores, read as a query. Its own module, so that the variable
// support (variables.ts) and its editor (components/VariableQueryEditor.tsx) both import it
// without importing each other in a circle.

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
