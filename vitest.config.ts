import { defineConfig } from 'vitest/config';

/**
 * `npm test`: behaviour only. Timing thresholds and the benchmark smoke test live in
 * *.perf.test.ts files and run with `npm run test:perf` (vitest.perf.config.ts): a
 * figure measured on a loaded machine says nothing about whether the code is right.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/**/*.perf.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Two cores: process-spawning suites must not starve each other.
    maxWorkers: 2,
    // Process tests still wait on a loaded machine's scheduler (a stalled reader, a
    // worker's first answer); under CI one retry keeps a slow moment from failing the
    // run. A test that fails twice is a failure, and vitest reports retries. The timing
    // thresholds are not retried: they run once, in test:perf.
    retry: process.env.CI ? 1 : 0,
    coverage: {
      provider: 'v8',
      // What runs in the test processes: src/ as vitest loads it. The agent inside spawned
      // apps and the CLI run from dist/ in other processes, which v8 coverage here does
      // not see, so these figures are a floor: the thresholds sit a little below the
      // measured ones and fail on a real drop.
      include: ['src/**/*.ts'],
      reporter: ['text-summary', ['json-summary', { file: 'coverage-summary.json' }]],
      reportsDirectory: 'coverage',
      reportOnFailure: true,
      // Measured on the whole suite, Node 20, 2026-12-07 (after the dashboard, fleet, shell
      // and thread agent landed): statements 61.5%, branches 59.3%, functions 59.7%, lines
      // 62.9% (down from 67/66/64/69: the fleet member, the observer's inspector worker,
      // the thread agent and the dashboard's browser code run only in spawned processes,
      // worker threads or Chromium, which this count does not see).
      thresholds: { statements: 60, branches: 58, functions: 58, lines: 61 },
    },
  },
});
