/**
 * Loads the agent bundle (dist/cjs/agent.bundle.js, src/attach-main.ts) into the process
 * an attach reaches, with the V8 code cache the build made for it
 * (dist/cjs/agent.bundle.v8-<V8 version>.cache). The bootstrap (attach/bootstrap.ts) requires
 * dist/cjs/agent.js, a three-line file the build writes, which calls loadAgentBundle() as
 * it loads: the bundle's top level (its packages' top levels: acorn, source-map, ...)
 * thus runs while Node loads a module, as it did when the bundle itself was required, and
 * never later from livetrace's own code (test/integration/hardening.test.ts replaces
 * Array#push in the target and tells the two apart by the stack). Node 20's CommonJS
 * loader takes no code cache, so the
 * bundle is compiled here as Node compiles a CommonJS module, its text in the same
 * function wrapper, by `vm.Script` with the cache: V8 then skips parsing and compiling
 * what the cache holds (the functions the agent ran as it started when the build made
 * it), which was most of the agent's load (load and startAgent() 97-217 ms without,
 * 42-75 ms with, load 6; docs/benchmarks.md, branch attach5).
 *
 * The build names the cache by its V8 version, so a Node with another V8 finds no file and
 * reads none. V8 checks the cache against its own version, flags and the source, and refuses a cache
 * that does not fit (another Node than the build's, a rebuilt bundle): the bundle is then
 * compiled as if there were none. Nothing is written here: the cache is made once, by the
 * build, never in a target (the cache file is read, or missing). Node's own
 * `module.enableCompileCache` (Node 22) is not used: it would change how the program's
 * modules load from then on.
 *
 * What differs from require(): the bundle is not in require.cache (agent.js and this
 * module are, and hold the loaded bundle, so a second attach reuses it), and code it compiles from
 * strings gets no dynamic-import callback from a `vm.Script` on Node 20, so the one place
 * that needs `import()` (observer/modules.ts) is given a function made here, in a module
 * Node compiled.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** What the bundle exports (src/attach-main.ts). */
export interface AgentBundle {
  startAgent(): Promise<unknown>;
  stopAgent(): Promise<void>;
  useDynamicImport(importer: (url: string) => Promise<unknown>): void;
}

/** The compiled bundle and what running it exported. */
export interface LoadedBundle {
  script: Script;
  exports: AgentBundle;
  /** V8 refused the cache given (undefined: none given). */
  cacheRejected: boolean | undefined;
}

const loaded = new Map<string, LoadedBundle>();

/** Node's CommonJS wrapper, so the cache made by the build fits the text compiled here. */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
}

function readCache(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Compiles and runs the bundle at `file` once per process (later calls return the same). */
export function loadAgentBundle(file: string, cacheFile?: string): LoadedBundle {
  const known = loaded.get(file);
  if (known !== undefined) return known;
  const cachedData = readCache(cacheFile);
  const script = new Script(wrap(readFileSync(file, 'utf8')), { filename: file, ...(cachedData === undefined ? {} : { cachedData }) });
  const module = { exports: {} as AgentBundle };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  module.exports.useDynamicImport(new Function('url', 'return import(url)') as (url: string) => Promise<unknown>);
  const result: LoadedBundle = { script, exports: module.exports, cacheRejected: cachedData === undefined ? undefined : script.cachedDataRejected === true };
  loaded.set(file, result);
  return result;
}
