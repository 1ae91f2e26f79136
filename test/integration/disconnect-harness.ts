/**
 * How soon a vanished client's patches are gone. The target (watch.cjs) checks every
 * millisecond whether math.add is still the original function and prints the wall-clock
 * time (sub-millisecond, performance.timeOrigin + now()) at which that changes. A round
 * starts a trace, waits for `patched`, notes the time, then ends the client one of three
 * ways: kills its end of the connection (destroy), closes it politely (client.close()), or
 * SIGKILLs a client process; and reads the target's `unpatched` time. Both clocks are the
 * same machine's wall clock. client-disconnect.test.ts checks that every way restores the
 * original; client-disconnect.perf.test.ts (npm run test:perf) how fast.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { connect } from '../../src/client/index.js';
import { launchApp, rawPeer, repoRoot, waitForSocket, type RunningApp } from './fixture-app.js';

export type Disconnect = 'destroy' | 'close' | 'sigkill';
export const disconnects: readonly Disconnect[] = ['destroy', 'close', 'sigkill'];

/** The watched target; the exports engine (preload engine off) replaces math.add, so the watcher sees patches. */
export async function launchWatched(): Promise<RunningApp> {
  const app = await launchApp('watch.cjs', { preload: 'require', env: { LIVETRACE_PRELOAD: '0' } });
  await waitForSocket(app.socketPath);
  return app;
}

const wallNow = (): number => performance.timeOrigin + performance.now();

/** A client in its own process, tracing until it is killed. */
function clientProcess(app: RunningApp): Promise<RunningApp> {
  const code = [
    `import { connect } from ${JSON.stringify(join(repoRoot, 'dist/esm/client/index.js'))};`,
    `const client = await connect(${app.pid}, { socketDir: ${JSON.stringify(app.socketDir)} });`,
    `await client.trace('lib/math:add', { max: 1000000, rate: '10/1s' });`,
    'console.log(`ready ${process.pid}`);',
  ].join('\n');
  return launchApp(['--input-type=module', '-e', code], { preload: 'none' });
}

/** The time printed on the first `<word> <ms>` line at index >= from. */
async function timeOfLine(app: RunningApp, from: number, word: string): Promise<number> {
  const { match } = await app.stdout.waitForLine(new RegExp(`^${word} (\\S+)$`), { from, timeoutMs: 5000 });
  return Number(match[1]);
}

/** One round: ms from cutting the client off to the target seeing the original function again. */
export async function disconnectRound(app: RunningApp, disconnect: Disconnect): Promise<number> {
  const before = app.lines.length;
  let cut: () => void;
  if (disconnect === 'sigkill') {
    const client = await clientProcess(app);
    cut = () => void client.kill('SIGKILL');
  } else if (disconnect === 'destroy') {
    const peer = await rawPeer(app.socketPath);
    await peer.hello();
    peer.send({ id: 1, op: 'trace', patterns: ['lib/math:add'], options: { max: 1_000_000, rate: '10/1s' } });
    expect(await peer.next()).toMatchObject({ ok: true });
    cut = () => peer.socket.destroy();
  } else {
    const client = await connect(app.pid, { socketDir: app.socketDir });
    await client.trace('lib/math:add', { max: 1_000_000, rate: '10/1s' });
    cut = () => void client.close();
  }
  await timeOfLine(app, before, 'patched');
  const unpatched = timeOfLine(app, before, 'unpatched');
  const t0 = wallNow();
  cut();
  return (await unpatched) - t0;
}
