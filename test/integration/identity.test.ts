/**
 * Issue 12, items 1-5 and 12: the identity and shape fixtures (test/fixtures/reach/identity)
 * print what they observe (`===` between references, statics, `import()` after `require`,
 * inspect and toString output, reflect-metadata keys) untraced, under the preload in both
 * forms with a trace on every function of theirs from the first line, and traced after an
 * attach. Under the preload the output is the untraced output, but for the one difference
 * wrappers cannot remove (docs/transparency.md, "Identity and shape"): a library's own
 * reference to its function-valued module.exports. Attached, exactly the documented
 * identity cases differ: references taken before the trace began.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp } from './fixture-app.js';
import { reachDir, runIdentityScript, runReach, type RecordedCall, type SeenCall } from './reach-harness.js';

afterEach(cleanup);

const all = join(reachDir, 'identity', 'all.cjs');

async function untraced(): Promise<string[]> {
  const app = await launchApp([all], { preload: 'none', ready: null });
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  return app.lines;
}

/** The lines that differ, as [untraced, traced]. */
function differences(plain: string[], traced: string[]): [string | undefined, string | undefined][] {
  const out: [string | undefined, string | undefined][] = [];
  for (let i = 0; i < Math.max(plain.length, traced.length); i++) if (plain[i] !== traced[i]) out.push([plain[i], traced[i]]);
  return out;
}

describe('identity and shape fixtures', () => {
  it('untraced, they observe what the fixtures expect', async () => {
    const plain = await untraced();
    expect(plain.filter((line) => line.startsWith('-- '))).toEqual(['-- copied', '-- aliases', '-- self', '-- imported', '-- inspect', '-- metadata']);
    expect(plain).toContain('each is forEach true true true');
    expect(plain).toContain('method keys path,method');
    expect(plain).toContain('paramtypes true');
  });

  for (const preload of ['import', 'require'] as const) {
    it(`under the --${preload} preload, traced from the first line, only the library's own reference to itself differs`, async () => {
      const [plain, traced] = await Promise.all([untraced(), runReach(preload, 'before', ['identity/**:**'], ['./identity/all.cjs'])]);
      expect(traced.stderr).toBe('');
      expect(differences(plain, traced.output)).toEqual([['lib returns itself true', 'lib returns itself false']]);
      const fns = new Set(traced.calls.map((call) => call.fn));
      // Events flow through every kind of place: aliases, statics, classes, prototype methods, import().
      for (const fn of [
        'identity/aliases-lib.cjs:forEach',
        'identity/aliases-fn.cjs:lodash.forEach',
        'identity/copy-utils.cjs:decode',
        'identity/self-validate.cjs:default',
        'identity/statics-class.cjs:Application.create',
        'identity/import-lib.cjs:Koa.make',
        'identity/import-lib.cjs:Koa#handle',
        'identity/metadata-controller.cjs:AppController#getHello',
      ]) {
        expect(fns, fn).toContain(fn);
      }
      // A static that is another package's export is listed, not patched.
      const held = traced.listed.find((f) => f.fn === 'identity/statics-class.cjs:Application.HttpError');
      expect(held?.engine ?? null).toBe(null);
    });
  }

  for (const preload of ['import', 'require'] as const) {
    it(`under the --${preload} preload with the fixtures instrumented (LIVETRACE_INSTRUMENT), nothing differs, the library's self-reference included`, async () => {
      const [plain, traced] = await Promise.all([
        untraced(),
        runReach(preload, 'before', ['identity/**:**'], ['./identity/all.cjs'], { LIVETRACE_INSTRUMENT: 'identity/**' }),
      ]);
      expect(traced.stderr).toBe('');
      expect(differences(plain, traced.output)).toEqual([]);
      const fns = new Set(traced.calls.map((call) => call.fn));
      for (const fn of [
        'identity/aliases-lib.cjs:forEach',
        'identity/aliases-fn.cjs:lodash.forEach',
        'identity/copy-utils.cjs:decode',
        'identity/self-lib.cjs:lodash.self',
        'identity/self-validate.cjs:default',
        'identity/statics-class.cjs:Application.create',
        'identity/import-lib.cjs:Koa#handle',
        'identity/metadata-controller.cjs:AppController#getHello',
      ]) {
        expect(fns, fn).toContain(fn);
      }
      // A call's arguments come through the body site as through a wrapper.
      expect(traced.calls.find((call) => call.fn === 'identity/copy-utils.cjs:decode')?.args.length).toBeGreaterThan(0);
    });
  }

  it('attached, only references taken before the trace differ', async () => {
    const [plain, traced] = await Promise.all([untraced(), runReach('none', 'after', ['identity/**:**'], ['./identity/all.cjs'])]);
    expect(traced.stderr).toBe('');
    expect(differences(plain, traced.output)).toEqual([
      // App.HttpError: patched in place, while the package holds the original.
      ['static from a package is that export true true', 'static from a package is that export false false'],
      // The library's own reference to itself.
      ['lib returns itself true', 'lib returns itself false'],
      // Instances point at the class as it was when they were made.
      ['instance true true b HttpError,helper,version,default', 'instance true false b HttpError,helper,version,default'],
      // import() gets Node's snapshot of module.exports, taken when require loaded it.
      ['default is required true true', 'default is required false true'],
    ]);
  });
});

describe('two copies of livetrace in one process (issue 12, item 9)', () => {
  it('the CJS build traces ES modules the ESM build preloaded', async () => {
    // The preload is the ESM build (--import); the harness traces with the CJS build's trace().
    const app = await launchApp([join(reachDir, 'harness.mjs'), 'cjs', 'after', JSON.stringify(['lib/greet.mjs:*']), './lib/esm-callers.mjs'], {
      preload: 'import',
      ready: null,
    });
    const { match } = await app.waitForLine(/^REACH (.*)$/);
    const exit = await app.exited;
    expect(exit.code, app.stderr()).toBe(0);
    const calls = JSON.parse(match[1]!) as SeenCall[];
    expect(calls.map((c) => [c.fn, c.engine, ...c.args]).slice(0, 3)).toEqual([
      ['lib/greet.mjs:hello', 'preload', 'named'],
      ['lib/greet.mjs:hello', 'preload', 'namespace'],
      ['lib/greet.mjs:default', 'preload', 'default'],
    ]);
  });
});

describe('body instrumentation under the preload (LIVETRACE_INSTRUMENT)', () => {

  async function treeRun(env: Record<string, string>): Promise<{ results: string; calls: RecordedCall[] }> {
    const { observed, calls } = await runIdentityScript('tree-run.mjs', 'cjs', 'RESULTS', { preload: 'require', env });
    return { results: observed, calls };
  }

  it("sees a library's calls through its own references, with call-tree parents, returns and throws", async () => {
    const { results, calls } = await treeRun({ LIVETRACE_INSTRUMENT: 'identity/tree-lib.cjs' });
    expect(results).toBe(JSON.stringify([6, 'caught negative', 6]));
    const byId = new Map(calls.map((c) => [c.id, c]));
    const shape = calls.map((c) => [c.fn.replace('identity/tree-lib.cjs:', ''), c.parent === null ? null : byId.get(c.parent)?.fn.replace('identity/tree-lib.cjs:', ''), c.outcome]);
    // Records come in the order calls end.
    expect(shape).toEqual([
      ['leaf', 'middle', 'return'],
      ['leaf', 'middle', 'return'],
      ['middle', 'top', 'return'],
      ['top', null, 'return'],
      ['leaf', 'middle', 'throw'],
      ['middle', 'top', 'throw'],
      ['top', null, 'return'],
      ['leaf', null, 'return'],
    ]);
    const first = calls[0]!;
    expect(JSON.stringify([first.args, first.value])).toBe(JSON.stringify([[1], 2]));
    expect(JSON.stringify(calls[4]!.error)).toContain('negative');
  });

  it('without it (pinning), only the calls through the exports are seen', async () => {
    const { results, calls } = await treeRun({});
    expect(results).toBe(JSON.stringify([6, 'caught negative', 6]));
    expect(calls.map((c) => c.fn.replace('identity/tree-lib.cjs:', ''))).toEqual(['top', 'top', 'leaf']);
  });
});
