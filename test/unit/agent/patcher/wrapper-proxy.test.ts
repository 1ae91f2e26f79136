/**
 * The Proxy wrapper's `apply` trap (wrapper-proxy.ts) calls the original with its argument
 * array spread into a direct call when the caller passed as many arguments as the
 * original declares, and through Reflect.apply otherwise: either way the original sees the
 * very arguments, their count and `this` (a traced call here; the idle and rejected paths
 * run the same call text).
 */
import { describe, expect, it } from 'vitest';
import { originalOf, patch } from './recording-hook.js';

describe('the Proxy wrapper passes the very arguments on', () => {
  for (const arity of [0, 1, 2, 4, 5]) {
    it(`an async original of ${arity} parameters, called with fewer, as many and more arguments`, async () => {
      const original = originalOf(arity, 'async');
      const holder = { f: original };
      const { hook, unpatch } = patch(holder, 'f');
      expect(holder.f).not.toBe(original);
      expect(holder.f.length).toBe(arity);
      for (let n = 0; n <= arity + 2; n++) {
        const args = Array.from({ length: n }, (_, i) => ({ i }));
        const result = await holder.f.apply(holder, args);
        expect(result.count).toBe(n);
        expect(result.args.every((a, i) => a === args[i])).toBe(true);
        expect(result.self).toBe(holder);
      }
      expect(hook.entered).toBe(arity + 3);
      unpatch();
    });
  }
});
