/**
 * Notices CommonJS modules that load while a session runs, so a session's patterns
 * also apply to them (that is how `livetrace run` traces from the first line).
 *
 * It wraps `Module.prototype.load` only while someone listens, and reports each module
 * as its own `load` returns: its body has run and its exports are final (a module in an
 * import cycle may still gain exports later; the preload engine handles those). So a
 * module is hooked before the code that required it goes on, and calls made from the
 * main module's top level are seen. Unwrapping follows the patcher's rule: restore only
 * if our wrapper is still installed, else stay in place as a pass-through.
 */
import { SetPrototypeAdd, SetPrototypeDelete, SetPrototypeGetSize } from '../../safe/intrinsics.js';
import { createRequire } from 'node:module';
import { log } from '../log.js';
import { SafeSet } from '../../safe/intrinsics.js';

export interface LoadedFile {
  filename: string;
}

type Listener = (files: LoadedFile[]) => void;

interface CjsModule {
  filename?: string;
}

interface ModuleStatic {
  prototype: { load: (this: CjsModule, filename: string) => unknown };
}

const Module = createRequire(process.cwd() + '/noop.js')('module') as ModuleStatic;
const reflectApply = Reflect.apply;
const listeners = new SafeSet<Listener>();
let original: ModuleStatic['prototype']['load'] | undefined;
let wrapper: ModuleStatic['prototype']['load'] | undefined;

function install(): void {
  const load = Module.prototype.load;
  original = load;
  wrapper = function (this: CjsModule, filename: string) {
    const result = reflectApply(load, this, [filename]);
    if (listeners.size > 0 && typeof this.filename === 'string') notifyLocal([{ filename: this.filename }]);
    return result;
  };
  Module.prototype.load = wrapper;
}

function uninstall(): void {
  if (Module.prototype.load === wrapper && original !== undefined) Module.prototype.load = original;
  // Else another patcher wrapped us: our wrapper stays as a pass-through (no listeners).
  original = undefined;
  wrapper = undefined;
}

/** Calls `listener` with CJS files loaded from now on; returns the unsubscribe function. */
export function onModulesLoaded(listener: Listener): () => void {
  if (SetPrototypeGetSize(listeners) === 0) install();
  SetPrototypeAdd(listeners, listener);
  return () => {
    // Pristine: the application may have replaced Set#delete (src/safe/intrinsics.ts).
    if (SetPrototypeDelete(listeners, listener) && SetPrototypeGetSize(listeners) === 0) uninstall();
  };
}

/**
 * Other engines (the preload's ESM registrar and CJS pinning) report loads here, and the
 * report reaches the sessions of every copy of livetrace in the process: the ESM build
 * loaded by `--import livetrace/register` installs the preload, while a program may
 * trace through the CJS build it `require`s (issue 12, item 9).
 */
export function reportLoaded(files: LoadedFile[]): void {
  for (const notify of copies) {
    try {
      notify(files);
    } catch (error) {
      log.debug({ err: error }, 'module listener failed');
    }
  }
}

const COPIES_KEY = Symbol.for('livetrace.module-watch.copies.v1');
const copies: Set<Listener> = ((globalThis as Record<symbol, unknown>)[COPIES_KEY] as Set<Listener> | undefined) ??
  ((globalThis as Record<symbol, unknown>)[COPIES_KEY] = new Set<Listener>());
copies.add(notifyLocal);

function notifyLocal(files: LoadedFile[]): void {
  for (const listener of listeners) {
    try {
      listener(files);
    } catch (error) {
      log.debug({ err: error }, 'module listener failed');
    }
  }
}
