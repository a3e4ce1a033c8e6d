import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The consumer projects are their own, slower step (vitest.consumers.config.ts, npm run test:consumers).
    exclude: ['test/consumers/**', '**/node_modules/**'],
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
