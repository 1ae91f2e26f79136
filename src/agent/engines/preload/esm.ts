/**
 * The preload engine's ESM half, main-thread side: receives the records that rewritten
 * modules (rewrite.ts) hand over when they finish evaluating, lists those modules in the
 * registry, and tells running sessions about each one as it loads.
 *
 * A rewritten module's exports are reached through its own variables: a patch target
 * reads and assigns the variable (record.get/set), so every importer sees the patch,
 * named imports and namespace imports alike, and so does the module's own code. Two
 * export names of one variable (`export { f, f as g }`) are one site and one wrapper.
 * Re-exports (`export { f } from`, `export *`) are listed under the re-exporting module
 * too, pointing at the defining module's variable.
 *
 * How it stays safe: the registrar runs inside the user's module evaluation, so it never
 * throws (a bad record is ignored); reading a variable still in its temporal dead zone is
 * caught; nothing but the generated get/set closures is ever called.
 */
import { register } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { reportLoaded } from '../../catalog/module-watch.js';
import type { PatchTarget } from '../../patcher/site.js';
import type { FunctionEntry, LoadedModule } from '../../catalog/entries.js';
import { enumerateExports } from '../../catalog/exports-walk.js';
import { addModuleSource } from '../../catalog/modules.js';
import { appRoot, moduleRefForFile } from '../../catalog/naming.js';
import { bodyRegistry } from '../../patcher/body-registry.js';
import type { HooksData } from './hooks.js';
import { REGISTRAR_KEY, type BindingRecord } from '../../source/rewrite.js';

interface EsmModule {
  url: string;
  record: BindingRecord;
  /** Identity of this module's variables for the site table (key: variable name). */
  holder: object;
  loaded: LoadedModule;
}

interface Registrar {
  register(url: string, record: BindingRecord): void;
  modules: Map<string, EsmModule>;
}

const KEY = Symbol.for(REGISTRAR_KEY);

/** Modules rewritten and evaluated so far, by URL (empty when the ESM preload is not installed). */
export function esmModules(): ReadonlyMap<string, EsmModule> {
  return ((globalThis as Record<symbol, unknown>)[KEY] as Registrar | undefined)?.modules ?? new Map();
}

/**
 * Registers the loader hooks and the registrar. `root` is livetrace's package root (its
 * own files are never rewritten); `instrument`, the module globs whose modules get their
 * function bodies instrumented (hooks.ts). Idempotent across copies of livetrace.
 */
export function installEsmPreload(options: { packages: boolean; root: string; instrument?: string[] }): void {
  const global = globalThis as Record<symbol, unknown>;
  if (global[KEY] !== undefined) return;
  const modules = new Map<string, EsmModule>();
  const registrar: Registrar = {
    modules,
    register(url, record) {
      try {
        if (!validRecord(record) || modules.has(url)) return;
        const module = esmModule(url, record);
        modules.set(url, module);
        if (module.loaded.file !== undefined) reportLoaded([{ filename: module.loaded.file }]);
      } catch {
        // Never into the user's module evaluation.
      }
    },
  };
  Object.defineProperty(global, KEY, { value: registrar, configurable: true, enumerable: false, writable: false });
  addModuleSource({ modules: () => [...modules.values()].map((m) => m.loaded) });
  const data: HooksData = {
    packages: options.packages,
    exclude: ['dist', 'src'].map((dir) => `${pathToFileURL(join(options.root, dir)).href}/`),
  };
  // The registry exists before any module the hooks rewrite evaluates: their preambles define their sites in it.
  if (options.instrument !== undefined && options.instrument.length > 0) data.instrument = { globs: options.instrument, tag: bodyRegistry().tag, root: appRoot() };
  const hooks = pathToFileURL(join(options.root, 'dist', 'esm', 'agent', 'engines', 'preload', 'hooks.js')).href;
  register(hooks, { parentURL: hooks, data });
}

function validRecord(record: unknown): record is BindingRecord {
  const r = record as Partial<BindingRecord> | null;
  return typeof r === 'object' && r !== null && Array.isArray(r.locals) && Array.isArray(r.fixed) && Array.isArray(r.exports) &&
    Array.isArray(r.unreachable) && Array.isArray(r.reexports) && Array.isArray(r.stars) &&
    typeof r.get === 'function' && typeof r.set === 'function' && typeof r.resolve === 'function';
}

function esmModule(url: string, record: BindingRecord): EsmModule {
  const file = fileURLToPath(url.replace(/[?#].*$/, ''));
  const module: EsmModule = {
    url,
    record,
    holder: Object.freeze({ url }),
    loaded: { ref: moduleRefForFile(file), file, entries: () => entriesOf(module, new Set()) },
  };
  return module;
}

/** A patch target over one of the module's variables. */
function variableTarget(module: EsmModule, index: number): PatchTarget {
  const { record } = module;
  const read = (): unknown => {
    try {
      return record.get(index);
    } catch {
      return undefined; // temporal dead zone
    }
  };
  return {
    holder: module.holder,
    key: record.locals[index] ?? String(index),
    engine: 'preload',
    read,
    write(value) {
      if (record.fixed[index] !== null) return false;
      try {
        record.set(index, value);
      } catch {
        return false;
      }
      return read() === value;
    },
    unpatchable() {
      return record.fixed[index] ?? undefined;
    },
  };
}

/**
 * The module's functions: its own exports (with their statics, prototype methods and
 * plain-object members), then what it re-exports, named as the importer sees them.
 */
function entriesOf(module: EsmModule, visiting: Set<string>): FunctionEntry[] {
  if (visiting.has(module.url)) return [];
  visiting.add(module.url);
  const { record } = module;
  const view: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const indexOf = new Map<string, number>();
  for (const [name, index] of record.exports) {
    let value: unknown;
    try {
      value = record.get(index);
    } catch {
      continue; // not initialized yet
    }
    view[name] = value;
    indexOf.set(name, index);
  }
  const out: FunctionEntry[] = [];
  for (const entry of enumerateExports(view, 'preload')) {
    const index = entry.target?.holder === view ? indexOf.get(entry.path) : undefined;
    if (index === undefined) {
      out.push(entry);
      continue;
    }
    const target = variableTarget(module, index);
    const why = target.unpatchable();
    out.push(why === undefined ? { path: entry.path, kind: entry.kind, target } : { path: entry.path, kind: entry.kind, unpatchable: why });
  }
  for (const [name, why] of record.unreachable) out.push({ path: name, kind: 'function', unpatchable: why });

  const explicit = new Set<string>([...record.exports.map(([name]) => name), ...record.unreachable.map(([name]) => name)]);
  for (const [name, specifier, imported] of record.reexports) {
    explicit.add(name);
    if (imported === '*') continue;
    const source = resolved(module, specifier);
    if (source !== undefined) out.push(...renamed(entriesOf(source, visiting), imported, name));
  }
  out.push(...starEntries(module, explicit, visiting));
  visiting.delete(module.url);
  return out;
}

/** Names from `export *`, minus explicit exports and names two stars provide differently (ambiguous). */
function starEntries(module: EsmModule, explicit: Set<string>, visiting: Set<string>): FunctionEntry[] {
  const byName = new Map<string, FunctionEntry[]>();
  const ambiguous = new Set<string>();
  for (const specifier of module.record.stars) {
    const source = resolved(module, specifier);
    if (source === undefined) continue;
    const fromThis = new Map<string, FunctionEntry[]>();
    for (const entry of entriesOf(source, visiting)) {
      const name = topName(entry.path);
      if (name === 'default' || explicit.has(name)) continue;
      let list = fromThis.get(name);
      if (list === undefined) fromThis.set(name, (list = []));
      list.push(entry);
    }
    for (const [name, list] of fromThis) {
      const before = byName.get(name);
      if (before === undefined) byName.set(name, list);
      else if (!sameBinding(before, list)) ambiguous.add(name);
    }
  }
  const out: FunctionEntry[] = [];
  for (const [name, list] of byName) if (!ambiguous.has(name)) out.push(...list);
  return out;
}

function sameBinding(a: FunctionEntry[], b: FunctionEntry[]): boolean {
  const x = a[0]?.target;
  const y = b[0]?.target;
  return x !== undefined && y !== undefined && x.holder === y.holder && x.key === y.key;
}

function topName(path: string): string {
  const at = path.search(/[.#]/);
  return at === -1 ? path : path.slice(0, at);
}

/** Entries for `imported` and its members, named under `exported`. */
function renamed(entries: FunctionEntry[], imported: string, exported: string): FunctionEntry[] {
  const out: FunctionEntry[] = [];
  for (const entry of entries) {
    if (topName(entry.path) !== imported) continue;
    out.push({ ...entry, path: exported + entry.path.slice(imported.length) });
  }
  return out;
}

function resolved(module: EsmModule, specifier: string): EsmModule | undefined {
  let url: string;
  try {
    url = module.record.resolve(specifier);
  } catch {
    return undefined;
  }
  return esmModules().get(url);
}
