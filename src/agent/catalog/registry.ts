/**
 * The registry: what is loaded in this process and which functions in it can be traced.
 *
 * Modules come from sources: the CommonJS cache (this module), builtins (loaded on
 * demand when a pattern names them), and whatever other engines register (the preload
 * engine adds ESM modules). Each module is named as the user names it in patterns: a
 * path relative to the app root for the app's own files, `<package>/<path>` inside
 * node_modules, `node:<name>` for builtins.
 *
 * Enumerating never runs user code: every read goes through own property descriptors,
 * an accessor is listed (as not patchable) without being called, and a Proxy is never
 * looked into. The walk is bounded: nested plain objects two levels down, a class's
 * statics and prototype methods, nothing else.
 */
import { existsSync } from 'node:fs';
import { builtinModules, createRequire, syncBuiltinESMExports } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { types } from 'node:util';
import type { Engine } from '../../protocol/events.js';
import type { FunctionKind, FunctionListing, ModuleListing } from '../../protocol/messages.js';

export type { FunctionListing, ModuleListing };
import type { Matcher, ModuleRef } from '../../pattern/match/matcher.js';
import { siteOfWrapper, type PatchTarget } from '../patcher/site.js';
import { isOwnFile } from '../capture/stack.js';

/** One traceable (or listed but not patchable) function. */
export interface FunctionEntry {
  /** 'findUser', 'db.users.find', 'UserRepo#save', 'UserRepo.create', 'default' */
  path: string;
  kind: FunctionKind;
  /** Where to patch it, when it can be patched. */
  target?: PatchTarget;
  /** Why it can't be patched by a wrapper. */
  unpatchable?: string;
  /** Callers the engine may miss although it can patch the function (shown by `ls`). */
  warning?: string;
}

export interface LoadedModule {
  ref: ModuleRef;
  /** Absolute file name, when there is one. */
  file?: string;
  entries(): FunctionEntry[];
  /** Said about the whole module in listings (e.g. why an ESM module can't be patched). */
  note?: string;
}

/** Other engines contribute modules (ESM through the preload hooks). */
export interface ModuleSource {
  modules(): Iterable<LoadedModule>;
}


const { getOwnPropertyDescriptor, ownKeys, getPrototypeOf } = Reflect;
const isProxy = types.isProxy;
const objectPrototype = Object.prototype;
const fnToString = Function.prototype.toString;

// ---------------------------------------------------------------------------------------
// Naming modules

let cachedRoot: string | undefined;

/** The app root: the folder of the nearest package.json above the main module, else cwd. */
export function appRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  const main = process.argv[1];
  let dir = main ? dirname(main) : process.cwd();
  for (;;) {
    if (!dir.split(sep).includes('node_modules') && existsSync(join(dir, 'package.json'))) {
      return (cachedRoot = dir);
    }
    const up = dirname(dir);
    if (up === dir) return (cachedRoot = process.cwd());
    dir = up;
  }
}

/** For tests: forget the cached app root. */
export function resetAppRoot(root?: string): void {
  cachedRoot = root;
}

const entryCache = new Map<string, string | null>();

function packageEntryFile(packageName: string): string | null {
  let file = entryCache.get(packageName);
  if (file === undefined) {
    try {
      file = createRequire(join(appRoot(), 'noop.js')).resolve(packageName);
    } catch {
      file = null;
    }
    entryCache.set(packageName, file);
  }
  return file;
}

export function moduleRefForFile(file: string): ModuleRef {
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at !== -1) {
    const inner = file.slice(at + marker.length).split(sep);
    const packageName = inner[0]?.startsWith('@') ? `${inner[0]}/${inner[1]}` : (inner[0] ?? '');
    return {
      id: inner.join('/'),
      kind: 'package',
      packageName,
      packageEntry: packageEntryFile(packageName) === file,
    };
  }
  return { id: relative(appRoot(), file).split(sep).join('/'), kind: 'app' };
}

// ---------------------------------------------------------------------------------------
// Patch targets

/** A data property of an object: an export, a static, a prototype method. */
export function propertyTarget(holder: object, key: string, engine: Engine = 'exports', afterChange?: () => void): PatchTarget {
  return {
    holder,
    key,
    engine,
    read() {
      if (isProxy(holder)) return undefined;
      const desc = getOwnPropertyDescriptor(holder, key);
      return desc !== undefined && 'value' in desc ? desc.value : undefined;
    },
    write(value) {
      try {
        const desc = getOwnPropertyDescriptor(holder, key);
        if (desc === undefined || !('value' in desc)) return false;
        if (desc.configurable) return Reflect.defineProperty(holder, key, { ...desc, value });
        if (desc.writable) return Reflect.defineProperty(holder, key, { value });
        return false;
      } catch {
        return false;
      }
    },
    unpatchable() {
      return whyUnpatchable(holder, key);
    },
    ...(afterChange === undefined ? {} : { afterChange }),
  };
}

function whyUnpatchable(holder: object, key: string): string | undefined {
  if (isProxy(holder)) return 'its object is a Proxy; looking into it would run user code';
  const desc = getOwnPropertyDescriptor(holder, key);
  if (desc === undefined) return 'no such property';
  if (!('value' in desc)) return 'an accessor (getter): reading it would run user code; trace the module that defines it';
  if (!desc.writable && !desc.configurable) return 'read-only (non-writable, non-configurable): frozen or sealed exports';
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Enumerating functions

function kindOf(fn: Function): FunctionEntry['kind'] {
  if (types.isAsyncFunction(fn)) return 'async';
  if (types.isGeneratorFunction(fn)) return 'generator';
  try {
    if (/^class\b/.test(fnToString.call(fn))) return 'class';
  } catch {
    // Some exotic functions have no source text.
  }
  return 'function';
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || isProxy(value)) return false;
  const proto = getPrototypeOf(value);
  return proto === objectPrototype || proto === null;
}

function dataValue(holder: object, key: PropertyKey): { value: unknown } | { accessor: true } | undefined {
  const desc = getOwnPropertyDescriptor(holder, key);
  if (desc === undefined) return undefined;
  return 'value' in desc ? { value: desc.value } : { accessor: true };
}

/** Functions reachable from a module's exports, bounded and without running user code. */
export function enumerateExports(
  exportsValue: unknown,
  engine: Engine,
  options: { defaultHolder?: object; defaultKey?: string; afterChange?: () => void } = {},
): FunctionEntry[] {
  const entries: FunctionEntry[] = [];
  const seen = new Set<object>();
  const { afterChange } = options;

  const addFunction = (holder: object, key: string, path: string, fn: Function, kind?: FunctionEntry['kind']): void => {
    // A preload dispatcher pinned here also reaches callers holding it: list it as such.
    const pinned = siteOfWrapper(fn);
    const target = pinned?.pinned === true && pinned.target.holder === holder && pinned.target.key === key
      ? pinned.target
      : propertyTarget(holder, key, engine, afterChange);
    const why = target.unpatchable();
    const actual = siteOfWrapper(fn)?.original ?? fn;
    entries.push(why === undefined ? { path, kind: kind ?? kindOf(actual), target } : { path, kind: kind ?? kindOf(actual), unpatchable: why });
    members(actual, path === 'default' && typeof actual.name === 'string' && /^[A-Za-z_$][\w$]*$/.test(actual.name) ? actual.name : path);
  };

  const members = (fn: Function, name: string): void => {
    // A Proxy's keys and descriptors come from its traps (user code): not looked into.
    if (seen.has(fn) || isProxy(fn)) return;
    seen.add(fn);
    for (const key of ownKeys(fn)) {
      if (typeof key !== 'string' || key === 'length' || key === 'name' || key === 'prototype' || key === 'arguments' || key === 'caller') continue;
      const d = dataValue(fn, key);
      if (d !== undefined && 'value' in d && typeof d.value === 'function') addMember(fn, key, `${name}.${key}`, 'static');
    }
    const protoDesc = dataValue(fn, 'prototype');
    if (protoDesc === undefined || !('value' in protoDesc)) return;
    const proto = protoDesc.value;
    if (typeof proto !== 'object' || proto === null || isProxy(proto)) return;
    for (const key of ownKeys(proto)) {
      if (typeof key !== 'string' || key === 'constructor') continue;
      const d = dataValue(proto, key);
      if (d === undefined) continue;
      if ('accessor' in d) entries.push({ path: `${name}#${key}`, kind: 'method', unpatchable: whyUnpatchable(proto, key)! });
      else if (typeof d.value === 'function') addMember(proto, key, `${name}#${key}`, 'method');
    }
  };

  const addMember = (holder: object, key: string, path: string, kind: FunctionEntry['kind']): void => {
    const target = propertyTarget(holder, key, engine, afterChange);
    const why = target.unpatchable();
    entries.push(why === undefined ? { path, kind, target } : { path, kind, unpatchable: why });
  };

  const visit = (holder: object, prefix: string, level: number): void => {
    if (seen.has(holder)) return;
    seen.add(holder);
    for (const key of ownKeys(holder)) {
      if (typeof key !== 'string' || key === '__esModule') continue;
      const d = dataValue(holder, key);
      if (d === undefined) continue;
      const path = prefix + key;
      if ('accessor' in d) {
        if (level === 0) entries.push({ path, kind: 'function', unpatchable: whyUnpatchable(holder, key)! });
        continue;
      }
      if (typeof d.value === 'function') addFunction(holder, key, path, d.value);
      else if (level < 2 && isPlainObject(d.value)) visit(d.value, `${path}.`, level + 1);
    }
  };

  if (typeof exportsValue === 'function') {
    if (options.defaultHolder !== undefined && options.defaultKey !== undefined) {
      addFunction(options.defaultHolder, options.defaultKey, 'default', exportsValue);
    }
  } else if (typeof exportsValue === 'object' && exportsValue !== null && !isProxy(exportsValue)) {
    visit(exportsValue, '', 0);
  }
  return entries;
}

// ---------------------------------------------------------------------------------------
// Sources

interface CjsModule {
  id: string;
  filename: string;
  exports: unknown;
  loaded: boolean;
}

/** Node's one CommonJS module cache (the same object whichever require it is read from). */
let cacheObject: Record<string, CjsModule | undefined> | undefined;

function requireCache(): Record<string, CjsModule | undefined> {
  return (cacheObject ??= createRequire(join(appRoot(), 'noop.js')).cache as unknown as Record<string, CjsModule | undefined>);
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

/** The warning for a CJS export the exports engine patches in place, and what would reach its destructured callers. */
function destructuredWarning(ref: ModuleRef): string {
  const preload = (globalThis as Record<symbol, unknown>)[PRELOAD_KEY] as PreloadReach | undefined;
  if (preload === undefined) return `${DESTRUCTURED}; use --import livetrace/register or a probe`;
  if (ref.kind === 'package' && !preload.packages) {
    return `${DESTRUCTURED}; the preload leaves node_modules alone unless LIVETRACE_PRELOAD_PACKAGES=1; or use a probe`;
  }
  return `${DESTRUCTURED}; the preload pins only plain functions (not classes, constructors or functions with properties of their own) of modules loaded after it; use a probe`;
}

/** Marks top-level exports the exports engine patches in place: a copy taken earlier keeps the original. */
function warnDestructured(entries: FunctionEntry[], holders: readonly unknown[], warning: string): FunctionEntry[] {
  for (const entry of entries) {
    if (entry.target?.engine === 'exports' && holders.includes(entry.target.holder)) entry.warning = warning;
  }
  return entries;
}

function cjsModule(module: CjsModule): LoadedModule {
  const ref = moduleRefForFile(module.filename);
  return {
    ref,
    file: module.filename,
    entries: () =>
      warnDestructured(
        enumerateExports(module.exports, 'exports', { defaultHolder: module, defaultKey: 'exports' }),
        [module, module.exports],
        destructuredWarning(ref),
      ),
  };
}

/** Builtins: only those already loaded, unless a pattern names one exactly. */
function builtinModule(name: string): LoadedModule | undefined {
  const get = (process as unknown as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  let exportsValue: unknown;
  try {
    exportsValue = get !== undefined ? get(`node:${name}`) : createRequire(join(appRoot(), 'noop.js'))(`node:${name}`);
  } catch {
    return undefined;
  }
  if (exportsValue === undefined) return undefined;
  return {
    ref: { id: `node:${name}`, kind: 'builtin' },
    entries: () => warnDestructured(enumerateExports(exportsValue, 'exports', { afterChange: syncBuiltinESMExports }), [exportsValue], DESTRUCTURED_BUILTIN),
  };
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

const extraSources = new Set<ModuleSource>();

export function addModuleSource(source: ModuleSource): () => void {
  extraSources.add(source);
  return () => extraSources.delete(source);
}

/**
 * Functions of a module beyond its exports, seen only by patterns that ask for them: the
 * probe engine's internal functions ('src/users:~hashPassword'). Consulted by resolve()
 * and nearMisses() only for a pattern whose function glob it `wants`, and only for the
 * modules that pattern's module glob matches. `entries` may throw a LivetraceError when
 * its engine can't serve (resolve() then throws it, before anything is hooked).
 */
export interface InternalSource {
  wants(functionGlob: string): boolean;
  entries(module: LoadedModule): FunctionEntry[];
}

const internalSources = new Set<InternalSource>();

export function addInternalSource(source: InternalSource): () => void {
  internalSources.add(source);
  return () => internalSources.delete(source);
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
      if (!isOwnFile(module.filename)) out.push(cjsModule(module));
    } else {
      others.add(moduleRefForFile(file).id);
    }
  }
  if (others.size === 0) return out;
  for (const source of extraSources) {
    for (const loaded of source.modules()) if (others.delete(loaded.ref.id)) out.push(loaded);
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
    if (module === undefined || typeof module.filename !== 'string' || isOwnFile(module.filename)) continue;
    const loaded = cjsModule(module);
    known.add(loaded.ref.id);
    out.push(loaded);
  }
  for (const source of extraSources) {
    for (const loaded of source.modules()) {
      if (known.has(loaded.ref.id)) continue;
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

// ---------------------------------------------------------------------------------------
// Resolving patterns

export interface Candidate {
  module: LoadedModule;
  entry: FunctionEntry;
  /** 'src/users.js:findUser' */
  fn: string;
  matchers: Matcher[];
}

/** Module names in patterns that could name a builtin exactly ('fs', 'node:fs'). */
function exactBuiltinNames(moduleGlobs: readonly string[]): string[] {
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
      if (ms.length > 0) out.push({ module, entry, fn: `${module.ref.id}:${entry.path}`, matchers: ms });
    }
    for (const source of internalSources) {
      const wanting = interested.filter((m) => source.wants(m.functionGlob));
      if (wanting.length === 0) continue;
      for (const entry of source.entries(module)) {
        const ms = wanting.filter((m) => safeMatchFunction(m, entry.path));
        if (ms.length > 0) out.push({ module, entry, fn: `${module.ref.id}:${entry.path}`, matchers: ms });
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

/** Up to `limit` loaded names close to what a pattern asked for (for "matches nothing"). */
export function nearMisses(moduleGlob: string, functionGlob: string, limit = 5): string[] {
  const modules = loadedModules(exactBuiltinNames([moduleGlob]));
  const wantFn = functionGlob.replace(/[*?]/g, '').toLowerCase();
  const wantMod = moduleGlob.replace(/[*?]/g, '').replace(/^node:/, '').toLowerCase();
  const scored: { name: string; score: number }[] = [];
  for (const module of modules) {
    const modScore = similarity(wantMod, module.ref.id.toLowerCase());
    if (module.ref.kind !== 'app' && modScore < 0.5) continue;
    const internal = modScore < 0.5 ? [] : [...internalSources].filter((source) => source.wants(functionGlob)).flatMap((source) => entriesOrNone(source, module));
    for (const entry of [...module.entries(), ...internal]) {
      const score = modScore + similarity(wantFn, entry.path.toLowerCase());
      if (score > 0.6) scored.push({ name: `${module.ref.id}:${entry.path}`, score });
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

/** What `livetrace ls` shows: modules and their functions with the engine that reaches each. */
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
      functions.push(listing);
    }
    if (filter !== undefined && functions.length === 0) continue;
    const row: ModuleListing = { module: module.ref.id, kind: module.note !== undefined && module.ref.kind === 'app' ? 'esm' : module.ref.kind, functions };
    if (module.note !== undefined) row.note = module.note;
    out.push(row);
  }
  return out.sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.module.localeCompare(b.module));
}

function kindRank(kind: ModuleListing['kind']): number {
  return kind === 'app' || kind === 'esm' ? 0 : kind === 'package' ? 1 : 2;
}
