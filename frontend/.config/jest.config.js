/*
 * Adapted from the jest config that @grafana/create-plugin 7.1.7 scaffolds (see README.md):
 * .mjs files are transformed too, because d3-color and friends ship only ES modules.
 */

const path = require('path');
const { grafanaESModules, nodeModulesToTransform } = require('./jest/utils');

const swc = [
  '@swc/jest',
  {
    sourceMaps: 'inline',
    jsc: {
      parser: {
        syntax: 'typescript',
        tsx: true,
        decorators: false,
        dynamicImport: true,
      },
    },
  },
];

module.exports = {
  moduleNameMapper: {
    '\\.(css|scss|sass)$': 'identity-obj-proxy',
    'react-inlinesvg': path.resolve(__dirname, 'jest', 'mocks', 'react-inlinesvg.tsx'),
  },
  modulePaths: ['<rootDir>/src'],
  setupFilesAfterEnv: ['<rootDir>/jest-setup.js'],
  testEnvironment: 'jest-environment-jsdom',
  testMatch: ['<rootDir>/src/**/__tests__/**/*.{js,jsx,ts,tsx}', '<rootDir>/src/**/*.{spec,test,jest}.{js,jsx,ts,tsx}'],
  transform: {
    '^.+\\.(t|j)sx?$': swc,
    '^.+\\.mjs$': swc,
  },
  // Jest will throw `Cannot use import statement outside module` if it tries to load an
  // ES module without it being transformed first.
  transformIgnorePatterns: [nodeModulesToTransform(grafanaESModules)],
  // Editors with a dozen @grafana/ui comboboxes render slowly in jsdom on a busy machine.
  testTimeout: 30000,
  watchPathIgnorePatterns: ['<rootDir>/node_modules', '<rootDir>/../dist'],
};
