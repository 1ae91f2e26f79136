/**
 * Issue 12, item 12: a NestJS app (test/fixtures/nest: `nest new`'s controller, service and
 * module; src/ compiled by tsc with experimentalDecorators and emitDecoratorMetadata into
 * out/, committed) answers the same under `livetrace run` as untraced: its routes are
 * mapped from decorator metadata on what the trace wraps (the controller's methods, the
 * classes the preload pins), its DI and parameter decorators still resolve, and the calls
 * are seen.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, repoRoot } from './fixture-app.js';

afterEach(cleanup);

const nestDir = join(repoRoot, 'test/fixtures/nest');
const main = join(nestDir, 'out/main.js');

async function answers(args: string[], preload: 'none' | 'require' = 'none'): Promise<{ lines: string[]; calls: string[] }> {
  const app = await launchApp(args, { preload, ready: null });
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  const calls = app.lines.find((line) => line.startsWith('CALLS '));
  return { lines: app.lines.filter((line) => !line.startsWith('CALLS ')), calls: JSON.parse(calls?.slice(6) ?? '[]') as string[] };
}

describe('a NestJS app under livetrace run', () => {
  for (const patterns of [['out/app.controller:AppController#getHello'], ['out/**:**']]) {
    it(`answers as untraced, traced with ${patterns.join(' ')}`, async () => {
      const [plain, traced] = await Promise.all([
        answers([main]),
        // The preload as `livetrace run` installs it, the session in-process from before main loads.
        answers([join(nestDir, 'traced.cjs'), JSON.stringify(patterns)], 'require'),
      ]);
      expect(plain.lines).toEqual(['/ 200 Hello World!', '/echo/hi 200 echo hi', expect.stringMatching(/^\/missing 404 /)]);
      expect(traced.lines).toEqual(plain.lines);
      expect(traced.calls).toContain('out/app.controller.js:AppController#getHello');
    }, 90_000); // Nest's start-up is a few seconds untraced; on a loaded machine much more
  }
});
