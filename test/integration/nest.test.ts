/**
 * Issue 12, item 12: a NestJS app (test/fixtures/frameworks/nest: `nest new`'s controller,
 * service and module, compiled here by tsc with experimentalDecorators and
 * emitDecoratorMetadata: buildNestApp) answers the same under `livetrace run` as
 * untraced: its routes are mapped from decorator metadata on what the trace wraps (the controller's methods, the
 * classes the preload pins), its DI and parameter decorators still resolve, and the calls
 * are seen.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildNestApp, cleanup, launchApp, repoRoot } from './fixture-app.js';

afterEach(cleanup);

let nest: ReturnType<typeof buildNestApp> | undefined;
beforeAll(() => {
  nest = buildNestApp();
}, 120_000); // tsc: about 4 s of CPU, much longer on a loaded machine
afterAll(() => {
  if (nest) rmSync(nest.dir, { recursive: true, force: true });
});

async function answers(args: string[], preload: 'none' | 'require' = 'none'): Promise<{ lines: string[]; calls: string[] }> {
  const app = await launchApp(args, { preload, ready: null });
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  const calls = app.lines.find((line) => line.startsWith('CALLS '));
  return { lines: app.lines.filter((line) => !line.startsWith('CALLS ')), calls: JSON.parse(calls?.slice(6) ?? '[]') as string[] };
}

describe('a NestJS app under livetrace run', () => {
  for (const patterns of [['dist/app.controller:AppController#getHello'], ['dist/**:**']]) {
    it(`answers as untraced, traced with ${patterns.join(' ')}`, async () => {
      const [plain, tracedRun] = await Promise.all([
        answers([nest!.main, '--once']),
        // The preload as `livetrace run` installs it, the session in-process from before main loads.
        answers([nest!.traced, join(repoRoot, 'dist/cjs'), JSON.stringify(patterns), '--once'], 'require'),
      ]);
      expect(plain.lines).toEqual(['/ 200 Hello World!', '/echo/hi 200 echo hi', expect.stringMatching(/^\/missing 404 /)]);
      expect(tracedRun.lines).toEqual(plain.lines);
      expect(tracedRun.calls).toContain('dist/app.controller.js:AppController#getHello');
    }, 90_000); // Nest's start-up is a few seconds untraced; on a loaded machine much more
  }
});
