import { ScopedVars, TypedVariableModel } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

/** A dashboard variable for tests: the selected value(s), the options, and an optional custom all value. */
export interface FakeVariable {
  name: string;
  /** Selected value(s); `$__all` when "All" is selected. */
  value: string | string[];
  options?: string[];
  allValue?: string;
}

const PATTERN = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

function isAll(value: unknown) {
  return value === '$__all' || (Array.isArray(value) && value[0] === '$__all');
}

/**
 * Mirrors what Grafana's TemplateSrv.replace does with a format function: scoped variables win,
 * "All" becomes the custom all value or every option's value, and the format function receives
 * the value (a string or an array) and returns the text that replaces the reference. Without a
 * format, multi-value variables are joined in Grafana's default glob style `{a,b}`.
 */
export function fakeTemplateSrv(variables: FakeVariable[]): TemplateSrv {
  const models = variables.map(
    (v) =>
      ({
        name: v.name,
        type: 'custom',
        multi: Array.isArray(v.value),
        includeAll: true,
        allValue: v.allValue ?? null,
        current: { value: v.value, text: isAll(v.value) ? 'All' : v.value, selected: true },
        options: (v.options ?? []).map((o) => ({ value: o, text: o, selected: false })),
      }) as unknown as TypedVariableModel
  );
  return {
    getVariables: () => models,
    containsTemplate: (target?: string) =>
      Boolean(
        target && [...target.matchAll(PATTERN)].some((m) => variables.some((v) => v.name === (m[1] ?? m[2] ?? m[4])))
      ),
    updateTimeRange: () => {},
    replace(target?: string, scopedVars?: ScopedVars, format?: string | Function) {
      if (!target) {
        return target ?? '';
      }
      return target.replace(PATTERN, (match, v1, v2, _f2, v4) => {
        const name: string = v1 ?? v2 ?? v4;
        const scoped = scopedVars?.[name];
        let value: unknown;
        if (scoped) {
          value = scoped.value;
        } else {
          const variable = variables.find((v) => v.name === name);
          if (!variable) {
            return match;
          }
          value = variable.value;
          if (isAll(value)) {
            value = variable.allValue ?? variable.options ?? [];
          }
        }
        if (typeof format === 'function') {
          return format(value, undefined, undefined);
        }
        return Array.isArray(value)
          ? value.length > 1
            ? `{${value.join(',')}}`
            : String(value[0] ?? '')
          : String(value);
      });
    },
  };
}
