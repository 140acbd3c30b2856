import { defineConfig } from 'vitest/config';

// Two projects: the everyday suite (`npm test`) and the fault-injection suite (`npm run test:chaos`).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/chaos/**'] } },
      { extends: true, test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'] } },
    ],
  },
});
