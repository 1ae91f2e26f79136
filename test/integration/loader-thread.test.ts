/**
 * A --require preload that calls trace() and startAgent() also runs in Node's module
 * loader thread (the program registers loader hooks): there both are inert, with a coded
 * reason, and the loader and the main thread's trace go on untouched.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, repoRoot, type Preload } from './fixture-app.js';

afterEach(cleanup);

const dir = join(repoRoot, 'test/fixtures/loader-thread');

async function run(preload: Preload): Promise<{ output: string[]; calls: string[]; loader: Record<string, unknown> }> {
  const app = await launchApp(['--require', join(dir, 'preload.cjs'), '--import', join(dir, 'loader.mjs'), join(dir, 'app.mjs')], {
    preload,
    ready: null,
  });
  const calls = await app.waitForLine(/^CALLS (.*)$/);
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  const loader = /^LOADER (.*)$/m.exec(app.stderr());
  expect(loader, app.stderr()).not.toBeNull();
  return {
    output: app.lines.filter((line) => !line.startsWith('CALLS ')),
    calls: JSON.parse(calls.match[1]!) as string[],
    loader: JSON.parse(loader![1]!) as Record<string, unknown>,
  };
}

describe("trace() and startAgent() in Node's module loader thread", () => {
  for (const preload of ['none', 'require'] as const) {
    it(`are inert there, and the main thread traces (livetrace preload: ${preload})`, async () => {
      const result = await run(preload);
      expect(result.output).toEqual(['hello world greet cjs']);
      expect(result.loader).toEqual({
        stopped: true,
        reason: 'error',
        detail: "LT_LOADER_THREAD: trace() in Node's module loader thread: nothing is traced there",
        listening: false,
        code: 'LT_LOADER_THREAD',
      });
      expect(result.calls).toContain('greet.cjs:greet');
      if (preload === 'require') expect(result.calls).toEqual(['lib.mjs:hello', 'greet.cjs:greet']);
    });
  }
});
