/**
 * The exports engine: patches a function where a module's exports object holds it, for
 * CommonJS modules in the require cache and for builtins. It needs nothing installed
 * beforehand, so it is the engine of an attach; its blind spot is a caller that copied
 * the function out before the trace started (`const { f } = require('./m')`), which
 * every listing it makes warns about, with what would reach such callers.
 */
import { syncBuiltinESMExports } from 'node:module';
import { types } from 'node:util';
import type { ModuleRef } from '../../../pattern/match/matcher.js';
import type { FunctionEntry, LoadedModule } from '../../catalog/entries.js';
import { enumerateExports } from '../../catalog/exports-walk.js';
import { appRequire, moduleRefForFile } from '../../catalog/naming.js';

/** A module in Node's CommonJS cache. */
export interface CjsModule {
  id: string;
  filename: string;
  exports: unknown;
  /** The modules this one required (Node records every requirer's first and later requires). */
  children?: CjsModule[];
  loaded: boolean;
}

const DESTRUCTURED = 'callers that destructured this export before the trace started are not seen';
const DESTRUCTURED_BUILTIN =
  'callers that destructured this export from require() before the trace started are not seen (ESM imports are); use a probe';

/** What the preload engine pins (set once it is installed; shared by every copy of livetrace). */
interface PreloadReach {
  packages: boolean;
}

const PRELOAD_KEY = Symbol.for('livetrace.preload.reach.v1');

/** Called by the preload engine when it starts pinning CJS exports, so `ls` warnings can say why one was not. */
export function markPreloaded(reach: PreloadReach): void {
  (globalThis as Record<symbol, unknown>)[PRELOAD_KEY] = reach;
}

/**
 * Functions exported by modules the preload leaves alone (node_modules, unless
 * LIVETRACE_PRELOAD_PACKAGES=1), noted as those modules load. When an app module holds one
 * of them too (`Application.HttpError = require('http-errors').HttpError`), a wrapper at
 * the app module's place would make the two differ (issue 12, item 1): such places are
 * neither pinned nor patched; the function is traced where it is defined.
 */
const HELD_KEY = Symbol.for('livetrace.preload.held-elsewhere.v1');
const held: WeakMap<Function, string> = ((globalThis as Record<symbol, unknown>)[HELD_KEY] as WeakMap<Function, string> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[HELD_KEY] = new WeakMap<Function, string>());

/** Notes the functions a module the preload does not pin exports (top level, and statics of a function-valued module.exports). */
export function noteHeldElsewhere(exportsValue: unknown, filename: string): void {
  const note = (fn: unknown): void => {
    if (typeof fn === 'function' && !types.isProxy(fn) && !held.has(fn)) held.set(fn, filename);
  };
  const scan = (holder: unknown, deeper: boolean): void => {
    if ((typeof holder !== 'object' && typeof holder !== 'function') || holder === null || types.isProxy(holder)) return;
    for (const key of Reflect.ownKeys(holder)) {
      if (key === 'prototype' || key === 'constructor') continue;
      const desc = Reflect.getOwnPropertyDescriptor(holder, key);
      if (desc === undefined || !('value' in desc)) continue;
      note(desc.value);
      if (deeper && typeof desc.value === 'function') scan(desc.value, false);
    }
  };
  note(exportsValue);
  scan(exportsValue, typeof exportsValue === 'object');
}

/** The file of the unpinned module that exports `fn` too, if any. */
export function heldElsewhere(fn: unknown): string | undefined {
  return typeof fn === 'function' ? held.get(fn) : undefined;
}

function heldWhy(file: string): string {
  return `also exported by ${file}, which the preload leaves alone: a wrapper here would make the two differ; trace it there (LIVETRACE_PRELOAD_PACKAGES=1) or as a probe`;
}

/** Under the preload, places holding a function another (unpinned) module exports are listed, not patched. */
function withoutHeldElsewhere(entries: FunctionEntry[], self: string): FunctionEntry[] {
  if ((globalThis as Record<symbol, unknown>)[PRELOAD_KEY] === undefined) return entries;
  return entries.map((entry) => {
    const file = entry.target === undefined ? undefined : heldElsewhere(entry.target.read());
    return file === undefined || file === self ? entry : { path: entry.path, kind: entry.kind, unpatchable: heldWhy(file) };
  });
}

/** The warning for a CJS export the exports engine patches in place, and what would reach its destructured callers. */
function destructuredWarning(ref: ModuleRef): string {
  const preload = (globalThis as Record<symbol, unknown>)[PRELOAD_KEY] as PreloadReach | undefined;
  if (preload === undefined) return `${DESTRUCTURED}; use --import livetrace/register or a probe`;
  if (ref.kind === 'package' && !preload.packages) {
    return `${DESTRUCTURED}; the preload leaves node_modules alone unless LIVETRACE_PRELOAD_PACKAGES=1; or use a probe`;
  }
  return `${DESTRUCTURED}; the preload pins the exports of modules loaded after it, not members nested deeper; use a probe`;
}

/** Marks top-level exports the exports engine patches in place: a copy taken earlier keeps the original. */
function warnDestructured(entries: FunctionEntry[], holders: readonly unknown[], warning: string): FunctionEntry[] {
  for (const entry of entries) {
    if (entry.target?.engine === 'exports' && holders.includes(entry.target.holder)) entry.warning = warning;
  }
  return entries;
}

/** A CommonJS module: its exports, and `module.exports` itself when that is a function. */
export function cjsModule(module: CjsModule): LoadedModule {
  const ref = moduleRefForFile(module.filename);
  return {
    ref,
    file: module.filename,
    entries: () =>
      warnDestructured(
        withoutHeldElsewhere(enumerateExports(module.exports, 'exports', { defaultHolder: module, defaultKey: 'exports' }), module.filename),
        [module, module.exports],
        destructuredWarning(ref),
      ),
  };
}

/** A builtin by its bare name ('fs'); undefined when it cannot be loaded. */
export function builtinModule(name: string): LoadedModule | undefined {
  const get = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  let exportsValue: unknown;
  try {
    exportsValue = get !== undefined ? get(`node:${name}`) : appRequire()(`node:${name}`);
  } catch {
    return undefined;
  }
  if (exportsValue === undefined) return undefined;
  return {
    ref: { id: `node:${name}`, kind: 'builtin' },
    // Patching a builtin's CJS exports object is mirrored into its ESM namespace by syncBuiltinESMExports.
    entries: () => warnDestructured(enumerateExports(exportsValue, 'exports', { afterChange: syncBuiltinESMExports }), [exportsValue], DESTRUCTURED_BUILTIN),
  };
}
