/**
 * A module by its livetrace name ('src/cache'), for `get` and the shell's `$('src/cache')`.
 *
 * CommonJS modules are found in the require cache and give their `module.exports`. An ES
 * module gives its namespace, which JavaScript only hands out through `import()`; the agent
 * knows the file of the ES modules the preload reported and of an ES main module, and
 * imports it again (an already evaluated module is not run again: `import()` of it only
 * returns the namespace). Not through the inspector: Node 20 has no dynamic-import callback
 * for inspector-compiled code, and the rejection it gives would be unhandled. Namespaces are
 * kept once imported (they are the module's own, alive as long as the module is).
 */
import { pathToFileURL } from 'node:url';
import { LivetraceError } from '../../protocol/errors.js';
import { isOwnFile } from '../capture/stack.js';
import { loadedModules } from '../catalog/modules.js';
import { appRequire, moduleRefForFile } from '../catalog/naming.js';
import { near } from './near.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

export interface FoundModule {
  id: string;
  kind: 'cjs' | 'esm';
  /** The CommonJS module's exports, or the ES module's namespace once imported. */
  exports: unknown;
  /** The module's file, when it has one. */
  file: string | undefined;
}

const namespaces = new Map<string, object>();

/** 'src/cache' names 'src/cache.js', 'src/cache.cjs', 'src/cache/index.js' and itself. */
export function namesModule(asked: string, id: string): boolean {
  const bare = asked.replace(/^\.\//, '');
  if (id === bare) return true;
  const stem = id.replace(/\.(c|m)?(j|t)s$/, '');
  return stem === bare || stem === `${bare}/index`;
}

/**
 * The module `asked` names; an ES module's `exports` is its namespace if already imported
 * (importNamespace does that), else undefined. LT_GET_NOT_FOUND with near misses.
 */
export function findModule(asked: string, input: string): FoundModule {
  const cache = appRequire().cache;
  const ids: string[] = [];
  for (const file of Object.keys(cache)) {
    const module = cache[file];
    if (module === undefined || isOwnFile(file)) continue;
    const id = moduleRefForFile(file).id;
    if (namesModule(asked, id)) return { id, kind: 'cjs', exports: module.exports, file };
    ArrayPrototypePush(ids, id);
  }
  for (const module of loadedModules()) {
    if (module.ref.kind === 'builtin') continue;
    if (namesModule(asked, module.ref.id)) {
      return { id: module.ref.id, kind: 'esm', exports: namespaces.get(module.ref.id), file: module.file };
    }
    ArrayPrototypePush(ids, module.ref.id);
  }
  const misses = near(asked, ids);
  const message = `no loaded module is named '${asked}'`;
  return notFound(input, misses.length === 0 ? message : `${message}; did you mean ${misses.map((m) => `'${m}'`).join(', ')}?`);
}

/** The names `$()` and `get` accept for the loaded modules, extensions left off (the shell's completion). */
export function moduleNames(): string[] {
  const names: string[] = [];
  const cache = appRequire().cache;
  for (const file of Object.keys(cache)) {
    if (cache[file] === undefined || isOwnFile(file)) continue;
    ArrayPrototypePush(names, stemOf(moduleRefForFile(file).id));
  }
  for (const module of loadedModules()) if (module.ref.kind !== 'builtin') ArrayPrototypePush(names, stemOf(module.ref.id));
  return names;
}

function stemOf(id: string): string {
  return id.replace(/\.(c|m)?(j|t)s$/, '');
}

function notFound(input: string, message: string): never {
  throw new LivetraceError('LT_GET_NOT_FOUND', message, { input });
}

/**
 * `import()` compiled where the CommonJS build cannot turn it into `require()`: a function
 * made at run time keeps the real dynamic import, in both builds. V8 gives such a function
 * the dynamic-import callback of the script that made it: the agent bundle, compiled by
 * `vm.Script` (agent-loader.ts), has none on Node 20, so its loader, a module Node
 * compiled, makes the function and hands it over (useDynamicImport).
 */
let dynamicImport: ((url: string) => Promise<unknown>) | undefined;

/** The loader of the agent bundle gives a dynamic import made where import() works. */
export function useDynamicImport(importer: (url: string) => Promise<unknown>): void {
  dynamicImport = importer;
}

/** The namespace of an ES module found by findModule (it is loaded: importing it runs nothing). */
export async function importNamespace(found: FoundModule, input: string): Promise<object> {
  const known = namespaces.get(found.id);
  if (known !== undefined) return known;
  if (found.file === undefined) notFound(input, `${found.id} is an ES module without a file: its namespace cannot be reached`);
  dynamicImport ??= new Function('url', 'return import(url)') as (url: string) => Promise<unknown>;
  let namespace: unknown;
  try {
    namespace = await dynamicImport(pathToFileURL(found.file).href);
  } catch (error) {
    throw new LivetraceError('LT_GET_UNSAFE', `the namespace of ${found.id} could not be read: ${error instanceof Error ? error.message : String(error)}`, {
      input,
    });
  }
  if (typeof namespace !== 'object' || namespace === null) throw new LivetraceError('LT_GET_UNSAFE', `the namespace of ${found.id} could not be read`, { input });
  namespaces.set(found.id, namespace);
  return namespace;
}

/** The module, its ES namespace imported if need be. */
export async function moduleExports(asked: string, input: string): Promise<FoundModule> {
  const found = findModule(asked, input);
  if (found.kind === 'esm' && found.exports === undefined) found.exports = await importNamespace(found, input);
  return found;
}
