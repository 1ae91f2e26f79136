/**
 * Compiles one of the build's esbuild bundles (scripts/build.mjs) with the V8 code cache the
 * build made for it, and runs it as Node runs a CommonJS module. Two bundles load this way:
 * the agent an attach loads into its target (dist/cjs/agent.bundle.js, agent-loader.ts) and
 * the CLI (dist/cjs/cli.bundle.js, which bin/livetrace.js loads).
 *
 * Node 20's CommonJS loader takes no code cache, so the bundle is compiled here as Node
 * compiles a CommonJS module, its text in the same function wrapper, by `vm.Script` with
 * the cache: V8 then skips parsing and compiling what the cache holds (the functions that
 * ran in the build's child process before it made the cache), which was most of a load
 * (docs/benchmarks.md, branches attach5 and attach7).
 *
 * The build names a cache by its V8 version and its place (cacheFileFor()), so a Node
 * with another V8 finds no file and reads none. V8 checks a cache against its own version,
 * flags and the source, and refuses one that does not fit (another Node than the build's,
 * a rebuilt bundle): the bundle is then compiled as if there were none. Nothing is
 * written here: a cache is made once, by the build (the file is read, or missing). Node's
 * own `module.enableCompileCache` (Node 22) is never used in a target: it would change how
 * the program's modules load from then on. The CLI uses it on a Node that has it and
 * finds no cache of the build's for its V8 (bin/livetrace.js says why).
 *
 * What differs from require(): the bundle is not in require.cache (the module that loaded
 * it is), and code compiled by a `vm.Script` gets no dynamic-import callback on Node 20
 * (the agent bundle is handed an `import()` made in a module Node compiled; the CLI
 * bundle holds no `import()`: the CommonJS build turned its own into require()).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** The compiled bundle and what running it exported. */
export interface LoadedBundle<Exports> {
  script: Script;
  exports: Exports;
  /** V8 refused the cache given (undefined: none given, or no file for this V8). */
  cacheRejected: boolean | undefined;
}

const loaded = new Map<string, LoadedBundle<unknown>>();

/** Node's CommonJS wrapper, so the cache made by the build fits the text compiled here. */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
}

/** The build's cache file for a bundle, or undefined when it is missing (no cache for this V8). */
export function readCacheFile(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * The cache file the build makes for `bundle` on this Node's V8, at this place:
 * `<bundle>.v8-<V8 version>.at-<hash of the bundle's path>.cache`.
 *
 * Why the place: on Node 20 (V8 11.3) a script compiled from a code cache keeps the file
 * name it had when the cache was made, whatever name it is compiled with (Node 22 and 24
 * take the new one; docs/benchmarks.md, branch attach8). A package built in one directory
 * and used from another (an npm tarball built elsewhere, a copy) would then run code that
 * believes it lives where it was built: protocol/install.ts finds the package from its own
 * file name, so the CLI would attach with the agent of the build's directory, or find no
 * package at all, and stacks would name files that are not there. A cache made elsewhere
 * is therefore never found: the bundle compiles without it (and the CLI makes a cache of
 * the agent bundle for the installed place, attach/agent-cache.ts). FNV-1a, not a
 * cryptographic hash: the target runs this too, and should not load node:crypto for it.
 */
export function cacheFileFor(bundle: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bundle.length; i++) hash = Math.imul(hash ^ bundle.charCodeAt(i), 0x01000193) >>> 0;
  return `${bundle.replace(/\.js$/, '')}.v8-${process.versions.v8}.at-${hash.toString(16).padStart(8, '0')}.cache`;
}

/** The bundle at `file` if this module loaded it (tests, diagnostics); loads nothing. */
export function loadedBundle<Exports>(file: string): LoadedBundle<Exports> | undefined {
  return loaded.get(file) as LoadedBundle<Exports> | undefined;
}

/**
 * Compiles and runs the bundle at `file` once per process (later calls return the same),
 * with the cache in `cache` (a file's path, or its contents already read).
 */
export function loadBundle<Exports>(file: string, cache?: string | Buffer): LoadedBundle<Exports> {
  const known = loaded.get(file);
  if (known !== undefined) return known as LoadedBundle<Exports>;
  const cachedData = typeof cache === 'string' ? readCacheFile(cache) : cache;
  const script = new Script(wrap(readFileSync(file, 'utf8')), { filename: file, ...(cachedData === undefined ? {} : { cachedData }) });
  const module = { exports: {} as Exports };
  (script.runInThisContext() as (...args: unknown[]) => void).call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  const result: LoadedBundle<Exports> = { script, exports: module.exports, cacheRejected: cachedData === undefined ? undefined : script.cachedDataRejected === true };
  loaded.set(file, result);
  return result;
}
