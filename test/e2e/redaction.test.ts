/**
 * Redaction end to end: the real CLI traces a login module from the first line of its
 * program (`livetrace run`), through the exports engine and a probe, and no secret the
 * program passed reaches the CLI's output, while the rest of the call does.
 */
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, repoRoot, tempDir } from '../integration/fixture-app.js';
import { killClis, runCli } from './cli-process.js';

const appsDir = join(repoRoot, 'test/fixtures/apps');
const node = process.execPath;

afterEach(killClis);
afterAll(cleanup);

describe('redaction through the CLI', () => {
  it.each([
    ['the exports engine', 'lib/auth:login'],
    ['a probe', 'lib/auth:~check'],
  ])('never prints a positional password (%s), and prints the user', async (_, pattern) => {
    const result = await runCli(['run', '-t', pattern, '-t', 'lib/auth:connect', '--max', '3', '--', node, 'login.cjs'], {
      socketDir: tempDir(),
      cwd: appsDir,
    });
    expect(result.code, result.stderr).toBe(0);
    const output = result.stdout + result.stderr;
    expect(output).toMatch(/lib\/auth\.cjs:(login|~check)\('tj', <redacted>\)/);
    expect(output).toMatch(/lib\/auth\.cjs:(login|~check)\('ann', <redacted>\)/);
    expect(output).toContain('postgres://app:<redacted>@127.0.0.1:5432/app');
    expect(output).not.toContain('s3cret');
  });

  it('shows the values again with --no-redact-values (keys and parameter names stay redacted)', async () => {
    const result = await runCli(['run', '-t', 'lib/auth:login', '-t', 'lib/auth:connect', '--no-redact-values', '--json', '--', node, 'login.cjs'], {
      socketDir: tempDir(),
      cwd: appsDir,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('postgres://app:db-s3cret@127.0.0.1:5432/app');
    expect(result.stdout).not.toContain('foobar-s3cret');
    expect(result.stdout).toContain('"args":["tj",{"$":"redacted"}]');
  });
});
