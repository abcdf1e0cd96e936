#!/usr/bin/env node
/*
 * Browser check of the Pulso editors, without Grafana:
 *   1. bundles harness/src/main.tsx (QueryEditor, VariableQueryEditor and ConfigEditor inside
 *      Grafana's theme, with a stubbed backendSrv and template service) with esbuild;
 *   2. copies @grafana/ui's icons and the Inter / Roboto Mono fonts where Grafana serves them;
 *   3. serves harness/public/ on a loopback port;
 *   4. drives Chromium (playwright-core, Debian's /usr/bin/chromium) through every query type
 *      (trending terms, aspects, anomalies and insights included, with their range errors),
 *      a filter multi-select, the variable editor, the annotation editor (anomalies spikes by
 *      default) and the config editor, in dark and light themes, asserting the JSON each editor
 *      emits and that the page logs no error;
 *   5. writes screenshots to harness/output/.
 * Exits non-zero on any failure. Options: --serve (build and serve only, for a manual look),
 * --theme=dark|light (one theme). CHROMIUM_PATH overrides the browser.
 */

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FRONTEND = path.resolve(HERE, '..');
const MODULES = path.join(FRONTEND, 'node_modules');
const PUBLIC = path.join(HERE, 'public');
const OUTPUT = path.join(HERE, 'output');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const DIST = path.resolve(FRONTEND, '..', 'dist');
const BUILT_FILES = {
  '/dist/module.js': path.join(DIST, 'module.js'),
  '/dist/module.js.map': path.join(DIST, 'module.js.map'),
};

const args = new Set(process.argv.slice(2));
const themeArg = [...args].find((a) => a.startsWith('--theme='))?.split('=')[1];
const THEMES = themeArg ? [themeArg] : ['dark', 'light'];

const started = Date.now();
const log = (msg) => console.log(`[harness ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

// ---------------------------------------------------------------------------------------------
// 1-2. Bundle and assets

async function bundle() {
  await fs.rm(OUTPUT, { recursive: true, force: true });
  await fs.rm(PUBLIC, { recursive: true, force: true });
  await fs.mkdir(PUBLIC, { recursive: true });
  await build({
    entryPoints: [path.join(HERE, 'src', 'main.tsx')],
    bundle: true,
    outfile: path.join(PUBLIC, 'harness.js'),
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    jsx: 'transform',
    // Development React, so its warnings (console.error) fail the check too.
    define: { 'process.env.NODE_ENV': '"development"', global: 'window' },
    loader: { '.svg': 'file', '.png': 'file', '.woff': 'file', '.woff2': 'file', '.ttf': 'file' },
    logLevel: 'warning',
    absWorkingDir: FRONTEND,
  });

  // Icons, where Icon looks for them: <__grafana_public_path__>build/img/icons/.
  await fs.cp(path.join(MODULES, '@grafana/ui/dist/public/img/icons'), path.join(PUBLIC, 'public/build/img/icons'), {
    recursive: true,
  });
  // Grafana serves a `spinner` icon (shown while a Combobox loads options) that @grafana/ui's
  // icon folder lacks; stand in a plain one so loading states do not 404.
  await fs.writeFile(
    path.join(PUBLIC, 'public/build/img/icons/unicons/spinner.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M12 2a10 10 0 1 0 10 10h-2a8 8 0 1 1-8-8z"/></svg>\n'
  );
  // Fonts, under the names GlobalStyles asks for.
  const fonts = [
    ['@fontsource/inter/files/inter-latin-400-normal.woff2', 'inter/Inter-Regular.woff2'],
    ['@fontsource/inter/files/inter-latin-500-normal.woff2', 'inter/Inter-Medium.woff2'],
    ['@fontsource/inter/files/inter-latin-400-italic.woff2', 'inter/Inter-Italic.woff2'],
    ['@fontsource/inter/files/inter-latin-500-italic.woff2', 'inter/Inter-MediumItalic.woff2'],
    [
      '@fontsource/roboto-mono/files/roboto-mono-latin-400-normal.woff2',
      'roboto/L0xTDF4xlVMF-BfR8bXMIhJHg45mwgGEFl0_3vrtSM1J-gEPT5Ese6hmHSh0mQ.woff2',
    ],
  ];
  for (const [from, to] of fonts) {
    const target = path.join(PUBLIC, 'public/fonts', to);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(path.join(MODULES, from), target);
  }

  const css = existsSync(path.join(PUBLIC, 'harness.css')) ? '<link rel="stylesheet" href="/harness.css">' : '';
  await fs.writeFile(
    path.join(PUBLIC, 'index.html'),
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Pulso editors</title>
<link rel="icon" href="data:,">
<script>window.grafanaBootData = { settings: { featureToggles: {} }, user: {}, navTree: [], assets: { dark: '', light: '' } };</script>
${css}
</head>
<body>
<div id="root"></div>
<script src="/harness.js"></script>
</body>
</html>
`
  );
}

// ---------------------------------------------------------------------------------------------
// 3. Loopback server

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.json': 'application/json',
};

function serve() {
  const missing = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const rel = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    // The webpack build, from the repository's dist/ (only its module files).
    const built = BUILT_FILES[rel];
    const file = built ?? path.join(PUBLIC, path.normalize(rel));
    if (!built && !file.startsWith(PUBLIC)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await fs.readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      missing.push(rel);
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, missing, port: server.address().port }));
  });
}

// ---------------------------------------------------------------------------------------------
// 4. Browser checks

/** One theme's run: every step asserts the JSON the editors emitted. */
async function checkTheme(browser, baseUrl, theme) {
  const problems = [];
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, colorScheme: theme });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (err) => problems.push(`page error: ${err.stack || err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      problems.push(`console error: ${msg.text()}`);
    } else if (msg.type() === 'warning') {
      log(`${theme}: console warning: ${msg.text()}`);
    }
  });
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => res.status() >= 400 && problems.push(`HTTP ${res.status()}: ${res.url()}`));

  const shot = async (name) => {
    const file = path.join(OUTPUT, `${theme}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    log(`${theme}: screenshot ${path.relative(FRONTEND, file)}`);
  };
  const state = () => page.evaluate(() => JSON.parse(JSON.stringify(window.__pulso)));
  const step = (name) => log(`${theme}: ${name}`);
  /** Waits (up to 5 s) for a value read from the page to equal `expected`, then asserts it. */
  const expectState = async (read, expected, what) => {
    const deadline = Date.now() + 5000;
    let actual = read(await state());
    while (!isDeepStrictEqual(actual, expected) && Date.now() < deadline) {
      await page.waitForTimeout(100);
      actual = read(await state());
    }
    assert.deepStrictEqual(actual, expected, what);
  };
  const expectQuery = (expected, what) => expectState((s) => s.query, expected, `${what}: query JSON`);
  const section = (title) => page.locator('section', { has: page.getByRole('heading', { name: title, exact: true }) });
  const queryEditor = section('Query editor');
  const variableEditor = section('Variable query editor');
  const configEditor = section('Config editor');
  const pickType = async (label) => {
    // The (transparent) radio input lies over its label, as in Grafana: click what a user clicks.
    await queryEditor.getByRole('radio', { name: label, exact: true }).click();
  };

  try {
    await page.goto(`${baseUrl}/?theme=${theme}`);
    await page.getByTestId('harness-ready').waitFor();
    await page.evaluate(() => document.fonts.ready);
    // The page really is in the requested theme.
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    step(`body background ${background}`);
    const [r, g, b] = background.match(/\d+/g).map(Number);
    assert.ok(theme === 'dark' ? r + g + b < 150 : r + g + b > 600, `${theme} theme background, got ${background}`);
    assert.deepStrictEqual((await state()).requests, [], 'no resource is fetched before a filter menu opens');
    await shot('1-initial');

    step('query types');
    await pickType('Mentions');
    await expectQuery({ refId: 'A', queryType: 'mentions', limit: 100 }, 'Mentions');
    await pickType('Distribution');
    await expectQuery({ refId: 'A', queryType: 'distribution' }, 'Distribution');
    await pickType('Dimension values');
    await expectQuery({ refId: 'A', queryType: 'dimension_values' }, 'Dimension values');
    await queryEditor.getByText('Pick the dimension whose values to list').waitFor();
    await page.locator('#pulso-A-dimension').click();
    await page.getByRole('option', { name: /^Region/ }).click();
    await expectQuery({ refId: 'A', queryType: 'dimension_values', dimension: 'region' }, 'dimension picked');
    await pickType('Time series');
    await expectQuery({ refId: 'A', queryType: 'timeseries', metric: 'volume' }, 'Time series');

    step('metric, group by and interval');
    await page.locator('#pulso-A-metric').click();
    await page.getByRole('option', { name: /^Net sentiment/ }).click();
    await page.locator('#pulso-A-group-by').click();
    await page.getByRole('option', { name: /^Brand/ }).click();
    await page.locator('#pulso-A-interval').fill('1d');
    await page.locator('#pulso-A-interval').press('Enter');
    await expectQuery(
      { refId: 'A', queryType: 'timeseries', metric: 'net_sentiment', groupBy: 'brand', interval: '1d' },
      'time series fields'
    );

    step('region filter multi-select');
    await page.locator('#pulso-A-filter-region').click();
    for (const name of ['Lima', 'Cusco', 'Arequipa', '$region', '$brand']) {
      await page.getByRole('option', { name, exact: true }).waitFor();
    }
    await shot('2-filter-menu');
    await page.getByRole('option', { name: 'Lima', exact: true }).click();
    await page.getByRole('option', { name: 'Cusco', exact: true }).click();
    await page.keyboard.press('Escape');
    await expectQuery(
      {
        refId: 'A',
        queryType: 'timeseries',
        metric: 'net_sentiment',
        groupBy: 'brand',
        interval: '1d',
        filters: { region: ['Lima', 'Cusco'] },
      },
      'region filter'
    );

    step('custom value and variable in the source type filter, min confidence');
    await page.locator('#pulso-A-filter-sourceType').click();
    await page.getByRole('option', { name: 'delivery', exact: true }).click();
    // At a typing pace: with no delay, keystrokes that land while the options reload get lost.
    // Even at 60 ms one sometimes is ("kosk"): check what the input holds, and type it again.
    const typed = () => page.evaluate(() => document.activeElement?.value ?? '');
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.type('kiosk', { delay: 60 });
      const value = await typed();
      if (value === 'kiosk') {
        break;
      }
      if (attempt === 3) {
        throw new Error(`typing "kiosk" into the source type filter gave "${value}" three times`);
      }
      // Select the text and delete it (Backspace on an empty input would remove a chip).
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Backspace');
    }
    await page.getByRole('option', { name: /^kiosk/ }).click();
    await page.keyboard.press('Escape');
    await page.locator('#pulso-A-min-confidence').fill('0.7');
    await page.locator('#pulso-A-min-confidence').press('Tab');
    const filtered = {
      refId: 'A',
      queryType: 'timeseries',
      metric: 'net_sentiment',
      groupBy: 'brand',
      interval: '1d',
      filters: { region: ['Lima', 'Cusco'], sourceType: ['delivery', 'kiosk'] },
      minConfidence: 0.7,
    };
    await expectQuery(filtered, 'source type filter and min confidence');

    step('mentions keeps the filters; search and limit');
    await pickType('Mentions');
    await page.locator('#pulso-A-search').fill('ají de gallina');
    await page.locator('#pulso-A-limit').fill('250');
    await page.locator('#pulso-A-limit').press('Tab');
    const mentions = {
      refId: 'A',
      queryType: 'mentions',
      limit: 250,
      search: 'ají de gallina',
      filters: filtered.filters,
      minConfidence: 0.7,
    };
    await expectQuery(mentions, 'mentions');
    await page.locator('#pulso-A-limit').fill('9000');
    // Blur by clicking the heading (Tab would focus the next info icon and open its tooltip).
    await page.getByRole('heading', { name: 'Query editor', exact: true }).click();
    await queryEditor.getByText('Enter a whole number from 1 to 5000').waitFor();
    assert.equal((await state()).query.limit, 250, 'an out-of-range limit is not emitted');
    await shot('3-mentions');
    await page.locator('#pulso-A-limit').fill('250');
    await page.locator('#pulso-A-limit').press('Tab');
    await page.locator('label[for="pulso-A-live"]').last().click();
    await expectQuery({ ...mentions, live: true }, 'mentions switched to Live');
    assert.equal(await page.locator('#pulso-A-live').isChecked(), true, 'the Live switch shows on');
    await page.locator('label[for="pulso-A-live"]').last().click();
    await expectQuery(mentions, 'Live switched off');

    step('distribution');
    await pickType('Distribution');
    await page.locator('#pulso-A-group-by').click();
    await page.getByRole('option', { name: /^Sentiment label/ }).click();
    await expectQuery(
      {
        refId: 'A',
        queryType: 'distribution',
        groupBy: 'label',
        filters: filtered.filters,
        minConfidence: 0.7,
      },
      'distribution'
    );
    assert.ok((await state()).runs >= 10, 'selections run the query');

    // The four analysis types keep the filters and minimum confidence set above.
    const kept = { filters: filtered.filters, minConfidence: 0.7 };
    /** Fills a text or number field and commits it with Enter. */
    const enter = async (id, text) => {
      await page.locator(id).fill(text);
      await page.locator(id).press('Enter');
    };
    /** Blurs the focused field without focusing another (Tab would open the next tooltip). */
    const blur = () => page.getByRole('heading', { name: 'Query editor', exact: true }).click();

    step('trending terms');
    await pickType('Trending terms');
    const trending = { refId: 'A', queryType: 'trending_terms', minSupport: 5, limit: 20, ...kept };
    await expectQuery(trending, 'Trending terms defaults');
    assert.equal(await page.locator('#pulso-A-min-support').inputValue(), '5', 'min support shows its default');
    assert.equal(await page.locator('#pulso-A-limit').inputValue(), '20', 'limit shows the trending default');
    await enter('#pulso-A-min-support', '3');
    await enter('#pulso-A-limit', '50');
    await page.locator('#pulso-A-group-by').click();
    await page.getByRole('option', { name: /^Product/ }).click();
    const trendingSet = { ...trending, minSupport: 3, limit: 50, groupBy: 'product' };
    await expectQuery(trendingSet, 'trending terms fields');
    await page.locator('#pulso-A-limit').fill('501');
    await page.locator('#pulso-A-min-support').fill('0');
    await blur();
    await queryEditor.getByText('Enter a whole number from 1 to 500').waitFor();
    await queryEditor.getByText('Enter a whole number from 1 to 1000000').waitFor();
    await shot('5-trending-terms');
    await expectQuery(trendingSet, 'out-of-range min support and limit are not emitted');
    await enter('#pulso-A-limit', '50');
    await enter('#pulso-A-min-support', '3');

    step('aspects');
    await pickType('Aspects');
    const aspects = { refId: 'A', queryType: 'aspects', view: 'distribution', ...kept };
    await expectQuery(aspects, 'Aspects defaults');
    await page.locator('#pulso-A-aspects').click();
    for (const key of ['taste', 'price', 'service', 'delivery', 'hygiene', 'portion', 'freshness', 'packaging']) {
      await page.getByRole('option', { name: new RegExp(`^${key} — `) }).waitFor();
    }
    await page.getByRole('option', { name: /^delivery — delivery \/ demora \/ motorizado/ }).click();
    await page.getByRole('option', { name: /^service — / }).click();
    await shot('6-aspects-menu');
    await page.keyboard.press('Escape');
    await expectQuery({ ...aspects, aspects: ['delivery', 'service'] }, 'aspects picked');
    await queryEditor.getByRole('radio', { name: 'Series per aspect', exact: true }).click();
    await expectQuery(
      { ...aspects, view: 'timeseries', metric: 'share_negative', aspects: ['delivery', 'service'] },
      'aspects time series view'
    );
    await page.locator('#pulso-A-metric').click();
    await page.getByRole('option', { name: /^Average score/ }).click();
    await enter('#pulso-A-interval', '1w');
    await expectQuery(
      { ...aspects, view: 'timeseries', metric: 'avg_score', interval: '1w', aspects: ['delivery', 'service'] },
      'aspects metric and interval'
    );
    await queryEditor.getByRole('radio', { name: 'Table per aspect', exact: true }).click();
    await expectQuery({ ...aspects, aspects: ['delivery', 'service'] }, 'back to the distribution view');

    step('anomalies');
    await pickType('Anomalies');
    const anomalies = {
      refId: 'A',
      queryType: 'anomalies',
      metric: 'share_negative',
      interval: '1d',
      baselineBuckets: 14,
      threshold: 3.5,
      view: 'timeseries',
      ...kept,
    };
    await expectQuery(anomalies, 'Anomalies defaults');
    await page.locator('#pulso-A-metric').click();
    await page.getByRole('option', { name: /^Volume/ }).waitFor();
    assert.equal(await page.getByRole('option').count(), 2, 'anomalies offer two metrics');
    await page.getByRole('option', { name: /^Volume/ }).click();
    await page.locator('#pulso-A-group-by').click();
    await page.getByRole('option', { name: /^Region/ }).click();
    await enter('#pulso-A-interval', '1h');
    await enter('#pulso-A-baseline-buckets', '30');
    await enter('#pulso-A-threshold', '2.5');
    await queryEditor.getByRole('radio', { name: 'Spikes', exact: true }).click();
    const anomaliesSet = {
      ...anomalies,
      metric: 'volume',
      groupBy: 'region',
      interval: '1h',
      baselineBuckets: 30,
      threshold: 2.5,
      view: 'spikes',
    };
    await expectQuery(anomaliesSet, 'anomalies fields');
    await page.locator('#pulso-A-baseline-buckets').fill('181');
    await page.locator('#pulso-A-threshold').fill('0.4');
    await blur();
    await queryEditor.getByText('Enter a whole number from 3 to 180').waitFor();
    await queryEditor.getByText('Enter a number from 0.5 to 50').waitFor();
    await shot('7-anomalies');
    await expectQuery(anomaliesSet, 'out-of-range baseline and threshold are not emitted');
    await enter('#pulso-A-baseline-buckets', '30');
    await enter('#pulso-A-threshold', '2.5');

    step('insights');
    await pickType('Insights');
    const insights = { refId: 'A', queryType: 'insights', llm: true, ...kept };
    await expectQuery(insights, 'Insights defaults');
    await queryEditor.getByText(/offline summary is used/).waitFor();
    // The switch's checkbox is invisible; a user clicks the drawn switch, its label.
    await page.locator('label[for="pulso-A-llm"]').last().click();
    await expectQuery({ ...insights, llm: false }, 'LLM switched off');
    assert.equal(await page.locator('#pulso-A-llm').isChecked(), false, 'the switch shows off');
    await page.locator('label[for="pulso-A-llm"]').last().click();
    await expectQuery(insights, 'LLM switched on');

    step('annotation query editor (anomalies spikes by default)');
    const annotationEditor = section('Annotation query editor');
    const spikes = {
      refId: 'Anno',
      queryType: 'anomalies',
      metric: 'share_negative',
      interval: '1d',
      baselineBuckets: 14,
      threshold: 3.5,
      view: 'spikes',
    };
    const storedAnnotation = { name: 'Negative spikes', enable: true, iconColor: 'red' };
    await expectState(
      (s) => s.annotation,
      { ...storedAnnotation, target: spikes },
      'an annotation without a target gets the spikes query'
    );
    assert.ok(await annotationEditor.getByRole('radio', { name: 'Anomalies', exact: true }).isChecked());
    assert.ok(await annotationEditor.getByRole('radio', { name: 'Spikes', exact: true }).isChecked());
    await enter('#pulso-Anno-threshold', '5');
    await expectState(
      (s) => s.annotation,
      { ...storedAnnotation, target: { ...spikes, threshold: 5 } },
      'annotation threshold'
    );

    step('variable query editor');
    await page.locator('#pulso-variable-dimension').click();
    await page.getByRole('option', { name: /^Brand/ }).click();
    await page.locator('#pulso-variable-filter-region').click();
    await page.getByRole('option', { name: '$region', exact: true }).click();
    await page.keyboard.press('Escape');
    await expectState(
      (s) => s.variableQuery,
      {
        refId: 'PulsoVariableQuery',
        queryType: 'dimension_values',
        dimension: 'brand',
        filters: { region: ['$region'] },
      },
      'variable query JSON'
    );
    // What the variable would send: $region expands to the selected regions.
    const interpolated = await page.evaluate(() => window.__pulso.interpolateVariableQuery());
    assert.deepStrictEqual(
      interpolated,
      {
        refId: 'PulsoVariableQuery',
        queryType: 'dimension_values',
        dimension: 'brand',
        filters: { region: ['Lima', 'Cusco'] },
      },
      'the variable query as sent: $region expanded'
    );

    step('resources');
    const { requests } = await state();
    const urls = requests.map((r) => `${r.method} ${r.url}`);
    const prefix = 'GET /api/datasources/uid/pulso/resources/dimensions/';
    assert.deepStrictEqual(
      urls.filter((u) => u === `${prefix}region`).length,
      1,
      `region values are fetched once and reused (requests: ${urls.join(', ')})`
    );
    assert.ok(urls.includes(`${prefix}sourceType`), 'sourceType values were fetched when its menu opened');
    assert.ok(!urls.includes(`${prefix}product`), 'values of untouched filters are not fetched');

    step('built dist/module.js');
    const builtEditor = section('Built module.js (dist/)');
    await builtEditor.getByTestId('built-ready').waitFor();
    assert.deepStrictEqual(
      (await state()).built,
      { hasQueryEditor: true, hasConfigEditor: true, hasVariableEditor: true },
      'dist/module.js exports the plugin with its editors and variable support'
    );
    await builtEditor.getByRole('radio', { name: 'Mentions', exact: true }).click();
    await expectState((s) => s.builtQuery, { refId: 'B', queryType: 'mentions', limit: 100 }, 'built editor: Mentions');
    await page.locator('#pulso-B-filter-region').click();
    await page.getByRole('option', { name: 'Arequipa', exact: true }).click();
    await page.keyboard.press('Escape');
    await expectState(
      (s) => s.builtQuery,
      { refId: 'B', queryType: 'mentions', limit: 100, filters: { region: ['Arequipa'] } },
      'built editor: region filter'
    );
    await builtEditor.getByRole('radio', { name: 'Anomalies', exact: true }).click();
    await expectState(
      (s) => s.builtQuery,
      {
        refId: 'B',
        queryType: 'anomalies',
        metric: 'share_negative',
        interval: '1d',
        baselineBuckets: 14,
        threshold: 3.5,
        view: 'timeseries',
        filters: { region: ['Arequipa'] },
      },
      'built editor: Anomalies'
    );

    step('config editor');
    const apiKey = page.locator('#pulso-config-llm-api-key');
    assert.equal(await apiKey.inputValue(), 'configured', 'a saved key shows as configured');
    assert.ok(await apiKey.isDisabled(), 'a saved key cannot be edited before reset');
    await page.locator('#pulso-config-sqlite-path').fill('/data/pulso.db');
    await page.locator('#pulso-config-model-path').fill('/models/pulso');
    await page.locator('#pulso-config-llm-model').fill('llama3.1:8b');
    await configEditor.getByRole('button', { name: 'Reset' }).click();
    await apiKey.fill('sk-harness-secret');
    await expectState((s) => s.options?.secureJsonData, { llmApiKey: 'sk-harness-secret' }, 'new key typed');
    const { options } = await state();
    assert.deepStrictEqual(
      options.jsonData,
      {
        sqlitePath: '/data/pulso.db',
        modelPath: '/models/pulso',
        llmUrl: 'http://localhost:11434/v1',
        llmModel: 'llama3.1:8b',
      },
      'config jsonData'
    );
    assert.deepStrictEqual(options.secureJsonFields, { llmApiKey: false }, 'reset clears the configured flag');
    assert.deepStrictEqual(
      options.secureJsonData,
      { llmApiKey: 'sk-harness-secret' },
      'the new key goes to secureJsonData'
    );
    assert.equal(await apiKey.getAttribute('type'), 'password', 'the key input is a password field');
    const text = await page.evaluate(() => document.body.innerText);
    assert.ok(!text.includes('sk-harness-secret'), 'the key is never shown as text');
    await page.locator('#pulso-config-llm-url').fill('localhost:11434');
    await configEditor.getByText(/Not a valid URL|Use an http/).waitFor();
    await page.locator('#pulso-config-llm-url').fill('http://localhost:11434/v1');

    await page.mouse.click(5, 5);
    await shot('4-final');

    step('config editor: PostgreSQL storage');
    await configEditor.getByRole('radio', { name: 'PostgreSQL' }).click();
    await configEditor.getByText(/^Required: postgres:/).waitFor();
    await page.locator('#pulso-config-postgres-url').fill('postgres://pulso@db:5432/pulso');
    await page.locator('#pulso-config-postgres-password').fill('pg-harness-secret');
    await expectState(
      (s) => s.options?.secureJsonData?.postgresPassword,
      'pg-harness-secret',
      'the PostgreSQL password goes to secureJsonData'
    );
    const postgres = (await state()).options;
    assert.equal(postgres.jsonData.storage, 'postgres', 'storage switched to PostgreSQL');
    assert.equal(postgres.jsonData.postgresUrl, 'postgres://pulso@db:5432/pulso', 'the URL goes to jsonData');
    assert.ok(!JSON.stringify(postgres.jsonData).includes('pg-harness-secret'), 'the password is never in jsonData');
    assert.equal(
      await page.locator('#pulso-config-postgres-password').getAttribute('type'),
      'password',
      'the PostgreSQL password input is a password field'
    );
    const shown = await page.evaluate(() => document.body.innerText);
    assert.ok(!shown.includes('pg-harness-secret'), 'the password is never shown as text');
    assert.ok(!shown.includes('Required: postgres'), 'a URL clears the required message');
    await page.mouse.click(5, 5);
    await shot('8-postgres-storage');
  } catch (error) {
    const detail =
      error instanceof assert.AssertionError
        ? `\n  actual:   ${JSON.stringify(error.actual)}\n  expected: ${JSON.stringify(error.expected)}`
        : '';
    problems.push(`step failed: ${error.message}${detail}`);
    await shot('failure').catch(() => {});
  } finally {
    await context.close();
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  log('bundling harness/src/main.tsx with esbuild');
  await bundle();
  const size = (await fs.stat(path.join(PUBLIC, 'harness.js'))).size;
  log(`bundle ${(size / 1024 / 1024).toFixed(1)} MiB`);
  const { server, missing, port } = await serve();
  const baseUrl = `http://127.0.0.1:${port}`;
  if (args.has('--serve')) {
    log(`serving ${baseUrl}/?theme=dark (Ctrl-C to stop)`);
    return new Promise(() => {});
  }

  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium fonts-dejavu-core, or set CHROMIUM_PATH`);
  }
  await fs.mkdir(OUTPUT, { recursive: true });
  // Playwright gives every launch a fresh, temporary user-data-dir.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  log(`browser ${CHROMIUM} ${browser.version()}`);

  let failures = 0;
  try {
    for (const theme of THEMES) {
      const problems = await checkTheme(browser, baseUrl, theme);
      if (problems.length) {
        failures += problems.length;
        for (const p of problems) {
          console.error(`FAIL [${theme}] ${p}`);
        }
      } else {
        log(`${theme}: all checks passed`);
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  if (missing.length) {
    failures += missing.length;
    console.error(`FAIL files not found: ${[...new Set(missing)].join(', ')}`);
  }
  if (failures) {
    console.error(`harness: ${failures} problem(s)`);
    process.exit(1);
  }
  log('harness: every check passed');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
