/**
 * Runs test/fixtures/reach/harness.mjs (modules loaded and called under a trace) as a
 * real process, with or without the preload, and returns what the trace saw and what
 * `ls` listed. Processes and socket directories are tracked by fixture-app.ts: call its
 * `cleanup()` in afterEach.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { launchApp, repoRoot, type Preload } from './fixture-app.js';

export const reachDir = join(repoRoot, 'test/fixtures/reach');
const harness = join(reachDir, 'harness.mjs');

export interface SeenCall {
  fn: string;
  engine: string;
  args: unknown[];
}

export interface Listed {
  fn: string;
  engine: string | null;
  warning: string | null;
}

export interface ReachRun {
  calls: SeenCall[];
  listed: Listed[];
  /** Stdout lines other than the harness's own. */
  output: string[];
  stderr: string;
}

/** The build the preload loaded: ESM for --import, CommonJS for --require. */
function flavourOf(preload: Preload): 'esm' | 'cjs' {
  return preload === 'require' || preload === 'node-options-require' ? 'cjs' : 'esm';
}

/**
 * Loads `modules` (paths relative to the reach fixtures, or absolute) and calls their
 * run(), with a session on `patterns` started `before` loading them (as `livetrace run`)
 * or `after` (as an attach, once callers have taken their references).
 */
export async function runReach(
  preload: Preload,
  when: 'before' | 'after',
  patterns: string[],
  modules: string[],
  env: Record<string, string> = {},
): Promise<ReachRun> {
  const app = await launchApp([harness, flavourOf(preload), when, JSON.stringify(patterns), ...modules], {
    preload,
    ready: null,
    env,
  });
  const { match } = await app.waitForLine(/^REACH (.*)$/);
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  const ls = app.lines.find((line) => line.startsWith('LS '));
  return {
    calls: JSON.parse(match[1]!) as SeenCall[],
    listed: JSON.parse(ls?.slice(3) ?? '[]') as Listed[],
    output: app.lines.filter((line) => !line.startsWith('LS ') && !line.startsWith('REACH ')),
    stderr: app.stderr(),
  };
}

/** Calls as [fn, ...args], for exact comparisons. */
export function callsOf(run: ReachRun): unknown[][] {
  return run.calls.map((call) => [call.fn, ...call.args]);
}

/** A call an identity fixture recorded (test/fixtures/reach/identity/recorded-session.mjs). */
export interface RecordedCall {
  fn: string;
  id: number;
  parent: number | null;
  outcome: string;
  args: unknown[];
  value?: unknown;
  error?: { message?: string };
}

/**
 * Runs an identity fixture script (test/fixtures/reach/identity) that prints one
 * `<label> <json>` line of what it observed, a `CALL <json>` line per traced call, then
 * `DONE`; it must exit 0 with an empty stderr. Returns the observed text and the calls.
 */
export async function runIdentityScript(
  script: string,
  flavour: string,
  label: string,
  options: { preload: Preload; env?: Record<string, string> },
): Promise<{ observed: string; calls: RecordedCall[] }> {
  const app = await launchApp([join(reachDir, 'identity', script), flavour], { preload: options.preload, ready: null, env: options.env ?? {} });
  await app.waitForLine(/^DONE$/);
  const exit = await app.exited;
  expect(exit.code, app.stderr()).toBe(0);
  expect(app.stderr()).toBe('');
  const observed = app.lines.find((line) => line.startsWith(`${label} `))!.slice(label.length + 1);
  const calls = app.lines.filter((line) => line.startsWith('CALL ')).map((line) => JSON.parse(line.slice(5)) as RecordedCall);
  return { observed, calls };
}
