import React from 'react';
import { css } from '@emotion/css';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import {
  Combobox,
  ComboboxOption,
  InlineField,
  InlineFieldRow,
  InlineSwitch,
  Input,
  MultiCombobox,
  RadioButtonGroup,
  Stack,
  Text,
} from '@grafana/ui';

import type { DataSource } from '../datasource';
import { isValidInterval, withAnomalyView, withAspectView, withField, withFilter, withQueryType } from '../query';
import {
  AnomalyView,
  Aspect,
  AspectView,
  DEFAULT_ANOMALY_INTERVAL,
  DEFAULT_ANOMALY_METRIC,
  DEFAULT_ANOMALY_VIEW,
  DEFAULT_ASPECT_METRIC,
  DEFAULT_ASPECT_VIEW,
  DEFAULT_BASELINE_BUCKETS,
  DEFAULT_LIMIT,
  DEFAULT_LLM,
  DEFAULT_MIN_SUPPORT,
  DEFAULT_THRESHOLD,
  DEFAULT_TRENDING_LIMIT,
  Dimension,
  LIVE_QUERY_TYPES,
  MAX_BASELINE_BUCKETS,
  MAX_LIMIT,
  MAX_THRESHOLD,
  MAX_TRENDING_LIMIT,
  Metric,
  MIN_BASELINE_BUCKETS,
  MAX_MIN_SUPPORT,
  MIN_MIN_SUPPORT,
  MIN_THRESHOLD,
  PulsoOptions,
  PulsoQuery,
  QUERY_TYPE_INFO,
} from '../types';
import { FiltersEditor, MinConfidenceField } from './FiltersEditor';
import {
  ANOMALY_METRIC_OPTIONS,
  ANOMALY_VIEW_OPTIONS,
  ASPECT_OPTIONS,
  ASPECT_VIEW_OPTIONS,
  DIMENSION_OPTIONS,
  TERM_GROUP_OPTIONS,
  LABEL_WIDTH,
  METRIC_OPTIONS,
  QUERY_TYPE_OPTIONS,
  variableOptions,
} from './options';
import { useDraft } from './useDraft';

export type Props = QueryEditorProps<DataSource, PulsoQuery, PulsoOptions>;

/** Eight query types do not fit a narrow query row: let the picker wrap instead of overflowing. */
const wrapping = css({ flexWrap: 'wrap' });
/** A note beside a field, centred on the field's 32 px row. */
const besideField = css({ display: 'flex', alignItems: 'center', minHeight: 32, marginBottom: 4 });

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
  const fieldProps = { query, onChange: change, idPrefix };

  return (
    <Stack direction="column" gap={0}>
      <InlineFieldRow>
        <InlineField
          label="Query type"
          labelWidth={LABEL_WIDTH}
          tooltip="What the query returns. Filters and minimum confidence below apply to every type."
        >
          <RadioButtonGroup
            className={wrapping}
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
          <MetricField
            {...fieldProps}
            options={METRIC_OPTIONS}
            defaultValue="volume"
            tooltip="What each time bucket measures: the number of rows, or a sentiment aggregate over them."
          />
          <GroupByField {...fieldProps} />
          <IntervalField {...fieldProps} />
        </InlineFieldRow>
      )}
      {queryType === 'distribution' && (
        <InlineFieldRow>
          <GroupByField {...fieldProps} />
        </InlineFieldRow>
      )}
      {queryType === 'mentions' && (
        <InlineFieldRow>
          <SearchField {...fieldProps} />
          <NumberField
            {...fieldProps}
            field="limit"
            label="Limit"
            idSuffix="limit"
            min={1}
            max={MAX_LIMIT}
            defaultValue={DEFAULT_LIMIT}
            tooltip={`How many mentions to return, newest first: 1 to ${MAX_LIMIT}. Empty means ${DEFAULT_LIMIT}.`}
          />
        </InlineFieldRow>
      )}
      {queryType && LIVE_QUERY_TYPES.includes(queryType) && (
        <InlineFieldRow>
          <LiveField {...fieldProps} />
        </InlineFieldRow>
      )}
      {queryType === 'dimension_values' && (
        <InlineFieldRow>
          <DimensionField {...fieldProps} />
        </InlineFieldRow>
      )}
      {queryType === 'trending_terms' && (
        <InlineFieldRow>
          <NumberField
            {...fieldProps}
            field="minSupport"
            label="Min support"
            idSuffix="min-support"
            min={MIN_MIN_SUPPORT}
            max={MAX_MIN_SUPPORT}
            defaultValue={DEFAULT_MIN_SUPPORT}
            tooltip={`Only terms found in at least this many mentions of the range (a whole number from ${MIN_MIN_SUPPORT} to ${MAX_MIN_SUPPORT}), so one-off words do not show up as trends. Empty means ${DEFAULT_MIN_SUPPORT}.`}
          />
          <NumberField
            {...fieldProps}
            field="limit"
            label="Limit"
            idSuffix="limit"
            min={1}
            max={MAX_TRENDING_LIMIT}
            defaultValue={DEFAULT_TRENDING_LIMIT}
            tooltip={`How many terms to return, those that rose most above what the change in volume predicts first: 1 to ${MAX_TRENDING_LIMIT}. Empty means ${DEFAULT_TRENDING_LIMIT}.`}
          />
          <GroupByField
            {...fieldProps}
            options={TERM_GROUP_OPTIONS}
            tooltip="Rank the terms separately for each value of this dimension (a first column names the value). Leave empty for one ranking."
          />
        </InlineFieldRow>
      )}
      {queryType === 'aspects' && (
        <>
          <InlineFieldRow>
            <ViewField<AspectView>
              {...fieldProps}
              options={ASPECT_VIEW_OPTIONS}
              value={aspectView(query)}
              onSelect={(view) => change(withAspectView(query, view))}
              tooltip="Table per aspect (view distribution): mentions and positive / neutral / negative counts and shares. Series per aspect (view timeseries): one series of a metric per aspect, which alert rules can use."
            />
            <AspectsField {...fieldProps} />
          </InlineFieldRow>
          {aspectView(query) === 'timeseries' && (
            <InlineFieldRow>
              <MetricField
                {...fieldProps}
                options={METRIC_OPTIONS}
                defaultValue={DEFAULT_ASPECT_METRIC}
                tooltip="What each aspect's series measures per time bucket, over the mentions about that aspect."
              />
              <IntervalField {...fieldProps} />
            </InlineFieldRow>
          )}
        </>
      )}
      {queryType === 'anomalies' && (
        <>
          <InlineFieldRow>
            <MetricField
              {...fieldProps}
              options={ANOMALY_METRIC_OPTIONS}
              defaultValue={DEFAULT_ANOMALY_METRIC}
              tooltip="What is watched for anomalies in each bucket: the share of negative rows, or the number of rows."
            />
            <GroupByField
              {...fieldProps}
              options={TERM_GROUP_OPTIONS}
              tooltip="Look for anomalies separately in each value of this dimension (one z-score series per value). Leave empty for the total."
            />
            <IntervalField
              {...fieldProps}
              allowAuto={false}
              placeholder={DEFAULT_ANOMALY_INTERVAL}
              tooltip={`Width of each bucket, e.g. 1h, 1d or 1w. Empty means ${DEFAULT_ANOMALY_INTERVAL}.`}
            />
          </InlineFieldRow>
          <InlineFieldRow>
            <NumberField
              {...fieldProps}
              field="baselineBuckets"
              label="Baseline buckets"
              idSuffix="baseline-buckets"
              min={MIN_BASELINE_BUCKETS}
              max={MAX_BASELINE_BUCKETS}
              defaultValue={DEFAULT_BASELINE_BUCKETS}
              tooltip={`How many trailing buckets form the baseline (their median and MAD) each bucket is compared with: ${MIN_BASELINE_BUCKETS} to ${MAX_BASELINE_BUCKETS}. Empty means ${DEFAULT_BASELINE_BUCKETS}.`}
            />
            <NumberField
              {...fieldProps}
              field="threshold"
              label="Threshold"
              idSuffix="threshold"
              integer={false}
              step={0.5}
              min={MIN_THRESHOLD}
              max={MAX_THRESHOLD}
              defaultValue={DEFAULT_THRESHOLD}
              tooltip={`Robust z-score from which a bucket counts as a spike: ${MIN_THRESHOLD} to ${MAX_THRESHOLD}. Empty means ${DEFAULT_THRESHOLD}.`}
            />
            <ViewField<AnomalyView>
              {...fieldProps}
              options={ANOMALY_VIEW_OPTIONS}
              value={anomalyView(query)}
              onSelect={(view) => change(withAnomalyView(query, view))}
              tooltip="Z-score series (view timeseries): one z-score per bucket and group, for panels and alert rules (e.g. last > 3.5). Spikes (view spikes): a table of the buckets above the threshold, with rising terms and worst aspects, usable as Grafana annotations."
            />
          </InlineFieldRow>
        </>
      )}
      {queryType === 'insights' && (
        <InlineFieldRow>
          <LlmField {...fieldProps} llmConfigured={datasource.llmConfigured} />
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

function aspectView(query: PulsoQuery): AspectView {
  return query.view === 'timeseries' ? 'timeseries' : DEFAULT_ASPECT_VIEW;
}

function anomalyView(query: PulsoQuery): AnomalyView {
  return query.view === 'spikes' ? 'spikes' : DEFAULT_ANOMALY_VIEW;
}

interface FieldProps {
  query: PulsoQuery;
  onChange: (query: PulsoQuery, run?: boolean) => void;
  idPrefix: string;
}

interface MetricFieldProps<T extends Metric> extends FieldProps {
  options: Array<ComboboxOption<T>>;
  defaultValue: T;
  tooltip: string;
}

function MetricField<T extends Metric>({
  query,
  onChange,
  idPrefix,
  options,
  defaultValue,
  tooltip,
}: MetricFieldProps<T>) {
  const id = `${idPrefix}-metric`;
  return (
    <InlineField label="Metric" labelWidth={LABEL_WIDTH} htmlFor={id} tooltip={tooltip}>
      <Combobox<T>
        id={id}
        data-testid="pulso-metric"
        width={24}
        options={options}
        value={(query.metric as T | undefined) ?? defaultValue}
        onChange={(option) => onChange(withField(query, 'metric', option.value))}
      />
    </InlineField>
  );
}

function GroupByField({
  query,
  onChange,
  idPrefix,
  tooltip = 'Split the result by the values of this dimension (one series or row per value). Leave empty for a single total.',
  options = DIMENSION_OPTIONS,
}: FieldProps & { tooltip?: string; options?: Array<ComboboxOption<Dimension>> }) {
  const id = `${idPrefix}-group-by`;
  return (
    <InlineField label="Group by" labelWidth={LABEL_WIDTH} htmlFor={id} tooltip={tooltip}>
      <Combobox<string>
        id={id}
        data-testid="pulso-group-by"
        width={24}
        isClearable
        createCustomValue
        customValueDescription="Use this value (e.g. a dashboard variable such as $groupBy)"
        placeholder="None"
        options={options}
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

interface IntervalFieldProps extends FieldProps {
  /** Whether `auto` (follow the panel's interval) is accepted. */
  allowAuto?: boolean;
  placeholder?: string;
  tooltip?: string;
}

function IntervalField({
  query,
  onChange,
  idPrefix,
  allowAuto = true,
  placeholder = 'auto',
  tooltip = "Width of each time bucket, e.g. 30s, 5m, 1h, 1d or 1w. Leave empty to follow the panel's interval.",
}: IntervalFieldProps) {
  const id = `${idPrefix}-interval`;
  const [text, setText] = useDraft(query.interval ?? '');
  const valid = isValidInterval(text) && (allowAuto || text.trim() !== 'auto');
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
      tooltip={tooltip}
      invalid={!valid}
      error="Use a number and a unit: 30s, 5m, 1h, 1d or 1w (at least 1s)"
    >
      <Input
        id={id}
        width={12}
        placeholder={placeholder}
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

type NumericField = 'limit' | 'minSupport' | 'baselineBuckets' | 'threshold';

interface NumberFieldProps extends FieldProps {
  field: NumericField;
  label: string;
  idSuffix: string;
  min: number;
  /** No upper bound when absent. */
  max?: number;
  /** Whole numbers only (the default). */
  integer?: boolean;
  step?: number;
  /** What the backend uses when the field is absent; shown as the placeholder. */
  defaultValue: number;
  tooltip: string;
}

/** The message for a value outside what the backend accepts. */
export function rangeError(min: number, max: number | undefined, integer: boolean): string {
  const kind = integer ? 'a whole number' : 'a number';
  return max === undefined ? `Enter ${kind} of at least ${min}` : `Enter ${kind} from ${min} to ${max}`;
}

/**
 * A number committed on blur or Enter; empty removes the field (the backend default applies).
 * A value out of range is flagged and never emitted.
 */
function NumberField({
  query,
  onChange,
  idPrefix,
  field,
  label,
  idSuffix,
  min,
  max,
  integer = true,
  step,
  defaultValue,
  tooltip,
}: NumberFieldProps) {
  const id = `${idPrefix}-${idSuffix}`;
  const current = query[field];
  const [text, setText] = useDraft(current === undefined ? '' : String(current));
  const parsed = text.trim() === '' ? undefined : Number(text);
  const valid =
    parsed === undefined ||
    (Number.isFinite(parsed) &&
      (!integer || Number.isInteger(parsed)) &&
      parsed >= min &&
      (max === undefined || parsed <= max));
  const commit = () => {
    if (valid && parsed !== current) {
      onChange(withField(query, field, parsed));
    }
  };
  return (
    <InlineField
      label={label}
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      tooltip={tooltip}
      invalid={!valid}
      error={rangeError(min, max, integer)}
    >
      <Input
        id={id}
        type="number"
        min={min}
        max={max}
        step={step}
        width={12}
        placeholder={String(defaultValue)}
        value={text}
        onChange={(e) => setText(e.currentTarget.value)}
        onBlur={commit}
        onKeyDown={(e) => e.key === 'Enter' && commit()}
      />
    </InlineField>
  );
}

interface ViewFieldProps<T extends string> extends FieldProps {
  options: Array<SelectableValue<T>>;
  value: T;
  onSelect: (view: T) => void;
  tooltip: string;
}

function ViewField<T extends string>({ options, value, onSelect, tooltip }: ViewFieldProps<T>) {
  return (
    <InlineField label="View" labelWidth={LABEL_WIDTH} tooltip={tooltip}>
      <RadioButtonGroup<T> options={options} value={value} onChange={onSelect} />
    </InlineField>
  );
}

/** The aspects to report; empty means all of them. Dashboard variables such as $aspect work too. */
function AspectsField({ query, onChange, idPrefix }: FieldProps) {
  const id = `${idPrefix}-aspects`;
  const selected = query.aspects ?? [];
  const options: Array<ComboboxOption<string>> = [...ASPECT_OPTIONS, ...variableOptions()];
  return (
    <InlineField
      label="Aspects"
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      tooltip="Which aspects to report, each found by its Spanish and English words (e.g. delivery: delivery, demora, motorizado). Leave empty for all eight. A dashboard variable such as $aspect works too."
    >
      <MultiCombobox<string>
        id={id}
        data-testid="pulso-aspects"
        // As for the filters: 'auto' measures the pills in real pixels.
        width="auto"
        minWidth={32}
        maxWidth={80}
        placeholder="All aspects"
        isClearable
        options={options}
        // Pills show the short key; the menu shows the key with its words.
        value={selected.map((v) => ({ value: v, label: v }))}
        onChange={(picked) => {
          const values = picked.map((option) => String(option.value));
          onChange(withField(query, 'aspects', values.length > 0 ? (values as Aspect[]) : undefined));
        }}
      />
    </InlineField>
  );
}

function LiveField({ query, onChange, idPrefix }: FieldProps) {
  const id = `${idPrefix}-live`;
  const appends = query.queryType === 'mentions';
  return (
    <InlineField
      label="Live"
      labelWidth={LABEL_WIDTH}
      htmlFor={id}
      tooltip={
        appends
          ? 'Stream newly scored mentions that match this query into the panel through Grafana Live, a few times a second at most, without refreshing the dashboard.'
          : 'Update this panel through Grafana Live as rows are scored, a few times a second at most: the whole result is answered again over the panel time range, ending now.'
      }
    >
      <InlineSwitch
        id={id}
        data-testid="pulso-live"
        value={query.live ?? false}
        onChange={(e) => onChange(withField(query, 'live', e.currentTarget.checked ? true : undefined))}
      />
    </InlineField>
  );
}

function LlmField({ query, onChange, idPrefix, llmConfigured }: FieldProps & { llmConfigured: boolean }) {
  const id = `${idPrefix}-llm`;
  const on = query.llm ?? DEFAULT_LLM;
  return (
    <>
      <InlineField
        label="Use LLM"
        labelWidth={LABEL_WIDTH}
        htmlFor={id}
        tooltip="On: the LLM set in the data source settings (LLM URL and model) writes the insights, and the offline summary is returned beside an error if it fails. Off: always the deterministic offline summary."
      >
        <InlineSwitch
          id={id}
          data-testid="pulso-llm"
          value={on}
          onChange={(e) => onChange(withField(query, 'llm', e.currentTarget.checked))}
        />
      </InlineField>
      {on && !llmConfigured && (
        <div className={besideField}>
          <Text color="secondary" variant="bodySmall">
            No LLM URL and model are set for this data source, so the offline summary is used.
          </Text>
        </div>
      )}
    </>
  );
}
