import React, { ChangeEvent } from 'react';
import { DataSourcePluginOptionsEditorProps } from '@grafana/data';
import { Box, Field, Input, SecretInput, Stack, Text } from '@grafana/ui';

import { PulsoOptions, PulsoSecureOptions } from '../types';
import { ConfigSection } from './ConfigSection';

export type Props = DataSourcePluginOptionsEditorProps<PulsoOptions, PulsoSecureOptions>;

type TextOption = 'sqlitePath' | 'modelPath' | 'llmUrl' | 'llmModel';

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

  const onApiKeyChange = (event: ChangeEvent<HTMLInputElement>) => {
    onOptionsChange({
      ...options,
      secureJsonData: { ...options.secureJsonData, llmApiKey: event.currentTarget.value },
    });
  };

  const onApiKeyReset = () => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...options.secureJsonFields, llmApiKey: false },
      secureJsonData: { ...options.secureJsonData, llmApiKey: '' },
    });
  };

  /** Whole seconds from 1 to 300; an empty or invalid entry removes it, so the default applies. */
  const onTimeoutChange = (event: ChangeEvent<HTMLInputElement>) => {
    const text = event.currentTarget.value.trim();
    const seconds = Number(text);
    const next: PulsoOptions = { ...jsonData };
    if (text !== '' && Number.isInteger(seconds) && seconds >= 1 && seconds <= 300) {
      next.llmTimeoutSeconds = seconds;
    } else {
      delete next.llmTimeoutSeconds;
    }
    onOptionsChange({ ...options, jsonData: next });
  };

  const urlError = llmUrlError(jsonData.llmUrl);

  return (
    <Stack direction="column" gap={0}>
      <Box marginBottom={4} maxWidth={90}>
        <Text color="secondary">
          Pulso scores consumer feedback about food in Peru (Spanish and English) with a sentiment model that runs
          inside this plugin, and stores it in a local SQLite file. Every setting below is optional: empty fields use
          the defaults shown as placeholders.
        </Text>
      </Box>

      <ConfigSection
        title="Storage and model"
        description="Where the feedback database and the sentiment model live, as paths on the Grafana server."
      >
        <Field
          label="SQLite database path"
          description="The database file that holds the feedback and its scores. Its folder must exist and be writable by Grafana. Empty: <Grafana data dir>/pulso/pulso.db."
        >
          <Input
            id="pulso-config-sqlite-path"
            width={60}
            placeholder="/var/lib/grafana/pulso/pulso.db"
            value={jsonData.sqlitePath ?? ''}
            onChange={onTextChange('sqlitePath')}
          />
        </Field>
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
            onChange={onTimeoutChange}
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
            onChange={onApiKeyChange}
            onReset={onApiKeyReset}
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
