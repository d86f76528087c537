/** End-to-end tests: the real Nest app listening on a port, real Redis, driven over HTTP. */
const unit = require('./jest.config.js');
module.exports = {
  ...unit,
  testRegex: '\\.e2e-spec\\.ts$',
  // test/: checks of what ships beside the apps (benchmarks, examples) with the real python.
  roots: [...unit.roots, '<rootDir>/test'],
  testTimeout: 30000,
  coverageDirectory: '<rootDir>/coverage/e2e',
};
