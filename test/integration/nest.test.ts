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
const cli = join(repoRoot, 'bin/livetrace.js');

async function answers(args: string[]): Promise<{ lines: string[]; records: Record<string, unknown>[] }> {
  const app = await launchApp(args, { preload: 'none', ready: null });
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  return {
    lines: app.lines.filter((line) => !line.startsWith('{') && !line.startsWith('stopped:')),
    records: app.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('a NestJS app under livetrace run', () => {
  for (const patterns of [['out/app.controller:AppController#getHello'], ['out/**:**']]) {
    it(`answers as untraced, traced with ${patterns.join(' ')}`, async () => {
      const [plain, traced] = await Promise.all([
        answers([main]),
        answers([cli, 'run', '--format', 'json', ...patterns.flatMap((p) => ['-t', p]), '--', process.execPath, main]),
      ]);
      expect(plain.lines).toEqual(['/ 200 Hello World!', '/echo/hi 200 echo hi', expect.stringMatching(/^\/missing 404 /)]);
      expect(traced.lines).toEqual(plain.lines);
      const calls = traced.records.filter((r) => r.type === 'call').map((r) => r.fn);
      expect(calls).toContain('out/app.controller.js:AppController#getHello');
    });
  }
});
