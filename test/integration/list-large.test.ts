/**
 * `ls` of a module with 20,000 exports (issue 13, item 8c): the agent splits one module's
 * listing across `part` frames, and the client joins the pieces back into one module.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/connect.js';
import { cleanup, launchApp } from './fixture-app.js';

afterEach(cleanup);

describe('listing a module larger than a frame', () => {
  it('lists all 20,000 exports of one module as one module', { timeout: 60_000 }, async () => {
    const app = await launchApp('many-exports.cjs', { preload: 'require', timeoutMs: 40_000 });
    const client = await connect(app.pid, { socketDir: app.socketDir, timeoutMs: 10_000 });
    try {
      const modules = await client.list('lib/huge.cjs');
      expect(modules.map((m) => m.module)).toEqual([expect.stringContaining('lib/huge.cjs')]);
      // Exports only: a module filter also lists the module's internal functions (`~`, probe-reached).
      const names = new Set(modules[0]!.functions.filter((f) => !f.path.startsWith('~')).map((f) => f.path));
      expect(names.size).toBe(20_000);
      expect(names.has('f0') && names.has('f19999')).toBe(true);
    } finally {
      await client.close();
    }
  });
});
