import { SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { ComboboxOption } from '@grafana/ui';

import {
  Dimension,
  DIMENSION_INFO,
  DIMENSIONS,
  Metric,
  METRIC_INFO,
  METRICS,
  QUERY_TYPE_INFO,
  QUERY_TYPES,
  QueryType,
} from '../types';

export const LABEL_WIDTH = 18;

export const QUERY_TYPE_OPTIONS: Array<SelectableValue<QueryType>> = QUERY_TYPES.map((value) => ({
  value,
  label: QUERY_TYPE_INFO[value].label,
  description: QUERY_TYPE_INFO[value].description,
}));

export const METRIC_OPTIONS: Array<ComboboxOption<Metric>> = METRICS.map((value) => ({
  value,
  label: METRIC_INFO[value].label,
  description: METRIC_INFO[value].description,
}));

export const DIMENSION_OPTIONS: Array<ComboboxOption<Dimension>> = DIMENSIONS.map((value) => ({
  value,
  label: DIMENSION_INFO[value].label,
  description: DIMENSION_INFO[value].description,
}));

/** `$name` for every dashboard variable, offered beside the literal values. */
export function variableOptions(): Array<ComboboxOption<string>> {
  let names: string[] = [];
  try {
    names = getTemplateSrv()
      .getVariables()
      .map((v) => v.name);
  } catch {
    // No template service (e.g. outside a dashboard): no variables to offer.
  }
  return names.map((name) => ({ value: `$${name}`, label: `$${name}`, group: 'Variables' }));
}

/** Case-insensitive substring match on label or value. */
export function matches(option: ComboboxOption<string>, input: string): boolean {
  const needle = input.trim().toLowerCase();
  if (needle === '') {
    return true;
  }
  return (option.label ?? option.value).toLowerCase().includes(needle) || option.value.toLowerCase().includes(needle);
}
