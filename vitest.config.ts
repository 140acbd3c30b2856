import { defineConfig } from 'vitest/config';

// Two projects: the everyday suite (`npm test`) and the fault-injection suite (`npm run test:chaos`).
// Each starts one PostgreSQL server per run for the tests (test/support/postgres-global-setup.ts).
const postgres = './test/support/postgres-global-setup.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/chaos/**'],
          globalSetup: [postgres],
        },
      },
      {
        extends: true,
        test: { name: 'chaos', include: ['test/chaos/**/*.test.ts'], globalSetup: [postgres] },
      },
    ],
  },
});
