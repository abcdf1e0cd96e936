/*
 * Adapted from the webpack config that @grafana/create-plugin 7.1.7 scaffolds (see ../README.md).
 * Emits an AMD `module.js` into the repository root's dist/, beside the backend executable.
 */

import fs from 'fs';
import path from 'path';
import TerserPlugin from 'terser-webpack-plugin';
import { SubresourceIntegrityPlugin } from 'webpack-subresource-integrity';
import webpack, { type Configuration } from 'webpack';
import VirtualModulesPlugin from 'webpack-virtual-modules';

import { externals } from './externals';

/** frontend/ */
const FRONTEND_DIR = path.resolve(__dirname, '..', '..');
/** The repository root, which holds plugin.json and dist/. */
const REPO_DIR = path.resolve(FRONTEND_DIR, '..');
const SOURCE_DIR = path.join(FRONTEND_DIR, 'src');
const DIST_DIR = path.join(REPO_DIR, 'dist');

function loadJson(file: string) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const pluginJson = loadJson(path.join(REPO_DIR, 'plugin.json'));
const pluginVersion: string = pluginJson.info?.version ?? loadJson(path.join(FRONTEND_DIR, 'package.json')).version;

const virtualPublicPath = new VirtualModulesPlugin({
  'node_modules/grafana-public-path.js': `
import amdMetaModule from 'amd-module';

__webpack_public_path__ =
  amdMetaModule && amdMetaModule.uri
    ? amdMetaModule.uri.slice(0, amdMetaModule.uri.lastIndexOf('/') + 1)
    : 'public/plugins/${pluginJson.id}/';
`,
});

export type Env = {
  [key: string]: true | string | Env;
};

const config = async (env: Env): Promise<Configuration> => ({
  cache: {
    type: 'filesystem',
    buildDependencies: {
      config: [path.join(FRONTEND_DIR, '.config', 'webpack', 'webpack.config.ts')],
    },
  },

  context: SOURCE_DIR,

  devtool: env.production ? 'source-map' : 'eval-source-map',

  entry: { module: './module.ts' },

  externals,

  mode: env.production ? 'production' : 'development',

  module: {
    rules: [
      // This must come first in the rules array otherwise it breaks sourcemaps.
      {
        test: /src\/module\.tsx?$/,
        use: [
          {
            loader: 'imports-loader',
            options: {
              imports: `side-effects grafana-public-path`,
            },
          },
        ],
      },
      {
        exclude: /(node_modules)/,
        test: /\.[tj]sx?$/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              baseUrl: SOURCE_DIR,
              target: 'es2015',
              loose: false,
              parser: {
                syntax: 'typescript',
                tsx: true,
                decorators: false,
                dynamicImport: true,
              },
            },
          },
        },
      },
      {
        test: /\.css$/,
        use: ['style-loader', 'css-loader'],
      },
      {
        test: /\.(png|jpe?g|gif|svg)$/,
        type: 'asset/resource',
        generator: {
          filename: Boolean(env.production) ? '[hash][ext]' : '[file]',
        },
      },
    ],
  },

  optimization: {
    minimize: Boolean(env.production),
    minimizer: [
      new TerserPlugin({
        terserOptions: {
          format: {
            comments: (_, { type, value }) => type === 'comment2' && value.trim().startsWith('[create-plugin]'),
          },
          compress: {
            drop_console: ['log', 'info'],
          },
        },
      }),
    ],
  },

  output: {
    // Never clean: dist/ also holds the backend executable, plugin.json, README.md and img/.
    clean: false,
    filename: '[name].js',
    chunkFilename: env.production ? '[name].js?_cache=[contenthash]' : '[name].js',
    library: {
      type: 'amd',
    },
    path: DIST_DIR,
    publicPath: `public/plugins/${pluginJson.id}/`,
    uniqueName: pluginJson.id,
    crossOriginLoading: 'anonymous',
  },

  plugins: [
    virtualPublicPath,
    new webpack.BannerPlugin({
      banner: `/* [create-plugin] version: 7.1.7 (adapted) */
        /* [create-plugin] plugin: ${pluginJson.id}@${pluginVersion} */`,
      raw: true,
      entryOnly: true,
    }),
    new SubresourceIntegrityPlugin({
      hashFuncNames: ['sha256'],
    }),
  ],

  resolve: {
    extensions: ['.js', '.jsx', '.ts', '.tsx'],
    modules: [SOURCE_DIR, 'node_modules'],
    unsafeCache: true,
  },
});

export default config;
