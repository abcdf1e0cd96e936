import React, { useCallback, useState } from 'react';
import { ComboboxOption, InlineField, InlineFieldRow, Input, MultiCombobox } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { Dimension, DIMENSION_INFO, DIMENSIONS, Filters } from '../types';
import { LABEL_WIDTH, matches, variableOptions } from './options';
import { useDraft } from './useDraft';

interface FilterFieldProps {
  datasource: DataSource;
  dimension: Dimension;
  values: string[];
  idPrefix: string;
  onChange: (dimension: Dimension, values: string[]) => void;
}

/** One dimension's filter: a multi-select whose options are loaded when its menu first opens. */
export function FilterField({ datasource, dimension, values, idPrefix, onChange }: FilterFieldProps) {
  const [loadError, setLoadError] = useState<string | undefined>();
  const info = DIMENSION_INFO[dimension];

  const loadOptions = useCallback(
    async (input: string): Promise<Array<ComboboxOption<string>>> => {
      const variables = variableOptions();
      let found: Array<ComboboxOption<string>> = [];
      try {
        const loaded = await datasource.getDimensionValues(dimension);
        found = loaded.map((v) => ({ value: v.value, label: v.text, group: 'Values' }));
        setLoadError(undefined);
      } catch (error) {
        setLoadError(errorMessage(error));
      }
      return [...found, ...variables].filter((option) => matches(option, input));
    },
    [datasource, dimension]
  );

  const id = `${idPrefix}-filter-${dimension}`;
  return (
    <InlineField
      label={info.label}
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      tooltip={`${info.description} Leave empty for every value. Type to add a value that is not listed, or pick a dashboard variable such as $${dimension}.`}
      invalid={Boolean(loadError)}
      error={loadError ? `Could not load ${info.label.toLowerCase()} values: ${loadError}` : undefined}
    >
      <MultiCombobox<string>
        id={id}
        data-testid={`pulso-filter-${dimension}`}
        // A numeric width makes @grafana/ui 12.4 compare pill pixels with spacing units and
        // collapse every selection after the first into "…N"; 'auto' measures real pixels.
        width="auto"
        minWidth={32}
        maxWidth={64}
        placeholder="All"
        isClearable
        createCustomValue
        customValueDescription="Use this value"
        options={loadOptions}
        value={values.map((v) => ({ value: v, label: v }))}
        onChange={(selected) =>
          onChange(
            dimension,
            selected.map((option) => String(option.value))
          )
        }
      />
    </InlineField>
  );
}

interface FiltersEditorProps {
  datasource: DataSource;
  filters: Filters | undefined;
  idPrefix: string;
  onChange: (dimension: Dimension, values: string[]) => void;
}

/** A multi-select per dimension; an empty one means "all values". */
export function FiltersEditor({ datasource, filters, idPrefix, onChange }: FiltersEditorProps) {
  return (
    <InlineFieldRow>
      {DIMENSIONS.map((dimension) => (
        <FilterField
          key={dimension}
          datasource={datasource}
          dimension={dimension}
          values={filters?.[dimension] ?? []}
          idPrefix={idPrefix}
          onChange={onChange}
        />
      ))}
    </InlineFieldRow>
  );
}

interface MinConfidenceFieldProps {
  value: number | undefined;
  id: string;
  onChange: (value: number | undefined) => void;
}

/** 0..1; committed on blur or Enter, empty clears it. */
export function MinConfidenceField({ value, id, onChange }: MinConfidenceFieldProps) {
  const [text, setText] = useDraft(value === undefined ? '' : String(value));
  const parsed = parseConfidence(text);
  const commit = () => {
    if (parsed !== 'invalid' && parsed !== value) {
      onChange(parsed);
    }
  };
  return (
    <InlineField
      label="Min confidence"
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      tooltip="Only rows whose sentiment confidence (the model's top probability) is at least this, from 0 to 1. Leave empty to keep every row, including rows not yet scored."
      invalid={parsed === 'invalid'}
      error="Enter a number from 0 to 1"
    >
      <Input
        id={id}
        type="number"
        min={0}
        max={1}
        step={0.05}
        width={12}
        placeholder="any"
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === 'Enter' && commit()}
      />
    </InlineField>
  );
}

export function parseConfidence(text: string): number | undefined | 'invalid' {
  if (text.trim() === '') {
    return undefined;
  }
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : 'invalid';
}

function errorMessage(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { data?: { error?: string; message?: string }; message?: string; statusText?: string };
    return e.data?.error ?? e.data?.message ?? e.message ?? e.statusText ?? 'unknown error';
  }
  return String(error);
}
