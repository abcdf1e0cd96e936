import { SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { ComboboxOption } from '@grafana/ui';

import {
  ANOMALY_METRICS,
  ANOMALY_VIEW_INFO,
  ANOMALY_VIEWS,
  AnomalyMetric,
  AnomalyView,
  Aspect,
  ASPECT_INFO,
  ASPECT_VIEW_INFO,
  ASPECT_VIEWS,
  ASPECTS,
  AspectView,
  Dimension,
  DIMENSION_INFO,
  DIMENSIONS,
  TERM_GROUP_DIMENSIONS,
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

export const ANOMALY_METRIC_OPTIONS: Array<ComboboxOption<AnomalyMetric>> = ANOMALY_METRICS.map((value) => ({
  value,
  label: METRIC_INFO[value].label,
  description: METRIC_INFO[value].description,
}));

export const ASPECT_OPTIONS: Array<ComboboxOption<Aspect>> = ASPECTS.map((value) => ({
  value,
  label: ASPECT_INFO[value].label,
  description: ASPECT_INFO[value].description,
}));

export const ASPECT_VIEW_OPTIONS: Array<SelectableValue<AspectView>> = ASPECT_VIEWS.map((value) => ({
  value,
  label: ASPECT_VIEW_INFO[value].label,
  description: ASPECT_VIEW_INFO[value].description,
}));

export const ANOMALY_VIEW_OPTIONS: Array<SelectableValue<AnomalyView>> = ANOMALY_VIEWS.map((value) => ({
  value,
  label: ANOMALY_VIEW_INFO[value].label,
  description: ANOMALY_VIEW_INFO[value].description,
}));

export const DIMENSION_OPTIONS: Array<ComboboxOption<Dimension>> = DIMENSIONS.map((value) => ({
  value,
  label: DIMENSION_INFO[value].label,
  description: DIMENSION_INFO[value].description,
}));

/** Group-by choices for trending_terms and anomalies, which cannot group by emotion. */
export const TERM_GROUP_OPTIONS: Array<ComboboxOption<Dimension>> = DIMENSION_OPTIONS.filter((option) =>
  TERM_GROUP_DIMENSIONS.includes(option.value)
);

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
