/**
 * Issue 12: async functions of a module selected for body instrumentation
 * (LIVETRACE_INSTRUMENT) under the --require preload. The program observes exactly what it
 * does untraced (results, the order its caller runs on, identity of its own references,
 * text, name, length, inspect), and the calls it makes through its own references are
 * reported with their settled values and with the call tree across await.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from './fixture-app.js';
import { runIdentityScript, type RecordedCall } from './reach-harness.js';

afterEach(cleanup);


function run(flavour: 'plain' | 'cjs', env: Record<string, string> = {}): Promise<{ observed: string; calls: RecordedCall[] }> {
  return runIdentityScript('async-run.mjs', flavour, 'OBSERVED', { preload: flavour === 'plain' ? 'none' : 'require', env });
}

describe('async functions under body instrumentation', () => {
  it('the program observes what it does untraced; its own awaited calls are reported with settled values and parents', async () => {
    const [plain, traced] = await Promise.all([run('plain'), run('cjs', { LIVETRACE_INSTRUMENT: 'identity/async-lib.cjs' })]);
    expect(traced.observed).toBe(plain.observed);
    expect(JSON.parse(plain.observed).order).toEqual(['caller runs on']);
    const short = (fn: string) => fn.replace('identity/async-lib.cjs:', '');
    const byId = new Map(traced.calls.map((c) => [c.id, c]));
    const shape = traced.calls.map((c) => [short(c.fn), c.parent === null ? null : short(byId.get(c.parent)!.fn), c.outcome]);
    // Records come in the order calls settle; the loads made by loadAll through its own
    // reference are seen, inside it, after its first await.
    expect(shape).toEqual([
      ['load', 'loadAll', 'resolve'],
      ['load', 'loadAll', 'reject'],
      ['load', 'loadAll', 'resolve'],
      ['loadAll', null, 'resolve'],
      // The class's constructor, called by open after its await.
      ['Store', 'Store.open', 'return'],
      ['Store.open', null, 'resolve'],
      ['load', 'Store#get', 'resolve'],
      ['Store#get', null, 'resolve'],
      ['quick', null, 'resolve'],
    ]);
    expect(JSON.stringify(traced.calls[3]!.value)).toContain('caught no bad');
    expect(JSON.stringify(traced.calls[8]!.value)).toBe('42');
    expect(JSON.stringify(traced.calls[1]!.error)).toContain('no bad');
  });

  it('without it, the async functions are pinned: only the calls through the exports are seen', async () => {
    const traced = await run('cjs');
    expect(traced.calls.map((c) => c.fn.replace('identity/async-lib.cjs:', ''))).toEqual(['loadAll', 'Store.open', 'Store#get', 'quick']);
  });
});
