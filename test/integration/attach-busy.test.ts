/**
 * A failed attach leaves no inspector open (issue 13, item 2). The target blocks its main
 * thread longer than --timeout, in a JavaScript loop (SIGUSR1's interrupt opens the
 * inspector inside the loop, and the signal's pending request reopens it when the loop
 * yields) or in a system call (the inspector opens only after the block). The CLI fails
 * with LT_ATTACH_TIMEOUT or LT_ATTACH_NO_INSPECTOR, watches until the signal settled, and
 * says what it did; once the loop has turned, the target holds no listener, and attaching
 * again works.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portsOf } from '../../src/attach/listeners.js';
import { freePort, runCli } from './attach-harness.js';
import { cleanup, launchApp, repoRoot, tempDir } from './fixture-app.js';

afterEach(cleanup);

const busyApp = join(repoRoot, 'test/fixtures/plain/busy.mjs');
const BLOCK_MS = 5000;

describe.skipIf(process.platform !== 'linux')('attach to a target busy past the timeout', () => {
  for (const mode of ['loop', 'syscall'] as const) {
    it(`leaves no inspector open when the main thread is blocked in a ${mode}`, { timeout: 90_000 }, async () => {
      const trigger = join(tempDir('lt-busy-'), 'go');
      const port = await freePort();
      const app = await launchApp([busyApp], {
        preload: 'none',
        nodeArgs: [`--inspect-port=${port}`],
        env: { BUSY_TRIGGER: trigger, BUSY_MS: String(BLOCK_MS), BUSY_MODE: mode },
      });
      writeFileSync(trigger, '');
      await app.waitForLine(/^blocking$/);
      const env = { LIVETRACE_SOCKET_DIR: app.socketDir };
      const failed = await runCli(['attach', String(app.pid), '--timeout', '1000'], { env, timeoutMs: 60_000 });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(mode === 'loop' ? /LT_ATTACH_TIMEOUT/ : /LT_ATTACH_(TIMEOUT|NO_INSPECTOR)/);
      expect(failed.stderr).toMatch(new RegExp(`(inspector on|opened late at) 127\\.0\\.0\\.1:${port} (and )?was closed`));
      expect(failed.stderr).toMatch(/no inspector of process \d+ is open/);
      if (mode === 'loop') expect(failed.stderr).toMatch(/the agent loaded after the timeout/);
      // The CLI waited for the block to end rather than leaving the door to chance.
      await app.waitForLine(/^unblocked$/);
      await app.waitForLine(/^turned$/);
      expect([...((await portsOf(app.pid)) ?? [])]).toEqual([]);
      const again = await runCli(['attach', String(app.pid), '--timeout', '10000'], { env, timeoutMs: 30_000 });
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      expect([...((await portsOf(app.pid)) ?? [])]).toEqual([]);
    });
  }
});
