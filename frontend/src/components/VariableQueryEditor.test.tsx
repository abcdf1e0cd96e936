import React, { useState } from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { fakeTemplateSrv } from '../test/fakeTemplateSrv';
import { fakeDataSource, giveElementsASize } from '../test/editor';
import { PulsoVariableQuery } from '../types';
import { VariableQueryEditor } from './VariableQueryEditor';

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getTemplateSrv: () => fakeTemplateSrv([{ name: 'region', value: ['Lima'] }]),
}));

beforeAll(giveElementsASize);

function setup(initial: PulsoVariableQuery | string) {
  const { ds } = fakeDataSource();
  const changes: PulsoVariableQuery[] = [];
  function Harness() {
    const [query, setQuery] = useState(initial as PulsoVariableQuery);
    return (
      <VariableQueryEditor
        datasource={ds}
        query={query}
        onRunQuery={() => {}}
        onChange={(q) => {
          changes.push(q);
          setQuery(q);
        }}
      />
    );
  }
  const user = userEvent.setup();
  render(<Harness />);
  return { user, last: () => changes[changes.length - 1] };
}

describe('VariableQueryEditor', () => {
  it('picks the dimension and a filter that uses another variable', async () => {
    const { user, last } = setup({ refId: 'V', queryType: 'dimension_values', dimension: 'region' });
    await user.click(screen.getByTestId('pulso-variable-dimension'));
    await user.click(await screen.findByRole('option', { name: /Brand/ }));
    expect(last()).toEqual({ refId: 'V', queryType: 'dimension_values', dimension: 'brand' });

    await user.click(screen.getByLabelText('Region'));
    await user.click(await screen.findByRole('option', { name: '$region' }));
    expect(last()).toEqual({
      refId: 'V',
      queryType: 'dimension_values',
      dimension: 'brand',
      filters: { region: ['$region'] },
    });
  });

  it('opens a variable saved as a bare dimension name', async () => {
    const { user, last } = setup('brand');
    expect(screen.getByTestId('pulso-variable-dimension')).toHaveValue('Brand');
    await user.type(screen.getByLabelText('Min confidence'), '0.5');
    await user.tab();
    expect(last()).toEqual({
      refId: 'PulsoVariableQuery',
      queryType: 'dimension_values',
      dimension: 'brand',
      minConfidence: 0.5,
    });
  });
});
