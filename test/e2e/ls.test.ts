/**
 * `livetrace ls` on a plain app it attaches to (test/fixtures/ls): what the program
 * loaded and nothing livetrace loaded, internal functions with their `~` names, copies
 * of one package told apart, one line per warning, a module with no function shown when
 * its name is asked for.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, launchApp, repoRoot, tempDir, type RunningApp } from '../integration/fixture-app.js';
import { killClis, runCli } from './cli-process.js';

afterEach(killClis);
afterAll(cleanup);

let app: RunningApp;
let socketDir: string;

beforeAll(async () => {
  socketDir = tempDir();
  app = await launchApp([join(repoRoot, 'test/fixtures/ls/app.cjs')], { preload: 'none', nodeArgs: ['--inspect-port=0'], socketDir });
});

const cli = (args: string[]) => runCli(args, { socketDir });

describe('livetrace ls on a plain app', () => {
  it("lists the program's modules, never livetrace's own dependencies, with internal functions and grouped warnings", async () => {
    const result = await cli(['ls', String(app.pid)]);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    // livetrace's agent loaded these into the process; the program did not.
    expect(out).not.toMatch(/^(acorn|acorn-walk|micromatch|braces|picomatch|pino|source-map-support|source-map)\//m);
    expect(out).toMatch(/^lib\/routes\.cjs {2}\(app, 1 exported, 2 internal\)$/m);
    expect(out).toMatch(/^ {2}handle +function +exports {2}\(warning 1\)$/m);
    expect(out).toMatch(/^ {2}~validate +function +probe \(internal: only a probe reaches it\)$/m);
    expect(out).toMatch(/^ {2}~render +function +probe /m);
    // Two copies of `dup`: version and file for each.
    const dups = out.split('\n').filter((line) => line.startsWith('dup/index.js'));
    expect(dups).toEqual([
      expect.stringMatching(/ {2}1\.0\.0 at .*test\/fixtures\/ls\/node_modules\/dup\/index\.js$/),
      expect.stringMatching(/ {2}2\.0\.0 at .*node_modules\/wrap\/node_modules\/dup\/index\.js$/),
    ]);
    // Each warning once, with its count.
    const warnings = out.split('\n').filter((line) => /warning/.test(line) && !/^ {2}/.test(line));
    expect(warnings.length).toBeGreaterThan(0);
    expect(new Set(warnings.map((w) => w.replace(/^warning \d+ \(\d+ functions? in \d+ modules?\): /, ''))).size).toBe(warnings.length);
    expect(warnings[0]).toMatch(/^warning 1 \(\d+ functions? in \d+ modules?\): callers that destructured/);

    const json = JSON.parse((await cli(['ls', String(app.pid), '--json'])).stdout) as { module: string; version?: string }[];
    expect(json.filter((m) => m.module === 'dup/index.js').map((m) => m.version)).toEqual(['1.0.0', '2.0.0']);
    expect(json.map((m) => m.module).filter((id) => /^(acorn|micromatch|pino|braces|source-map-support)/.test(id))).toEqual([]);
  });

  it('shows a module named by the filter even when it exports no function', async () => {
    const result = await cli(['ls', String(app.pid), 'lib/settings']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('lib/settings.cjs  (app, 0 functions)\n');
    const all = await cli(['ls', String(app.pid), 'lib/**']);
    expect(all.stdout).toMatch(/^lib\/settings\.cjs /m);
    expect(all.stdout).toMatch(/^lib\/routes\.cjs /m);
  });

  it("lists internal functions by a '~' glob, unbounded", async () => {
    const result = await cli(['ls', String(app.pid), 'lib/routes:~*']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n').filter((l) => l.startsWith('  ~')).map((l) => l.trim().split(/\s+/)[0])).toEqual(['~validate', '~render', '~handle']);
  });
});
