import {
  AnnotationQuery,
  CoreApp,
  DataQueryRequest,
  DataSourceInstanceSettings,
  dateTime,
  StreamingFrameAction,
  toDataFrame,
} from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';
import { lastValueFrom, of } from 'rxjs';

import {
  ANNOTATION_REF_ID,
  DataSource,
  defaultAnnotationQuery,
  liveBufferOptions,
  prepareAnnotation,
  queryDisplayText,
} from './datasource';
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
    ['trending terms with only a type (defaults)', { refId: 'A', queryType: 'trending_terms' }, true],
    ['aspects with only a type (defaults)', { refId: 'A', queryType: 'aspects' }, true],
    ['anomalies with only a type (defaults)', { refId: 'A', queryType: 'anomalies' }, true],
    ['insights with only a type (defaults)', { refId: 'A', queryType: 'insights' }, true],
    [
      'trending terms with every field',
      { refId: 'A', queryType: 'trending_terms', minSupport: 5, limit: 20, groupBy: 'brand' },
      true,
    ],
    ['anomalies spikes', { refId: 'A', queryType: 'anomalies', view: 'spikes' }, true],
    ['insights without the LLM', { refId: 'A', queryType: 'insights', llm: false }, true],
    ['a hidden anomalies query', { refId: 'A', queryType: 'anomalies', hide: true }, false],
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
      { name: 'aspect', value: ['delivery', 'price'], options: ['taste', 'price', 'delivery'] },
      { name: 'allAspects', value: ['$__all'], options: ['taste', 'price', 'delivery'] },
      { name: 'metric', value: 'volume' },
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

  it('interpolates group by and filters of trending_terms, keeping its numbers', () => {
    const out = ds.applyTemplateVariables(
      {
        refId: 'A',
        queryType: 'trending_terms',
        minSupport: 3,
        limit: 50,
        groupBy: '$dim' as PulsoQuery['groupBy'],
        filters: { region: ['$region'], sourceType: ['$allRegions'] },
        minConfidence: 0.5,
      },
      {}
    );
    expect(out).toEqual({
      refId: 'A',
      queryType: 'trending_terms',
      minSupport: 3,
      limit: 50,
      groupBy: 'brand',
      filters: { region: ['Lima', 'Cusco'] },
      minConfidence: 0.5,
    });
  });

  it('expands an aspect variable, and drops the list when it is on All or empty', () => {
    const aspects = (list: string[]) =>
      ds.applyTemplateVariables(
        {
          refId: 'A',
          queryType: 'aspects',
          view: 'timeseries',
          metric: '$metric' as PulsoQuery['metric'],
          interval: '$bucket',
          aspects: list as PulsoQuery['aspects'],
          filters: { region: ['$single'] },
        },
        {}
      );
    expect(aspects(['$aspect', 'taste'])).toEqual({
      refId: 'A',
      queryType: 'aspects',
      view: 'timeseries',
      metric: 'volume',
      interval: '1d',
      aspects: ['delivery', 'price', 'taste'],
      filters: { region: ['Arequipa'] },
    });
    expect(aspects(['$allAspects'])).not.toHaveProperty('aspects');
    expect(aspects([])).not.toHaveProperty('aspects');
    expect(aspects(['service'])).toHaveProperty('aspects', ['service']);
  });

  it('interpolates group by, interval and filters of anomalies, keeping baseline, threshold and view', () => {
    const out = ds.applyTemplateVariables(
      {
        refId: 'A',
        queryType: 'anomalies',
        metric: 'share_negative',
        groupBy: '$dim' as PulsoQuery['groupBy'],
        interval: '$bucket',
        baselineBuckets: 30,
        threshold: 2.5,
        view: 'spikes',
        filters: { region: ['$region'], brand: ['$none'] },
      },
      { region: { text: 'Cusco', value: 'Cusco' } }
    );
    expect(out).toEqual({
      refId: 'A',
      queryType: 'anomalies',
      metric: 'share_negative',
      groupBy: 'brand',
      interval: '1d',
      baselineBuckets: 30,
      threshold: 2.5,
      view: 'spikes',
      filters: { region: ['Cusco'] },
    });
  });

  it('interpolates the filters of insights and keeps llm', () => {
    const out = ds.applyTemplateVariables(
      { refId: 'A', queryType: 'insights', llm: false, filters: { sourceType: ['$source'], region: ['$allRegions'] } },
      {}
    );
    expect(out).toEqual({ refId: 'A', queryType: 'insights', llm: false, filters: { sourceType: ['delivery'] } });
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

describe('annotations', () => {
  const spikes = {
    refId: 'Anno',
    queryType: 'anomalies',
    metric: 'share_negative',
    interval: '1d',
    baselineBuckets: 14,
    threshold: 3.5,
    view: 'spikes',
  };

  it('are supported with the standard editor (the query editor)', () => {
    const ds = makeDataSource();
    expect(ds.annotations).toBeDefined();
    expect(ds.annotations?.QueryEditor).toBeUndefined();
    expect(ds.annotations?.prepareQuery).toBeUndefined();
  });

  it('default to the anomalies spikes query', () => {
    const ds = makeDataSource();
    expect(ds.annotations?.getDefaultQuery?.()).toEqual(spikes);
    expect(ds.annotations?.getDefaultQuery?.()).toMatchObject({ queryType: 'anomalies', view: 'spikes' });
    expect(defaultAnnotationQuery().refId).toBe(ANNOTATION_REF_ID);
  });

  it('give an annotation without a target the spikes query', () => {
    const stored = { name: 'Spikes', enable: true, iconColor: 'red' } as AnnotationQuery<PulsoQuery>;
    expect(prepareAnnotation(stored)).toEqual({ ...stored, target: spikes });
  });

  it('fill a target without a query type, keeping what it has', () => {
    const stored = {
      name: 'Spikes',
      enable: true,
      iconColor: 'red',
      target: { refId: 'X', filters: { brand: ['Qori Brasa'] } },
    } as AnnotationQuery<PulsoQuery>;
    expect(prepareAnnotation(stored).target).toEqual({ ...spikes, refId: 'X', filters: { brand: ['Qori Brasa'] } });
  });

  it('leave a complete target alone (the same object, so Grafana saves nothing)', () => {
    const stored = {
      name: 'Negative spikes',
      enable: true,
      iconColor: 'red',
      target: { refId: 'Anno', queryType: 'anomalies', view: 'timeseries' },
    } as AnnotationQuery<PulsoQuery>;
    expect(prepareAnnotation(stored)).toBe(stored);
  });

  it('run the spikes query the way Grafana executes an annotation without a target', async () => {
    const ds = makeDataSource();
    // Grafana 12's executeAnnotationQuery: defaults, then prepareAnnotation, then prepareQuery (the target).
    const processor = { prepareQuery: (anno: AnnotationQuery<PulsoQuery>) => anno.target, ...ds.annotations };
    const stored = { name: 'Spikes', enable: true, iconColor: 'red' } as AnnotationQuery<PulsoQuery>;
    const annotation = processor.prepareAnnotation!({ ...processor.getDefaultQuery?.(), ...stored });
    const target = processor.prepareQuery(annotation);
    expect(target).toMatchObject({ refId: 'Anno', queryType: 'anomalies', view: 'spikes' });
    expect(ds.filterQuery(target!)).toBe(true);
    templateSrv = fakeTemplateSrv([{ name: 'brand', value: ['Qori Brasa'] }]);
    expect(ds.applyTemplateVariables({ ...target!, filters: { brand: ['$brand'] } }, {})).toEqual({
      ...spikes,
      filters: { brand: ['Qori Brasa'] },
    });
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

describe('live panels', () => {
  const request = (targets: PulsoQuery[], to = 'now') =>
    ({
      targets,
      maxDataPoints: 800,
      range: { from: dateTime(1_000_000), to: dateTime(4_600_000), raw: { from: 'now-1h', to } },
      rangeRaw: { from: 'now-1h', to },
    }) as unknown as DataQueryRequest<PulsoQuery>;
  const frame = (refId: string, channel: string) => toDataFrame({ refId, fields: [], meta: { channel } });

  it('appends streamed mentions up to the query limit, dropping rows older than the range', () => {
    const options = liveBufferOptions(
      request([{ refId: 'A', queryType: 'mentions', live: true, limit: 250 }]),
      frame('A', 'ds/pulso/v1/o1/mentions/e30')
    );
    expect(options).toEqual({ action: StreamingFrameAction.Append, maxLength: 250, maxDelta: 3_600_000 });
  });

  it('replaces a streamed time series or distribution with each new answer', () => {
    const options = liveBufferOptions(
      request([{ refId: 'B', queryType: 'timeseries', live: true }], '2026-12-07T00:00:00Z'),
      frame('B', 'ds/pulso/v1/o1/timeseries/e30')
    );
    expect(options).toEqual({ action: StreamingFrameAction.Replace, maxLength: 800, maxDelta: undefined });
  });

  it('is what the data source uses for live frames', () => {
    expect(makeDataSource().streamOptionsProvider).toBe(liveBufferOptions);
  });
});

describe('query display text', () => {
  it('names the type, metric, group, filters and confidence instead of showing JSON', () => {
    expect(
      queryDisplayText({
        refId: 'A',
        queryType: 'timeseries',
        metric: 'net_sentiment',
        groupBy: 'brand',
        filters: { brand: ['Qori Brasa', 'Kusiy'], region: [] },
        minConfidence: 0.7,
      })
    ).toBe('timeseries net_sentiment by brand, brand: Qori Brasa, Kusiy, confidence >= 0.7');
    expect(queryDisplayText({ refId: 'A', queryType: 'mentions', search: ' helado ', live: true })).toBe(
      'mentions, search "helado", live'
    );
    expect(queryDisplayText({ refId: 'A', queryType: 'dimension_values', dimension: 'region' })).toBe(
      'values of region'
    );
    expect(queryDisplayText({ refId: 'A', queryType: 'aspects', view: 'timeseries', aspects: ['price'] })).toBe(
      'aspects timeseries (price)'
    );
    expect(queryDisplayText({ refId: 'A' })).toBe('timeseries volume');
  });

  it('is what the data source gives Grafana', () => {
    const query: PulsoQuery = { refId: 'A', queryType: 'anomalies', groupBy: 'region' };
    expect(makeDataSource().getQueryDisplayText(query)).toBe('anomalies share_negative by region');
  });
});
