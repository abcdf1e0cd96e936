import { isValidInterval, withAnomalyView, withAspectView, withField, withFilter, withQueryType } from './query';
import { PulsoQuery, QueryType } from './types';

describe('query helpers', () => {
  it('keeps the shared fields and drops the rest when the type changes', () => {
    const q = withQueryType(
      {
        refId: 'A',
        hide: false,
        datasource: { type: 'pulso-sentiment-datasource', uid: 'pulso' },
        queryType: 'mentions',
        search: 'x',
        limit: 5,
        filters: { region: ['Lima'], brand: [] },
        minConfidence: 0.5,
      },
      'timeseries'
    );
    expect(q).toEqual({
      refId: 'A',
      hide: false,
      datasource: { type: 'pulso-sentiment-datasource', uid: 'pulso' },
      queryType: 'timeseries',
      metric: 'volume',
      filters: { region: ['Lima'] },
      minConfidence: 0.5,
    });
  });

  it('keeps Live between the types that stream, and drops it for the others', () => {
    const live: PulsoQuery = { refId: 'A', queryType: 'mentions', live: true, limit: 100 };
    expect(withQueryType(live, 'timeseries')).toEqual({
      refId: 'A',
      queryType: 'timeseries',
      metric: 'volume',
      live: true,
    });
    expect(withQueryType(live, 'distribution').live).toBe(true);
    expect(withQueryType(live, 'trending_terms').live).toBeUndefined();
  });

  it('returns the same query when the type does not change', () => {
    const q = { refId: 'A', queryType: 'mentions' as const, search: 'x' };
    expect(withQueryType(q, 'mentions')).toBe(q);
  });

  it('sets and removes filters', () => {
    const q = withFilter({ refId: 'A', queryType: 'distribution' }, 'region', ['Lima']);
    expect(q).toEqual({ refId: 'A', queryType: 'distribution', filters: { region: ['Lima'] } });
    expect(withFilter(q, 'region', [])).toEqual({ refId: 'A', queryType: 'distribution' });
  });

  it('sets and removes optional fields', () => {
    const q = withField({ refId: 'A', queryType: 'mentions' }, 'limit', 10);
    expect(q).toEqual({ refId: 'A', queryType: 'mentions', limit: 10 });
    expect(withField(q, 'limit', undefined)).toEqual({ refId: 'A', queryType: 'mentions' });
  });

  it.each([
    ['', true],
    ['auto', true],
    ['30s', true],
    ['5m', true],
    ['1h', true],
    ['1d', true],
    ['1w', true],
    ['1500ms', true],
    ['$interval', true],
    ['500ms', false],
    ['0s', false],
    ['1y', false],
    ['soon', false],
    ['1.5h', false],
  ])('interval %p valid: %p', (text, valid) => {
    expect(isValidInterval(text)).toBe(valid);
  });
});

describe('analysis query types', () => {
  const from = { refId: 'A', queryType: 'mentions' as const, limit: 300, search: 'x', filters: { region: ['Lima'] } };

  it.each<[QueryType, PulsoQuery]>([
    ['trending_terms', { refId: 'A', queryType: 'trending_terms', minSupport: 5, limit: 20 }],
    ['aspects', { refId: 'A', queryType: 'aspects', view: 'distribution' }],
    [
      'anomalies',
      {
        refId: 'A',
        queryType: 'anomalies',
        metric: 'share_negative',
        interval: '1d',
        baselineBuckets: 14,
        threshold: 3.5,
        view: 'timeseries',
      },
    ],
    ['insights', { refId: 'A', queryType: 'insights', llm: true }],
  ])('%s gets its defaults and keeps the filters', (queryType, expected) => {
    expect(withQueryType(from, queryType)).toEqual({ ...expected, filters: { region: ['Lima'] } });
  });

  it('sets the aspects metric for the time series view and drops it for the distribution view', () => {
    const q: PulsoQuery = { refId: 'A', queryType: 'aspects', view: 'distribution', aspects: ['price'] };
    const series = withAspectView(q, 'timeseries');
    expect(series).toEqual({ ...q, view: 'timeseries', metric: 'share_negative' });
    expect(withAspectView({ ...series, metric: 'volume' }, 'timeseries')).toHaveProperty('metric', 'volume');
    expect(withAspectView({ ...series, interval: '1h' }, 'distribution')).toEqual(q);
  });

  it('switches the anomalies view, keeping every other field', () => {
    const q: PulsoQuery = { refId: 'A', queryType: 'anomalies', threshold: 2, view: 'timeseries' };
    expect(withAnomalyView(q, 'spikes')).toEqual({ ...q, view: 'spikes' });
  });
});
