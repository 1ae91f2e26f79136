/**
 * Every capture costs bounded work per call, whatever the value (issue 13, item 3): an
 * object with 10^6 keys and an error with 10^6 fields pay the key listing once and are
 * afterwards shown by their count; a 50-million-character key is cut before redaction
 * reads it; a redaction glob cannot backtrack. The work is counted, not timed, where it
 * can be (timings belong to *.perf.test.ts): the second capture of a huge object must not
 * list its keys again, which a spy on the listing would see.
 */
import { describe, expect, it } from 'vitest';
import { Capturer } from '../../../../src/agent/capture/capturer.js';
import { HUGE_KEY_COUNT, keysOf } from '../../../../src/agent/capture/objects.js';
import { Redactor, globMatches } from '../../../../src/agent/capture/redaction.js';
import { readable } from '../../../../src/safe/property.js';

function hugeObject(n: number): Record<string, number> {
  const o: Record<string, number> = {};
  for (let i = 0; i < n; i++) o[`k${i}`] = i;
  return o;
}

describe('capture: bounded work per call', () => {
  it('remembers an object with more than HUGE_KEY_COUNT keys and shows it by its count after', () => {
    const o = hugeObject(HUGE_KEY_COUNT + 5);
    const first = keysOf(readable(o)!);
    expect(Array.isArray(first) && first.length).toBe(HUGE_KEY_COUNT + 5);
    // The second look does not list the keys: it is the remembered count.
    expect(keysOf(readable(o)!)).toBe(HUGE_KEY_COUNT + 5);
    const capturer = new Capturer({ fields: 3 });
    const { value, truncated } = capturer.capture(o);
    expect(truncated).toBe(true);
    expect(value).toEqual({ $more: HUGE_KEY_COUNT + 5 });
  });

  it('an ordinary object is listed every time (it may change)', () => {
    const o = { a: 1, b: 2 };
    expect(keysOf(readable(o)!)).toEqual(['a', 'b']);
    (o as Record<string, number>).c = 3;
    expect(keysOf(readable(o)!)).toEqual(['a', 'b', 'c']);
  });

  it('an error with 10^5 fields is captured within the field limit, and by its count after', () => {
    const error = Object.assign(new Error('wide'), hugeObject(100_000));
    const capturer = new Capturer({ fields: 4 });
    const once = capturer.capture(error).value as { $: string; more?: number; props?: object };
    expect(once.$).toBe('error');
    expect(Object.keys(once.props ?? {})).toHaveLength(4);
    expect(once.more).toBe(100_000 - 4);
    const again = capturer.capture(error).value as { more?: number; props?: object };
    expect(again.props).toBeUndefined();
    expect(again.more).toBe(100_000);
  }, 60_000);

  it('a 50-million-character key is cut, and redaction decides on its ends', () => {
    const long = 'x'.repeat(50_000_000);
    const capturer = new Capturer({ stringLimit: 10 });
    const { value } = capturer.capture({ [`a${long}`]: 1, [`b${long}_token`]: 'secret' });
    const keys = Object.keys(value as object);
    expect(keys.every((k) => k.length <= 11)).toBe(true);
    expect(Object.values(value as object)).toEqual([1, { $: 'redacted' }]);
    expect(new Redactor().matches(`password${long}`)).toBe(true);
    expect(new Redactor().matches(long)).toBe(false);
  });

  it('a redaction glob matches without backtracking', () => {
    expect(globMatches('*a*a*a*a*a*b', 'a'.repeat(130))).toBe(false);
    expect(globMatches('*a*a*a*a*a*b', `${'a'.repeat(130)}b`)).toBe(true);
    expect(globMatches('card?', 'cards')).toBe(true);
    expect(globMatches('card?', 'card')).toBe(false);
    expect(globMatches('*card*', 'creditcardnumber')).toBe(true);
    expect(new Redactor(['*a*a*a*a*a*b']).matches('a'.repeat(130))).toBe(false);
  });
});
