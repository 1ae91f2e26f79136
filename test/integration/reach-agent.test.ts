/**
 * The preload engine through the real control socket: an ESM app started with
 * `--require livetrace/register` (which also runs in Node's module loader thread, where
 * no agent may start) is listed and traced by a client, its ES module exports by the
 * preload engine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/connect.js';
import { cleanup, launchApp, waitForSocket, type Preload } from './fixture-app.js';

afterEach(cleanup);

describe('a preloaded app seen through its agent', () => {
  for (const preload of ['require', 'import'] as Preload[]) {
    it(`lists and traces ES module exports (${preload})`, async () => {
      const app = await launchApp('timer.mjs', { preload, env: { LIVETRACE_LOG: 'debug' } });
      await waitForSocket(app.socketPath);
      const client = await connect(app.pid, { socketDir: app.socketDir });
      try {
        const listing = await client.list('lib/greet:*');
        const greet = listing.find((m) => m.module === 'lib/greet.mjs');
        expect(greet?.functions.find((f) => f.path === 'greet')?.engine).toBe('preload');
        const session = await client.trace('lib/greet:greet', { max: 4, rate: false });
        const calls = [];
        for await (const record of session) if (record.type === 'call') calls.push(record);
        expect(calls).toHaveLength(4);
        for (const call of calls) expect([call.fn, call.engine]).toEqual(['lib/greet.mjs:greet', 'preload']);
        // The app calls greet('ada') itself, and greetLater('grace') calls greet inside the
        // module: the preload engine rebinds the module's variable, so it sees both.
        expect(new Set(calls.map((c) => JSON.stringify(c.args)))).toEqual(new Set(['["ada"]', '["grace"]']));
      } finally {
        await client.close();
      }
      // One agent: none in the loader thread, which runs --require preloads too.
      expect(app.stderr().match(/"agent listening"/g)).toHaveLength(1);
    });
  }
});
