/**
 * The agent does not hold the app up (npm run test:perf): a preloaded app with a connected
 * peer exits as soon after its last line as the same app without livetrace, and an empty
 * program exits at once. server-lifecycle.test.ts checks that they exit, and how.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, rawPeer, tempDir, waitForSocket, type Preload } from './fixture-app.js';

afterEach(cleanup);

/** Time from the app's last line to its exit. */
async function gap(app: string, preload: Preload, connected: boolean): Promise<number> {
  const running = await launchApp(app, { preload, env: { FIXTURE_TICKS: connected ? '15' : '5' } });
  if (connected) {
    await waitForSocket(running.socketPath);
    await (await rawPeer(running.socketPath)).hello();
  }
  const done = await running.waitForLine(/^done/);
  const exit = await running.exited;
  expect(exit.code).toBe(0);
  return exit.at - done.at;
}

describe('exit timing', () => {
  it.each([
    { preload: 'import' as const, app: 'timer.mjs' },
    { preload: 'require' as const, app: 'timer.cjs' },
  ])('$preload $app with a connected peer exits within 150 ms of the plain app', async ({ preload, app }) => {
    const traced = await gap(app, preload, true);
    const plain = await gap(app, 'none', false);
    console.log(`${app}: last line to exit ${traced.toFixed(1)} ms with the agent and a peer, ${plain.toFixed(1)} ms plain`);
    expect(traced).toBeLessThan(plain + 150);
  });

  it('an empty program with the agent exits in under 3 s', async () => {
    const socketDir = tempDir();
    for (const preload of ['import', 'require'] as const) {
      const started = performance.now();
      const run = await launchApp(['-e', ''], { preload, socketDir, ready: null });
      const exit = await run.exited;
      expect(exit.code).toBe(0);
      console.log(`empty program, --${preload}: ${(exit.at - started).toFixed(0)} ms`);
      expect(exit.at - started).toBeLessThan(3000);
    }
  });
});
