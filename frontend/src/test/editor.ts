import { DataSourceInstanceSettings } from '@grafana/data';

import { DataSource } from '../datasource';
import { DimensionValue, PulsoOptions } from '../types';

export const settings = {
  id: 1,
  uid: 'pulso',
  type: 'pulso-sentiment-datasource',
  name: 'Pulso',
  meta: { id: 'pulso-sentiment-datasource', info: { version: '0.1.0' } },
  jsonData: {},
  access: 'proxy',
  readOnly: false,
} as unknown as DataSourceInstanceSettings<PulsoOptions>;

export const DIMENSION_VALUES: Record<string, string[]> = {
  region: ['Lima', 'Cusco', 'Arequipa'],
  sourceType: ['delivery', 'review', 'social', 'survey'],
  brand: ['Qori Brasa', 'La Lancha de Chalo'],
};

/** A data source whose `getResource` answers like the backend, from DIMENSION_VALUES. */
export function fakeDataSource() {
  const ds = new DataSource(settings);
  const getResource = jest.spyOn(ds, 'getResource').mockImplementation(async (path: string) => {
    if (path === 'dimensions') {
      return Object.keys(DIMENSION_VALUES);
    }
    const name = path.replace(/^dimensions\//, '');
    return (DIMENSION_VALUES[name] ?? []).map((v): DimensionValue => ({ text: v, value: v }));
  });
  return { ds, getResource };
}

/**
 * jsdom has no layout, so the Combobox's virtualised list would render no option; give every
 * element a size, as Grafana's own Combobox tests do.
 */
export function giveElementsASize() {
  Object.defineProperty(Element.prototype, 'getBoundingClientRect', {
    configurable: true,
    value: () => ({ width: 240, height: 240, top: 0, left: 0, bottom: 240, right: 240, x: 0, y: 0, toJSON() {} }),
  });
  for (const prop of ['offsetHeight', 'offsetWidth', 'clientHeight', 'clientWidth']) {
    Object.defineProperty(HTMLElement.prototype, prop, { configurable: true, get: () => 240 });
  }
}
