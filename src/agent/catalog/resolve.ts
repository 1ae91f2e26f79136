/**
 * Resolving patterns against what is loaded: which functions each matcher names, from
 * the modules' exports and, for patterns that ask for them, from the internal sources
 * (the probe engine's functions inside a module's source).
 */
import type { Matcher, ModuleRef } from '../../pattern/match/matcher.js';
import type { FunctionEntry, InternalSource, LoadedModule } from './entries.js';
import { loadedModules } from './modules.js';
import { ArrayPrototypePush, SafeSet } from '../../safe/intrinsics.js';

export interface Candidate {
  module: LoadedModule;
  entry: FunctionEntry;
  /** 'src/users.js:findUser' */
  fn: string;
  matchers: Matcher[];
}

const internalSources = new SafeSet<InternalSource>();

export function addInternalSource(source: InternalSource): () => void {
  internalSources.add(source);
  return () => internalSources.delete(source);
}

/** Every internal source (for listings). */
export function allInternalSources(): InternalSource[] {
  return [...internalSources];
}

/** The internal sources that serve a function glob. */
export function internalSourcesFor(functionGlob: string): InternalSource[] {
  return [...internalSources].filter((source) => source.wants(functionGlob));
}

/** Module names in patterns that could name a builtin exactly ('fs', 'node:fs'). */
export function exactBuiltinNames(moduleGlobs: readonly string[]): string[] {
  return moduleGlobs.filter((g) => /^(node:)?[a-z_][a-z0-9_]*$/.test(g));
}

/** Functions matched by any of the matchers, grouped per function. */
export function resolve(matchers: readonly Matcher[], moduleGlobs: readonly string[] = [], modules?: LoadedModule[]): Candidate[] {
  const list = modules ?? loadedModules(exactBuiltinNames(moduleGlobs));
  const out: Candidate[] = [];
  for (const module of list) {
    const interested = matchers.filter((m) => safeMatchModule(m, module.ref));
    if (interested.length === 0) continue;
    for (const entry of module.entries()) {
      const ms = interested.filter((m) => safeMatchFunction(m, entry.path));
      if (ms.length > 0) ArrayPrototypePush(out, { module, entry, fn: `${module.ref.id}:${entry.path}`, matchers: ms });
    }
    for (const source of internalSources) {
      const wanting = interested.filter((m) => source.wants(m.functionGlob));
      if (wanting.length === 0) continue;
      for (const entry of source.entries(module)) {
        const ms = wanting.filter((m) => safeMatchFunction(m, entry.path));
        if (ms.length > 0) ArrayPrototypePush(out, { module, entry, fn: `${module.ref.id}:${entry.path}`, matchers: ms });
      }
    }
  }
  return out;
}

function safeMatchModule(m: Matcher, ref: ModuleRef): boolean {
  try {
    return m.matchModule(ref);
  } catch {
    return false;
  }
}

function safeMatchFunction(m: Matcher, path: string): boolean {
  try {
    return m.matchFunction(path);
  } catch {
    return false;
  }
}
