/**
 * One machine, many processes: `livetrace trace` and `info` on a real cluster app (a
 * primary and four workers, the agent preloaded in each) named by a pid list,
 * `--children` and `--match`. Events come from every worker; a `hist` merged across
 * them matches, within the sketch's 1%, the p99 of every raw call the same workers made;
 * each target stops on its own and one killed mid-trace is reported while the others go on.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, launchApp, waitForSocket, type RunningApp } from '../integration/fixture-app.js';
import { killClis, runCli, startCli } from './cli-process.js';

afterEach(killClis);
afterAll(cleanup);

interface JsonRecord {
  type: string;
  pid: number;
  durationNs?: number;
  merged?: boolean;
  pids?: number[];
  final?: boolean;
  reason?: string;
  functions?: { fn: string; calls: number; p99?: number; sketch?: { count: number } }[];
}

function records(text: string): JsonRecord[] {
  return text
    .trimEnd()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as JsonRecord);
}

/** The value of rank ⌊q·(n − 1)⌋ of the sorted values: the sketch's definition of a quantile. */
function rawQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('livetrace trace and info on several processes of one machine', () => {
  let app: RunningApp;
  let workers: number[];

  beforeAll(async () => {
    app = await launchApp('cluster.cjs', { preload: 'import', env: { FIXTURE_IDLE: '1', FIXTURE_CALLS: '250' }, ready: /^ready \d+ workers [\d,]+$/, timeoutMs: 30_000 });
    const line = app.lines.find((l) => l.startsWith('ready '))!;
    workers = line.split(' workers ')[1]!.split(',').map(Number);
    expect(workers).toHaveLength(4);
    for (const pid of [app.pid, ...workers]) await waitForSocket(join(app.socketDir, `${pid}.sock`), 20_000);
  }, 60_000);

  it('merges a hist across the four workers of --children within 1% of the p99 of all their raw calls', async () => {
    const socketDir = app.socketDir;
    // Two traces of the same calls at once: the raw events and the merged sketch. The burst
    // is back to back on a loaded machine: the overload breaker is set out of the way.
    const raw = startCli(['trace', String(app.pid), '--children', 'lib/work:handle', '--json', '--rate', 'off', '--max', '250', '--for', '60s', '--cpu-budget', '1000'], { socketDir });
    const hist = startCli(['trace', String(app.pid), '--children', 'lib/work:handle -> hist', '--json', '--for', '60s', '--cpu-budget', '1000'], { socketDir });
    for (const cli of [raw, hist]) {
      for (const pid of workers) await cli.waitFor('stdout', new RegExp(`"type":"started","session":"[^"]+","pid":${pid}`), 20_000);
    }
    const did = app.lines.length;
    app.child.kill('SIGUSR2');
    for (const pid of workers) await app.waitForLine(new RegExp(`^worker ${pid} did 250$`), 30_000);
    expect(app.lines.length).toBeGreaterThanOrEqual(did + 4);
    // Each worker's raw session ends at its own --max 250: every call of the burst.
    const rawEnd = await raw.done;
    hist.child.kill('SIGINT');
    const histEnd = await hist.done;
    expect(rawEnd.stderr).toMatch(/^4 processes traced, ended: 4 max; 1000 calls, 0 dropped$/m);
    expect(rawEnd.code, rawEnd.stderr).toBe(0);
    expect(histEnd.code, histEnd.stderr).toBe(0);
    // The primary has no lib/work: left out, said so, the others traced.
    expect(histEnd.stderr).toMatch(new RegExp(`^process ${app.pid}: not traced: .*\\[LT_PATTERN_NO_MATCH\\]$`, 'm'));
    for (const pid of workers) expect(histEnd.stderr).toMatch(new RegExp(`^process ${pid} stopped: stopped by the user|^process ${pid} stopped: by the user`, 'm'));
    expect(histEnd.stderr).toMatch(/^4 processes traced, ended: 4 user; \d+ calls, 0 dropped$/m);

    const calls = records(rawEnd.stdout).filter((r) => r.type === 'call');
    expect(new Set(calls.map((c) => c.pid))).toEqual(new Set(workers));
    expect(calls).toHaveLength(4 * 250);
    const finalMerged = records(histEnd.stdout).filter((r) => r.type === 'stats' && r.merged === true && r.final === true);
    expect(finalMerged).toHaveLength(1);
    expect([...finalMerged[0]!.pids!].sort()).toEqual([...workers].sort());
    const merged = finalMerged[0]!.functions!.find((f) => f.fn === 'lib/work.cjs:handle')!;
    expect(merged.calls).toBe(1000);
    expect(merged.sketch!.count).toBe(1000);
    const p99 = rawQuantile(calls.map((c) => c.durationNs!), 0.99);
    // Each session times the call itself, so the two measures of one call differ by the
    // dispatch between them (well under the 2 µs floor of a call here); the sketch's own
    // error is 1%.
    expect(Math.abs(merged.p99! - p99)).toBeLessThanOrEqual(0.01 * p99 + 2000);
  }, 120_000);

  it('traces a pid list, each target with its own --max, and prints each stop', async () => {
    const cli = startCli(['trace', `${workers[0]},${workers[1]}`, 'lib/work:handle', '--max', '3', '--json'], { socketDir: app.socketDir });
    for (const pid of workers.slice(0, 2)) await cli.waitFor('stdout', new RegExp(`"type":"started","session":"[^"]+","pid":${pid}`), 20_000);
    // Idle workers: nothing calls the handler until told.
    app.child.kill('SIGUSR2');
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^2 processes traced, ended: 2 max; 6 calls, 0 dropped$/m);
    const calls = records(result.stdout).filter((r) => r.type === 'call');
    expect(calls.filter((c) => c.pid === workers[0])).toHaveLength(3);
    expect(calls.filter((c) => c.pid === workers[1])).toHaveLength(3);
  }, 60_000);

  it('finds the workers with --match and reports one killed mid-trace while the others go on', async () => {
    const cli = startCli(['trace', '--match', '*fixtures/apps/cluster.cjs', 'lib/work:handle -> count', '--for', '60s', '--per-process'], { socketDir: app.socketDir });
    for (const pid of workers) await cli.waitFor('stderr', new RegExp(`^tracing 'lib/work:handle -> count' in process ${pid} `, 'm'), 20_000);
    const victim = workers[3]!;
    process.kill(victim, 'SIGKILL');
    // The later tests see three workers, whatever happens below.
    workers = workers.slice(0, 3);
    // How it died is read from /proc while the process is a zombie: the cluster primary
    // may reap it first, and then the line says only that it exited.
    await cli.waitFor('stderr', new RegExp(`^process ${victim} stopped: target process ${victim} exited( \\(killed by SIGKILL\\))?`, 'm'), 20_000);
    expect(cli.stderr()).not.toMatch(/traced, ended/);
    cli.child.kill('SIGINT');
    const end = await cli.done;
    expect(end.code, end.stderr).toBe(0);
    expect(end.stderr).toMatch(/^4 processes traced, ended: 3 user, 1 exit; \d+ calls, 0 dropped$/m);
    // The killed worker counts in the merge if it sent a stats record before it died.
    expect(end.stdout).toMatch(/^final stats of [34] processes merged \(/m);
    for (const pid of workers) expect(end.stdout).toMatch(new RegExp(`^final stats of process ${pid} \\(session `, 'm'));
  }, 60_000);

  it('shows info for every process of --children', async () => {
    const result = await runCli(['info', String(app.pid), '--children', '--json', '--interval', '200ms'], { socketDir: app.socketDir, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const infos = JSON.parse(result.stdout) as { pid: number }[];
    expect(infos.map((i) => i.pid).sort()).toEqual([app.pid, ...workers].sort());
  }, 60_000);
});
