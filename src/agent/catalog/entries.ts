/**
 * The catalog's vocabulary: a loaded module, its functions, and the sources that add
 * modules (the preload engine's ES modules) or functions beyond the exports (the probe
 * engine's internal functions).
 */
import type { FunctionKind } from '../../protocol/messages.js';
import type { ModuleRef } from '../../pattern/match/matcher.js';
import type { PatchTarget } from '../patcher/site.js';

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
  /**
   * What the source knows without doing work for it, for readers that must stay cheap
   * (`livetrace info`, read every second or two); modules() when left out.
   */
  known?(): Iterable<LoadedModule>;
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
  /** The same functions for a listing: no check that the engine could serve them now. */
  list(module: LoadedModule): FunctionEntry[];
}
