// Shared by the patcher's unit tests: a hook that takes every call, and a way to patch a place with it.
import { expect } from 'vitest';
import type { Ending, Hook } from '../../../../src/agent/patcher/dispatch.js';
import { addHook, removeHook, siteFor, type Site } from '../../../../src/agent/patcher/site.js';
import { propertyTarget } from '../../../../src/agent/engines/exports/target.js';

/** A hook that matches every call and records what the site told it. */
export class RecordingHook implements Hook {
  readonly sessionKey = {};
  entered = 0;
  endings: Ending[] = [];
  settled: { rejected: boolean; value: unknown }[] = [];
  enter(): object {
    this.entered++;
    return { id: this.entered };
  }
  exit(_token: object, threw: boolean, pending: boolean, value: unknown, start: number, end: number): void {
    this.endings.push({ threw, pending, value, start, end });
  }
  settle(_token: object, rejected: boolean, value: unknown): void {
    this.settled.push({ rejected, value });
  }
}

export function patch(holder: object, key: string): { site: Site; hook: RecordingHook; unpatch: () => void } {
  const site = siteFor(propertyTarget(holder, key));
  if (typeof site === 'string') throw new Error(site);
  const hook = new RecordingHook();
  expect(addHook(site, hook)).toBe(true);
  return { site, hook, unpatch: () => removeHook(site, hook) };
}

/** What an original made by `originalOf` hands back: the `this` and the very arguments it got. */
export interface Seen {
  self: unknown;
  count: number;
  args: unknown[];
}

const seen = (...args: unknown[]): { count: number; args: unknown[] } => ({ count: args.length, args });

/**
 * A strict function (or async function) of `arity` named parameters that returns what it
 * was called with: made from text, so its `length` and parameter list are real ones (the
 * wrappers specialise on them).
 */
export function originalOf(arity: number, kind: 'sync'): (...args: unknown[]) => Seen;
export function originalOf(arity: number, kind: 'async'): (...args: unknown[]) => Promise<Seen>;
export function originalOf(arity: number, kind: 'sync' | 'async'): (...args: unknown[]) => Seen | Promise<Seen> {
  const names = Array.from({ length: arity }, (_, i) => `p${i}`);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('seen', `return ${kind === 'async' ? 'async ' : ''}function f(${names.join(', ')}) { 'use strict'; return { self: this, ...seen(...arguments) }; }`)(seen) as (
    ...args: unknown[]
  ) => Seen;
}
