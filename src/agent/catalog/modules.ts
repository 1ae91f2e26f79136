/**
 * What is loaded in this process: the CommonJS cache, builtins (loaded on demand when a
 * pattern names one exactly), whatever other engines register (the preload engine adds
 * ES modules), and an ES main module nobody can patch (listed, with why).
 */
import { builtinModules } from 'node:module';
import { isOwnFile } from '../capture/stack.js';
import { builtinModule, cjsModule, type CjsModule } from '../engines/exports/modules.js';
import type { LoadedModule, ModuleSource } from './entries.js';
import { appRequire, moduleRefForFile } from './naming.js';
import { ArrayPrototypePush, SafeSet } from '../../safe/intrinsics.js';

/** Node's one CommonJS module cache (the same object whichever require it is read from). */
let cacheObject: Record<string, CjsModule | undefined> | undefined;

function requireCache(): Record<string, CjsModule | undefined> {
  return (cacheObject ??= appRequire().cache as unknown as Record<string, CjsModule | undefined>);
}

const publicBuiltins = builtinModules.filter((name) => !name.startsWith('_') && !name.includes('/internal'));

function loadedBuiltinNames(): string[] {
  const list = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
  const loaded = new SafeSet<string>();
  for (const entry of list) {
    const match = /^NativeModule (.+)$/.exec(entry);
    if (match) loaded.add(match[1]!);
  }
  return publicBuiltins.filter((name) => loaded.has(name));
}

// Shared by every copy of livetrace in the process (the ESM preload registers its
// modules from one build; a session of the other build must list them too: issue 12, item 9).
const SOURCES_KEY = Symbol.for('livetrace.module-sources.v1');
const extraSources: Set<ModuleSource> = ((globalThis as Record<symbol, unknown>)[SOURCES_KEY] as Set<ModuleSource> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[SOURCES_KEY] = new SafeSet<ModuleSource>());

export function addModuleSource(source: ModuleSource): () => void {
  extraSources.add(source);
  return () => extraSources.delete(source);
}

/** The main module, if it is ESM and no source knows it (listed, not patchable). */
function unpatchableMainEsm(known: Set<string>): LoadedModule | undefined {
  const main = process.argv[1];
  if (!main || !/\.(mjs|mts)$/.test(main)) return undefined;
  const ref = moduleRefForFile(main);
  if (known.has(ref.id)) return undefined;
  return {
    ref,
    file: main,
    entries: () => [],
    note: 'ES module: its exports are live bindings this engine cannot replace; start with --import livetrace/register, or use a probe',
  };
}

/**
 * The modules for files that just loaded, without enumerating everything loaded: a
 * session hears of every module as it loads, so a full scan each time would make start-up
 * quadratic in the number of modules. CJS files come straight from the cache; the rest
 * (ES modules the preload reports) from the other sources.
 */
export function modulesForFiles(files: readonly string[]): LoadedModule[] {
  const cache = requireCache();
  const out: LoadedModule[] = [];
  const others = new SafeSet<string>();
  for (const file of files) {
    const module = cache[file];
    if (module !== undefined && typeof module.filename === 'string') {
      if (!isOwnFile(module.filename)) ArrayPrototypePush(out, cjsModule(module));
    } else {
      others.add(moduleRefForFile(file).id);
    }
  }
  if (others.size === 0) return out;
  for (const source of extraSources) {
    for (const loaded of source.modules()) if (others.delete(loaded.ref.id)) ArrayPrototypePush(out, loaded);
  }
  return out;
}

/**
 * Modules to consider: all loaded CJS modules and sources' modules; builtins that are
 * loaded, plus any builtin named exactly by one of the given module names.
 */
export function loadedModules(exactBuiltins: readonly string[] = []): LoadedModule[] {
  const out: LoadedModule[] = [];
  const known = new SafeSet<string>();
  const cache = requireCache();
  for (const key of Object.keys(cache)) {
    const module = cache[key];
    if (module === undefined || typeof module.filename !== 'string' || isOwnFile(module.filename)) continue;
    const loaded = cjsModule(module);
    known.add(loaded.ref.id);
    ArrayPrototypePush(out, loaded);
  }
  for (const source of extraSources) {
    for (const loaded of source.modules()) {
      if (known.has(loaded.ref.id)) continue;
      known.add(loaded.ref.id);
      ArrayPrototypePush(out, loaded);
    }
  }
  const builtinNames = new SafeSet(loadedBuiltinNames());
  for (const name of exactBuiltins) {
    const bare = name.replace(/^node:/, '');
    if (publicBuiltins.includes(bare)) builtinNames.add(bare);
  }
  for (const name of builtinNames) {
    const loaded = builtinModule(name);
    if (loaded !== undefined) ArrayPrototypePush(out, loaded);
  }
  const mainEsm = unpatchableMainEsm(known);
  if (mainEsm !== undefined) ArrayPrototypePush(out, mainEsm);
  return out;
}
