import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Node by default; browser unit tests opt into jsdom with a `@vitest-environment jsdom` docblock.
    environment: 'node',
    pool: 'forks',
    // Two cores: end-to-end files each drive a Chromium, so keep file parallelism modest.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
