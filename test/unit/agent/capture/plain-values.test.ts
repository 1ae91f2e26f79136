import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Capturer } from '../../../../src/agent/capture/capturer.js';

// The capturer's fast path (capturer.ts `plain`): arguments and return values that are
// finite numbers, booleans or short strings skip the walk, and must come out exactly as
// the walk has them, charged the same bytes, cut or not as the walk would.
describe('the capturer takes numbers, booleans and short strings as themselves', () => {
  // A redaction that hides nothing sends every argument through the walk: the reference.
  const none = { whole: [], keys: [], restFrom: Infinity };
  const value = fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.constant(-0), fc.string({ maxLength: 10 }), fc.constant('Bearer x'));
  const limits = fc.record({ stringLimit: fc.integer({ min: 0, max: 10 }), eventBytes: fc.integer({ min: 0, max: 200 }), items: fc.integer({ min: 0, max: 6 }) });
  it('with the same values and the same byte count as the walk, under any limits', () => {
    fc.assert(
      fc.property(fc.array(value, { maxLength: 8 }), limits, (args, options) => {
        const fast = new Capturer(options);
        fast.begin();
        const a = fast.values(args);
        const walked = new Capturer(options);
        walked.begin();
        const b = walked.values(args, none);
        expect(a).toEqual(b);
        expect(a.map((x) => Object.is(x, -0))).toEqual(b.map((x) => Object.is(x, -0)));
        const walkedEnd = walked.end();
        expect(fast.end()).toEqual(walkedEnd);
        // A list the caller lets it keep (a wrapper's own argument array): the same values
        // and charge, and the list itself only when the walk had nothing to do.
        const kept = new Capturer(options);
        kept.begin();
        const list = [...args];
        const k = kept.values(list, undefined, true);
        expect(JSON.stringify(k)).toBe(JSON.stringify(b));
        expect(k.map((x) => Object.is(x, -0))).toEqual(b.map((x) => Object.is(x, -0)));
        expect(kept.end()).toEqual(walkedEnd);
        if (k === list) expect(k).toEqual(args);
        // One value (a return value) is charged as one argument walked (a list of one: `items` must let it in).
        if (options.items === 0) return;
        for (const x of args) {
          fast.begin();
          const v = fast.value(x);
          walked.begin();
          const w = walked.values([x], none);
          expect([v]).toEqual(w);
          expect(fast.end()).toEqual(walked.end());
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a plain argument array it may keep, and copies one it may not or that is not an array', () => {
    const capturer = new Capturer();
    const list = [1, true, 'abc'];
    capturer.begin();
    expect(capturer.values(list, undefined, true)).toBe(list);
    capturer.begin();
    expect(capturer.values(list)).not.toBe(list);
    const args = (function (..._: unknown[]) {
      // eslint-disable-next-line prefer-rest-params
      return arguments;
    })(1, 2);
    capturer.begin();
    const captured = capturer.values(args, undefined, true);
    expect(Array.isArray(captured)).toBe(true);
    expect(captured).toEqual([1, 2]);
    // One element the walk must see (an object): a fresh list.
    const mixed = [1, { a: 1 }];
    capturer.begin();
    expect(capturer.values(mixed, undefined, true)).not.toBe(mixed);
  });
});
