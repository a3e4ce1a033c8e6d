import { defineConfig } from 'vitest/config';

// `npm run test:consumers`: the package as a user gets it (`npm pack`), installed into real
// consumer projects that are built and run. Slow (each project installs from the registry), so
// it is its own step of .ci/run rather than part of `npm test`.
export default defineConfig({
  test: {
    include: ['test/consumers/**/*.consumer.test.ts'],
    environment: 'node',
    pool: 'forks',
    // Installs and builds saturate two cores on their own.
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
    globalSetup: ['./test/consumers/support/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
