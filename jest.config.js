/**
 * Two tiers. `unit` needs neither PostgreSQL nor Redis (no global setup, no table truncation):
 * `npm run test:unit` runs on a bare machine. `integration` (tests/integration and tests/e2e)
 * talks to the real PostgreSQL and Redis: its global setup creates and migrates the test
 * database, and every file starts from empty tables. A project's global setup runs only when one
 * of its tests does.
 */
const transform = {
  '^.+\\.m?(t|j)sx?$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', tsx: true },
        transform: { react: { runtime: 'automatic', importSource: 'preact' } },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};

const shared = {
  testEnvironment: 'node',
  transform,
  // preact 11 ships ES modules only: compile them to CommonJS for jest like our own code.
  transformIgnorePatterns: ['/node_modules/(?!(preact|preact-render-to-string)/)'],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  // The few files that take minutes start first, even without the durations of an earlier run.
  testSequencer: '<rootDir>/tests/setup/sequencer.mjs',
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/tests/unit/**/*.test.ts', '<rootDir>/tests/unit/**/*.test.tsx'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/tests/integration/**/*.test.ts',
        '<rootDir>/tests/integration/**/*.test.tsx',
        '<rootDir>/tests/e2e/**/*.test.ts',
        '<rootDir>/tests/e2e/**/*.test.tsx',
      ],
      globalSetup: '<rootDir>/tests/setup/global-setup.ts',
      globalTeardown: '<rootDir>/tests/setup/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/tests/setup/after-env.ts'],
    },
  ],
};
