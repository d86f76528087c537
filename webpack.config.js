/**
 * The Nest CLI's webpack build (nest-cli.json webpackConfigPath), plus source maps beside each bundle:
 * coverage of the worker and CLI processes maps back to the TypeScript through them (scripts/coverage.ts),
 * and `node --enable-source-maps` prints TypeScript lines in stack traces.
 */
module.exports = (options) => ({
  ...options,
  devtool: 'source-map',
  // Sources as paths relative to the map (dist/apps/<app>/main.js.map), not webpack:// URLs.
  // (No './' inside: v8-to-istanbul matches them to the map's normalized names.)
  output: { ...options.output, devtoolModuleFilenameTemplate: (info) => `../../../${info.resourcePath.replace(/^\.\//, '')}` },
});
