import React, { useState } from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { DataSourceSettings } from '@grafana/data';

import { PulsoOptions, PulsoSecureOptions } from '../types';
import { ConfigEditor, llmUrlError, postgresUrlError } from './ConfigEditor';

type Options = DataSourceSettings<PulsoOptions, PulsoSecureOptions>;

const SECRET = 'sk-super-secret-value';

function options(overrides: Partial<Options> = {}): Options {
  return {
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
    jsonData: {},
    secureJsonFields: {},
    ...overrides,
  } as Options;
}

function setup(initial: Options) {
  const changes: Options[] = [];
  function Harness() {
    const [value, setValue] = useState(initial);
    return (
      <ConfigEditor
        options={value}
        onOptionsChange={(next) => {
          changes.push(next);
          setValue(next);
        }}
      />
    );
  }
  const user = userEvent.setup();
  const view = render(<Harness />);
  return { user, changes, last: () => changes[changes.length - 1], view };
}

describe('ConfigEditor', () => {
  it('shows the sections and the saved settings', () => {
    setup(
      options({
        jsonData: {
          sqlitePath: '/data/pulso.db',
          modelPath: '/models/x',
          llmUrl: 'http://llm:8000/v1',
          llmModel: 'qwen',
        },
      })
    );
    expect(screen.getByRole('heading', { name: 'Storage and model' })).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Language model (optional)' })).toBeInTheDocument();
    expect(screen.getByLabelText(/^SQLite database path/)).toHaveValue('/data/pulso.db');
    expect(screen.getByLabelText(/^Model directory/)).toHaveValue('/models/x');
    expect(screen.getByLabelText(/^Endpoint URL/)).toHaveValue('http://llm:8000/v1');
    expect(screen.getByLabelText(/^Model(?! directory)/)).toHaveValue('qwen');
  });

  it('writes the jsonData keys the backend reads, and removes emptied ones', async () => {
    const { user, last } = setup(options());
    await user.type(screen.getByLabelText(/^SQLite database path/), '/tmp/p.db');
    expect(last().jsonData).toEqual({ sqlitePath: '/tmp/p.db' });
    await user.type(screen.getByLabelText(/^Model directory/), '/m');
    await user.type(screen.getByLabelText(/^Endpoint URL/), 'http://localhost:11434/v1');
    await user.type(screen.getByLabelText(/^Model(?! directory)/), 'llama3');
    expect(last().jsonData).toEqual({
      sqlitePath: '/tmp/p.db',
      modelPath: '/m',
      llmUrl: 'http://localhost:11434/v1',
      llmModel: 'llama3',
    });
    await user.clear(screen.getByLabelText(/^SQLite database path/));
    expect(last().jsonData).not.toHaveProperty('sqlitePath');
  });

  it('writes a valid LLM timeout as a number and drops an invalid one', async () => {
    const { user, last } = setup(options());
    const timeout = screen.getByLabelText(/^Timeout \(seconds\)/);
    await user.type(timeout, '45');
    expect(last().jsonData).toEqual({ llmTimeoutSeconds: 45 });
    await user.clear(timeout);
    await user.type(timeout, '301');
    expect(last().jsonData).toEqual({});
    await user.clear(timeout);
    await user.type(timeout, '2.5');
    expect(last().jsonData).toEqual({});
  });

  it('keeps a new API key in secureJsonData only', async () => {
    const { user, last } = setup(options());
    await user.type(screen.getByLabelText(/^API key/), 'abc');
    expect(last().secureJsonData).toEqual({ llmApiKey: 'abc' });
    expect(last().jsonData).toEqual({});
    expect(screen.getByLabelText(/^API key/)).toHaveAttribute('type', 'password');
  });

  it('never shows a configured API key, and reset clears it', async () => {
    const { user, last, view } = setup(options({ secureJsonFields: { llmApiKey: true } }));
    const input = screen.getByLabelText(/^API key/);
    expect(input).toHaveValue('configured');
    expect(input).toBeDisabled();
    expect(view.container.innerHTML).not.toContain(SECRET);

    await user.click(screen.getByRole('button', { name: 'Reset' }));
    expect(last().secureJsonFields).toEqual({ llmApiKey: false });
    expect(last().secureJsonData).toEqual({ llmApiKey: '' });
    expect(screen.getByLabelText(/^API key/)).toBeEnabled();
    expect(screen.getByLabelText(/^API key/)).toHaveValue('');
  });

  it('switches storage to PostgreSQL and writes its settings, the password in secureJsonData only', async () => {
    const { user, last, view } = setup(options({ jsonData: { sqlitePath: '/data/pulso.db' } }));
    await user.click(screen.getByRole('radio', { name: 'PostgreSQL' }));
    expect(last().jsonData).toEqual({ sqlitePath: '/data/pulso.db', storage: 'postgres' });
    expect(screen.queryByLabelText(/^SQLite database path/)).not.toBeInTheDocument();
    expect(screen.getByText(/^Required: postgres:/)).toBeInTheDocument();
    await user.type(screen.getByLabelText(/^PostgreSQL URL/), 'postgres://pulso@db:5432/pulso');
    await user.type(screen.getByLabelText(/^Pool size/), '20');
    await user.type(screen.getByLabelText(/^Password/), 'pg-secret');
    expect(last().jsonData).toEqual({
      sqlitePath: '/data/pulso.db',
      storage: 'postgres',
      postgresUrl: 'postgres://pulso@db:5432/pulso',
      postgresPoolSize: 20,
    });
    expect(last().secureJsonData).toEqual({ postgresPassword: 'pg-secret' });
    expect(screen.getByLabelText(/^Password/)).toHaveAttribute('type', 'password');
    expect(JSON.stringify(last().jsonData)).not.toContain('pg-secret');
    expect(view.container.innerHTML).not.toContain('Required');

    await user.click(screen.getByRole('radio', { name: 'SQLite in the plugin' }));
    expect(last().jsonData).not.toHaveProperty('storage');
    expect(screen.getByLabelText(/^SQLite database path/)).toHaveValue('/data/pulso.db');
  });

  it('never shows a configured PostgreSQL password, and reset clears it', async () => {
    const { user, last } = setup(
      options({
        jsonData: { storage: 'postgres', postgresUrl: 'postgres://pulso@db/pulso' },
        secureJsonFields: { postgresPassword: true },
      })
    );
    const input = screen.getByLabelText(/^Password/);
    expect(input).toHaveValue('configured');
    await user.click(screen.getByRole('button', { name: 'Reset' }));
    expect(last().secureJsonFields).toEqual({ postgresPassword: false });
    expect(last().secureJsonData).toEqual({ postgresPassword: '' });
  });

  it('validates the PostgreSQL URL as the backend does', () => {
    expect(postgresUrlError(undefined, false)).toBeUndefined();
    expect(postgresUrlError('', true)).toMatch(/^Required/);
    expect(postgresUrlError('postgres://pulso@db:5432/pulso', true)).toBeUndefined();
    expect(postgresUrlError('postgresql://db/pulso?sslmode=require', true)).toBeUndefined();
    expect(postgresUrlError('mysql://db/pulso', true)).toMatch(/postgres:\/\//);
    expect(postgresUrlError('postgres://pulso:hunter2@db/pulso', true)).toMatch(/Password field/);
    expect(postgresUrlError('postgres:///pulso', true)).toMatch(/host/);
    expect(postgresUrlError('postgres://pulso@/pulso', true)).toMatch(/host/);
  });

  it('validates the endpoint URL', () => {
    expect(llmUrlError(undefined)).toBeUndefined();
    expect(llmUrlError('http://localhost:11434/v1')).toBeUndefined();
    expect(llmUrlError('https://api.example.com/v1')).toBeUndefined();
    expect(llmUrlError('ftp://x')).toBe('Use an http:// or https:// URL');
    expect(llmUrlError('localhost')).toMatch(/Not a valid URL/);
    setup(options({ jsonData: { llmUrl: 'nope' } }));
    expect(screen.getByText(/Not a valid URL/)).toBeInTheDocument();
  });
});
