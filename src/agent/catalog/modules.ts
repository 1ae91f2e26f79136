/**
 * What is loaded in this process: the CommonJS cache, builtins (loaded on demand when a
 * pattern names one exactly), whatever other engines register (the preload engine adds
 * ES modules), and an ES main module nobody can patch (listed, with why).
 *
 * Never what only livetrace loaded: its own files (dist/, src/) and the packages it
 * requires (acorn, micromatch, pino, ...) are not the program's, and tracing them would
 * trace the tracer. A CommonJS module is the program's when the program reached it: the
 * modules nothing required (the main module, what an ES module imported, a preload)
 * outside livetrace's own node_modules, and from them everything they required
 * (`module.children` records every requirer), not through livetrace's files. So a
 * package both the program and livetrace use is listed, and livetrace's dependencies are
 * recognized wherever npm put them (hoisted into the app's node_modules too). Other
 * sources' modules (ES modules) are kept out by path: under livetrace's node_modules.
 */
import { builtinModules } from 'node:module';
import { join, sep } from 'node:path';
import { isOwnFile } from '../capture/stack.js';
import { builtinModule, cjsModule, type CjsModule } from '../engines/exports/modules.js';
import type { LoadedModule, ModuleSource } from './entries.js';
import { appRequire, moduleRefForFile } from './naming.js';
import { livetraceRoot } from '../../protocol/install.js';

/** Node's one CommonJS module cache (the same object whichever require it is read from). */
let cacheObject: Record<string, CjsModule | undefined> | undefined;

function requireCache(): Record<string, CjsModule | undefined> {
  return (cacheObject ??= appRequire().cache as unknown as Record<string, CjsModule | undefined>);
}

const publicBuiltins = builtinModules.filter((name) => !name.startsWith('_') && !name.includes('/internal'));

function loadedBuiltinNames(): string[] {
  const list = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
  const loaded = new Set<string>();
  for (const entry of list) {
    const match = /^NativeModule (.+)$/.exec(entry);
    if (match) loaded.add(match[1]!);
  }
  return publicBuiltins.filter((name) => loaded.has(name));
}

const OWN_DEPENDENCIES: string | undefined = (() => {
  const root = livetraceRoot();
  return root === undefined ? undefined : join(root, 'node_modules') + sep;
})();

/** Under livetrace's own node_modules (its dependencies, when npm did not hoist them). */
function inOwnDependencies(file: string): boolean {
  return OWN_DEPENDENCIES !== undefined && file.startsWith(OWN_DEPENDENCIES);
}

/** The program's CommonJS files (see the essay), recomputed when the cache grows. */
let programFiles: { size: number; files: Set<string> } | undefined;

function programReached(cache: Record<string, CjsModule | undefined>): Set<string> {
  const keys = Object.keys(cache);
  if (programFiles !== undefined && programFiles.size === keys.length) return programFiles.files;
  const required = new Set<CjsModule>();
  for (const key of keys) {
    const children = cache[key]?.children;
    if (Array.isArray(children)) for (const child of children) required.add(child);
  }
  const files = new Set<string>();
  const queue: CjsModule[] = [];
  for (const key of keys) {
    const module = cache[key];
    if (module === undefined || typeof module.filename !== 'string') continue;
    if (required.has(module) || isOwnFile(module.filename) || inOwnDependencies(module.filename)) continue;
    queue.push(module);
  }
  while (queue.length > 0) {
    const module = queue.pop()!;
    if (files.has(module.filename) || isOwnFile(module.filename)) continue;
    files.add(module.filename);
    const children = module.children;
    if (Array.isArray(children)) for (const child of children) if (typeof child?.filename === 'string') queue.push(child);
  }
  programFiles = { size: keys.length, files };
  return files;
}

/** Livetrace's own file, or a module only livetrace loaded. */
function notTheProgram(file: string, cache: Record<string, CjsModule | undefined>): boolean {
  if (isOwnFile(file)) return true;
  return cache[file] !== undefined ? !programReached(cache).has(file) : inOwnDependencies(file);
}

const extraSources = new Set<ModuleSource>();

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
  const others = new Set<string>();
  for (const file of files) {
    const module = cache[file];
    if (module !== undefined && typeof module.filename === 'string') {
      if (!notTheProgram(module.filename, cache)) out.push(cjsModule(module));
    } else {
      others.add(moduleRefForFile(file).id);
    }
  }
  if (others.size === 0) return out;
  for (const source of extraSources) {
    for (const loaded of source.modules()) {
      if (others.delete(loaded.ref.id) && (loaded.file === undefined || !inOwnDependencies(loaded.file))) out.push(loaded);
    }
  }
  return out;
}

/**
 * Modules to consider: all loaded CJS modules and sources' modules; builtins that are
 * loaded, plus any builtin named exactly by one of the given module names.
 */
export function loadedModules(exactBuiltins: readonly string[] = []): LoadedModule[] {
  const out: LoadedModule[] = [];
  const known = new Set<string>();
  const cache = requireCache();
  for (const key of Object.keys(cache)) {
    const module = cache[key];
    if (module === undefined || typeof module.filename !== 'string' || notTheProgram(module.filename, cache)) continue;
    const loaded = cjsModule(module);
    known.add(loaded.ref.id);
    out.push(loaded);
  }
  for (const source of extraSources) {
    for (const loaded of source.modules()) {
      if (known.has(loaded.ref.id) || (loaded.file !== undefined && inOwnDependencies(loaded.file))) continue;
      known.add(loaded.ref.id);
      out.push(loaded);
    }
  }
  const builtinNames = new Set(loadedBuiltinNames());
  for (const name of exactBuiltins) {
    const bare = name.replace(/^node:/, '');
    if (publicBuiltins.includes(bare)) builtinNames.add(bare);
  }
  for (const name of builtinNames) {
    const loaded = builtinModule(name);
    if (loaded !== undefined) out.push(loaded);
  }
  const mainEsm = unpatchableMainEsm(known);
  if (mainEsm !== undefined) out.push(mainEsm);
  return out;
}
