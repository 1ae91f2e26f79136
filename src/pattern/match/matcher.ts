/**
 * The compiled form of one pattern: what the engine asks of a pattern, and nothing more.
 *
 * The engine calls `pre` inside the dispatch wrapper of every patched function while a
 * session is active, so `pre` is the hot path: it must reject a non-matching call without
 * allocating, and it must never run user code (no getters, Proxy traps, toString or
 * valueOf: such a read is "no match" and bumps `guardErrors`).
 */

/** How the registry names a loaded module, for the module glob. */
export interface ModuleRef {
  /**
   * 'src/users.js' for app modules (relative to the app root, forward slashes),
   * 'express/lib/router/index.js' for package modules, 'node:fs' for builtins.
   */
  id: string;
  kind: 'app' | 'package' | 'builtin';
  /** Package name for package modules ('express', '@scope/name'). */
  packageName?: string;
  /** True for the module a bare `require('<packageName>')` resolves to. */
  packageEntry?: boolean;
}

/** What happened to the call; given to the post-guard. `ms` is the duration in milliseconds. */
export interface Outcome {
  ret: unknown;
  err: unknown;
  threw: boolean;
  ms: number;
}

/** Opaque per-call state that `pre` hands to `post` (bound names, args, this). */
export type Bindings = object;

export interface Actions {
  stack: boolean;
  this: boolean;
  count: boolean;
  hist: boolean;
}

/**
 * One argument's test that every call `pre` accepts passes: the first argument pattern
 * that binds no name, else a pre-guard conjunct comparing a name bound by a whole
 * argument with a constant (`when X < 0`). The engine may run it inline before `pre`
 * (patcher/site.ts); a call it rejects is one `pre` rejects. Reads like `pre`, never runs
 * user code; may throw (then ask `pre`, which counts the error).
 */
export interface Positional {
  readonly at: number;
  readonly test: (value: unknown) => boolean;
}

export interface Matcher {
  /** The pattern as given. */
  readonly source: string;
  /** The pattern printed back from its AST (canonical form). */
  readonly normalized: string;
  /** The module glob as written ('src/users', 'node:fs'); for messages and near-miss hints. */
  readonly moduleGlob: string;
  /** The function glob as written ('findUser', '*User', 'Repo#save'). */
  readonly functionGlob: string;
  /** True for module '**' or '*' with function '*' or '**' and no argument or guard filter. */
  readonly tooBroad: boolean;
  matchModule(module: ModuleRef): boolean;
  /** `path` is 'findUser', 'db.users.find', 'UserRepo#save', 'UserRepo.create' or 'default'. */
  matchFunction(path: string): boolean;
  /**
   * Pre-call test (arity, argument patterns, pre-guard). Returns undefined to reject;
   * otherwise the bindings for `post` (a shared empty object when nothing is bound).
   * Never throws.
   */
  pre(self: unknown, args: ArrayLike<unknown>): Bindings | undefined;
  /** Post-call test (the part of the guard that mentions ret, err, threw or ms); undefined when there is none. Never throws. */
  readonly post: ((bindings: Bindings, outcome: Outcome) => boolean) | undefined;
  readonly actions: Actions;
  /** True when `pre` accepts every call (no arity, argument pattern or pre-guard) and there is no post-guard. */
  readonly acceptsAll?: boolean;
  /** A necessary test of one argument, when the pattern has one (see Positional). */
  readonly positional?: Positional | undefined;
  /** Reads that would have run user code, or failed, while testing calls. */
  guardErrors: number;
}
