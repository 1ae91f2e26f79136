/**
 * The agent-side policy of a fleet member (LIVETRACE_FLEET_POLICY): what operators reaching
 * this process through Redis may do, whatever they ask. JSON, inline or in a file:
 *
 *   {"modules": ["src/**", "lib/*"], "values": false, "maxSessionMs": 60000}
 *
 * - modules: globs (micromatch, as module globs in patterns) of the modules whose functions
 *   may be traced; absent or null: any. Checked against what a session actually matched.
 * - values: whether captured values (arguments, this, results, errors) may leave the host;
 *   default true. When false, records go out with their values removed.
 * - maxSessionMs: the longest session; a longer `for` is cut to it. Default: none beyond
 *   the agent's own limits.
 *
 * A policy that cannot be read refuses everything (modules: []): a typo must not open the
 * process wider than meant.
 */
import { readFileSync } from 'node:fs';
import * as micromatchModule from 'micromatch';
import type { SessionRecord, StartedRecord } from '../protocol/events.js';
import { resolveOptions, type TraceOptions } from '../protocol/options.js';
import type { Value } from '../protocol/value.js';

type Micromatch = typeof micromatchModule;
// ESM sees a CommonJS module's exports as `default`; the CommonJS build gets them directly.
const micromatch: Micromatch = (micromatchModule as unknown as { default?: Micromatch }).default ?? micromatchModule;

export interface FleetPolicy {
  modules: string[] | null;
  values: boolean;
  maxSessionMs: number | null;
  /** Why the policy given could not be read (then it refuses every module). */
  problem?: string;
}

export function parsePolicy(text: string | undefined): FleetPolicy {
  if (text === undefined || text.trim() === '') return { modules: null, values: true, maxSessionMs: null };
  try {
    const source = text.trim().startsWith('{') ? text : readFileSync(text.trim(), 'utf8');
    const raw = JSON.parse(source) as Record<string, unknown>;
    const modules = raw.modules === undefined || raw.modules === null ? null : (raw.modules as unknown[]).map((m) => String(m));
    const maxSessionMs = raw.maxSessionMs === undefined || raw.maxSessionMs === null ? null : Number(raw.maxSessionMs);
    if (maxSessionMs !== null && !(maxSessionMs > 0)) throw new Error(`maxSessionMs must be a positive number of ms, not ${String(raw.maxSessionMs)}`);
    return { modules, values: raw.values !== false, maxSessionMs };
  } catch (error) {
    return { modules: [], values: false, maxSessionMs: null, problem: (error as Error).message };
  }
}

/** A matched module ('lib/work.cjs', 'express/lib/router/index.js', 'node:fs') against the allowed globs. */
export function moduleAllowed(module: string, globs: string[]): boolean {
  const bare = module.replace(/\.(?:[cm]?[jt]s|[jt]sx)$/, '');
  return globs.some((glob) => micromatch.isMatch(module, glob, { dot: true }) || micromatch.isMatch(bare, glob, { dot: true }));
}

/** The options cut to the policy's longest session. */
export function boundedOptions(policy: FleetPolicy, requested: TraceOptions): TraceOptions {
  const options: TraceOptions = { ...requested };
  const max = policy.maxSessionMs;
  if (max !== null) {
    const forMs = resolveOptions(options).forMs;
    if (forMs > max) options.for = max;
  }
  return options;
}

/** Why a started session goes beyond the policy's modules, or undefined when it does not. */
export function outsidePolicy(policy: FleetPolicy, started: StartedRecord): string | undefined {
  const modules = policy.modules;
  if (modules === null) return undefined;
  const denied = [...new Set(started.matched.map((m) => m.module))].filter((module) => !moduleAllowed(module, modules));
  if (denied.length === 0) return undefined;
  return `this agent's policy does not allow tracing ${denied.slice(0, 3).join(', ')}${denied.length > 3 ? ', ...' : ''} (allowed: ${modules.join(', ')})`;
}

/** A value the policy keeps on the host shows as redacted, which every renderer knows. */
const WITHHELD: Value = { $: 'redacted' };

/** A record without captured values, for a policy that keeps them on the host. */
export function withoutValues(record: SessionRecord): SessionRecord {
  if (record.type !== 'call') return record;
  const out = { ...record, args: record.args.map(() => WITHHELD), valuesWithheld: true };
  if (out.this !== undefined) out.this = WITHHELD;
  if (out.value !== undefined) out.value = WITHHELD;
  if (out.error !== undefined) out.error = WITHHELD;
  return out;
}
