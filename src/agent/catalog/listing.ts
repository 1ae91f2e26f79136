/**
 * What `livetrace ls` shows: modules and their functions with the engine that reaches each.
 *
 * Besides the exports, an app module lists its internal functions with their `~` names
 * (reached by probes only), at most MAX_INTERNAL per module: the functions a framework
 * holds its own references to are usually there. Copies of one module (one package
 * installed at two places) carry their file and their package's version, so they can be
 * told apart. A filter on a module alone lists a matching module even when it has no
 * function to show.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FunctionListing, ModuleListing } from '../../protocol/messages.js';
import type { ModuleRef } from '../../pattern/match/matcher.js';
import type { FunctionEntry, LoadedModule } from './entries.js';
import { loadedModules } from './modules.js';
import { allInternalSources } from './resolve.js';
import { ArrayPrototypePush, JSONParse, SafeMap, SafeSet } from '../../safe/intrinsics.js';

export type { FunctionListing, ModuleListing };

/** Internal functions listed per module; the rest are counted (`moreInternal`). */
export const MAX_INTERNAL = 100;

/** What a listing shows: a module test, a function test, and whether the filter names modules only. */
export interface ListingFilter {
  module(ref: ModuleRef): boolean;
  fn(path: string): boolean;
  /** The filter named modules only ('src/users', 'examples/**'): matching modules are shown whole. */
  moduleOnly: boolean;
  /** The function glob starts with `~`: internal functions of any module are wanted. */
  internal: boolean;
}

/** The listing, app modules first, then packages, then builtins, each by name. */
export function listFunctions(filter?: ListingFilter): ModuleListing[] {
  const out: ModuleListing[] = [];
  const files = new SafeMap<string, LoadedModule[]>();
  for (const module of loadedModules()) {
    if (filter !== undefined && !safe(() => filter.module(module.ref))) continue;
    const functions: FunctionListing[] = [];
    for (const entry of module.entries()) {
      if (filter !== undefined && !filter.moduleOnly && !safe(() => filter.fn(entry.path))) continue;
      ArrayPrototypePush(functions, listing(module, entry));
    }
    let moreInternal = 0;
    const wantInternal = filter === undefined || filter.moduleOnly ? module.ref.kind === 'app' : filter.internal;
    if (wantInternal) {
      // Bounded, unless the filter asks for internal functions by name.
      const bound = filter === undefined || filter.moduleOnly ? MAX_INTERNAL : Infinity;
      // `~findUser` when `findUser` is listed as an export: the same function, most likely.
      const exported = new SafeSet<string>();
      for (let i = 0; i < functions.length; i++) exported.add(functions[i]!.path);
      let listed = 0;
      for (const source of allInternalSources()) {
        for (const entry of source.list(module)) {
          if (filter !== undefined && !filter.moduleOnly && !safe(() => filter.fn(entry.path))) continue;
          if (bound !== Infinity && exported.has(entry.path.slice(1))) continue;
          if (listed++ >= bound) moreInternal++;
          else ArrayPrototypePush(functions, listing(module, entry));
        }
      }
    }
    if (filter !== undefined && !filter.moduleOnly && functions.length === 0) continue;
    const row: ModuleListing = { module: module.ref.id, kind: module.note !== undefined && module.ref.kind === 'app' ? 'esm' : module.ref.kind, functions };
    if (module.note !== undefined) row.note = module.note;
    if (moreInternal > 0) row.moreInternal = moreInternal;
    ArrayPrototypePush(out, row);
    const copies = files.get(row.module) ?? [];
    ArrayPrototypePush(copies, module);
    files.set(row.module, copies);
  }
  // Copies of one module: say which is which.
  // Rows come in the order of `files`' arrays: the nth row of a module is its nth copy.
  const taken = new SafeMap<string, number>();
  for (const row of out) {
    const copies = files.get(row.module)!;
    if (copies.length < 2) continue;
    const n = taken.get(row.module) ?? 0;
    taken.set(row.module, n + 1);
    const module = copies[n]!;
    if (module.file === undefined) continue;
    row.file = module.file;
    const version = packageVersion(module.file);
    if (version !== undefined) row.version = version;
  }
  return out.sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.module.localeCompare(b.module) || (a.file ?? '').localeCompare(b.file ?? ''));
}

function listing(module: LoadedModule, entry: FunctionEntry): FunctionListing {
  const row: FunctionListing = {
    path: entry.path,
    fn: `${module.ref.id}:${entry.path}`,
    kind: entry.kind,
    engine: entry.target?.engine ?? null,
  };
  if (entry.unpatchable !== undefined) row.reason = entry.unpatchable;
  if (entry.warning !== undefined) row.warning = entry.warning;
  return row;
}

function safe(test: () => boolean): boolean {
  try {
    return test();
  } catch {
    return false;
  }
}

/** The version in the package.json of the package that holds `file` (the nearest one under node_modules). */
function packageVersion(file: string): string | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const manifest = JSONParse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (typeof manifest.name === 'string' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // No manifest here: keep climbing.
    }
    if (/[\\/]node_modules$/.test(dirname(dir)) || /[\\/]node_modules[\\/]@[^\\/]+$/.test(dirname(dir))) return undefined;
  }
  return undefined;
}

function kindRank(kind: ModuleListing['kind']): number {
  return kind === 'app' || kind === 'esm' ? 0 : kind === 'package' ? 1 : 2;
}
