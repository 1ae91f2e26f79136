/**
 * Attach's time (npm run test:perf): into a plain app the whole attach, signal to agent
 * answering, takes under 1.5 s, and the inspector is open for only part of it.
 * attach.test.ts checks what attach does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { attach } from '../../src/attach/attach.js';
import { launchPlain } from './attach-harness.js';
import { cleanup } from './fixture-app.js';

afterEach(cleanup);

describe('attach timing', () => {
  it.each(['esm', 'cjs'] as const)('attaches to a plain %s app in under 1.5 s', async (kind) => {
    const app = await launchPlain(kind, { nodeArgs: ['--inspect-port=0'] });
    const result = await attach(app.pid, { socketDir: app.socketDir });
    const phases = result.phases.map((phase) => `${phase.name} ${phase.ms}`).join(', ');
    console.log(`attach ${kind}: ${result.ms} ms, inspector open ${result.inspectorOpenMs} ms (${phases})`);
    expect(result.ms).toBeLessThan(1500);
    expect(result.inspectorOpenMs).toBeLessThan(result.ms);
  });
});
