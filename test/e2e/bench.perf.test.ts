/**
 * `npm run bench -- --quick --json` as a smoke test: every benchmark runs in its own
 * process and yields numbers. Behaviour, not speed: the figures of a quick run on a
 * shared machine say nothing, so only their form is checked (every row a finite positive
 * number, every condition of the combined table present for sync and async, a verdict
 * for every target). Needs `npm run build` first, like the other e2e tests.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../integration/fixture-app.js';

interface Row {
  id?: string;
  mode?: string;
  name: string;
  ns?: number;
  ratio?: number;
  value?: number;
  unit?: string;
}

interface Table {
  title: string;
  rows?: Row[];
}

interface BenchResult {
  name: string;
  exitCode: number | null;
  tables: Table[];
  text?: string[];
  stderr?: string;
}

interface RunOutput {
  machine: { nproc: number; cpu: string; node: string };
  load: { start: number[]; end: number[] };
  perCall: { id: string; sync?: Row; async?: Row }[];
  targets: { target: string; measured: number; pass: boolean }[];
  benches: BenchResult[];
}

function runQuick(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bench/run.mjs'), '--quick', '--json'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench/run.mjs --quick did not finish: ${stderr}`));
    }, 170_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const isPositive = (n: unknown): boolean => typeof n === 'number' && Number.isFinite(n) && n > 0;

describe('npm run bench -- --quick --json', () => {
  it('runs every benchmark and reports a finite positive number for every row', async () => {
    const { code, stdout, stderr } = await runQuick();
    const output = JSON.parse(stdout) as RunOutput;
    const failed = output.benches.filter((b) => b.exitCode !== 0).map((b) => `${b.name}: ${b.stderr ?? ''}`);
    expect(failed, stderr).toEqual([]);
    expect(code).toBe(0);

    expect(output.machine.nproc).toBeGreaterThan(0);
    expect(output.machine.node).toBe(process.version);
    expect(output.load.start).toHaveLength(3);

    const names = output.benches.map((b) => b.name);
    expect(names).toEqual(['peers', 'logpoint', 'engine', 'body', 'probes', 'bystander', 'preload', 'matcher', 'capture', 'system']);
    for (const bench of output.benches) {
      // A benchmark without --json still printed its figures.
      expect(bench.tables.length + (bench.text?.length ?? 0), bench.name).toBeGreaterThan(0);
      for (const table of bench.tables) {
        for (const row of table.rows ?? []) {
          if ('ns' in row) expect(isPositive(row.ns), `${bench.name} / ${table.title} / ${row.name}: ${row.ns}`).toBe(true);
          if ('value' in row) expect(isPositive(row.value), `${bench.name} / ${row.name}: ${row.value}`).toBe(true);
        }
      }
    }

    const conditions = new Map(output.perCall.map((c) => [c.id, c]));
    for (const id of [
      'bare',
      'hand-wrapper',
      'shimmer',
      'tc-none',
      'tc-noop',
      'tc-event',
      'logpoint',
      'lt-ended',
      'lt-preload-idle',
      'lt-rejected-args',
      'lt-rejected-guard',
      'lt-dropped',
      'lt-captured',
      'body-idle',
      'body-rejected-args',
      'body-rejected-guard',
      'body-dropped',
      'body-captured',
      'body-ended',
      'lt-stack',
      'lt-probe',
      'lt-probe-rejected',
      'lt-probe-unsampled',
      'lt-probe-ended',
    ]) {
      const condition = conditions.get(id);
      expect(isPositive(condition?.sync?.ns), `${id} sync`).toBe(true);
      expect(isPositive(condition?.async?.ns), `${id} async`).toBe(true);
      expect(isPositive(condition?.sync?.ratio), `${id} sync ratio`).toBe(true);
    }
    // What a running session costs untraced async code elsewhere (bench/bystander.mjs): async only.
    for (const id of ['bystander-none', 'bystander-idle', 'bystander-rejected', 'bystander-captured', 'bystander-body-rejected', 'bystander-body-captured']) {
      expect(isPositive(conditions.get(id)?.async?.ratio), `${id} async ratio`).toBe(true);
    }

    const system = new Map(output.benches.find((b) => b.name === 'system')!.tables[0]!.rows!.map((r) => [r.id, r]));
    for (const id of ['stream-cli', 'stream-cli-capacity', 'stream-client', 'stream-rss', 'attach', 'service-untraced-p99', 'service-traced-p99']) {
      expect(isPositive(system.get(id)?.value), id).toBe(true);
    }

    // One verdict per target of issue 7 (two for streaming, two for "after a session"),
    // issue 18's eight: rejected by arguments and by a pre-guard, dropped, each sync and
    // async, captured sync and captured async; the same three async ones for the body
    // engine; and the stream's capacity past the budget.
    expect(output.targets).toHaveLength(23);
    for (const t of output.targets) expect(typeof t.pass, t.target).toBe('boolean');
  }, 180_000);
});
