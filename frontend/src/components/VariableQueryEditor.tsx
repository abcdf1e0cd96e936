import React from 'react';
import { QueryEditorProps } from '@grafana/data';
import { Combobox, InlineField, InlineFieldRow, Stack, Text } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { withField, withFilter } from '../query';
import { Dimension, PulsoOptions, PulsoQuery, PulsoVariableQuery } from '../types';
import { toDimensionValuesQuery } from '../variableQuery';
import { FiltersEditor, MinConfidenceField } from './FiltersEditor';
import { DIMENSION_OPTIONS, LABEL_WIDTH } from './options';

export type Props = QueryEditorProps<DataSource, PulsoQuery, PulsoOptions, PulsoVariableQuery>;

/** The variable's query: which dimension's values to list, among the rows that match the filters. */
export function VariableQueryEditor({ query: stored, onChange, datasource }: Props) {
  // Variables saved as a bare dimension name are shown (and saved back) as a full query.
  const query = toDimensionValuesQuery(stored as PulsoVariableQuery | string | undefined);
  const idPrefix = 'pulso-variable';

  const change = (next: PulsoQuery) => {
    const { refId, dimension, filters, minConfidence } = next;
    const out: PulsoVariableQuery = { refId, queryType: 'dimension_values' };
    if (dimension) {
      out.dimension = dimension;
    }
    if (filters) {
      out.filters = filters;
    }
    if (minConfidence !== undefined) {
      out.minConfidence = minConfidence;
    }
    onChange(out);
  };

  const id = `${idPrefix}-dimension`;
  return (
    <Stack direction="column" gap={0}>
      <InlineFieldRow>
        <InlineField
          label="Dimension"
          labelWidth={LABEL_WIDTH}
          htmlFor={id}
          required
          invalid={!query.dimension}
          error="Pick the dimension whose values become the variable's options"
          tooltip="The variable's options are the distinct values of this dimension among the rows that match the filters below."
        >
          <Combobox<string>
            id={id}
            data-testid="pulso-variable-dimension"
            width={24}
            placeholder="Choose"
            options={DIMENSION_OPTIONS}
            value={query.dimension ?? null}
            onChange={(option) => change(withField(query, 'dimension', option.value as Dimension))}
          />
        </InlineField>
      </InlineFieldRow>
      <Text color="secondary" variant="bodySmall">
        Filters may use other variables, e.g. Region = $region to list only the brands mentioned in the selected
        regions.
      </Text>
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
