import { css as emotionCss } from '@emotion/css';
import * as EmotionCss from '@emotion/css';
import * as GrafanaData from '@grafana/data';
import {
  AnnotationQuery,
  createTheme,
  DataSourceInstanceSettings,
  DataSourcePlugin,
  DataSourceSettings,
  ThemeContext,
} from '@grafana/data';
import * as GrafanaRuntime from '@grafana/runtime';
import { setBackendSrv, setTemplateSrv } from '@grafana/runtime';
import * as GrafanaUi from '@grafana/ui';
import { GlobalStyles, PortalContainer } from '@grafana/ui';
import React, { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import * as Rxjs from 'rxjs';

import { ConfigEditor } from '../../src/components/ConfigEditor';
import { QueryEditor } from '../../src/components/QueryEditor';
import { VariableQueryEditor } from '../../src/components/VariableQueryEditor';
import { DataSource } from '../../src/datasource';
import { fakeTemplateSrv } from '../../src/test/fakeTemplateSrv';
import { PulsoOptions, PulsoQuery, PulsoSecureOptions, PulsoVariableQuery } from '../../src/types';
import { toDimensionValuesQuery } from '../../src/variables';
import { RequestLog, stubBackendSrv } from './stubs';

type Settings = DataSourceSettings<PulsoOptions, PulsoSecureOptions>;

/** What the browser script reads: the last value each editor emitted, and the requests made. */
interface HarnessState {
  query?: PulsoQuery;
  variableQuery?: PulsoVariableQuery;
  options?: Settings;
  queryChanges: number;
  runs: number;
  requests: RequestLog[];
  /** The variable's query as the data source would send it (template variables applied). */
  interpolateVariableQuery: () => PulsoQuery;
  /** What the built dist/module.js exports, once loaded. */
  built?: { error?: string; hasQueryEditor: boolean; hasConfigEditor: boolean; hasVariableEditor: boolean };
  builtQuery?: PulsoQuery;
  /** The annotation as Grafana would store it (set once prepareAnnotation or the editor changed it). */
  annotation?: AnnotationQuery<PulsoQuery>;
}

declare global {
  interface Window {
    __pulso: HarnessState;
    __grafana_public_path__?: string;
    define?: ((deps: string[], factory: (...modules: unknown[]) => unknown) => void) & { amd?: boolean };
  }
}

const state: HarnessState = {
  queryChanges: 0,
  runs: 0,
  requests: [],
  interpolateVariableQuery: () => datasource.applyTemplateVariables(toDimensionValuesQuery(state.variableQuery), {}),
};
window.__pulso = state;
window.__grafana_public_path__ = '/public/';

setBackendSrv(stubBackendSrv(state.requests));
setTemplateSrv(
  fakeTemplateSrv([
    { name: 'region', value: ['Lima', 'Cusco'], options: ['Lima', 'Cusco', 'Arequipa'] },
    { name: 'brand', value: '$__all', options: ['La Lancha de Chalo', 'Qori Brasa'] },
  ])
);

const instanceSettings = {
  id: 1,
  uid: 'pulso',
  type: 'pulso-sentiment-datasource',
  name: 'Pulso',
  meta: { id: 'pulso-sentiment-datasource', info: { version: '0.1.0' } },
  jsonData: {},
  access: 'proxy',
  readOnly: false,
} as unknown as DataSourceInstanceSettings<PulsoOptions>;
const datasource = new DataSource(instanceSettings);

const initialSettings = {
  id: 1,
  uid: 'pulso',
  orgId: 1,
  name: 'Pulso',
  type: 'pulso-sentiment-datasource',
  typeName: 'Pulso',
  typeLogoUrl: '',
  access: 'proxy',
  url: '',
  user: '',
  basicAuth: false,
  basicAuthUser: '',
  isDefault: true,
  readOnly: false,
  withCredentials: false,
  jsonData: { sqlitePath: '/var/lib/grafana/pulso/pulso.db', llmUrl: 'http://localhost:11434/v1' },
  // A key saved earlier: Grafana only says it is configured, never what it is.
  secureJsonFields: { llmApiKey: true },
} as unknown as Settings;

function Json({ value, testId }: { value: unknown; testId: string }) {
  return (
    <pre data-testid={testId} style={{ fontSize: 12, margin: '8px 0 0' }}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section style={{ marginBottom: 32 }}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

type BuiltPlugin = DataSourcePlugin<DataSource, PulsoQuery, PulsoOptions, PulsoSecureOptions>;

/**
 * Loads the webpack build (../dist/module.js) the way Grafana does: as an AMD module whose
 * externals (@grafana/*, react, rxjs, @emotion/css) are Grafana's own copies, here this page's.
 */
function loadBuiltModule(): Promise<BuiltPlugin> {
  const externals: Record<string, unknown> = {
    '@grafana/data': GrafanaData,
    '@grafana/ui': GrafanaUi,
    '@grafana/runtime': GrafanaRuntime,
    '@emotion/css': EmotionCss,
    react: React,
    rxjs: Rxjs,
    module: { uri: '/dist/module.js' },
  };
  return new Promise((resolve, reject) => {
    const define = (deps: string[], factory: (...modules: unknown[]) => unknown) => {
      const missing = deps.filter((d) => !(d in externals));
      if (missing.length) {
        reject(new Error(`module.js asks for externals the harness lacks: ${missing.join(', ')}`));
        return;
      }
      const exported = factory(...deps.map((d) => externals[d])) as { plugin?: BuiltPlugin };
      if (exported?.plugin) {
        resolve(exported.plugin);
      } else {
        reject(new Error('module.js does not export `plugin`'));
      }
    };
    window.define = Object.assign(define, { amd: true });
    const script = document.createElement('script');
    script.src = '/dist/module.js';
    script.onerror = () => reject(new Error('could not load /dist/module.js (run npm run build)'));
    document.body.appendChild(script);
  });
}

/** The built QueryEditor, with the built DataSource class. */
function BuiltModule() {
  const [plugin, setPlugin] = useState<BuiltPlugin | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [query, setQuery] = useState<PulsoQuery>({ refId: 'B', queryType: 'timeseries', metric: 'volume' });
  const [ds] = useState(() => ({ current: undefined as DataSource | undefined }));

  useEffect(() => {
    loadBuiltModule().then(
      (loaded) => {
        ds.current = new loaded.DataSourceClass(instanceSettings);
        state.built = {
          hasQueryEditor: Boolean(loaded.components.QueryEditor),
          hasConfigEditor: Boolean(loaded.components.ConfigEditor),
          hasVariableEditor: Boolean((ds.current.variables as { editor?: unknown } | undefined)?.editor),
        };
        setPlugin(loaded);
      },
      (e: Error) => {
        state.built = { error: e.message, hasQueryEditor: false, hasConfigEditor: false, hasVariableEditor: false };
        setError(e.message);
      }
    );
  }, [ds]);

  if (error) {
    return <pre className={emotionCss({ color: 'red' })}>{error}</pre>;
  }
  const BuiltQueryEditor = plugin?.components.QueryEditor;
  if (!BuiltQueryEditor || !ds.current) {
    return <p>Loading dist/module.js…</p>;
  }
  return (
    <div data-testid="built-ready">
      <BuiltQueryEditor
        datasource={ds.current}
        query={query}
        onChange={(next) => {
          state.builtQuery = next;
          setQuery(next);
        }}
        onRunQuery={() => {}}
      />
    </div>
  );
}

/**
 * The query editor as Grafana's standard annotation editor mounts it: the stored annotation goes
 * through the data source's prepareAnnotation (and is saved again when that changed it), and the
 * editor edits its target, with the data source's default annotation query beneath.
 */
function AnnotationEditor() {
  const support = datasource.annotations!;
  const [annotation, setAnnotation] = useState<AnnotationQuery<PulsoQuery>>(() => {
    const stored: AnnotationQuery<PulsoQuery> = { name: 'Negative spikes', enable: true, iconColor: 'red' };
    const fixed = support.prepareAnnotation ? support.prepareAnnotation(stored) : stored;
    if (fixed !== stored) {
      state.annotation = fixed;
    }
    return fixed;
  });
  const query = { ...support.getDefaultQuery?.(), ...(annotation.target ?? { refId: 'Anno' }) } as PulsoQuery;
  return (
    <>
      <QueryEditor
        datasource={datasource}
        query={query}
        onChange={(target) => {
          const next = { ...annotation, target };
          state.annotation = next;
          setAnnotation(next);
        }}
        onRunQuery={() => {}}
      />
      <Json value={annotation} testId="annotation-json" />
    </>
  );
}

function App() {
  const [query, setQuery] = useState<PulsoQuery>({
    refId: 'A',
    ...datasource.getDefaultQuery('panel-editor' as never),
  });
  const [variableQuery, setVariableQuery] = useState<PulsoVariableQuery>({
    refId: 'PulsoVariableQuery',
    queryType: 'dimension_values',
    dimension: 'region',
  });
  const [options, setOptions] = useState<Settings>(initialSettings);

  return (
    <div style={{ padding: 24, maxWidth: 1400 }} data-testid="harness-ready">
      <Section title="Query editor">
        <QueryEditor
          datasource={datasource}
          query={query}
          onChange={(next) => {
            state.query = next;
            state.queryChanges += 1;
            setQuery(next);
          }}
          onRunQuery={() => {
            state.runs += 1;
          }}
        />
        <Json value={query} testId="query-json" />
      </Section>
      <Section title="Variable query editor">
        <VariableQueryEditor
          datasource={datasource}
          query={variableQuery}
          onChange={(next) => {
            state.variableQuery = next;
            setVariableQuery(next);
          }}
          onRunQuery={() => {}}
        />
        <Json value={variableQuery} testId="variable-json" />
      </Section>
      <Section title="Annotation query editor">
        <AnnotationEditor />
      </Section>
      <Section title="Built module.js (dist/)">
        <BuiltModule />
      </Section>
      <Section title="Config editor">
        <ConfigEditor
          options={options}
          onOptionsChange={(next) => {
            state.options = next;
            setOptions(next);
          }}
        />
        <Json
          value={{
            jsonData: options.jsonData,
            secureJsonFields: options.secureJsonFields,
            // The harness shows only that a new key was typed, never the key.
            secureJsonData: options.secureJsonData?.llmApiKey
              ? { llmApiKey: `<${options.secureJsonData.llmApiKey.length} characters>` }
              : options.secureJsonData,
          }}
          testId="options-json"
        />
      </Section>
    </div>
  );
}

const mode = new URLSearchParams(window.location.search).get('theme') === 'light' ? 'light' : 'dark';
const theme = createTheme({ colors: { mode } });

createRoot(document.getElementById('root')!).render(
  <ThemeContext.Provider value={theme}>
    <GlobalStyles />
    <App />
    <PortalContainer />
  </ThemeContext.Provider>
);
