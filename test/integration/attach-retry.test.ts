/**
 * A socket directory the agent refused does not leave the process untraceable (issue 13,
 * item 8a): once the directory is fixed, the next attach's bootstrap starts the agent again.
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, launchPlain, runCli } from './attach-harness.js';
import { cleanup, tempDir } from './fixture-app.js';

afterEach(cleanup);

describe.skipIf(process.platform !== 'linux')('attach after a refused socket directory', () => {
  it('retries listening on the next attach once the directory is fixed', { timeout: 60_000 }, async () => {
    const socketDir = join(tempDir('lt-squat-'), 'sockets');
    mkdirSync(socketDir);
    chmodSync(socketDir, 0o777); // unsafe: the agent must refuse it
    const port = await freePort();
    const app = await launchPlain('esm', { socketDir, nodeArgs: [`--inspect-port=${port}`] });
    const env = { LIVETRACE_SOCKET_DIR: socketDir };
    const refused = await runCli(['attach', String(app.pid), '--timeout', '10000'], { env, timeoutMs: 40_000 });
    expect(refused.stderr).toMatch(/LT_SOCKET_DIR_UNSAFE/);
    rmSync(socketDir, { recursive: true });
    const attached = await runCli(['attach', String(app.pid), '--timeout', '10000'], { env, timeoutMs: 40_000 });
    expect(attached.stderr).toBe('');
    expect(attached.code).toBe(0);
  });
});
