/**
 * A trace adds at most one frame between a traced function and its caller (the wrapper,
 * which calls the original itself), reported or not, sync or async, under either engine;
 * and a session tracing one function never turns on async hooks, so native callbacks
 * keep their untraced stacks (no `callbackTrampoline` frame).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, repoRoot, type Preload } from './fixture-app.js';

afterEach(cleanup);

const harness = join(repoRoot, 'test/fixtures/stacks/harness.mjs');

interface StackRun {
  cases: Record<string, unknown>;
  trampoline: boolean;
  calls: number;
  asyncContext: boolean;
}

async function run(preload: Preload, when: 'before' | 'after' | 'none', patterns: string[]): Promise<StackRun> {
  const flavour = preload === 'require' ? 'cjs' : 'esm';
  const app = await launchApp([harness, flavour, when, JSON.stringify(patterns)], { preload, ready: null });
  const { match } = await app.waitForLine(/^STACKS (.*)$/);
  const context = await app.waitForLine(/^ASYNC-CONTEXT (true|false)$/);
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  return { ...(JSON.parse(match[1]!) as Omit<StackRun, 'asyncContext'>), asyncContext: context.match[1] === 'true' };
}

const ALL = ['cjs sync', 'cjs async', 'esm sync', 'esm async', 'esm sync (imported binding)', 'esm async (imported binding)'];

function expectOneWrapperFrame(result: StackRun, cases: string[]): void {
  for (const name of cases) {
    const between = result.cases[name];
    expect(between, name).toHaveLength(1);
    expect((between as string[])[0], name).toMatch(/\(livetrace-wrapper:\d+:\d+\)$/);
  }
}

describe('frames between a traced function and its caller', () => {
  it('untraced: none (the baseline the fixture measures against)', async () => {
    const plain = await run('none', 'none', []);
    for (const name of ALL) expect(plain.cases[name], name).toEqual([]);
    expect(plain.trampoline).toBe(false);
  });

  it('under the preload, reported: only the wrapper, sync and async, CommonJS and ESM', async () => {
    const traced = await run('import', 'before', ['lib/depth*:*']);
    expect(traced.calls).toBe(7);
    expect(traced.asyncContext).toBe(true);
    expectOneWrapperFrame(traced, ALL);
  });

  it('under the preload, not reported (rejected by the argument pattern): only the wrapper', async () => {
    const traced = await run('require', 'before', ['lib/depth:*(nil)', 'lib/depth-esm:*(nil)']);
    expect(traced.calls).toBe(0);
    expectOneWrapperFrame(traced, ALL);
  });

  it('attached (exports engine), reported: only the wrapper; ESM namespaces are not patched', async () => {
    const traced = await run('none', 'after', ['lib/depth:*']);
    expect(traced.calls).toBe(3);
    expectOneWrapperFrame(traced, ['cjs sync', 'cjs async']);
    for (const name of ALL.slice(2)) expect(traced.cases[name], name).toEqual([]);
  });
});

describe('code that finds its caller at a fixed stack index (caller-path, depd)', () => {
  // lib/callers.cjs reads CallSite objects as callsites/caller-path, import-jsx and depd
  // do. Untraced they name the harness; traced, the one frame a wrapper adds sits at that
  // index, so they see the wrapper, whose getFileName() is 'livetrace-wrapper' (compiled
  // by vm.compileFunction with that file name): a string, so import-jsx's
  // `path.dirname(callerPath())` gives '.' instead of throwing as it did for the
  // `new Function` wrappers (undefined), and never one of livetrace's files: exactly one
  // frame, never the six of before (docs/transparency.md).
  const CALLERS = ['lib/callers:*'];

  it('untraced: the caller is the harness', async () => {
    const plain = await run('none', 'none', []);
    expect(plain.cases['caller-path']).toBe('harness.mjs');
    expect(plain.cases['caller-path type']).toBe('string');
    expect(plain.cases['import-jsx']).toBe('harness dir');
    expect(plain.cases['depd']).toEqual({ site: 'harness.mjs:callerOfAll', between: [] });
  });

  for (const [label, preload, when] of [
    ['under the preload', 'require', 'before'],
    ['attached', 'none', 'after'],
  ] as const) {
    it(`${label}: one wrapper frame at that index, with a file name, and nothing else of livetrace's`, async () => {
      const traced = await run(preload, when, CALLERS);
      expect(traced.calls).toBe(4);
      expect(traced.cases['caller-path']).toBe('livetrace-wrapper');
      expect(traced.cases['caller-path type']).toBe('string');
      expect(traced.cases['import-jsx']).toBe('.');
      expect(traced.cases['depd']).toEqual({ site: 'livetrace-wrapper:deprecated', between: ['deprecated (livetrace-wrapper)'] });
    });
  }
});

describe('async hooks stay off for a session that does not need parents across await', () => {
  it('one traced function: no AsyncLocalStorage, no callbackTrampoline frame in a native callback', async () => {
    const traced = await run('none', 'after', ['lib/depth:sync']);
    expect(traced.calls).toBe(1);
    expect(traced.asyncContext).toBe(false);
    expect(traced.trampoline).toBe(false);
  });

  it('two traced functions: the storage is on for call trees across await', async () => {
    const traced = await run('none', 'after', ['lib/depth:sync', 'lib/depth:later']);
    expect(traced.calls).toBe(2);
    expect(traced.asyncContext).toBe(true);
  });
});
