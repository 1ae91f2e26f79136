import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Two cores: process-spawning suites must not starve each other.
    maxWorkers: 2,
    // Some process tests measure the machine (attach windows, compile-cache timing, a
    // stalled reader). On a loaded CI machine one retry keeps a slow moment from failing
    // the run; a test that fails twice is still a failure, and vitest reports retries.
    retry: process.env.CI ? 1 : 0,
  },
});
