/** One jest run for the whole monorepo: sources are run through swc, workspaces resolve to their src/. */
const swc = [
  '@swc/jest',
  { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } },
];
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@mast/proto$': '<rootDir>/proto/src/index.ts',
    '^@mast/test-support$': '<rootDir>/services/common/test-support/index.ts',
    '^@mast/([a-z-]+)$': '<rootDir>/services/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: [
    '<rootDir>/services/*/src/**/*.test.ts',
    '<rootDir>/services/*/test/**/*.test.ts',
    '<rootDir>/proto/**/*.test.ts',
    '<rootDir>/test/**/*.test.ts',
  ],
  testTimeout: 60000,
};
