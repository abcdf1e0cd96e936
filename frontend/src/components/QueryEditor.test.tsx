import React, { useState } from 'react';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { fakeTemplateSrv } from '../test/fakeTemplateSrv';
import { fakeDataSource, giveElementsASize } from '../test/editor';
import { PulsoQuery } from '../types';
import { QueryEditor } from './QueryEditor';

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getTemplateSrv: () => fakeTemplateSrv([{ name: 'region', value: ['Lima', 'Cusco'] }]),
}));

beforeAll(giveElementsASize);

/** Renders the editor like Grafana does: the query is state, and onChange replaces it. */
function setup(initial: PulsoQuery) {
  const { ds, getResource } = fakeDataSource();
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
  return { user, changes, last, onRunQuery, getResource };
}

describe('QueryEditor', () => {
  it('shows the query type first and the time series fields', () => {
    setup({ refId: 'A', queryType: 'timeseries', metric: 'volume' });
    expect(screen.getByRole('radio', { name: 'Time series' })).toBeChecked();
    expect(screen.getByLabelText('Metric')).toBeInTheDocument();
    expect(screen.getByLabelText('Group by')).toBeInTheDocument();
    expect(screen.getByLabelText('Interval')).toBeInTheDocument();
    expect(screen.getByLabelText('Region')).toBeInTheDocument();
    expect(screen.getByLabelText('Min confidence')).toBeInTheDocument();
    expect(screen.queryByLabelText('Search')).not.toBeInTheDocument();
  });

  it('emits the right JSON for each query type, keeping the filters', async () => {
    const { user, last, onRunQuery } = setup({
      refId: 'A',
      queryType: 'timeseries',
      metric: 'net_sentiment',
      groupBy: 'brand',
      interval: '1d',
      filters: { region: ['Lima'] },
      minConfidence: 0.6,
    });

    await user.click(screen.getByRole('radio', { name: 'Mentions' }));
    expect(last()).toEqual({
      refId: 'A',
      queryType: 'mentions',
      limit: 100,
      filters: { region: ['Lima'] },
      minConfidence: 0.6,
    });
    expect(screen.getByLabelText('Search')).toBeInTheDocument();
    expect(screen.getByLabelText('Limit')).toHaveValue(100);

    await user.click(screen.getByRole('radio', { name: 'Distribution' }));
    expect(last()).toEqual({
      refId: 'A',
      queryType: 'distribution',
      filters: { region: ['Lima'] },
      minConfidence: 0.6,
    });

    await user.click(screen.getByRole('radio', { name: 'Dimension values' }));
    expect(last()).toEqual({
      refId: 'A',
      queryType: 'dimension_values',
      filters: { region: ['Lima'] },
      minConfidence: 0.6,
    });

    await user.click(screen.getByRole('radio', { name: 'Time series' }));
    expect(last()).toEqual({
      refId: 'A',
      queryType: 'timeseries',
      metric: 'volume',
      filters: { region: ['Lima'] },
      minConfidence: 0.6,
    });
    expect(onRunQuery).toHaveBeenCalledTimes(4);
  });

  it('turns Live on and off for the query types that stream', async () => {
    const { user, last, onRunQuery } = setup({ refId: 'A', queryType: 'mentions', limit: 100 });
    const toggle = screen.getByLabelText('Live');
    expect(toggle).not.toBeChecked();
    await user.click(toggle);
    expect(last()).toEqual({ refId: 'A', queryType: 'mentions', limit: 100, live: true });
    expect(onRunQuery).toHaveBeenCalled();
    await user.click(screen.getByLabelText('Live'));
    expect(last()).toEqual({ refId: 'A', queryType: 'mentions', limit: 100 });
    await user.click(screen.getByRole('radio', { name: 'Trending terms' }));
    expect(screen.queryByLabelText('Live')).not.toBeInTheDocument();
  });

  it('commits search and limit when they lose focus', async () => {
    const { user, last } = setup({ refId: 'A', queryType: 'mentions', limit: 100 });
    await user.type(screen.getByLabelText('Search'), 'ají de gallina');
    await user.clear(screen.getByLabelText('Limit'));
    expect(last()).toEqual({ refId: 'A', queryType: 'mentions', limit: 100, search: 'ají de gallina' });
    await user.type(screen.getByLabelText('Limit'), '250');
    await user.tab();
    expect(last()).toEqual({ refId: 'A', queryType: 'mentions', limit: 250, search: 'ají de gallina' });
  });

  it('refuses a limit out of range', async () => {
    const { user, changes } = setup({ refId: 'A', queryType: 'mentions', limit: 100 });
    await user.clear(screen.getByLabelText('Limit'));
    await user.type(screen.getByLabelText('Limit'), '9000');
    await user.tab();
    expect(screen.getByText('Enter a whole number from 1 to 5000')).toBeInTheDocument();
    expect(changes).toHaveLength(0);
  });

  it('sets and clears the interval and minimum confidence', async () => {
    const { user, last } = setup({ refId: 'A', queryType: 'timeseries', metric: 'volume' });
    await user.type(screen.getByLabelText('Interval'), '1h');
    await user.tab();
    expect(last()).toEqual({ refId: 'A', queryType: 'timeseries', metric: 'volume', interval: '1h' });
    await user.type(screen.getByLabelText('Min confidence'), '0.8');
    await user.tab();
    expect(last()).toEqual({
      refId: 'A',
      queryType: 'timeseries',
      metric: 'volume',
      interval: '1h',
      minConfidence: 0.8,
    });
    await user.clear(screen.getByLabelText('Interval'));
    await user.tab();
    expect(last()).toEqual({ refId: 'A', queryType: 'timeseries', metric: 'volume', minConfidence: 0.8 });
  });

  it('flags an interval the backend would reject', async () => {
    const { user, changes } = setup({ refId: 'A', queryType: 'timeseries', metric: 'volume' });
    await user.type(screen.getByLabelText('Interval'), 'soon');
    await user.tab();
    expect(screen.getByText(/Use a number and a unit/)).toBeInTheDocument();
    expect(changes).toHaveLength(0);
  });

  it('picks a metric', async () => {
    const { user, last } = setup({ refId: 'A', queryType: 'timeseries', metric: 'volume' });
    await user.click(screen.getByLabelText('Metric'));
    await user.click(await screen.findByRole('option', { name: /Net sentiment/ }));
    expect(last()).toEqual({ refId: 'A', queryType: 'timeseries', metric: 'net_sentiment' });
  });

  it('offers share of voice, explained as a share of all mentions', async () => {
    const { user, last } = setup({ refId: 'A', queryType: 'timeseries', metric: 'volume', groupBy: 'brand' });
    await user.click(screen.getByLabelText('Metric'));
    const option = await screen.findByRole('option', { name: /Share of voice/ });
    expect(option).toHaveTextContent(/percent of all mentions in the bucket/);
    await user.click(option);
    expect(last()).toEqual({ refId: 'A', queryType: 'timeseries', metric: 'share_of_voice', groupBy: 'brand' });
  });

  it('loads filter values lazily and adds the picked ones', async () => {
    const { user, last, getResource } = setup({ refId: 'A', queryType: 'distribution' });
    expect(getResource).not.toHaveBeenCalled();

    await user.click(screen.getByLabelText('Region'));
    const lima = await screen.findByRole('option', { name: 'Lima' });
    expect(getResource).toHaveBeenCalledWith('dimensions/region');
    expect(screen.getByRole('option', { name: 'Cusco' })).toBeInTheDocument();
    expect(screen.getByRole('option', { name: 'Arequipa' })).toBeInTheDocument();
    expect(screen.getByRole('option', { name: '$region' })).toBeInTheDocument();

    await user.click(lima);
    expect(last()).toEqual({ refId: 'A', queryType: 'distribution', filters: { region: ['Lima'] } });
    await user.click(screen.getByRole('option', { name: '$region' }));
    expect(last()).toEqual({ refId: 'A', queryType: 'distribution', filters: { region: ['Lima', '$region'] } });
  });

  it('accepts a custom filter value', async () => {
    const { user, last } = setup({ refId: 'A', queryType: 'distribution' });
    await user.click(screen.getByLabelText('Brand'));
    await user.keyboard('Pardos');
    const custom = await screen.findByRole('option', { name: /Pardos/ });
    expect(within(custom).getByText('Use this value')).toBeInTheDocument();
    await user.click(custom);
    expect(last()).toEqual({ refId: 'A', queryType: 'distribution', filters: { brand: ['Pardos'] } });
  });

  it('removes a filter when its values are cleared', async () => {
    const { user, last } = setup({
      refId: 'A',
      queryType: 'distribution',
      filters: { region: ['Lima'], brand: ['X'] },
    });
    const region = screen.getByTestId('pulso-filter-region');
    await user.click(within(region.parentElement!.parentElement!).getByRole('button', { name: /Remove Lima/i }));
    await waitFor(() => expect(last()).toEqual({ refId: 'A', queryType: 'distribution', filters: { brand: ['X'] } }));
  });

  it('asks for a dimension on dimension_values queries', async () => {
    const { user, last } = setup({ refId: 'A', queryType: 'dimension_values' });
    expect(screen.getByText('Pick the dimension whose values to list')).toBeInTheDocument();
    await user.click(screen.getByTestId('pulso-dimension'));
    await user.click(await screen.findByRole('option', { name: /Brand/ }));
    expect(last()).toEqual({ refId: 'A', queryType: 'dimension_values', dimension: 'brand' });
  });
});
