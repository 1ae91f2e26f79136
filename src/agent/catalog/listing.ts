/** What `livetrace ls` shows: modules and their functions with the engine that reaches each. */
import type { FunctionListing, ModuleListing } from '../../protocol/messages.js';
import type { ModuleRef } from '../../pattern/match/matcher.js';
import { loadedModules } from './modules.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

export type { FunctionListing, ModuleListing };

/** The listing, app modules first, then packages, then builtins, each by name. */
export function listFunctions(filter?: (ref: ModuleRef, path: string) => boolean): ModuleListing[] {
  const out: ModuleListing[] = [];
  for (const module of loadedModules()) {
    const functions: FunctionListing[] = [];
    for (const entry of module.entries()) {
      if (filter !== undefined && !filter(module.ref, entry.path)) continue;
      const listing: FunctionListing = {
        path: entry.path,
        fn: `${module.ref.id}:${entry.path}`,
        kind: entry.kind,
        engine: entry.target?.engine ?? null,
      };
      if (entry.unpatchable !== undefined) listing.reason = entry.unpatchable;
      if (entry.warning !== undefined) listing.warning = entry.warning;
      ArrayPrototypePush(functions, listing);
    }
    if (filter !== undefined && functions.length === 0) continue;
    const row: ModuleListing = { module: module.ref.id, kind: module.note !== undefined && module.ref.kind === 'app' ? 'esm' : module.ref.kind, functions };
    if (module.note !== undefined) row.note = module.note;
    ArrayPrototypePush(out, row);
  }
  return out.sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.module.localeCompare(b.module));
}

function kindRank(kind: ModuleListing['kind']): number {
  return kind === 'app' || kind === 'esm' ? 0 : kind === 'package' ? 1 : 2;
}
