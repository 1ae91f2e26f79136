/**
 * A program that replaces Set, Map, WeakMap and Array.prototype.push (as a broken polyfill
 * would) before loading its modules: under the preload, the modules that load after it
 * are still registered and traced, the program computes the same, and livetrace never
 * calls the program's push.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, repoRoot, type Preload } from './fixture-app.js';

afterEach(cleanup);

const app = join(repoRoot, 'test/fixtures/globals/app.mjs');

async function run(preload: Preload, keep: boolean): Promise<{ out: unknown; calls: string[] }> {
  const flavour = preload === 'none' ? 'none' : preload === 'require' ? 'cjs' : 'esm';
  const launched = await launchApp([app, flavour, JSON.stringify(['lib/**:**']), ...(keep ? ['keep'] : [])], { preload, ready: null });
  const out = await launched.waitForLine(/^OUT (.*)$/);
  const calls = await launched.waitForLine(/^CALLS (.*)$/);
  const exit = await launched.exited;
  expect(exit.code, launched.stderr()).toBe(0);
  expect(launched.stderr()).toBe('');
  return { out: JSON.parse(out.match[1]!), calls: JSON.parse(calls.match[1]!) as string[] };
}

describe('a program that replaces globals', () => {
  for (const preload of ['import', 'require'] as const) {
    it(`--${preload}: CommonJS modules loaded after the replacement are registered and traced`, async () => {
      const [plain, intact, replaced] = await Promise.all([run('none', false), run(preload, true), run(preload, false)]);
      expect(replaced.out).toEqual(plain.out);
      // The program's own push ran as often as untraced: livetrace never called it.
      expect(replaced.out).toMatchObject({ pushes: 0 });
      const cjs = (calls: string[]): string[] => calls.filter((fn) => fn.startsWith('lib/shapes.cjs:'));
      expect(cjs(intact.calls)).toEqual(['lib/shapes.cjs:area', 'lib/shapes.cjs:Box.of']);
      expect(cjs(replaced.calls)).toEqual(cjs(intact.calls));
    });
  }
});
