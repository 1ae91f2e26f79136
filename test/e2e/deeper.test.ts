/**
 * `livetrace deeper` and a trace of internal functions (probes), end to end: the CLI from
 * dist/ against test/fixtures/probes/deeper/app.cjs, preloaded, which calls findUser every
 * 50 ms. Needs `npm run build`.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeeperResult } from '../../src/protocol/messages.js';
import { cleanup, launchApp, repoRoot, tempDir, type RunningApp } from '../integration/fixture-app.js';
import { killClis, runCli } from './cli-process.js';

afterEach(killClis);
afterAll(cleanup);

let app: RunningApp;
let socketDir: string;

beforeAll(async () => {
  socketDir = tempDir();
  app = await launchApp([join(repoRoot, 'test/fixtures/probes/deeper/app.cjs')], { preload: 'import', socketDir });
});

const cli = (args: string[]) => runCli(args, { socketDir });

describe('livetrace deeper', () => {
  it('lists the callees of a function as patterns, and the command that traces them', async () => {
    const result = await cli(['deeper', String(app.pid), 'deeper/users:findUser']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^deeper\/users\.cjs:findUser {2}\(.*users\.cjs:31\) calls:$/);
    expect(result.stdout).toMatch(/^ {2}deeper\/db\.cjs:query +db\.query +line 32 ×2 +(preload|exports)$/m);
    expect(result.stdout).toMatch(/^ {2}deeper\/users\.cjs:~hashPassword +hashPassword +line 35 +probe$/m);
    expect(result.stdout).toMatch(/^ {2}not named: opts\.callback \(a method of a parameter, line 37\), rows\.map .*setTimeout \(a global, line 41\)$/m);
    expect(result.stdout).toMatch(new RegExp(`^ {2}trace them: livetrace trace ${app.pid} 'deeper/db\\.cjs:query' .*'deeper/users\\.cjs:~helper'`, 'm'));
  });

  it('prints JSON with --json, for internal functions too', async () => {
    const result = await cli(['deeper', String(app.pid), 'deeper/users:~helper', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const results = JSON.parse(result.stdout) as DeeperResult[];
    expect(results).toEqual([expect.objectContaining({ fn: 'deeper/users.cjs:~helper', module: 'deeper/users.cjs', line: 45, callees: [] })]);
  });

  it('exits 2 with near misses for a function that is not there', async () => {
    const result = await cli(['deeper', String(app.pid), 'deeper/users:~hashPasword']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/LT_PATTERN_NO_MATCH/);
    expect(result.stderr).toMatch(/deeper\/users\.cjs:~hashPassword/);
  });
});

describe('livetrace trace of an internal function', () => {
  it('reports probe events nested under the traced caller over the socket', async () => {
    const result = await cli(['trace', String(app.pid), 'deeper/users:findUser', 'deeper/users:~hashPassword', '--max', '4', '--format', 'json']);
    expect(result.code, result.stderr).toBe(0);
    const calls = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; fn: string; engine: string; id: number; parent: number | null; args: unknown[]; value: unknown })
      .filter((r) => r.type === 'call');
    expect(calls).toHaveLength(4);
    const probes = calls.filter((c) => c.engine === 'probe');
    expect(probes.length).toBeGreaterThanOrEqual(1);
    for (const probe of probes) {
      expect(probe).toMatchObject({ fn: 'deeper/users.cjs:~hashPassword', args: ['secret'], value: '#secret' });
      expect(calls.find((c) => c.id === probe.parent)?.fn).toBe('deeper/users.cjs:findUser');
    }
    // The process keeps running, untraced.
    const again = await cli(['deeper', String(app.pid), 'deeper/users:~hashPassword', '--json']);
    expect(again.code).toBe(0);
  });
});
