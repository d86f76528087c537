/** Unit and contract tests: domain with fakes, adapters against the real Redis and a real temp dir. */
const moduleNameMapper = {
  '^@app/domain(|/.*)$': '<rootDir>/libs/domain/src$1',
  '^@app/adapters(|/.*)$': '<rootDir>/libs/adapters/src$1',
  '^@app/client(|/.*)$': '<rootDir>/libs/client/src$1',
};
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  moduleNameMapper,
  testRegex: '\\.spec\\.ts$',
  roots: ['<rootDir>/libs', '<rootDir>/apps'],
};
module.exports.moduleNameMapper = moduleNameMapper;
