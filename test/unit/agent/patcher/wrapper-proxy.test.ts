/**
 * The Proxy wrapper's `apply` trap (wrapper-proxy.ts) calls the original with its argument
 * array spread into a direct call when the caller passed as many arguments as the
 * original declares, and through Reflect.apply otherwise: either way the original sees the
 * very arguments, their count and `this`, idle, rejected by the pre-test, and traced.
 */
import { describe, expect, it } from 'vitest';
import { addHook, removeHook, siteFor, type Site } from '../../../../src/agent/patcher/site.js';
import { propertyTarget } from '../../../../src/agent/engines/exports/target.js';
import { RecordingHook } from './recording-hook.js';

function siteOf(holder: object, key: string): Site {
  const site = siteFor(propertyTarget(holder, key));
  if (typeof site === 'string') throw new Error(site);
  return site;
}

describe('the Proxy wrapper passes the very arguments on', () => {
  const seen = (...args: unknown[]): { count: number; args: unknown[] } => ({ count: args.length, args });
  for (const arity of [0, 1, 2, 4, 5]) {
    it(`an async original of ${arity} parameters, called with fewer, as many and more arguments`, async () => {
      const names = Array.from({ length: arity }, (_, i) => `p${i}`);
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      const original = new Function('seen', `return async function f(${names.join(', ')}) { 'use strict'; return { self: this, ...seen(...arguments) }; }`)(seen) as (
        ...args: unknown[]
      ) => Promise<{ self: unknown; count: number; args: unknown[] }>;
      const holder = { f: original };
      const site = siteOf(holder, 'f');
      const hook = new RecordingHook();
      expect(addHook(site, hook)).toBe(true);
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
      removeHook(site, hook);
    });
  }
});
