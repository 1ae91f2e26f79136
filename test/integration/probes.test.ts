/**
 * Probes on functions no wrapper reaches: every function in test/fixtures/probes/users.cjs
 * but run() and hot() is internal. The harness runs them under a trace (agent from dist/)
 * and prints what the trace saw and what V8 says about the Debugger before, during and
 * after. Needs `npm run build`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CallEvent } from '../../src/protocol/events.js';
import { cleanup, launchApp, repoRoot, type RunningApp } from './fixture-app.js';
import { harness, runHarness } from './probes-harness.js';
import { Output } from '../support/process.js';

function summary(call: CallEvent): unknown[] {
  return [call.fn, call.args, call.outcome, call.value ?? call.error];
}

const NOT_VISIBLE = { $: 'object', class: 'NotVisibleToProbe', props: {} };
/** hashPassword(password, rounds): its first argument is redacted by its parameter's name. */
const PASSWORD = { $: 'redacted' };

afterEach(cleanup);

describe('probes on internal functions', () => {
  it('trace sync, async, closure, class-method and arrow functions, with their return values', async () => {
    const run = await runHarness([
      'users:~hashPassword',
      'users:~loadUser',
      'users:~makeCounter.bump',
      'users:~Repo#save -> this',
      'users:~slug',
      'users:~mustBePositive',
    ]);
    const started = run.json<{ matched: { fn: string; engine: string }[]; unpatchable: unknown[] }>('STARTED');
    expect(started.unpatchable).toEqual([]);
    expect(started.matched.map((m) => [m.fn, m.engine])).toEqual([
      ['users.cjs:~hashPassword', 'probe'],
      ['users.cjs:~loadUser', 'probe'],
      ['users.cjs:~makeCounter.bump', 'probe'],
      ['users.cjs:~Repo#save', 'probe'],
      ['users.cjs:~slug', 'probe'],
      ['users.cjs:~mustBePositive', 'probe'],
    ]);
    // Exactly the calls run() makes, in call order (a thrown call closes at the next microtask).
    expect(run.calls.map(summary)).toEqual([
      ['users.cjs:~hashPassword', [PASSWORD, 2], 'return', 'h(h(pw))'],
      ['users.cjs:~loadUser', [7], 'resolve', { id: 7, name: 'user7' }],
      ['users.cjs:~loadUser', [-1], 'reject', expect.objectContaining({ $: 'error', message: 'no user -1' })],
      ['users.cjs:~makeCounter.bump', [1], 'return', 11],
      ['users.cjs:~makeCounter.bump', [2], 'return', 13],
      ['users.cjs:~Repo#save', [{ id: 3 }], 'return', 'db:3'],
      ['users.cjs:~slug', ['Hello World', { sep: '_' }], 'return', 'hello_world'],
      ['users.cjs:~mustBePositive', [-4], 'throw', NOT_VISIBLE],
    ]);
    for (const call of run.calls) expect(call.engine).toBe('probe');
    const save = run.calls.find((c) => c.fn.endsWith('#save'))!;
    expect(save.this).toEqual({ $: 'object', class: 'Repo', props: { prefix: 'db' } });
    const loads = run.calls.filter((c) => c.fn.endsWith('loadUser'));
    for (const load of loads) expect(load.settleNs).toBeGreaterThan(0);
    // The Debugger was on only while the probes were armed.
    expect([run.line('DEBUGGER-BEFORE'), run.line('DEBUGGER-DURING'), run.line('DEBUGGER-AFTER')]).toEqual(['false', 'true', 'false']);
    expect(run.line('PROBES-ACTIVE')).toBe('false');
    // The `debugger;` statement in run() paused once; the worker resumed it.
    expect(run.json<{ returnPauses: number; foreignPauses: number }>('WORKER')).toMatchObject({ returnPauses: 5, foreignPauses: 1 });
  });

  it('pairs returns with entries by frame depth through recursion and a caught throw', async () => {
    const run = await runHarness(['users:~depth']);
    // depth(3) -> depth(2) -> [depth(-1) throws, caught] -> depth(1) -> depth(0)
    const byArg = new Map(run.calls.map((c) => [c.args[0], [c.outcome, c.value ?? c.error]]));
    expect(run.calls).toHaveLength(5);
    expect(Object.fromEntries(byArg)).toEqual({
      3: ['return', 3],
      2: ['return', 2],
      1: ['return', 1],
      0: ['return', 0],
      [-1]: ['throw', NOT_VISIBLE],
    });
  });

  it('nests probe events under the traced call that encloses them', async () => {
    const run = await runHarness(['users:run', 'users:~hashPassword', 'users:~loadUser']);
    const root = run.calls.find((c) => c.fn === 'users.cjs:run')!;
    expect(root.engine).toBe('exports');
    const inner = run.calls.filter((c) => c !== root);
    expect(inner.map((c) => c.fn)).toEqual(['users.cjs:~hashPassword', 'users.cjs:~loadUser', 'users.cjs:~loadUser']);
    for (const call of inner) expect([call.parent, call.depth]).toEqual([root.id, 1]);
  });

  it('makes probe calls parents: of probes, of wrappers, and across await', async () => {
    // handle -> layer(0) -> handle -> layer(1) ... layer(7) -> handle -> s19 -> ... -> leaf,
    // s19 calls settle() through the exports, and the innermost handle starts audit(),
    // whose settle() runs after an await.
    const run = await runHarness(['many:~layer', 'many:~s19', 'many:~leaf', 'many:settle'], {}, 'many', { ROUNDS: '1' });
    const byId = new Map(run.calls.map((c) => [c.id, c]));
    const path = (call: CallEvent): string[] => {
      const names: string[] = [];
      for (let at: CallEvent | undefined = call; at !== undefined; at = at.parent === null ? undefined : byId.get(at.parent)) {
        names.unshift(at.fn.replace('many.cjs:', '') + (at.fn.endsWith('layer') ? String(at.args[1]) : ''));
      }
      return names;
    };
    const layers = ['~layer0', '~layer1', '~layer2', '~layer3', '~layer4', '~layer5', '~layer6', '~layer7'];
    const paths = run.calls.filter((c) => !c.fn.endsWith('layer')).map((c) => [path(c).join(' > '), c.depth]);
    expect(paths).toEqual(
      expect.arrayContaining([
        [[...layers, '~s19', '~leaf'].join(' > '), 9],
        [[...layers, '~s19', 'settle'].join(' > '), 9],
        [[...layers, 'settle'].join(' > '), 8],
      ]),
    );
    expect(paths).toHaveLength(4);
  });

  it('stops taking hits past the budget and takes the breakpoints away for the rest of the second', async () => {
    const run = await runHarness(['users:~tick'], {}, 'hot', { LIVETRACE_PROBE_HITS_PER_SEC: '5' });
    const ticks = run.calls.map((c) => c.args[0]);
    const cooled = run.json<{ cooled: number }>('WORKER').cooled;
    // hot(50) runs in well under a second, so the budget's second never turns: the five
    // hits and no more. On a machine so loaded that the loop outlasted its second, each
    // second it spanned may take five hits again (a budget of hits a second, not in all).
    const seconds = Number(run.line('RUN-MS')) / 1000;
    if (seconds < 0.9) {
      expect(ticks).toEqual([0, 1, 2, 3, 4]);
      expect(cooled).toBe(1);
    } else {
      expect(ticks.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
      expect(ticks.length).toBeLessThanOrEqual(5 * (Math.ceil(seconds) + 1));
      expect(cooled).toBeGreaterThanOrEqual(1);
    }
    expect(run.line('DEBUGGER-AFTER')).toBe('false');
  });

  it('stops when its max is reached inside a probe (no wait on the worker there; how soon: probes.perf.test.ts)', async () => {
    // The session stops while the worker hands over hashPassword's value: the probe is
    // disarmed right after, without asking the worker from inside the pause.
    const run = await runHarness(['users:~hashPassword', 'users:~makeCounter.bump'], { max: 1 });
    expect(run.calls.map(summary)).toEqual([['users.cjs:~hashPassword', [PASSWORD, 2], 'return', 'h(h(pw))']]);
    expect(run.line('DEBUGGER-AFTER')).toBe('false');
    expect(run.line('PROBES-ACTIVE')).toBe('false');
    // The worker stays for the next session, its Debugger off (it keeps nothing alive: the harness exited).
    expect(run.line('PROBES-LINGERING')).toBe('true');
  });

  it('pauses for return values only so many times a second', async () => {
    const run = await runHarness(['users:~tick'], {}, 'hot', { LIVETRACE_PROBE_HITS_PER_SEC: '0', LIVETRACE_PROBE_PAUSES_PER_SEC: '2' });
    expect(run.calls.map((c) => c.args[0])).toEqual([...Array(50).keys()]);
    expect(run.calls.map((c) => c.value)).toEqual([0, 2, ...Array(48).fill(NOT_VISIBLE)]);
    expect(run.json<{ returnPauses: number }>('WORKER').returnPauses).toBe(2);
  });

  it('parks the return breakpoints of a probe whose calls are rejected, and has them back for the next call taken', async () => {
    // tick(0..29) are rejected: their return conditions find no call open, and the
    // return breakpoints go after 8 of them. tick(30) pauses at its entry to have them
    // back; it and every later call are reported with their value.
    const run = await runHarness(['users:~tick(I) when I >= 30'], {}, 'hot', { LIVETRACE_PROBE_HITS_PER_SEC: '0' });
    expect(run.calls.map((c) => [c.args[0], c.outcome, c.value])).toEqual([...Array(20).keys()].map((k) => [30 + k, 'return', 2 * (30 + k)]));
    expect(run.json<{ parked: number; unparked: number; returnPauses: number }>('WORKER')).toMatchObject({ parked: 1, unparked: 1, returnPauses: 20 });
  });

  it('leaves return breakpoints out with LIVETRACE_PROBE_RETURNS=0: no pause, no value', async () => {
    const run = await runHarness(['users:~hashPassword'], {}, 'run', { LIVETRACE_PROBE_RETURNS: '0' });
    expect(run.calls.map(summary)).toEqual([['users.cjs:~hashPassword', [PASSWORD, 2], 'return', NOT_VISIBLE]]);
    expect(run.json<{ returnPauses: number; breakpoints: number }>('WORKER')).toMatchObject({ returnPauses: 0, breakpoints: 1 });
  });

  it('scans the ES modules of a process without the preload again only when a script loaded since', async () => {
    const app = await launchApp([join(repoRoot, 'test/fixtures/probes/esm-scan.mjs')], { preload: 'none', ready: null });
    const { match } = await app.waitForLine(/^SCANS (.*)$/, 15_000);
    const first = ['esm-scan-first.mjs'];
    const both = ['esm-scan-first.mjs', 'esm-scan-later.mjs'];
    expect(JSON.parse(match[1]!)).toEqual({
      first: { names: first, counts: { scans: 1, unchanged: 0, skipped: 0 } },
      again: { names: first, counts: { scans: 1, unchanged: 1, skipped: 0 } },
      later: { names: both, counts: { scans: 2, unchanged: 1, skipped: 0 } },
      last: { names: both, counts: { scans: 2, unchanged: 2, skipped: 0 } },
      kept: true,
    });
  });

  it('skips the ES module scan in a CommonJS process until something goes through the ES module loader', async () => {
    const app = await launchApp([join(repoRoot, 'test/fixtures/probes/esm-scan-cjs.cjs')], { preload: 'none', ready: null });
    const { match } = await app.waitForLine(/^SCANS (.*)$/, 15_000);
    // Node 24 loads its ES module loader at start-up in every process (esm-source.ts
    // esModulesPossible): there nothing can be skipped, and the reads scan as before.
    const loaderAtStart = execFileSync(process.execPath, ['-p', "process.moduleLoadList.includes('NativeModule internal/modules/esm/module_job')"]).toString().trim() === 'true';
    expect(JSON.parse(match[1]!)).toEqual(
      loaderAtStart
        ? {
            before: { names: [], counts: { scans: 1, unchanged: 0, skipped: 0 }, possible: true },
            again: { names: [], counts: { scans: 1, unchanged: 1, skipped: 0 }, possible: true },
            after: { names: ['esm-scan-later.mjs'], counts: { scans: 2, unchanged: 1, skipped: 0 }, possible: true },
          }
        : {
            before: { names: [], counts: { scans: 0, unchanged: 0, skipped: 1 }, possible: false },
            again: { names: [], counts: { scans: 0, unchanged: 0, skipped: 2 }, possible: false },
            after: { names: ['esm-scan-later.mjs'], counts: { scans: 1, unchanged: 0, skipped: 2 }, possible: true },
          },
    );
  });

  it('shares one probe between two sessions; each stop removes only its own', async () => {
    const app = await launchApp([join(repoRoot, 'test/fixtures/probes/two-sessions.mjs')], { preload: 'none', ready: null });
    const { match } = await app.waitForLine(/^SHARED (.*)$/, 15_000);
    expect(JSON.parse(match[1]!)).toEqual({
      both: { probes: 1, breakpoints: 2 },
      afterA: { probes: 1, active: true },
      a: [1, 2],
      b: [2, 2],
      afterB: { probes: 0, active: false },
    });
  });

  it('reports no throw when none happened, even when probes cool while their calls are open', async () => {
    // 23 probes on nested and recursive functions, none of which throws; a hit budget of
    // 20 a second cools the recursive ones in the middle of a round, with outer calls
    // open. Their return breakpoints stay until those calls are over.
    const run = await runHarness(['many:~** when threw'], { max: 100_000, overloadMsPerSec: 1000 }, 'many', {
      LIVETRACE_PROBE_HITS_PER_SEC: '20',
      ROUNDS: '40',
    });
    expect(run.json<{ cooled: number }>('WORKER').cooled).toBeGreaterThan(0);
    expect(run.calls.map(summary)).toEqual([]);
    expect(run.line('STOP-REASON')).toBe('user');
  });

  it('charges probe hits to the CPU budget: a probe session that costs too much stops with overload', async () => {
    // Every hit costs a breakpoint condition (a compile, a tenth of a millisecond or so):
    // hundreds of hits a second are far over 5 ms a second.
    const run = await runHarness(['many:~**'], { max: 100_000, overloadMsPerSec: 5 }, 'many', { ROUNDS: '400' });
    expect(run.line('STOP-REASON')).toBe('overload');
    expect(run.line('DEBUGGER-AFTER')).toBe('false');
    expect(run.line('PROBES-ACTIVE')).toBe('false');
  });

  it('lists a generator as not patchable and says why', async () => {
    const run = await runHarness(['users:~ids']);
    const started = run.json<{ matched: unknown[]; unpatchable: { fn: string; reason: string }[] }>('STARTED');
    expect(started.matched).toEqual([]);
    expect(started.unpatchable).toEqual([{ fn: 'users.cjs:~ids', module: 'users.cjs', reason: expect.stringMatching(/generator/) }]);
    expect(run.line('PROBES-ACTIVE')).toBe('false');
  });
});

describe('probes refuse to run beside another debugger', () => {
  it('refuses when another in-process session has the Debugger enabled; wrappers still work', async () => {
    const refused = await runHarness(['users:~hashPassword'], {}, 'foreign');
    expect(refused.line('DEBUGGER-BEFORE')).toBe('true');
    expect(refused.json<{ code: string }>('ERROR').code).toBe('LT_PROBE_DEBUGGER_BUSY');
    const wrapped = await runHarness(['users:run'], {}, 'foreign');
    expect(wrapped.line('ERROR')).toBeUndefined();
    expect(wrapped.calls.map((c) => [c.fn, c.engine])).toEqual([['users.cjs:run', 'exports']]);
  });

  it('refuses when a DevTools client is attached to the inspector port', async () => {
    const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', harness, JSON.stringify(['users:~hashPassword']), '{}', 'devtools'], {
      cwd: join(repoRoot, 'test/fixtures/probes'),
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const client: { ws?: WebSocket } = {};
    try {
      const stdout = new Output('the probe harness').read(child.stdout);
      const waitFor = async (tag: string): Promise<string> => (await stdout.waitForLine(new RegExp(`^${tag} (.*)$`))).match[1]!;
      const url = await waitFor('INSPECTOR');
      const ws = (client.ws = new WebSocket(url));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const enabled = new Promise((resolve) => ws.on('message', (data) => JSON.parse(String(data)).id === 1 && resolve(undefined)));
      ws.send(JSON.stringify({ id: 1, method: 'Debugger.enable' }));
      await enabled;
      child.stdin.write('go\n');
      expect(await waitFor('DEBUGGER-BEFORE')).toBe('true');
      expect(JSON.parse(await waitFor('ERROR')).code).toBe('LT_PROBE_DEBUGGER_BUSY');
    } finally {
      client.ws?.terminate();
      child.kill('SIGKILL');
    }
  });
});
