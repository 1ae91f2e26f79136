/**
 * The probe harness (test/fixtures/probes/harness.mjs) run once under a trace: it prints
 * tagged lines (STARTED, CALLS, RUN-MS, DEBUGGER-AFTER, ...) that the probe tests read.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CallEvent } from '../../src/protocol/events.js';
import { launchApp, repoRoot, type RunningApp } from './fixture-app.js';

export const harness = join(repoRoot, 'test/fixtures/probes/harness.mjs');

export interface Run {
  app: RunningApp;
  line(tag: string): string | undefined;
  json<T>(tag: string): T;
  calls: CallEvent[];
}

export async function runHarness(patterns: string[], options: object = {}, scenario = 'run', env: Record<string, string> = {}): Promise<Run> {
  const app = await launchApp([harness, JSON.stringify(patterns), JSON.stringify(options), scenario], { preload: 'none', ready: null, env });
  await app.waitForLine(/^(PROBES-ACTIVE|ERROR) /, 15_000);
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  const line = (tag: string): string | undefined => app.lines.find((l) => l.startsWith(`${tag} `))?.slice(tag.length + 1);
  const json = <T>(tag: string): T => JSON.parse(line(tag) ?? 'null') as T;
  return { app, line, json, calls: json<CallEvent[] | null>('CALLS') ?? [] };
}

