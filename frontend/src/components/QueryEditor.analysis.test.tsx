import React, { useState } from 'react';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { DataSource } from '../datasource';
import { fakeTemplateSrv } from '../test/fakeTemplateSrv';
import { fakeDataSource, giveElementsASize, settings } from '../test/editor';
import { ASPECTS, PulsoQuery } from '../types';
import { QueryEditor } from './QueryEditor';

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getTemplateSrv: () => fakeTemplateSrv([{ name: 'aspect', value: ['delivery', 'price'] }]),
}));

beforeAll(giveElementsASize);

/** Renders the editor like Grafana does: the query is state, and onChange replaces it. */
function setup(initial: PulsoQuery, ds: DataSource = fakeDataSource().ds) {
  const changes: PulsoQuery[] = [];
  const onRunQuery = jest.fn();
  function Harness() {
    const [query, setQuery] = useState(initial);
    return (
      <QueryEditor
        datasource={ds}
        query={query}
        onRunQuery={onRunQuery}
        onChange={(q) => {
          changes.push(q);
          setQuery(q);
        }}
      />
    );
  }
  const user = userEvent.setup();
  render(<Harness />);
  const last = () => changes[changes.length - 1];
  return { user, changes, last, onRunQuery };
}

/** Replaces a number field's text and blurs it, as a user does. */
async function typeNumber(user: ReturnType<typeof userEvent.setup>, label: string, text: string) {
  const input = screen.getByLabelText(label);
  await user.clear(input);
  if (text !== '') {
    await user.type(input, text);
  }
  await user.tab();
}

/** The aspect multi-select (the query type radio "Aspects" has the same label). */
const aspectsInput = () => screen.getByRole('combobox', { name: 'Aspects' });

const shared = { filters: { region: ['Lima'] }, minConfidence: 0.6 };

describe('QueryEditor: the query type picker', () => {
  it('offers the four analysis types beside the existing ones', () => {
    setup({ refId: 'A', queryType: 'timeseries', metric: 'volume' });
    const names = screen
      .getAllByRole('radio')
      .map((radio) => (radio as HTMLInputElement).labels?.[0]?.textContent?.trim());
    expect(names).toEqual([
      'Time series',
      'Mentions',
      'Distribution',
      'Dimension values',
      'Trending terms',
      'Aspects',
      'Anomalies',
      'Insights',
    ]);
  });

  it.each<[string, PulsoQuery]>([
    ['Trending terms', { refId: 'A', queryType: 'trending_terms', minSupport: 5, limit: 20, ...shared }],
    ['Aspects', { refId: 'A', queryType: 'aspects', view: 'distribution', ...shared }],
    [
      'Anomalies',
      {
        refId: 'A',
        queryType: 'anomalies',
        metric: 'share_negative',
        interval: '1d',
        baselineBuckets: 14,
        threshold: 3.5,
        view: 'timeseries',
        ...shared,
      },
    ],
    ['Insights', { refId: 'A', queryType: 'insights', llm: true, ...shared }],
  ])('%s: emits its default JSON, keeping filters and min confidence', async (label, expected) => {
    const { user, last, onRunQuery } = setup({
      refId: 'A',
      queryType: 'timeseries',
      metric: 'net_sentiment',
      groupBy: 'brand',
      interval: '1h',
      ...shared,
    });
    await user.click(screen.getByRole('radio', { name: label }));
    expect(last()).toEqual(expected);
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    expect(screen.getByLabelText('Region')).toBeInTheDocument();
    expect(screen.getByLabelText('Min confidence')).toHaveValue(0.6);
  });
});

describe('QueryEditor: trending_terms', () => {
  const base: PulsoQuery = { refId: 'A', queryType: 'trending_terms', minSupport: 5, limit: 20 };

  it('shows min support, limit and group by with their defaults', () => {
    setup(base);
    expect(screen.getByRole('radio', { name: 'Trending terms' })).toBeChecked();
    expect(screen.getByLabelText('Min support')).toHaveValue(5);
    expect(screen.getByLabelText('Limit')).toHaveValue(20);
    expect(screen.getByLabelText('Group by')).toBeInTheDocument();
    expect(screen.queryByLabelText('Search')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Metric')).not.toBeInTheDocument();
  });

  it('emits min support, limit and group by', async () => {
    const { user, last } = setup(base);
    await typeNumber(user, 'Min support', '3');
    expect(last()).toEqual({ ...base, minSupport: 3 });
    await typeNumber(user, 'Limit', '500');
    expect(last()).toEqual({ ...base, minSupport: 3, limit: 500 });
    await user.click(screen.getByLabelText('Group by'));
    await user.click(await screen.findByRole('option', { name: /Brand/ }));
    expect(last()).toEqual({ ...base, minSupport: 3, limit: 500, groupBy: 'brand' });
  });

  it('removes a cleared field, so the backend default applies', async () => {
    const { user, last } = setup(base);
    await typeNumber(user, 'Min support', '');
    expect(last()).toEqual({ refId: 'A', queryType: 'trending_terms', limit: 20 });
  });

  it.each([
    ['Min support', '0', 'Enter a whole number from 1 to 1000000'],
    ['Min support', '1000001', 'Enter a whole number from 1 to 1000000'],
    ['Min support', '2.5', 'Enter a whole number from 1 to 1000000'],
    ['Limit', '0', 'Enter a whole number from 1 to 500'],
    ['Limit', '501', 'Enter a whole number from 1 to 500'],
    ['Limit', '7.5', 'Enter a whole number from 1 to 500'],
  ])('refuses %s %p', async (label, text, message) => {
    const { user, changes } = setup(base);
    await typeNumber(user, label, text);
    expect(screen.getByText(message)).toBeInTheDocument();
    expect(changes).toHaveLength(0);
  });

  it('goes back to the mentions limit when switched to mentions', async () => {
    const { user, last } = setup({ ...base, limit: 300, groupBy: 'brand' });
    await user.click(screen.getByRole('radio', { name: 'Mentions' }));
    expect(last()).toEqual({ refId: 'A', queryType: 'mentions', limit: 100 });
  });
});

describe('QueryEditor: aspects', () => {
  const base: PulsoQuery = { refId: 'A', queryType: 'aspects', view: 'distribution' };

  it('shows the view and an aspect multi-select with every aspect in Spanish and English', async () => {
    const { user } = setup(base);
    expect(screen.getByRole('radio', { name: 'Table per aspect' })).toBeChecked();
    expect(screen.queryByLabelText('Metric')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Interval')).not.toBeInTheDocument();
    await user.click(aspectsInput());
    const options = await screen.findAllByRole('option');
    const labels = options.map((o) => o.textContent ?? '');
    for (const aspect of ASPECTS) {
      expect(labels.some((l) => l.startsWith(`${aspect} — `))).toBe(true);
    }
    expect(screen.getByRole('option', { name: /delivery — delivery \/ demora \/ motorizado/ })).toBeInTheDocument();
    expect(screen.getByRole('option', { name: /taste — taste \/ sabor/ })).toBeInTheDocument();
    expect(screen.getByRole('option', { name: '$aspect' })).toBeInTheDocument();
  });

  it('emits the picked aspects, and removes the list when they are cleared', async () => {
    const { user, last } = setup(base);
    await user.click(aspectsInput());
    await user.click(await screen.findByRole('option', { name: /^delivery — / }));
    expect(last()).toEqual({ ...base, aspects: ['delivery'] });
    await user.click(screen.getByRole('option', { name: /^price — / }));
    expect(last()).toEqual({ ...base, aspects: ['delivery', 'price'] });
    await user.keyboard('{Escape}');

    const field = screen.getByTestId('pulso-aspects').parentElement!.parentElement!;
    await user.click(within(field).getByRole('button', { name: /Remove delivery/i }));
    await waitFor(() => expect(last()).toEqual({ ...base, aspects: ['price'] }));
    await user.click(within(field).getByRole('button', { name: /Remove price/i }));
    await waitFor(() => expect(last()).toEqual(base));
  });

  it('accepts a dashboard variable as the aspect list', async () => {
    const { user, last } = setup(base);
    await user.click(aspectsInput());
    await user.click(await screen.findByRole('option', { name: '$aspect' }));
    expect(last()).toEqual({ ...base, aspects: ['$aspect'] });
  });

  it('switches to the time series view with its metric and interval, and back', async () => {
    const { user, last } = setup({ ...base, aspects: ['service'] });
    await user.click(screen.getByRole('radio', { name: 'Series per aspect' }));
    expect(last()).toEqual({ ...base, view: 'timeseries', metric: 'share_negative', aspects: ['service'] });

    await user.click(screen.getByLabelText('Metric'));
    await user.click(await screen.findByRole('option', { name: /Net sentiment/ }));
    expect(last()).toEqual({ ...base, view: 'timeseries', metric: 'net_sentiment', aspects: ['service'] });

    await user.type(screen.getByLabelText('Interval'), '1h');
    await user.tab();
    expect(last()).toEqual({
      ...base,
      view: 'timeseries',
      metric: 'net_sentiment',
      interval: '1h',
      aspects: ['service'],
    });

    await user.click(screen.getByRole('radio', { name: 'Table per aspect' }));
    expect(last()).toEqual({ ...base, aspects: ['service'] });
    expect(screen.queryByLabelText('Metric')).not.toBeInTheDocument();
  });

  it('offers every metric in the time series view, defaulting to share negative', async () => {
    const { user } = setup({ ...base, view: 'timeseries' });
    expect(screen.getByLabelText('Metric')).toHaveValue('Share negative');
    await user.click(screen.getByLabelText('Metric'));
    // All six, share of voice included: each aspect's share of the bucket's aspect mentions.
    expect(await screen.findAllByRole('option')).toHaveLength(6);
  });
});

describe('QueryEditor: anomalies', () => {
  const base: PulsoQuery = {
    refId: 'A',
    queryType: 'anomalies',
    metric: 'share_negative',
    interval: '1d',
    baselineBuckets: 14,
    threshold: 3.5,
    view: 'timeseries',
  };

  it('shows its fields with their defaults', () => {
    setup(base);
    expect(screen.getByLabelText('Metric')).toHaveValue('Share negative');
    expect(screen.getByLabelText('Group by')).toBeInTheDocument();
    expect(screen.getByLabelText('Interval')).toHaveValue('1d');
    expect(screen.getByLabelText('Baseline buckets')).toHaveValue(14);
    expect(screen.getByLabelText('Threshold')).toHaveValue(3.5);
    expect(screen.getByRole('radio', { name: 'Z-score series' })).toBeChecked();
  });

  it('offers only share negative and volume as metrics', async () => {
    const { user, last } = setup(base);
    await user.click(screen.getByLabelText('Metric'));
    const options = await screen.findAllByRole('option');
    expect(options.map((o) => o.textContent)).toEqual([
      expect.stringMatching(/^Share negative/),
      expect.stringMatching(/^Volume/),
    ]);
    await user.click(screen.getByRole('option', { name: /Volume/ }));
    expect(last()).toEqual({ ...base, metric: 'volume' });
  });

  it('does not offer emotion as a group, which only time series and distribution have', async () => {
    const { user } = setup(base);
    await user.click(screen.getByLabelText('Group by'));
    const names = (await screen.findAllByRole('option')).map((o) => o.textContent ?? '');
    expect(names).toContainEqual(expect.stringMatching(/^Brand/));
    expect(names.filter((n) => n.startsWith('Emotion'))).toEqual([]);
  });

  it('emits group by, interval, baseline, threshold and view', async () => {
    const { user, last } = setup(base);
    await user.click(screen.getByLabelText('Group by'));
    await user.click(await screen.findByRole('option', { name: /Brand/ }));
    expect(last()).toEqual({ ...base, groupBy: 'brand' });

    await user.clear(screen.getByLabelText('Interval'));
    await user.type(screen.getByLabelText('Interval'), '1h');
    await user.tab();
    expect(last()).toEqual({ ...base, groupBy: 'brand', interval: '1h' });

    await typeNumber(user, 'Baseline buckets', '30');
    expect(last()).toEqual({ ...base, groupBy: 'brand', interval: '1h', baselineBuckets: 30 });

    await typeNumber(user, 'Threshold', '2.5');
    expect(last()).toEqual({ ...base, groupBy: 'brand', interval: '1h', baselineBuckets: 30, threshold: 2.5 });

    await user.click(screen.getByRole('radio', { name: 'Spikes' }));
    expect(last()).toEqual({
      ...base,
      groupBy: 'brand',
      interval: '1h',
      baselineBuckets: 30,
      threshold: 2.5,
      view: 'spikes',
    });
  });

  it.each([
    ['Baseline buckets', '2', 'Enter a whole number from 3 to 180'],
    ['Baseline buckets', '181', 'Enter a whole number from 3 to 180'],
    ['Baseline buckets', '14.5', 'Enter a whole number from 3 to 180'],
    ['Threshold', '0.4', 'Enter a number from 0.5 to 50'],
    ['Threshold', '50.5', 'Enter a number from 0.5 to 50'],
  ])('refuses %s %p', async (label, text, message) => {
    const { user, changes } = setup(base);
    await typeNumber(user, label, text);
    expect(screen.getByText(message)).toBeInTheDocument();
    expect(changes).toHaveLength(0);
  });

  it.each([
    ['Baseline buckets', '3', 3],
    ['Baseline buckets', '180', 180],
    ['Threshold', '0.5', 0.5],
    ['Threshold', '50', 50],
  ])('accepts %s %p (a bound)', async (label, text, value) => {
    const { user, last } = setup(base);
    await typeNumber(user, label, text);
    expect(last()).toEqual({ ...base, [label === 'Threshold' ? 'threshold' : 'baselineBuckets']: value });
  });

  it('refuses an interval of auto or without a unit', async () => {
    const { user, changes } = setup(base);
    for (const text of ['auto', 'daily']) {
      await user.clear(screen.getByLabelText('Interval'));
      await user.type(screen.getByLabelText('Interval'), text);
      await user.tab();
      expect(screen.getByText(/Use a number and a unit/)).toBeInTheDocument();
    }
    expect(changes).toHaveLength(0);
  });
});

describe('QueryEditor: insights', () => {
  const base: PulsoQuery = { refId: 'A', queryType: 'insights', llm: true };

  it('switches the LLM off and on', async () => {
    const { user, last } = setup(base);
    const llm = screen.getByLabelText('Use LLM');
    expect(llm).toBeChecked();
    await user.click(llm);
    expect(last()).toEqual({ ...base, llm: false });
    expect(screen.getByLabelText('Use LLM')).not.toBeChecked();
    await user.click(screen.getByLabelText('Use LLM'));
    expect(last()).toEqual(base);
  });

  it('treats an absent llm as on', () => {
    setup({ refId: 'A', queryType: 'insights' });
    expect(screen.getByLabelText('Use LLM')).toBeChecked();
  });

  it('says when no LLM is configured', () => {
    setup(base);
    expect(screen.getByText(/offline summary is used/)).toBeInTheDocument();
  });

  it('does not when one is', () => {
    const ds = new DataSource({
      ...settings,
      jsonData: { llmUrl: 'http://localhost:11434/v1', llmModel: 'llama3.1:8b' },
    });
    setup(base, ds);
    expect(screen.queryByText(/offline summary is used/)).not.toBeInTheDocument();
  });
});

describe('QueryEditor: annotations', () => {
  it('edits the default annotation query as anomalies spikes', () => {
    const { ds } = fakeDataSource();
    setup({ ...ds.annotations!.getDefaultQuery!(), refId: 'Anno' } as PulsoQuery, ds);
    expect(screen.getByRole('radio', { name: 'Anomalies' })).toBeChecked();
    expect(screen.getByRole('radio', { name: 'Spikes' })).toBeChecked();
  });
});

describe('QueryEditor: grouping volumes by emotion', () => {
  it('offers emotion as a distribution group and emits it', async () => {
    const base: PulsoQuery = { refId: 'A', queryType: 'distribution' };
    const { user, last } = setup(base);
    await user.click(screen.getByLabelText('Group by'));
    await user.click(await screen.findByRole('option', { name: /^Emotion/ }));
    expect(last()).toEqual({ ...base, groupBy: 'emotion' });
  });
});
