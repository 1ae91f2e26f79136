/**
 * A vanished client's patches are removed, whichever way it vanished (disconnect-harness.ts
 * says how a round works). How fast is a timing figure: client-disconnect.perf.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disconnectRound, disconnects, launchWatched } from './disconnect-harness.js';
import { cleanup, type RunningApp } from './fixture-app.js';

let app: RunningApp;
beforeAll(async () => {
  app = await launchWatched();
});
afterAll(cleanup);

describe('client disconnect', () => {
  it.each(disconnects)('%s: the original function is back, and again after a second client', async (disconnect) => {
    for (let round = 0; round < 2; round++) {
      const ms = await disconnectRound(app, disconnect);
      expect(Number.isFinite(ms)).toBe(true);
    }
  });
});
