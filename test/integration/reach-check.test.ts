/**
 * The reach check (src/agent/engines/reach/check.ts) in a forked process
 * (test/fixtures/reach-check/harness.mjs, agent from dist/, node --allow-natives-syntax):
 * it decides with one breakpoint per checked function and leaves the rest of the
 * process alone. The mechanism is asserted, not a timing: an unrelated function V8 has
 * optimized stays optimized while the check runs (precise coverage, the former
 * mechanism, deoptimized every function of the process), and the only breakpoints are
 * the checked functions', each gone once its function is decided.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, repoRoot } from './fixture-app.js';

afterEach(cleanup);

const harness = join(repoRoot, 'test/fixtures/reach-check/harness.mjs');

interface Note {
  kind: string;
  fn?: string;
  pattern?: string;
  message: string;
}

async function run(scenario: string): Promise<{ line(tag: string): string | undefined; json<T>(tag: string): T }> {
  const app = await launchApp([harness, scenario], { preload: 'none', ready: null, nodeArgs: ['--allow-natives-syntax'], env: { LIVETRACE_REACH_CHECK_MS: '10000' } });
  await app.waitForLine(/^ACTIVE-AFTER /, 30_000);
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  const line = (tag: string): string | undefined => app.lines.find((l) => l.startsWith(`${tag} `))?.slice(tag.length + 1);
  return { line, json: <T>(tag: string): T => JSON.parse(line(tag) ?? 'null') as T };
}

describe('the reach check', () => {
  it('tells a function its module does not hold (a loader changed it) unchecked inside trace(), and boots no worker for it', async () => {
    const r = await run('loader');
    expect(r.json<Note[]>('LOADER-NOTES')).toEqual([
      expect.objectContaining({ kind: 'unchecked', message: expect.stringContaining('its source is not where its module says') as unknown }),
    ]);
    expect(r.line('LOADER-BOOTING')).toBe('false');
  });

  it('sets one breakpoint per checked function, removes each once decided, and leaves an unrelated optimized function optimized', async () => {
    const r = await run('one');
    expect(r.line('OPTIMIZED-BEFORE')).toBe('true');
    // trace() returned without waiting for the check's worker to boot; its breakpoints came once it was up.
    expect(r.line('ACTIVE-AT-START')).toBe('false');
    // routes:show and routes:list, nothing else (the generator routes:items is not checked).
    expect(r.json('WATCHING')).toMatchObject({ enabled: true, probes: 2, breakpoints: 2 });
    expect(r.line('OPTIMIZED-DURING')).toBe('true');
    // list was called through its wrapper enough: its breakpoint is gone, show's remains.
    expect(r.json('AFTER-LIST')).toMatchObject({ probes: 1, breakpoints: 1 });
    expect(r.line('OPTIMIZED-AFTER')).toBe('true');
    expect(r.json<Note[]>('NOTES')).toEqual([
      expect.objectContaining({
        kind: 'switched',
        fn: 'routes.cjs:show',
        pattern: 'routes:~show',
        message: "routes.cjs:show is called through references taken before the trace (1 of 1 calls went around it); traced by a probe instead ('routes:~show')",
      }),
    ]);
    // held(1) revealed the bypass; held(2) and held(3) come through the probe.
    const calls = r.json<[string, string][]>('CALLS');
    expect(calls.filter(([fn]) => fn === 'routes.cjs:list')).toEqual(Array(10).fill(['routes.cjs:list', 'exports']));
    expect(calls.filter(([fn]) => fn === 'routes.cjs:show')).toEqual([
      ['routes.cjs:show', 'probe'],
      ['routes.cjs:show', 'probe'],
    ]);
    expect(r.line('ACTIVE-AFTER')).toBe('false');
  }, 60_000);

  it('beside another debugger client, sets no breakpoint and says each function is unchecked', async () => {
    const r = await run('foreign');
    expect(r.line('WATCHING')).toBe('null');
    const notes = r.json<Note[]>('NOTES');
    expect(notes.map((n) => [n.kind, n.fn, n.pattern])).toEqual([
      ['unchecked', 'routes.cjs:show', 'routes:~show'],
      ['unchecked', 'routes.cjs:list', 'routes:~list'],
    ]);
    for (const note of notes) expect(note.message).toMatch(/^could not check that calls of routes\.cjs:\w+ reach the trace \(another debugger client is using this process: /);
    expect(r.line('ACTIVE-AFTER')).toBe('false');
  }, 60_000);

  it("checks a function another session already probes (its breakpoint sits where the probe's does)", async () => {
    const r = await run('two');
    for (const tag of ['NOTES', 'SECOND-NOTES']) {
      expect(r.json<Note[]>(tag), tag).toEqual([expect.objectContaining({ kind: 'switched', fn: 'routes.cjs:show', pattern: 'routes:~show' })]);
    }
    expect(r.json('SECOND-CALLS')).toEqual([['routes.cjs:show', 'probe']]);
    expect(r.line('ACTIVE-AFTER')).toBe('false');
  }, 60_000);
});
