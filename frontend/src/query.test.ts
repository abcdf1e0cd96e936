import { isValidInterval, withField, withFilter, withQueryType } from './query';

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
