import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { PulsoOptions, PulsoQuery, PulsoSecureOptions } from './types';

export const plugin = new DataSourcePlugin<DataSource, PulsoQuery, PulsoOptions, PulsoSecureOptions>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
