/**
 * What `livetrace ls` and `livetrace deeper` list, as the list and deeper replies carry it
 * (messages.ts): the functions of each loaded module with the engine that would trace
 * them, and what one function calls, as patterns ready to paste.
 */
import type { Engine } from './events.js';

/** What kind of function a catalog entry is. */
export type FunctionKind = 'function' | 'class' | 'async' | 'generator' | 'method' | 'static';

/** JSON-safe listing for `livetrace ls`. */
export interface FunctionListing {
  path: string;
  fn: string;
  kind: FunctionKind;
  engine: Engine | null;
  reason?: string;
  /** Callers the engine may miss (a CJS export destructured before the trace started). */
  warning?: string;
}

export interface ModuleListing {
  module: string;
  kind: 'app' | 'package' | 'builtin' | 'esm';
  functions: FunctionListing[];
  note?: string;
  /** When copies of one module are loaded (one package at two places): its file and its package's version. */
  file?: string;
  version?: string;
  /** Internal functions left out of `functions` by the listing's bound (each module lists at most so many). */
  moreInternal?: number;
}

export interface Callee {
  /** Ready to paste as a pattern ('src/db.js:query', 'src/users.js:~hashPassword'); null when it can't be named. */
  pattern: string | null;
  /** The call as written: 'db.query', 'hashPassword', 'new UserRepo', 'this.save'. */
  call: string;
  /** 1-based line of its first call in the function. */
  line: number;
  /** How many places in the function call it. */
  count: number;
  /** What would trace it: a wrapper ('exports', 'preload'), a probe, or nothing (null). */
  engine: Engine | null;
  /** Why there is no pattern or no engine ('a parameter', 'a global', 'module not loaded'), or how it is called ('passed as a callback'). */
  note?: string;
}

export interface DeeperResult {
  /** 'src/users.js:findUser' */
  fn: string;
  module: string;
  file: string;
  /** 1-based line where the function starts. */
  line: number;
  callees: Callee[];
}
