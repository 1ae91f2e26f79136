/**
 * Loads the agent bundle (dist/cjs/agent.bundle.js, src/attach-main.ts) into the process
 * an attach reaches, with the V8 code cache the build made for it
 * (dist/cjs/agent.bundle.v8-<V8 version>.cache; bundle-loader.ts compiles it). The
 * bootstrap (attach/bootstrap.ts) requires dist/cjs/agent.js, a three-line file the build
 * writes, which calls loadAgentBundle() as it loads: the bundle's top level (its packages'
 * top levels: acorn, source-map, ...) thus runs while Node loads a module, as it did when
 * the bundle itself was required, and never later from livetrace's own code
 * (test/integration/hardening.test.ts replaces Array#push in the target and tells the two
 * apart by the stack). With the cache, V8 skips parsing and compiling the functions the
 * agent ran as it started when the build made it, which was most of the agent's load
 * (load and startAgent() 97-217 ms without, 42-75 ms with, load 6; docs/benchmarks.md,
 * branch attach5).
 *
 * What differs from require(): the bundle is not in require.cache (agent.js and the
 * loaders are, and hold the loaded bundle, so a second attach reuses it), and code it
 * compiles from strings gets no dynamic-import callback from a `vm.Script` on Node 20, so
 * the one place that needs `import()` (observer/modules.ts) is given a function made here,
 * in a module Node compiled.
 */
import { loadBundle, type LoadedBundle } from './bundle-loader.js';

/** What the bundle exports (src/attach-main.ts). */
export interface AgentBundle {
  startAgent(): Promise<unknown>;
  stopAgent(): Promise<void>;
  useDynamicImport(importer: (url: string) => Promise<unknown>): void;
}

export type { LoadedBundle };

/** Compiles and runs the agent bundle at `file` once per process (later calls return the same). */
export function loadAgentBundle(file: string, cacheFile?: string): LoadedBundle<AgentBundle> {
  const result = loadBundle<AgentBundle>(file, cacheFile);
  result.exports.useDynamicImport(new Function('url', 'return import(url)') as (url: string) => Promise<unknown>);
  return result;
}
