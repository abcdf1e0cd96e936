import { ScopedVars, TypedVariableModel } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

import { Filters, isDimension } from './types';

/** Grafana's stored value for the "All" option of a multi-value variable. */
const ALL_VALUE = '$__all';

/** The same syntaxes Grafana's template service recognises: `$var`, `[[var]]`, `${var}`, `${var:fmt}`. */
const VARIABLE_PATTERN = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

/** Marks where a variable's values go while a filter value is expanded; never in user text. */
const MARK = '\u0000';

/** The names of the variables a text refers to, in order. */
export function variableNames(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(VARIABLE_PATTERN)) {
    const name = match[1] ?? match[2] ?? match[4];
    if (name) {
      names.push(name);
    }
  }
  return names;
}

function isAllValue(value: unknown): boolean {
  return value === ALL_VALUE || (Array.isArray(value) && value.includes(ALL_VALUE));
}

function hasCustomAllValue(variable: TypedVariableModel): boolean {
  return 'allValue' in variable && typeof variable.allValue === 'string' && variable.allValue !== '';
}

/**
 * Whether `name` is a dashboard variable whose "All" option is selected without a custom all
 * value. Such a filter means "every value", which the backend spells as no filter at all.
 */
export function isAllWithoutCustomValue(name: string, scopedVars: ScopedVars | undefined, templateSrv: TemplateSrv) {
  const scoped = scopedVars?.[name];
  if (scoped) {
    return isAllValue(scoped.value);
  }
  const variable = templateSrv.getVariables().find((v) => v.name === name);
  if (!variable || !('current' in variable) || !variable.current) {
    return false;
  }
  const current: { value?: unknown } = variable.current;
  return isAllValue(current.value) && !hasCustomAllValue(variable);
}

/**
 * Expands one filter value into the literal values it stands for. `$region` with Lima and Cusco
 * selected becomes `["Lima", "Cusco"]`; text around a variable is kept on every value
 * (`x-$region` → `x-Lima`, `x-Cusco`). Returns `'all'` when the value refers to a variable whose
 * "All" option is selected (without a custom all value).
 */
export function expandFilterValue(
  raw: string,
  scopedVars: ScopedVars | undefined,
  templateSrv: TemplateSrv
): string[] | 'all' {
  const names = variableNames(raw);
  if (names.length === 0) {
    return [raw];
  }
  if (names.some((name) => isAllWithoutCustomValue(name, scopedVars, templateSrv))) {
    return 'all';
  }
  const lists: string[][] = [];
  const marked = templateSrv.replace(raw, scopedVars, (value: unknown) => {
    const list = (Array.isArray(value) ? value : [value])
      .filter((v) => v !== null && v !== undefined)
      .map((v) => String(v));
    lists.push(list);
    return `${MARK}${lists.length - 1}${MARK}`;
  });
  // Odd parts are indexes into `lists`; the product keeps the text around each variable.
  let results = [''];
  marked.split(MARK).forEach((part, i) => {
    if (i % 2 === 0) {
      results = results.map((r) => r + part);
    } else {
      const list = lists[Number(part)] ?? [];
      results = results.flatMap((r) => list.map((v) => r + v));
    }
  });
  return results;
}

/**
 * Interpolates every filter list: multi-value variables become several values, a variable on
 * "All" (without a custom all value) removes its dimension's filter, and empty lists are dropped.
 * Returns `undefined` when no filter is left.
 */
export function interpolateFilters(
  filters: Filters | undefined,
  scopedVars: ScopedVars | undefined,
  templateSrv: TemplateSrv
): Filters | undefined {
  if (!filters) {
    return undefined;
  }
  const out: Filters = {};
  for (const [dimension, values] of Object.entries(filters)) {
    if (!isDimension(dimension)) {
      continue;
    }
    const expanded = interpolateList(values, scopedVars, templateSrv);
    if (expanded) {
      out[dimension] = expanded;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Interpolates a list of values the way a filter's list is (used for filters and `aspects`):
 * multi-value variables become several values, duplicates and empty values go. Returns
 * `undefined` (meaning "all") when a variable is on "All" without a custom all value or when
 * nothing is left.
 */
export function interpolateList(
  values: unknown,
  scopedVars: ScopedVars | undefined,
  templateSrv: TemplateSrv
): string[] | undefined {
  if (!Array.isArray(values)) {
    return undefined;
  }
  const expanded: string[] = [];
  for (const raw of values) {
    if (typeof raw !== 'string') {
      continue;
    }
    const result = expandFilterValue(raw, scopedVars, templateSrv);
    if (result === 'all') {
      return undefined;
    }
    expanded.push(...result);
  }
  const unique = Array.from(new Set(expanded.filter((v) => v !== '')));
  return unique.length > 0 ? unique : undefined;
}

/** Drops empty filter lists (and `filters` itself when nothing is left), as the editor stores them. */
export function cleanFilters(filters: Filters | undefined): Filters | undefined {
  if (!filters) {
    return undefined;
  }
  const out: Filters = {};
  for (const [dimension, values] of Object.entries(filters)) {
    if (isDimension(dimension) && Array.isArray(values) && values.length > 0) {
      out[dimension] = values;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
