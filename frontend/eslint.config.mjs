import { defineConfig } from 'eslint/config';
import baseConfig from './.config/eslint.config.mjs';

export default defineConfig([
  {
    ignores: ['**/node_modules/', '**/coverage', '**/dist/', 'harness/output/', 'harness/public/', '**/.eslintcache'],
  },
  ...baseConfig,
]);
