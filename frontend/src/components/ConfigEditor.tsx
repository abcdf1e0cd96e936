import React, { ChangeEvent } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Box, Combobox, Field, Input, RadioButtonGroup, SecretInput, Stack, Text } from '@grafana/ui';

import { PulsoOptions, PulsoSecureOptions } from '../types';
import { ConfigSection } from './ConfigSection';

export type Props = DataSourcePluginOptionsEditorProps<PulsoOptions, PulsoSecureOptions>;

type TextOption = 'sqlitePath' | 'modelPath' | 'llmUrl' | 'llmModel' | 'postgresUrl';
type SecretOption = 'llmApiKey' | 'postgresPassword';

const STORAGE_OPTIONS = [
  { label: 'SQLite in the plugin', value: 'sqlite' as const, description: 'One file on the Grafana server' },
  {
    label: 'PostgreSQL',
    value: 'postgres' as const,
    description: 'One database shared by every Grafana instance (high availability)',
  },
];

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'].map((mode) => ({
  label: mode,
  value: mode,
}));

export const DEFAULT_POOL_SIZE = 10;

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const jsonData = options.jsonData ?? {};

  /** An emptied field is removed, so the backend falls back to its default. */
  const onTextChange = (key: TextOption) => (event: ChangeEvent<HTMLInputElement>) => {
    const value = event.currentTarget.value;
    const next: PulsoOptions = { ...jsonData, [key]: value };
    if (value.trim() === '') {
      delete next[key];
    }
    onOptionsChange({ ...options, jsonData: next });
  };

  const onSecretChange = (key: SecretOption) => (event: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({
      ...options,
      secureJsonData: { ...options.secureJsonData, [key]: event.currentTarget.value },
    });
  };

  const onSecretReset = (key: SecretOption) => () => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...options.secureJsonFields, [key]: false },
      secureJsonData: { ...options.secureJsonData, [key]: '' },
    });
  };

  const onStorageChange = (storage: 'sqlite' | 'postgres') => {
    const next: PulsoOptions = { ...jsonData, storage };
    if (storage === 'sqlite') {
      delete next.storage;
    }
    onOptionsChange({ ...options, jsonData: next });
  };

  const onSslModeChange = (option: { value?: string } | null) => {
    const next: PulsoOptions = { ...jsonData, postgresSslMode: option?.value };
    if (!option?.value) {
      delete next.postgresSslMode;
    }
    onOptionsChange({ ...options, jsonData: next });
  };

  /** A whole number from `min` to `max`; an empty or invalid entry removes it, so the default applies. */
  const onWholeNumberChange =
    (key: 'llmTimeoutSeconds' | 'postgresPoolSize', min: number, max: number) =>
    (event: ChangeEvent<HTMLInputElement>) => {
      const text = event.currentTarget.value.trim();
      const value = Number(text);
      const next: PulsoOptions = { ...jsonData };
      if (text !== '' && Number.isInteger(value) && value >= min && value <= max) {
        next[key] = value;
      } else {
        delete next[key];
      }
      onOptionsChange({ ...options, jsonData: next });
    };

  const urlError = llmUrlError(jsonData.llmUrl);
  const storage = jsonData.storage ?? 'sqlite';
  const postgresError = postgresUrlError(jsonData.postgresUrl, storage === 'postgres');

  return (
    <Stack direction="column" gap={0}>
      <Box marginBottom={4} maxWidth={90}>
        <Text color="secondary">
          Pulso scores consumer feedback about food in Peru (Spanish and English) with a sentiment model that runs
          inside this plugin, and stores it in a SQLite file on this server or in a PostgreSQL database that several
          Grafana instances share. Apart from the PostgreSQL URL, every setting below is optional: empty fields use the
          defaults shown as placeholders.
        </Text>
      </Box>

      <ConfigSection
        title="Storage and model"
        description="Where the feedback and its scores are kept, and where the sentiment model lives on the Grafana server."
      >
        <Field
          label="Storage"
          description="SQLite needs nothing else. Choose PostgreSQL when Grafana runs as several instances behind a load balancer: they then share the mentions, and each one is scored once."
        >
          <RadioButtonGroup
            id="pulso-config-storage"
            options={STORAGE_OPTIONS}
            value={storage}
            onChange={onStorageChange}
          />
        </Field>
        {storage === 'sqlite' ? (
          <Field
            label="SQLite database path"
            description="The database file that holds the feedback and its scores. Its folder must exist and be writable by Grafana. Empty: a file of this data source's own under <Grafana data dir>/pulso/."
          >
            <Input
              id="pulso-config-sqlite-path"
              width={60}
              placeholder="/var/lib/grafana/pulso/pulso.db"
              value={jsonData.sqlitePath ?? ''}
              onChange={onTextChange('sqlitePath')}
            />
          </Field>
        ) : (
          <>
            <Field
              label="PostgreSQL URL"
              description="postgres://user@host:5432/database. Put the password in the field below, not in the URL: the URL is stored unencrypted. Pulso creates its tables on first use."
              required
              invalid={Boolean(postgresError)}
              error={postgresError}
            >
              <Input
                id="pulso-config-postgres-url"
                width={60}
                placeholder="postgres://pulso@db:5432/pulso"
                value={jsonData.postgresUrl ?? ''}
                onChange={onTextChange('postgresUrl')}
              />
            </Field>
            <Field
              label="Password"
              description="The PostgreSQL user's password. It is stored encrypted and never shown again; use Reset to replace it."
            >
              <SecretInput
                id="pulso-config-postgres-password"
                width={60}
                placeholder="Password"
                isConfigured={Boolean(options.secureJsonFields?.postgresPassword)}
                value={options.secureJsonData?.postgresPassword ?? ''}
                onChange={onSecretChange('postgresPassword')}
                onReset={onSecretReset('postgresPassword')}
              />
            </Field>
            <Field
              label="SSL mode"
              description="Whether the connection is encrypted and the server's certificate checked. Empty: the URL's sslmode, else prefer (encrypted when the server offers it)."
            >
              <Combobox
                id="pulso-config-postgres-ssl-mode"
                width={30}
                isClearable
                placeholder="prefer"
                options={SSL_MODES}
                value={jsonData.postgresSslMode ?? null}
                onChange={onSslModeChange}
              />
            </Field>
            <Field
              label="Pool size"
              description={`Connections this data source opens at most on each Grafana instance, 2 to 100. Empty: ${DEFAULT_POOL_SIZE}.`}
            >
              <Input
                id="pulso-config-postgres-pool-size"
                type="number"
                min={2}
                max={100}
                width={12}
                placeholder={String(DEFAULT_POOL_SIZE)}
                defaultValue={jsonData.postgresPoolSize ?? ''}
                onChange={onWholeNumberChange('postgresPoolSize', 2, 100)}
              />
            </Field>
          </>
        )}
        <Field
          label="Model directory"
          description="Folder of a built sentiment model (models/dist/<model-id>/). Empty: $PULSO_MODEL_DIR, else model/ beside the plugin executable, else the newest build under models/dist/."
        >
          <Input
            id="pulso-config-model-path"
            width={60}
            placeholder="/var/lib/grafana/plugins/pulso-sentiment-datasource/model"
            value={jsonData.modelPath ?? ''}
            onChange={onTextChange('modelPath')}
          />
        </Field>
      </ConfigSection>

      <ConfigSection
        title="Language model (optional)"
        description="An OpenAI-compatible endpoint (OpenAI, or a local Ollama, vLLM or llama.cpp server) that the Insights query asks to write findings and suggestions. Without it, Insights writes an offline summary; sentiment scoring never needs it."
      >
        <Field
          label="Endpoint URL"
          description="Base URL of the OpenAI-compatible API, including the version path."
          invalid={Boolean(urlError)}
          error={urlError}
        >
          <Input
            id="pulso-config-llm-url"
            width={60}
            placeholder="http://localhost:11434/v1"
            value={jsonData.llmUrl ?? ''}
            onChange={onTextChange('llmUrl')}
          />
        </Field>
        <Field label="Model" description="Model name to send to that endpoint.">
          <Input
            id="pulso-config-llm-model"
            width={40}
            placeholder="llama3.1:8b"
            value={jsonData.llmModel ?? ''}
            onChange={onTextChange('llmModel')}
          />
        </Field>
        <Field
          label="Timeout (seconds)"
          description="How long one request to the endpoint may take, 1 to 300; a failed or slow request is tried once more. Grafana gives up on a panel after about 30 s, so raise it only for slow local models. Empty: 10."
        >
          <Input
            id="pulso-config-llm-timeout"
            type="number"
            min={1}
            max={300}
            width={12}
            placeholder="10"
            defaultValue={jsonData.llmTimeoutSeconds ?? ''}
            onChange={onWholeNumberChange('llmTimeoutSeconds', 1, 300)}
          />
        </Field>
        <Field
          label="API key"
          description="Sent as a bearer token to the endpoint. It is stored encrypted and never shown again; use Reset to replace it. Leave empty for endpoints without authentication."
        >
          <SecretInput
            id="pulso-config-llm-api-key"
            width={60}
            placeholder="API key"
            isConfigured={Boolean(options.secureJsonFields?.llmApiKey)}
            value={options.secureJsonData?.llmApiKey ?? ''}
            onChange={onSecretChange('llmApiKey')}
            onReset={onSecretReset('llmApiKey')}
          />
        </Field>
      </ConfigSection>
    </Stack>
  );
}

export function llmUrlError(url: string | undefined): string | undefined {
  if (!url || url.trim() === '') {
    return undefined;
  }
  try {
    const parsed = new URL(url.trim());
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      return 'Use an http:// or https:// URL';
    }
    return undefined;
  } catch {
    return 'Not a valid URL, e.g. http://localhost:11434/v1';
  }
}

/** What is wrong with a PostgreSQL URL, as the backend would refuse it; required when PostgreSQL is chosen. */
export function postgresUrlError(url: string | undefined, required: boolean): string | undefined {
  if (!url || url.trim() === '') {
    return required ? 'Required: postgres://user@host:5432/database' : undefined;
  }
  const match = /^(postgres|postgresql):\/\/([^/?#]*)/.exec(url.trim());
  if (!match) {
    return 'Use a postgres:// URL, e.g. postgres://pulso@db:5432/pulso';
  }
  const authority = match[2];
  const at = authority.lastIndexOf('@');
  if (at >= 0 && authority.slice(0, at).includes(':')) {
    return 'Remove the password from the URL and put it in the Password field (stored encrypted)';
  }
  if (authority.slice(at + 1) === '') {
    return 'Name the host, e.g. postgres://pulso@db:5432/pulso';
  }
  return undefined;
}
