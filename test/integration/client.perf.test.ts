/**
 * connect() keeps its timeoutMs (npm run test:perf): against a socket that accepts and
 * never answers it gives up at about the time asked, not at the default 3 s.
 * client.test.ts checks the code it gives up with.
 */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.js';
import { cleanup, tempDir } from './fixture-app.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await cleanup();
});

describe('client timing', () => {
  it('LT_AGENT_TIMEOUT after timeoutMs 150 comes in under 1 s', async () => {
    const dir = tempDir();
    // resume(): a paused socket never reads the client's EOF, and close() would wait on it.
    server = createServer((socket) => socket.on('error', () => {}).resume());
    await new Promise<void>((resolve) => server!.listen(join(dir, `${process.pid}.sock`), resolve));
    const started = performance.now();
    const error = await connect(process.pid, { socketDir: dir, timeoutMs: 150 }).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    const ms = performance.now() - started;
    expect(error?.code).toBe('LT_AGENT_TIMEOUT');
    console.log(`connect timeout 150 ms: gave up after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(1000);
  });
});
