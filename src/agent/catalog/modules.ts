/**
 * What is loaded in this process: the CommonJS cache, builtins (loaded on demand when a
 * pattern names one exactly), whatever other engines register (the preload engine adds
 * ES modules), and an ES main module nobody can patch (listed, with why).
 *
 * Never what only livetrace loaded: its own files (dist/, src/) and the packages it
 * requires (acorn, micromatch, pino, ...) are not the program's, and tracing them would
 * trace the tracer. A CommonJS module is the program's when the program reached it: the
 * modules nothing required (the main module, what an ES module imported, a preload)
 * outside livetrace's runtime dependencies, and from them everything they required
 * (`module.children` records every requirer), not through livetrace's files. So a
 * package both the program and livetrace use is listed, and livetrace's dependencies are
 * recognized wherever npm put them (hoisted into the app's node_modules too). Other
 * sources' modules (ES modules), and CommonJS modules nothing required (an ES module
 * imported them), are kept out by path: in one of livetrace's runtime dependencies
 * inside its own node_modules (not its devDependencies, which a checkout installs there
 * too and a program may load).
 */
import { builtinModules } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { isOwnFile } from '../capture/stack.js';
import { builtinModule, cjsModule, type CjsModule } from '../engines/exports/modules.js';
import type { LoadedModule, ModuleSource } from './entries.js';
import { appRequire, moduleRefForFile } from './naming.js';
import { livetraceRoot } from '../../protocol/install.js';
import { ArrayPrototypePush, JSONParse, SafeSet } from '../../safe/intrinsics.js';

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

/**
 * The package directories (with a trailing separator) of livetrace's runtime dependencies
 * inside its own node_modules: its package.json's `dependencies`, and theirs, each looked
 * up where Node would find it from its requirer, not above livetrace's root. Only those:
 * in a checkout, the same node_modules also holds devDependencies (express, fastify) that
 * a program may load, and those are the program's.
 */
let ownPackages: Set<string> | undefined;

function ownDependencyDirs(): Set<string> {
  if (ownPackages !== undefined) return ownPackages;
  const dirs = new SafeSet<string>();
  ownPackages = dirs;
  const root = livetraceRoot();
  if (root === undefined) return dirs;
  const queue: string[] = [root];
  while (queue.length > 0) {
    const dir = queue[queue.length - 1]!;
    queue.length--;
    for (const name of dependencyNames(dir)) {
      // Nearest node_modules first, up to livetrace's own.
      for (let at = dir; ; at = dirname(at)) {
        const candidate = join(at, 'node_modules', name);
        if (existsSync(join(candidate, 'package.json'))) {
          if (!dirs.has(candidate + sep)) {
            dirs.add(candidate + sep);
            ArrayPrototypePush(queue, candidate);
          }
          break;
        }
        if (at === root || dirname(at) === at) break;
      }
    }
  }
  return dirs;
}

function dependencyNames(dir: string): string[] {
  try {
    const manifest = JSONParse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: unknown; optionalDependencies?: unknown };
    const names: string[] = [];
    for (const field of [manifest.dependencies, manifest.optionalDependencies]) {
      if (field !== null && typeof field === 'object') for (const name of Object.keys(field)) ArrayPrototypePush(names, name);
    }
    return names;
  } catch {
    return [];
  }
}

/** The package directory a file is in: up to the last `node_modules/<name>` (or `@scope/name`). */
function packageDirOf(file: string): string | undefined {
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at === -1) return undefined;
  const rest = file.slice(at + marker.length);
  const parts = rest.split(sep);
  const length = parts[0]!.startsWith('@') ? 2 : 1;
  if (parts.length <= length) return undefined;
  return file.slice(0, at + marker.length) + parts.slice(0, length).join(sep) + sep;
}

/** In one of livetrace's runtime dependencies, inside its own node_modules. */
function inOwnDependencies(file: string): boolean {
  const dir = packageDirOf(file);
  return dir !== undefined && ownDependencyDirs().has(dir);
}

/** The program's CommonJS files (see the essay), recomputed when the cache grows. */
let programFiles: { size: number; files: Set<string> } | undefined;

function programReached(cache: Record<string, CjsModule | undefined>): Set<string> {
  const keys = Object.keys(cache);
  if (programFiles !== undefined && programFiles.size === keys.length) return programFiles.files;
  const required = new SafeSet<CjsModule>();
  for (const key of keys) {
    const children = cache[key]?.children;
    if (Array.isArray(children)) for (let i = 0; i < children.length; i++) required.add(children[i]!);
  }
  const files = new SafeSet<string>();
  const queue: CjsModule[] = [];
  for (const key of keys) {
    const module = cache[key];
    if (module === undefined || typeof module.filename !== 'string') continue;
    if (required.has(module) || isOwnFile(module.filename) || inOwnDependencies(module.filename)) continue;
    ArrayPrototypePush(queue, module);
  }
  while (queue.length > 0) {
    const module = queue[queue.length - 1]!;
    queue.length--;
    if (files.has(module.filename) || isOwnFile(module.filename)) continue;
    files.add(module.filename);
    const children = module.children;
    if (Array.isArray(children)) {
      for (let i = 0; i < children.length; i++) {
        const child = children[i];
        if (typeof child?.filename === 'string') ArrayPrototypePush(queue, child);
      }
    }
  }
  programFiles = { size: keys.length, files };
  return files;
}

/** Livetrace's own file, or a module only livetrace loaded. */
function notTheProgram(file: string, cache: Record<string, CjsModule | undefined>): boolean {
  if (isOwnFile(file)) return true;
  return cache[file] !== undefined ? !programReached(cache).has(file) : inOwnDependencies(file);
}

// Shared by every copy of livetrace in the process (the ESM preload registers its
// modules from one build; a session of the other build must list them too: issue 12, item 9).
const SOURCES_KEY = Symbol.for('livetrace.module-sources.v1');
const extraSources: Set<ModuleSource> = ((globalThis as Record<symbol, unknown>)[SOURCES_KEY] as Set<ModuleSource> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[SOURCES_KEY] = new SafeSet<ModuleSource>());

/** The files in the CommonJS cache, livetrace's own left out (`livetrace info` counts them). */
export function cjsCacheFiles(): string[] {
  return Object.keys(requireCache()).filter((file) => !isOwnFile(file));
}

/**
 * Changes when the CommonJS cache gains or loses a file: the count and the file added last
 * (a new key goes to the end). Far cheaper than cjsCacheFiles, so `info` recounts only then.
 */
export function cjsCacheStamp(): string {
  const keys = Object.keys(requireCache());
  return `${keys.length}\0${keys[keys.length - 1] ?? ''}`;
}

/** The modules other engines know (the preload's ES modules), without the CommonJS cache or builtins. */
export function sourceModules(options: { cheap?: boolean } = {}): LoadedModule[] {
  const out: LoadedModule[] = [];
  for (const source of extraSources) {
    const list = options.cheap === true && source.known !== undefined ? source.known() : source.modules();
    for (const loaded of list) if (loaded.file === undefined || !inOwnDependencies(loaded.file)) ArrayPrototypePush(out, loaded);
  }
  return out;
}

/** How many sources add modules (the ES module scan steps aside when the preload is one). */
export function moduleSourceCount(): number {
  return extraSources.size;
}

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
      if (!notTheProgram(module.filename, cache)) ArrayPrototypePush(out, cjsModule(module));
    } else {
      others.add(moduleRefForFile(file).id);
    }
  }
  if (others.size === 0) return out;
  for (const source of extraSources) {
    for (const loaded of source.modules()) {
      if (others.delete(loaded.ref.id) && (loaded.file === undefined || !inOwnDependencies(loaded.file))) ArrayPrototypePush(out, loaded);
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
  const known = new SafeSet<string>();
  const cache = requireCache();
  for (const key of Object.keys(cache)) {
    const module = cache[key];
    if (module === undefined || typeof module.filename !== 'string' || notTheProgram(module.filename, cache)) continue;
    const loaded = cjsModule(module);
    known.add(loaded.ref.id);
    ArrayPrototypePush(out, loaded);
  }
  for (const source of extraSources) {
    for (const loaded of source.modules()) {
      if (known.has(loaded.ref.id) || (loaded.file !== undefined && inOwnDependencies(loaded.file))) continue;
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
