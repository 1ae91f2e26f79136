/**
 * livetrace's own workers must be recognisable from a NodeWorker session before anything is
 * sent to them: a message that reached the probe worker while Node tore it down crashed the
 * whole process (SIGSEGV in FreeEnvironment). inject.ts and the observer skip them by title.
 */
import { Session } from 'node:inspector';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { isOwnWorkerTitle, startOwnWorker } from '../../../src/agent/own-worker.js';

describe('own workers', () => {
  it('carry a title the NodeWorker domain shows, and program workers do not match it', async () => {
    const session = new Session();
    session.connect();
    const titles: string[] = [];
    const attached = new Promise<void>((resolve) => {
      session.on('NodeWorker.attachedToWorker', (message) => {
        titles.push((message.params as { workerInfo: { title: string } }).workerInfo.title);
        resolve();
      });
    });
    await new Promise<void>((resolve, reject) => session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, (error) => (error ? reject(error) : resolve())));
    const { port1, port2 } = new MessageChannel();
    const worker = startOwnWorker(() => setTimeout(() => undefined, 50), { ownTest: true }, port2);
    try {
      await attached;
      expect(titles).toHaveLength(1);
      expect(isOwnWorkerTitle(titles[0]!)).toBe(true);
    } finally {
      port1.close();
      await worker.terminate();
      session.disconnect();
    }
    expect(isOwnWorkerTitle('[worker 3] ')).toBe(false);
    expect(isOwnWorkerTitle('[worker 3] pool')).toBe(false);
  });
});
