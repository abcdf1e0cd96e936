import { CoreApp, DataQueryRequest, DataSourceInstanceSettings, dateTime } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';
import { lastValueFrom, of } from 'rxjs';

import { DataSource } from './datasource';
import { fakeTemplateSrv } from './test/fakeTemplateSrv';
import { PulsoOptions, PulsoQuery, PulsoVariableQuery } from './types';
import { PulsoVariableSupport, toDimensionValuesQuery } from './variables';

let templateSrv: TemplateSrv = fakeTemplateSrv([]);

jest.mock('@grafana/runtime', () => ({
  ...jest.requireActual('@grafana/runtime'),
  getTemplateSrv: () => templateSrv,
}));

const settings = {
  id: 1,
  uid: 'pulso',
  type: 'pulso-sentiment-datasource',
  name: 'Pulso',
  meta: { id: 'pulso-sentiment-datasource', info: { version: '0.1.0' } },
  jsonData: {},
  access: 'proxy',
  readOnly: false,
} as unknown as DataSourceInstanceSettings<PulsoOptions>;

function makeDataSource() {
  return new DataSource(settings);
}

describe('getDefaultQuery', () => {
  it('is a volume time series', () => {
    expect(makeDataSource().getDefaultQuery(CoreApp.PanelEditor)).toEqual({
      queryType: 'timeseries',
      metric: 'volume',
    });
  });
});

describe('filterQuery', () => {
  const ds = makeDataSource();
  it.each<[string, PulsoQuery, boolean]>([
    ['a time series', { refId: 'A', queryType: 'timeseries' }, true],
    ['mentions', { refId: 'A', queryType: 'mentions', limit: 10 }, true],
    ['a distribution', { refId: 'A', queryType: 'distribution' }, true],
    ['dimension values with a dimension', { refId: 'A', queryType: 'dimension_values', dimension: 'region' }, true],
    ['a hidden query', { refId: 'A', queryType: 'timeseries', hide: true }, false],
    ['a query without a type', { refId: 'A' }, false],
    ['dimension values without a dimension', { refId: 'A', queryType: 'dimension_values' }, false],
  ])('%s', (_name, query, expected) => {
    expect(ds.filterQuery(query)).toBe(expected);
  });
});

describe('applyTemplateVariables', () => {
  const ds = makeDataSource();
  const base: PulsoQuery = { refId: 'A', queryType: 'timeseries', metric: 'volume' };

  beforeEach(() => {
    templateSrv = fakeTemplateSrv([
      { name: 'region', value: ['Lima', 'Cusco'], options: ['Lima', 'Cusco', 'Arequipa'] },
      { name: 'single', value: 'Arequipa', options: ['Lima', 'Cusco', 'Arequipa'] },
      { name: 'allRegions', value: ['$__all'], options: ['Lima', 'Cusco', 'Arequipa'] },
      { name: 'customAll', value: '$__all', options: ['Lima', 'Cusco'], allValue: 'Lima' },
      { name: 'source', value: ['delivery'], options: ['delivery', 'review'] },
      { name: 'term', value: 'ají' },
      { name: 'bucket', value: '1d' },
      { name: 'dim', value: 'brand' },
      { name: 'none', value: [] },
    ]);
  });

  it('expands a multi-value variable into the filter list', () => {
    const out = ds.applyTemplateVariables({ ...base, filters: { region: ['$region'] } }, {});
    expect(out.filters).toEqual({ region: ['Lima', 'Cusco'] });
  });

  it('accepts the ${var} and [[var]] syntaxes', () => {
    expect(ds.applyTemplateVariables({ ...base, filters: { region: ['${region}'] } }, {}).filters).toEqual({
      region: ['Lima', 'Cusco'],
    });
    expect(ds.applyTemplateVariables({ ...base, filters: { region: ['[[region]]'] } }, {}).filters).toEqual({
      region: ['Lima', 'Cusco'],
    });
  });

  it('replaces a single-value variable and keeps literal values beside it', () => {
    const out = ds.applyTemplateVariables(
      { ...base, filters: { region: ['Piura', '$single'], sourceType: ['$source'] } },
      {}
    );
    expect(out.filters).toEqual({ region: ['Piura', 'Arequipa'], sourceType: ['delivery'] });
  });

  it('removes duplicate values', () => {
    const out = ds.applyTemplateVariables({ ...base, filters: { region: ['Lima', '$region'] } }, {});
    expect(out.filters).toEqual({ region: ['Lima', 'Cusco'] });
  });

  it('drops a filter whose variable is on All without a custom all value', () => {
    const out = ds.applyTemplateVariables(
      { ...base, filters: { region: ['$allRegions'], sourceType: ['$source'] } },
      {}
    );
    expect(out.filters).toEqual({ sourceType: ['delivery'] });
  });

  it('drops filters entirely when nothing is left', () => {
    const out = ds.applyTemplateVariables({ ...base, filters: { region: ['Lima', '$allRegions'] } }, {});
    expect(out).not.toHaveProperty('filters');
  });

  it('uses a custom all value as a literal value', () => {
    const out = ds.applyTemplateVariables({ ...base, filters: { region: ['$customAll'] } }, {});
    expect(out.filters).toEqual({ region: ['Lima'] });
  });

  it('drops a filter whose variable has nothing selected', () => {
    const out = ds.applyTemplateVariables({ ...base, filters: { region: ['$none'], brand: ['X'] } }, {});
    expect(out.filters).toEqual({ brand: ['X'] });
  });

  it('lets scoped variables (repeated panels) win over the dashboard selection', () => {
    const out = ds.applyTemplateVariables(
      { ...base, filters: { region: ['$region'] } },
      { region: { text: 'Cusco', value: 'Cusco' } }
    );
    expect(out.filters).toEqual({ region: ['Cusco'] });
  });

  it('keeps text around a variable on every value', () => {
    const out = ds.applyTemplateVariables({ ...base, filters: { product: ['Menú $region'] } }, {});
    expect(out.filters).toEqual({ product: ['Menú Lima', 'Menú Cusco'] });
  });

  it('leaves unknown variables as literal text', () => {
    const out = ds.applyTemplateVariables({ ...base, filters: { region: ['$unknown'] } }, {});
    expect(out.filters).toEqual({ region: ['$unknown'] });
  });

  it('interpolates search, interval, groupBy and dimension', () => {
    const out = ds.applyTemplateVariables(
      {
        refId: 'A',
        queryType: 'mentions',
        search: 'sin $term',
        interval: '$bucket',
        groupBy: '$dim' as PulsoQuery['groupBy'],
      },
      {}
    );
    expect(out).toEqual({ refId: 'A', queryType: 'mentions', search: 'sin ají', interval: '1d', groupBy: 'brand' });
  });

  it('leaves a query without variables as it was', () => {
    const query: PulsoQuery = {
      refId: 'B',
      queryType: 'distribution',
      groupBy: 'label',
      filters: { region: ['Lima'] },
      minConfidence: 0.7,
    };
    expect(ds.applyTemplateVariables(query, {})).toEqual(query);
  });
});

describe('resources', () => {
  it('lists dimensions and caches dimension values', async () => {
    const ds = makeDataSource();
    const getResource = jest
      .spyOn(ds, 'getResource')
      .mockImplementation(async (path: string) =>
        path === 'dimensions' ? ['region'] : [{ text: 'Lima', value: 'Lima' }]
      );
    await expect(ds.getDimensions()).resolves.toEqual(['region']);
    await expect(ds.getDimensionValues('region')).resolves.toEqual([{ text: 'Lima', value: 'Lima' }]);
    await ds.getDimensionValues('region');
    expect(getResource).toHaveBeenCalledWith('dimensions/region');
    expect(getResource).toHaveBeenCalledTimes(2);
  });

  it('does not cache a failure', async () => {
    const ds = makeDataSource();
    const getResource = jest
      .spyOn(ds, 'getResource')
      .mockRejectedValueOnce(new Error('down'))
      .mockResolvedValueOnce([{ text: 'Lima', value: 'Lima' }]);
    await expect(ds.getDimensionValues('region')).rejects.toThrow('down');
    await expect(ds.getDimensionValues('region')).resolves.toHaveLength(1);
    expect(getResource).toHaveBeenCalledTimes(2);
  });
});

describe('variable support', () => {
  it('turns stored variable queries into dimension_values queries', () => {
    expect(toDimensionValuesQuery('brand')).toEqual({
      refId: 'PulsoVariableQuery',
      queryType: 'dimension_values',
      dimension: 'brand',
    });
    expect(
      toDimensionValuesQuery({ refId: 'V', dimension: 'brand', filters: { region: ['$region'] }, minConfidence: 0.5 })
    ).toEqual({
      refId: 'V',
      queryType: 'dimension_values',
      dimension: 'brand',
      filters: { region: ['$region'] },
      minConfidence: 0.5,
    });
  });

  it('runs a dimension_values query through the normal query path', async () => {
    const ds = makeDataSource();
    expect(ds.variables).toBeInstanceOf(PulsoVariableSupport);
    const query = jest.spyOn(ds, 'query').mockReturnValue(of({ data: [] }));
    const request = {
      targets: [{ refId: 'V', dimension: 'brand', filters: { region: ['$region'] } }],
      range: { from: dateTime(0), to: dateTime(1000), raw: { from: 'now-1h', to: 'now' } },
      scopedVars: {},
    } as unknown as DataQueryRequest<PulsoVariableQuery>;
    await lastValueFrom((ds.variables as PulsoVariableSupport).query(request));
    expect(query).toHaveBeenCalledWith(
      expect.objectContaining({
        targets: [{ refId: 'V', queryType: 'dimension_values', dimension: 'brand', filters: { region: ['$region'] } }],
      })
    );
  });

  it('skips a variable query without a dimension', async () => {
    const ds = makeDataSource();
    const query = jest.spyOn(ds, 'query');
    const request = { targets: [{ refId: 'V' }], scopedVars: {} } as unknown as DataQueryRequest<PulsoVariableQuery>;
    await expect(lastValueFrom((ds.variables as PulsoVariableSupport).query(request))).resolves.toEqual({ data: [] });
    expect(query).not.toHaveBeenCalled();
  });
});
