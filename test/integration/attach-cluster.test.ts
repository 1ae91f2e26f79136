/**
 * Attaching to a cluster primary leaves no inspector open in its workers (issue 13).
 * Node's cluster module passes the primary's debug signal on to every online worker, and a
 * worker opens its inspector on the primary's --inspect-port plus its number: before
 * attach closed them, each worker kept an unauthenticated debugger port open after a
 * successful attach (src/attach/cluster-workers.ts).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attach } from '../../src/attach/attach.js';
import { portsOf } from '../../src/attach/listeners.js';
import { freePort } from './attach-harness.js';
import { cleanup, launchApp, repoRoot } from './fixture-app.js';

afterEach(cleanup);

describe.runIf(process.platform === 'linux')('attach to a cluster primary', () => {
  it("closes the inspectors Node's cluster module made its workers open", async () => {
    const port = await freePort();
    const app = await launchApp([join(repoRoot, 'test/fixtures/hardening/cluster.cjs')], {
      preload: 'none',
      nodeArgs: [`--inspect-port=${port}`],
      ready: /^ready \d+ workers \d+ \d+$/,
    });
    const { match } = await app.stdout.waitForLine(/^ready \d+ workers (\d+) (\d+)$/, { timeoutMs: 10_000 });
    const workers = [Number(match[1]), Number(match[2])];
    const result = await attach(app.pid, { socketDir: app.socketDir, timeoutMs: 15_000 });
    expect(result.alreadyPresent).toBe(false);
    expect(await portsOf(app.pid)).toEqual(new Set());
    for (const worker of workers) expect(await portsOf(worker)).toEqual(new Set());
    // What the workers opened is reported, each closed.
    expect((result.workerInspectorsClosed ?? []).map((w) => w.pid).sort()).toEqual([...workers].sort());
  }, 60_000);
});
