import React from 'react';
import { QueryEditorProps } from '@grafana/data';
import { Combobox, InlineField, InlineFieldRow, Input, RadioButtonGroup, Stack, Text } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { isValidInterval, withField, withFilter, withQueryType } from '../query';
import { DEFAULT_LIMIT, Dimension, MAX_LIMIT, Metric, PulsoOptions, PulsoQuery, QUERY_TYPE_INFO } from '../types';
import { FiltersEditor, MinConfidenceField } from './FiltersEditor';
import { DIMENSION_OPTIONS, LABEL_WIDTH, METRIC_OPTIONS, QUERY_TYPE_OPTIONS } from './options';
import { useDraft } from './useDraft';

export type Props = QueryEditorProps<DataSource, PulsoQuery, PulsoOptions>;

export function QueryEditor({ query, onChange, onRunQuery, datasource }: Props) {
  const idPrefix = `pulso-${query.refId}`;
  const queryType = query.queryType;

  /** Selections run the query at once; text fields run it when they lose focus. */
  const change = (next: PulsoQuery, run = true) => {
    onChange(next);
    if (run) {
      onRunQuery();
    }
  };

  return (
    <Stack direction="column" gap={0}>
      <InlineFieldRow>
        <InlineField
          label="Query type"
          labelWidth={LABEL_WIDTH}
          tooltip="What the query returns. Filters and minimum confidence below apply to every type."
        >
          <RadioButtonGroup
            options={QUERY_TYPE_OPTIONS}
            value={queryType}
            onChange={(value) => change(withQueryType(query, value))}
          />
        </InlineField>
      </InlineFieldRow>
      {queryType ? (
        <Text color="secondary" variant="bodySmall">
          {QUERY_TYPE_INFO[queryType].description}
        </Text>
      ) : (
        <Text color="warning" variant="bodySmall">
          Pick a query type to run this query.
        </Text>
      )}

      {queryType === 'timeseries' && (
        <InlineFieldRow>
          <MetricField query={query} onChange={change} idPrefix={idPrefix} />
          <GroupByField query={query} onChange={change} idPrefix={idPrefix} />
          <IntervalField query={query} onChange={change} idPrefix={idPrefix} />
        </InlineFieldRow>
      )}
      {queryType === 'distribution' && (
        <InlineFieldRow>
          <GroupByField query={query} onChange={change} idPrefix={idPrefix} />
        </InlineFieldRow>
      )}
      {queryType === 'mentions' && (
        <InlineFieldRow>
          <SearchField query={query} onChange={change} idPrefix={idPrefix} />
          <LimitField query={query} onChange={change} idPrefix={idPrefix} />
        </InlineFieldRow>
      )}
      {queryType === 'dimension_values' && (
        <InlineFieldRow>
          <DimensionField query={query} onChange={change} idPrefix={idPrefix} />
        </InlineFieldRow>
      )}

      <FiltersEditor
        datasource={datasource}
        filters={query.filters}
        idPrefix={idPrefix}
        onChange={(dimension, values) => change(withFilter(query, dimension, values))}
      />
      <InlineFieldRow>
        <MinConfidenceField
          id={`${idPrefix}-min-confidence`}
          value={query.minConfidence}
          onChange={(value) => change(withField(query, 'minConfidence', value))}
        />
      </InlineFieldRow>
    </Stack>
  );
}

interface FieldProps {
  query: PulsoQuery;
  onChange: (query: PulsoQuery, run?: boolean) => void;
  idPrefix: string;
}

function MetricField({ query, onChange, idPrefix }: FieldProps) {
  const id = `${idPrefix}-metric`;
  return (
    <InlineField
      label="Metric"
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      tooltip="What each time bucket measures: the number of rows, or a sentiment aggregate over them."
    >
      <Combobox<Metric>
        id={id}
        data-testid="pulso-metric"
        width={24}
        options={METRIC_OPTIONS}
        value={query.metric ?? 'volume'}
        onChange={(option) => onChange(withField(query, 'metric', option.value))}
      />
    </InlineField>
  );
}

function GroupByField({ query, onChange, idPrefix }: FieldProps) {
  const id = `${idPrefix}-group-by`;
  return (
    <InlineField
      label="Group by"
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      tooltip="Split the result by the values of this dimension (one series or row per value). Leave empty for a single total."
    >
      <Combobox<string>
        id={id}
        data-testid="pulso-group-by"
        width={24}
        isClearable
        createCustomValue
        customValueDescription="Use this value (e.g. a dashboard variable such as $groupBy)"
        placeholder="None"
        options={DIMENSION_OPTIONS}
        value={query.groupBy ?? null}
        onChange={(option) => onChange(withField(query, 'groupBy', option?.value as Dimension | undefined))}
      />
    </InlineField>
  );
}

function DimensionField({ query, onChange, idPrefix }: FieldProps) {
  const id = `${idPrefix}-dimension`;
  return (
    <InlineField
      label="Dimension"
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      required
      invalid={!query.dimension}
      error="Pick the dimension whose values to list"
      tooltip="List the distinct values of this dimension among the rows that match the filters."
    >
      <Combobox<string>
        id={id}
        data-testid="pulso-dimension"
        width={24}
        placeholder="Choose"
        createCustomValue
        customValueDescription="Use this value (e.g. a dashboard variable)"
        options={DIMENSION_OPTIONS}
        value={query.dimension ?? null}
        onChange={(option) => onChange(withField(query, 'dimension', option.value as Dimension))}
      />
    </InlineField>
  );
}

function IntervalField({ query, onChange, idPrefix }: FieldProps) {
  const id = `${idPrefix}-interval`;
  const [text, setText] = useDraft(query.interval ?? '');
  const valid = isValidInterval(text);
  const commit = () => {
    const trimmed = text.trim();
    if (valid && trimmed !== (query.interval ?? '')) {
      onChange(withField(query, 'interval', trimmed === '' ? undefined : trimmed));
    }
  };
  return (
    <InlineField
      label="Interval"
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      tooltip="Width of each time bucket, e.g. 30s, 5m, 1h, 1d or 1w. Leave empty to follow the panel's interval."
      invalid={!valid}
      error="Use a number and a unit: 30s, 5m, 1h, 1d or 1w (at least 1s)"
    >
      <Input
        id={id}
        width={12}
        placeholder="auto"
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === 'Enter' && commit()}
      />
    </InlineField>
  );
}

function SearchField({ query, onChange, idPrefix }: FieldProps) {
  const id = `${idPrefix}-search`;
  const [text, setText] = useDraft(query.search ?? '');
  const commit = () => {
    if (text !== (query.search ?? '')) {
      onChange(withField(query, 'search', text === '' ? undefined : text));
    }
  };
  return (
    <InlineField
      label="Search"
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      grow
      tooltip="Only mentions whose text contains this, ignoring case and accents (so 'aji' finds 'ají'). Dashboard variables such as $term work."
    >
      <Input
        id={id}
        placeholder="Any text"
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === 'Enter' && commit()}
      />
    </InlineField>
  );
}

function LimitField({ query, onChange, idPrefix }: FieldProps) {
  const id = `${idPrefix}-limit`;
  const current = query.limit === undefined ? '' : String(query.limit);
  const [text, setText] = useDraft(current);
  const parsed = text.trim() === '' ? undefined : Number(text);
  const valid = parsed === undefined || (Number.isInteger(parsed) && parsed >= 1 && parsed <= MAX_LIMIT);
  const commit = () => {
    if (valid && parsed !== query.limit) {
      onChange(withField(query, 'limit', parsed));
    }
  };
  return (
    <InlineField
      label="Limit"
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      tooltip={`How many mentions to return, newest first: 1 to ${MAX_LIMIT}. Empty means ${DEFAULT_LIMIT}.`}
      invalid={!valid}
      error={`Enter a whole number from 1 to ${MAX_LIMIT}`}
    >
      <Input
        id={id}
        type="number"
        min={1}
        max={MAX_LIMIT}
        width={12}
        placeholder={String(DEFAULT_LIMIT)}
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === 'Enter' && commit()}
      />
    </InlineField>
  );
}
