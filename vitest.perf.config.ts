import { defineConfig } from 'vitest/config';

/**
 * `npm run test:perf`: the timing thresholds (attach window, disconnect latency, exit
 * delay, parser and capture bounds) and the benchmark smoke test. One file at a time, so
 * the figures are not the other files' load, and no retries: a slow run is a red run.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.perf.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 20_000,
    pool: 'forks',
    fileParallelism: false,
    retry: 0,
  },
});
