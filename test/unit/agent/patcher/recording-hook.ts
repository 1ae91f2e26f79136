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
