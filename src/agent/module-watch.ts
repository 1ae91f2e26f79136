/**
 * Notices CommonJS modules that load while a session runs, so a session's patterns
 * also apply to them (that is how `livetrace run` traces from the first line).
 *
 * It wraps `Module._load` only while someone listens, and reports new cache entries
 * when the outermost `require` returns: by then every module it pulled in has finished
 * running and its exports are final. Unwrapping follows the patcher's rule: restore only
 * if our wrapper is still installed, else stay in place as a pass-through.
 */
import { createRequire } from 'node:module';
import { log } from './log.js';

export interface LoadedFile {
  filename: string;
}

type Listener = (files: LoadedFile[]) => void;

interface ModuleStatic {
  _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  _cache: Record<string, { filename?: string; loaded?: boolean } | undefined>;
}

const Module = createRequire(process.cwd() + '/noop.js')('module') as ModuleStatic;
const listeners = new Set<Listener>();
let original: ModuleStatic['_load'] | undefined;
let wrapper: ModuleStatic['_load'] | undefined;
let depth = 0;
let known = new Set<string>();

function notify(): void {
  const fresh: LoadedFile[] = [];
  for (const key of Object.keys(Module._cache)) {
    if (known.has(key)) continue;
    known.add(key);
    const filename = Module._cache[key]?.filename;
    if (typeof filename === 'string') fresh.push({ filename });
  }
  if (fresh.length === 0) return;
  for (const listener of listeners) {
    try {
      listener(fresh);
    } catch (error) {
      log.debug({ err: error }, 'module listener failed');
    }
  }
}

function install(): void {
  known = new Set(Object.keys(Module._cache));
  const load = Module._load;
  original = load;
  wrapper = function (this: unknown, request, parent, isMain) {
    depth++;
    try {
      return Reflect.apply(load, this, [request, parent, isMain]);
    } finally {
      if (--depth === 0 && listeners.size > 0) notify();
    }
  };
  Module._load = wrapper;
}

function uninstall(): void {
  if (Module._load === wrapper && original !== undefined) Module._load = original;
  // Else another patcher wrapped us: our wrapper stays as a pass-through (no listeners).
  original = undefined;
  wrapper = undefined;
}

/** Calls `listener` with CJS files loaded from now on; returns the unsubscribe function. */
export function onModulesLoaded(listener: Listener): () => void {
  if (listeners.size === 0) install();
  listeners.add(listener);
  return () => {
    if (listeners.delete(listener) && listeners.size === 0) uninstall();
  };
}

/** Other engines (ESM hooks) report loads through the same listeners. */
export function reportLoaded(files: LoadedFile[]): void {
  for (const listener of listeners) {
    try {
      listener(files);
    } catch (error) {
      log.debug({ err: error }, 'module listener failed');
    }
  }
}
