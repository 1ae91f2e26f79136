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
 *
 * A cache for another V8. The build's cache fits only the build's Node; a target on
 * another Node (22 or 24 on a package built by 20) compiled the bundle without one, 148-191
 * ms of its load where 50-67 with one (docs/benchmarks.md, branches attach7 and attach8).
 * The CLI that attaches makes a cache for such a target (attach/agent-cache.ts: by
 * running the target's own executable once, in the background, as the CLI's user, which
 * is the target's) and offers its path to the next attach's bootstrap
 * (offerAgentCache()). The target only reads it, and only from a file that nobody but its
 * own user could have written: V8 trusts a code cache as it trusts the source, a cache
 * is code (readPrivateFile says what is checked, docs/security.md why it suffices). A
 * cache V8 refuses (another V8, other flags) costs nothing but its read: the bundle is
 * compiled as without one. The build's own cache, when there is one for this V8, wins.
 */
import { closeSync, fstatSync, lstatSync, openSync, readSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { loadBundle, loadedBundle, readCacheFile, type LoadedBundle } from './bundle-loader.js';

/** What the bundle exports (src/attach-main.ts). */
export interface AgentBundle {
  startAgent(): Promise<unknown>;
  stopAgent(): Promise<void>;
  useDynamicImport(importer: (url: string) => Promise<unknown>): void;
}

export type { LoadedBundle };

/** Which cache the bundle was compiled with, for the bootstrap's reply. */
export interface AgentCacheState {
  /** 'build': the build's, for this V8; 'offered': the one the attaching CLI made; 'none'. */
  source: 'build' | 'offered' | 'none';
  /** V8 refused it (the bundle compiled without it). */
  rejected: boolean;
}

/** The largest cache read: the agent bundle's is about 0.5 MB. */
const MAX_CACHE_BYTES = 32 * 1024 * 1024;

let offered: string | undefined;
let state: AgentCacheState | undefined;

/** The cache file the attaching CLI made for this kind of process (read only if the build has none for this V8). */
export function offerAgentCache(file: string): void {
  offered = file;
}

/** How the bundle was compiled, once it was (undefined before). */
export function agentCacheState(): AgentCacheState | undefined {
  return state;
}

/**
 * The contents of `file` when only this process's own user could have written it:
 * a regular file (opened without following a symbolic link) owned by our effective uid,
 * writable by nobody else, in a directory that is no symbolic link, owned by that uid,
 * with no group or other permission at all (the socket directory's rule,
 * protocol/socket-dir.ts). Anything else, a missing file included, is undefined: the
 * bundle then compiles without a cache.
 */
export function readPrivateFile(file: string, maxBytes = MAX_CACHE_BYTES): Buffer | undefined {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
  if (uid === undefined) return undefined;
  let fd: number;
  try {
    const dir = lstatSync(dirname(file));
    if (!dir.isDirectory() || dir.uid !== uid || (dir.mode & 0o077) !== 0) return undefined;
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || stats.uid !== uid || (stats.mode & 0o022) !== 0 || stats.size > maxBytes) return undefined;
    const buffer = Buffer.alloc(stats.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return read === buffer.length ? buffer : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Compiles and runs the agent bundle at `file` once per process (later calls return the same). */
export function loadAgentBundle(file: string, cacheFile?: string): LoadedBundle<AgentBundle> {
  const known = loadedBundle<AgentBundle>(file);
  if (known !== undefined) return known;
  const build = cacheFile === undefined ? undefined : readCacheFile(cacheFile);
  const other = build === undefined && offered !== undefined ? readPrivateFile(offered) : undefined;
  const result = loadBundle<AgentBundle>(file, build ?? other);
  state = { source: build !== undefined ? 'build' : other !== undefined ? 'offered' : 'none', rejected: result.cacheRejected === true };
  result.exports.useDynamicImport(new Function('url', 'return import(url)') as (url: string) => Promise<unknown>);
  return result;
}
