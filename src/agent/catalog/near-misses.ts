/**
 * What a pattern that matches nothing might have meant: loaded names close to it, by
 * containment or edit distance, for the "matches nothing" error's hint.
 */
import type { FunctionEntry, InternalSource, LoadedModule } from './entries.js';
import { loadedModules } from './modules.js';
import { exactBuiltinNames, internalSourcesFor } from './resolve.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

/** Up to `limit` loaded names close to what a pattern asked for (for "matches nothing"). */
export function nearMisses(moduleGlob: string, functionGlob: string, limit = 5): string[] {
  const modules = loadedModules(exactBuiltinNames([moduleGlob]));
  const wantFn = functionGlob.replace(/[*?]/g, '').toLowerCase();
  const wantMod = moduleGlob.replace(/[*?]/g, '').replace(/^node:/, '').toLowerCase();
  const scored: { name: string; score: number }[] = [];
  for (const module of modules) {
    const modScore = similarity(wantMod, module.ref.id.toLowerCase());
    if (module.ref.kind !== 'app' && modScore < 0.5) continue;
    const internal = modScore < 0.5 ? [] : internalSourcesFor(functionGlob).flatMap((source) => entriesOrNone(source, module));
    for (const entry of [...module.entries(), ...internal]) {
      const score = modScore + similarity(wantFn, entry.path.toLowerCase());
      if (score > 0.6) ArrayPrototypePush(scored, { name: `${module.ref.id}:${entry.path}`, score });
    }
  }
  return scored.sort((a, b) => b.score - a.score).slice(0, limit).map((s) => s.name);
}

function entriesOrNone(source: InternalSource, module: LoadedModule): FunctionEntry[] {
  try {
    return source.entries(module);
  } catch {
    return [];
  }
}

/** 1 for containment, else 1 - edit distance / length, on short strings. */
function similarity(want: string, have: string): number {
  if (want.length === 0) return 0.3;
  if (have.includes(want) || want.includes(have)) return 1;
  const a = want.slice(0, 40);
  const b = have.slice(-40);
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return 1 - row[b.length]! / Math.max(a.length, b.length);
}
