import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Capturer } from '../../../../src/agent/capture/capturer.js';

// The capturer's fast path (capturer.ts `plain`): arguments and return values that are
// finite numbers or booleans skip the walk, and must come out exactly as the walk has them.
describe('the capturer takes numbers and booleans as themselves', () => {
  // A redaction that hides nothing sends every argument through the walk: the reference.
  const none = { whole: [], keys: [], restFrom: Infinity };
  it('with the same values and the same byte count as the walk', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.constant(-0), fc.string())), (args) => {
        const fast = new Capturer();
        fast.begin();
        const a = fast.values(args);
        const walked = new Capturer();
        walked.begin();
        const b = walked.values(args, none);
        expect(a).toEqual(b);
        expect(a.map((x) => Object.is(x, -0))).toEqual(b.map((x) => Object.is(x, -0)));
        expect(fast.end()).toEqual(walked.end());
        // One value (a return value) is charged as one argument walked.
        for (const x of args) {
          fast.begin();
          const v = fast.value(x);
          walked.begin();
          const w = walked.values([x], none);
          expect([v]).toEqual(w);
          expect(fast.end()).toEqual(walked.end());
        }
      }),
      { numRuns: 300 },
    );
  });
});
