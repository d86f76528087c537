/** Unit and contract tests: domain with fakes, adapters against the real Redis and a real temp dir. */
const moduleNameMapper = {
  '^@app/domain(|/.*)$': '<rootDir>/libs/domain/src$1',
  '^@app/adapters(|/.*)$': '<rootDir>/libs/adapters/src$1',
  '^@app/client(|/.*)$': '<rootDir>/libs/client/src$1',
};
/** What coverage counts (with --coverage; scripts/coverage.ts merges the runs): the shipped sources only. */
const collectCoverageFrom = [
  'libs/*/src/**/*.ts',
  'apps/*/src/**/*.{ts,tsx}',
  '!**/*.spec.ts',
  '!**/*.e2e-spec.ts',
  '!**/*.d.ts',
  '!**/testing/**',
  // Generated from the OpenAPI document (npm run docs:api): types only, nothing runs.
  '!libs/client/src/api-types.ts',
];
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper,
  testRegex: '\\.spec\\.ts$',
  roots: ['<rootDir>/libs', '<rootDir>/apps'],
  collectCoverageFrom,
  // istanbul's instrumentation: measured on the unit run at ~1.3x the CPU of a run without coverage, where 'v8'
  // took ~2.8x (jest maps each test file's V8 counters back through the source maps).
  coverageProvider: 'babel',
  coverageReporters: ['json'],
  coverageDirectory: '<rootDir>/coverage/unit',
};
module.exports.moduleNameMapper = moduleNameMapper;
