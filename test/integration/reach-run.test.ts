/**
 * `livetrace run` (the real CLI) traces from the program's first line: a named ES import
 * and a destructured require, called at the top of the program, are both seen by the
 * preload engine.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, repoRoot } from './fixture-app.js';
import { reachDir } from './reach-harness.js';

afterEach(cleanup);

describe('livetrace run', () => {
  it('sees top-level calls through named imports and destructured requires', async () => {
    const cli = join(repoRoot, 'bin/livetrace.js');
    const app = await launchApp(
      [cli, 'run', '--format', 'json', '-t', 'lib/greet:hello', '-t', 'lib/math:add', '--', process.execPath, join(reachDir, 'app.mjs')],
      { preload: 'none', ready: null },
    );
    const exit = await app.exited;
    expect(exit.code, app.stderr()).toBe(0);
    expect(app.lines).toContain('app done');
    const records = app.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const calls = records.filter((r) => r.type === 'call').map((r) => [r.fn, r.engine, r.args, r.value]);
    expect(calls).toEqual([
      ['lib/greet.mjs:hello', 'preload', ['first line'], 'hello first line'],
      ['lib/math.cjs:add', 'preload', [1, 2], 3],
    ]);
  });
});
