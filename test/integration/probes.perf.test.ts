/**
 * A session whose max is reached inside a probe stops at once: the probe is disarmed
 * without asking the worker from inside the pause (npm run test:perf). probes.test.ts
 * checks what the session recorded and that the debugger is off afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from './fixture-app.js';
import { runHarness } from './probes-harness.js';

afterEach(cleanup);

describe('probe timing', () => {
  it('a session that reaches its max inside a probe finishes its scenario in under 3 s', async () => {
    const run = await runHarness(['users:~hashPassword', 'users:~makeCounter.bump'], { max: 1 });
    expect(run.calls).toHaveLength(1);
    const ms = Number(run.line('RUN-MS'));
    console.log(`max reached inside a probe: scenario ran ${ms} ms`);
    expect(ms).toBeLessThan(3000);
  });
});
