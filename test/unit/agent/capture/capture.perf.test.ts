/**
 * Capture's time bound on huge values (npm run test:perf): a 10 MB string or Buffer is cut
 * at its limit without being walked. capture.test.ts checks what is captured.
 */
import { describe, expect, it } from 'vitest';
import { capture } from '../../../../src/agent/capture/capturer.js';

describe('capture timing', () => {
  it('cuts a 10 MB string and a 10 MB Buffer in under 100 ms', () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const buffer = Buffer.alloc(10 * 1024 * 1024, 0xab);
    const start = performance.now();
    const s = capture(big);
    const b = capture(buffer);
    const elapsed = performance.now() - start;
    expect(s.truncated && b.truncated).toBe(true);
    console.log(`capture of 10 MB string + 10 MB Buffer: ${elapsed.toFixed(2)} ms`);
    expect(elapsed).toBeLessThan(100);
  });
});
