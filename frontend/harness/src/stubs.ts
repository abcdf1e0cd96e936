import { BackendSrv, BackendSrvRequest, FetchResponse } from '@grafana/runtime';
import { Observable, of, throwError } from 'rxjs';

/** What the Pulso backend would answer, by dimension. */
export const DIMENSION_VALUES: Record<string, string[]> = {
  sourceType: ['delivery', 'review', 'social', 'survey'],
  platform: ['google_maps', 'rappi', 'tripadvisor'],
  region: ['Lima', 'Cusco', 'Arequipa'],
  category: ['pollería', 'cevichería', 'panadería'],
  brand: ['La Lancha de Chalo', 'Qori Brasa'],
  product: ['Ceviche clásico', 'Pollo a la brasa 1/4'],
  language: ['en', 'es'],
  label: ['negative', 'neutral', 'positive'],
};

const RESOURCE_PREFIX = '/api/datasources/uid/pulso/resources/';

export interface RequestLog {
  method: string;
  url: string;
}

function response<T>(url: string, data: T, status = 200): FetchResponse<T> {
  return {
    data,
    status,
    statusText: status === 200 ? 'OK' : 'Not Found',
    ok: status === 200,
    headers: new Headers({ 'Content-Type': 'application/json' }),
    redirected: false,
    type: 'basic',
    url,
    config: { url },
  };
}

/**
 * Answers the data source's resource calls like the Rust backend does (`GET dimensions`,
 * `GET dimensions/<name>`), so the editors run their real `getResource` code path.
 */
export function stubBackendSrv(log: RequestLog[]): BackendSrv {
  const fetch = <T>(options: BackendSrvRequest): Observable<FetchResponse<T>> => {
    const method = options.method ?? 'GET';
    log.push({ method, url: options.url });
    if (method === 'GET' && options.url === `${RESOURCE_PREFIX}dimensions`) {
      return of(response(options.url, Object.keys(DIMENSION_VALUES) as T));
    }
    const match = method === 'GET' ? options.url.match(/\/resources\/dimensions\/([^/?]+)$/) : null;
    if (match) {
      const values = DIMENSION_VALUES[decodeURIComponent(match[1])];
      if (values) {
        return of(response(options.url, values.map((v) => ({ text: v, value: v })) as T));
      }
      return throwError(() => response(options.url, { error: `unknown dimension ${match[1]}` }, 404));
    }
    return throwError(() => response(options.url, { error: `no stub for ${method} ${options.url}` }, 404));
  };
  const unsupported = (name: string) => () => Promise.reject(new Error(`backendSrv.${name} is not stubbed`));
  return {
    fetch,
    get: unsupported('get'),
    post: unsupported('post'),
    put: unsupported('put'),
    patch: unsupported('patch'),
    delete: unsupported('delete'),
    request: unsupported('request'),
    datasourceRequest: unsupported('datasourceRequest'),
    resolveCancelerIfExists: () => {},
    chunked: () => throwError(() => new Error('backendSrv.chunked is not stubbed')),
  } as unknown as BackendSrv;
}
