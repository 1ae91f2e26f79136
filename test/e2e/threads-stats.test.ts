/**
 * Issue 17, threads: `count` and `hist` sessions count the calls made in worker threads.
 * The real CLI traces test/fixtures/apps/burst-pool.cjs (four workers; the traced function
 * loads in the workers only, so `--wait`), under the preload and attached: the final table
 * counts every call of every worker, its p99 is within the sketch's 1% of the p99 of the
 * same calls reported one by one, and `--per-process` prints each thread's own table. The
 * CLIs are stopped right after the burst: the workers' last figures arrive after the stop
 * and must still be in the final table.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp } from '../integration/fixture-app.js';
import { killClis, startCli } from './cli-process.js';

afterEach(async () => {
  await killClis();
  await cleanup();
});

interface JsonRecord {
  type: string;
  fn?: string;
  thread?: number;
  durationNs?: number;
  final?: boolean;
  reason?: string;
  stats?: { calls: number; reported: number };
  functions?: { fn: string; calls: number; p99?: number; sketch?: { count: number } }[];
  threads?: { thread: number; functions: { fn: string; calls: number }[] }[];
}

function records(text: string): JsonRecord[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as JsonRecord);
}

/** The value of rank ⌊q·(n − 1)⌋ of the sorted values: the sketch's definition of a quantile. */
function rawQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

const FN = 'lib/burst-tasks.cjs:work';

describe('count and hist of calls in worker threads, through the CLI', () => {
  for (const mode of ['preload', 'attached'] as const) {
    it(`merges every worker's calls into the session's table (${mode})`, async () => {
      const app =
        mode === 'preload'
          ? await launchApp('burst-pool.cjs', { preload: 'require', timeoutMs: 30_000 })
          : await launchApp('burst-pool.cjs', { preload: 'none', nodeArgs: ['--inspect-port=0'], timeoutMs: 30_000 });
      const workers = app.lines.filter((l) => l.startsWith('worker ')).map((l) => Number(l.split(' ')[1]));
      expect(workers).toHaveLength(4);
      const { socketDir } = app;
      const common = ['--wait', '--for', '120s', '--cpu-budget', '1000'];
      // The raw calls first (attaching, if need be, happens once).
      const raw = startCli(['trace', String(app.pid), 'lib/burst-tasks:*', '--json', '--rate', 'off', '--max', '100000', ...common], { socketDir });
      await raw.waitFor('stdout', /"type":"started"/, 30_000);
      const hist = startCli(['trace', String(app.pid), 'lib/burst-tasks:* -> hist', '--json', ...common], { socketDir });
      const count = startCli(['trace', String(app.pid), 'lib/burst-tasks:* -> count', '--per-process', ...common], { socketDir });
      await hist.waitFor('stdout', /"type":"started"/, 30_000);
      await count.waitFor('stderr', /^tracing 'lib\/burst-tasks:\* -> count'/m, 30_000);

      // Each worker runs the sessions once it has heard of them: probe (a call of `probe`)
      // until every worker's calls reach all three (the raw calls by their thread, the
      // tables by theirs). Then `work` is called 200 times in each, counted exactly.
      const seen = (): boolean => {
        const rawThreads = new Set(records(raw.stdout()).flatMap((r) => (r.type === 'call' ? [r.thread] : [])));
        const histThreads = new Set(records(hist.stdout()).flatMap((r) => (r.type === 'stats' ? (r.threads ?? []).map((t) => t.thread) : [])));
        const countThreads = new Set([...count.stdout().matchAll(/^ {2}thread (\d+)$/gm)].map((m) => Number(m[1])));
        return workers.every((t) => rawThreads.has(t) && histThreads.has(t) && countThreads.has(t));
      };
      for (let probes = 0; !seen(); probes++) {
        expect(probes, 'every worker traced by every session').toBeLessThan(60);
        const from = app.lines.length;
        const tables = hist.stdout().split('"type":"stats"').length - 1;
        process.kill(app.pid, 'SIGHUP');
        await app.stdout.waitForLine(/^probed$/, { from, timeoutMs: 20_000 });
        // Tables come once a second: the next one carries what the probe reached.
        await hist.waitFor('stdout', new RegExp(`(?:[\\s\\S]*?"type":"stats"){${tables + 1}}`), 20_000);
      }

      const from = app.lines.length;
      process.kill(app.pid, 'SIGUSR2');
      const done = await app.stdout.waitForLine(/^burst-done (\d+)$/, { from, timeoutMs: 60_000 });
      expect(Number(done.match[1])).toBe(800);
      // At once: the workers' figures since their last report come after the stop.
      for (const cli of [raw, hist, count]) cli.child.kill('SIGINT');
      const [rawEnd, histEnd, countEnd] = await Promise.all([raw.done, hist.done, count.done]);
      for (const end of [rawEnd, histEnd, countEnd]) expect(end.code, end.stderr).toBe(0);

      const calls = records(rawEnd.stdout).filter((r) => r.type === 'call' && r.fn === FN);
      expect(calls).toHaveLength(800);
      expect(new Set(calls.map((c) => c.thread))).toEqual(new Set(workers));
      expect(records(rawEnd.stdout).at(-1)).toMatchObject({ type: 'stopped', reason: 'user' });

      const histRecords = records(histEnd.stdout);
      const final = histRecords.filter((r) => r.type === 'stats' && r.final);
      expect(final).toHaveLength(1);
      const table = final[0]!.functions!.find((f) => f.fn === FN)!;
      // Every call of the burst, in every worker.
      expect(table.calls).toBe(800);
      expect(table.sketch!.count).toBe(800);
      const p99 = rawQuantile(calls.map((c) => c.durationNs!), 0.99);
      expect(Math.abs(table.p99! - p99) / p99).toBeLessThanOrEqual(0.0101);
      // Each worker's own table, adding up to the session's.
      const threads = final[0]!.threads!;
      expect(threads.map((t) => t.thread).sort()).toEqual([...workers].sort());
      for (const { functions } of threads) expect(functions.find((f) => f.fn === FN)!.calls).toBe(200);
      const total = final[0]!.functions!.reduce((sum, f) => sum + f.calls, 0);
      expect(histRecords.at(-1)!.stats).toMatchObject({ calls: total, reported: total });

      // The pretty table: the session's total, then each thread's.
      const tables = countEnd.stdout.slice(countEnd.stdout.lastIndexOf('final stats of session'));
      expect(tables).toMatch(/^lib\/burst-tasks\.cjs:work +800 +0$/m);
      for (const thread of workers) expect(tables).toMatch(new RegExp(`^ {2}thread ${thread}\\n.*\\nlib/burst-tasks\\.cjs:work +200 +0$`, 'm'));
      expect(countEnd.stderr).toMatch(/^stopped: by the user in [\d.]+m?s, \d+ calls, 0 dropped$/m);
      expect(app.child.exitCode).toBeNull();
    }, 180_000);
  }
});
