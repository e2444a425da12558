import { defineConfig } from 'vitest/config';

/** Browser tests alone (`npm run test:e2e`): a real chromium against a real stack; slow, so long timeouts. */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
