/**
 * The pattern language's time bounds (npm run test:perf): the parser on random text never
 * takes long for one input, and a guard over 10 MB strings is linear work, not a blow-up.
 * property.test.ts and match/hostile.test.ts check the same inputs for behaviour.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern, parsePattern } from '../../../src/pattern/index.js';
import { randomText } from './random-text.js';

describe('pattern timing', () => {
  it('parses any random text in under 2 s (a hang would be unbounded)', () => {
    let slowest = 0;
    fc.assert(
      fc.property(randomText, (text) => {
        const started = performance.now();
        try {
          parsePattern(text);
        } catch {
          // property.test.ts checks the error; only the time counts here.
        }
        slowest = Math.max(slowest, performance.now() - started);
      }),
      { numRuns: 12_000 },
    );
    console.log(`parser on random text: slowest input ${slowest.toFixed(2)} ms`);
    // Generous: a descheduled process on a loaded machine.
    expect(slowest).toBeLessThan(2_000);
  });

  it('matches 10 MB strings against guards in under 5 s', () => {
    const huge = 'a'.repeat(10_000_000);
    const started = performance.now();
    const guard = compilePattern('m:f(s) when s.length == 10000000 && s ~ /^a+$/ && s[9999999] == "a"');
    expect(guard.pre(undefined, [huge])).toBeDefined();
    expect(compilePattern('m:f("a")').pre(undefined, [huge])).toBeUndefined();
    expect(compilePattern('m:f(s, s)').pre(undefined, [huge, 'a'.repeat(10_000_000)])).toBeDefined();
    const ms = performance.now() - started;
    console.log(`guards over 10 MB strings: ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(5_000);
  });
});
