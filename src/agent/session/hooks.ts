/**
 * Patterns to hooks: compiles a session's patterns, resolves them against what is loaded
 * (the catalog), refuses what is too broad or matches nothing, and puts one hook per
 * function on its patch site. A function two patterns of one session reach gets one hook
 * with both matchers. Modules that load later are hooked by `loaded()`.
 *
 * A hook's `enter` is the first thing a traced call meets: it runs the compiled
 * pre-tests, which reject without allocating and never run user code, and hands a match
 * to the session's hot path (session.ts). A hook also carries what the function's
 * parameter names say to hide (capture/argument-redaction.ts), decided when it is made.
 */
import type { CallEvent, Engine, MatchedFunction, UnpatchableFunction } from '../../protocol/events.js';
import type { Value } from '../../protocol/value.js';
import { LivetraceError } from '../../protocol/errors.js';
import type { ResolvedOptions } from '../../protocol/options.js';
import { compilePatterns } from '../../pattern/index.js';
import type { Bindings, Matcher, Positional } from '../../pattern/match/matcher.js';
import { argumentRedaction, type ArgumentRedaction } from '../capture/argument-redaction.js';
import type { Redactor } from '../capture/redaction.js';
import { addHook, refreshSite, removeHook, siteFor, type Site } from '../patcher/site.js';
import { type Gate, type Hook } from '../patcher/dispatch.js';
import type { PushedFrame } from '../patcher/context.js';
// Registers '~name' (internal functions, reached by probes) with the registry.
import '../engines/probes/internal-source.js';
// Registers the ES modules of a process attached to without the preload (probes reach them).
import '../engines/probes/esm-source.js';
import type { FunctionEntry, LoadedModule } from '../catalog/entries.js';
import { modulesForFiles } from '../catalog/modules.js';
import { nearMisses } from '../catalog/near-misses.js';
import { resolve, type Candidate } from '../catalog/resolve.js';
import { ArrayPrototypePush, SafeMap, SafeSet } from '../../safe/intrinsics.js';

/** The session's hot path, as its hooks call it. */
export interface HookOwner {
  /** The session's rate limit as a gate for a hook whose one pattern is `matcher` (patcher/dispatch.ts Gate), if the wrapper may apply it. */
  gate(matcher: Matcher): Gate | undefined;
  admit(hook: SessionHook, matcher: Matcher, bindings: Bindings, self: unknown, args: unknown[]): object | undefined;
  exit(token: object, threw: boolean, pending: boolean, value: unknown, start: number, end: number): void;
  settle(token: object, rejected: boolean, value: unknown, at: number): void;
  /** Time spent for the session outside its hooks (probe conditions and pauses), ns. */
  charge(ns: number): void;
}

export interface Hooked {
  matched: MatchedFunction[];
  unpatchable: UnpatchableFunction[];
}

/** One session's presence on one site. */
export class SessionHook implements Hook {
  readonly sessionKey: HookOwner;
  readonly site: Site;
  readonly fn: string;
  readonly module: string;
  readonly engine: Engine;
  /** What the function's parameter names hide (capture/argument-redaction.ts). */
  readonly redaction: ArgumentRedaction | undefined;
  readonly loaded: LoadedModule;
  matchers: Matcher[];
  /** Calls that reached `enter`. */
  private reached = 0;
  /** The site's count of calls its positional pre-test let by, when this hook was made. */
  private readonly skippedBefore: number;
  /** Its tokens are frames (patcher/dispatch.ts Hook): see `Token`. */
  readonly tokenFrames = true;

  constructor(session: HookOwner, site: Site, candidate: Candidate, redaction: ArgumentRedaction | undefined) {
    this.redaction = redaction;
    this.sessionKey = session;
    this.site = site;
    this.fn = candidate.fn;
    this.module = candidate.module.ref.id;
    this.loaded = candidate.module;
    this.engine = site.target.engine;
    this.matchers = candidate.matchers;
    this.skippedBefore = site.state.skipped;
  }

  /**
   * Calls that reached this hook, matching or not: the reach check compares it with V8's
   * count. Those the site's positional pre-test let by count too: the site runs one only
   * while this is its one hook (patcher/site.ts refreshSite).
   */
  get entered(): number {
    return this.reached + (this.site.state.skipped - this.skippedBefore);
  }

  /** The session's rate limit, for the site's wrapper to drop over-the-rate calls itself, when the one pattern takes every call. */
  get gate(): Gate | undefined {
    const matcher = this.matchers.length === 1 ? this.matchers[0]! : undefined;
    return matcher?.acceptsAll === true ? this.sessionKey.gate(matcher) : undefined;
  }

  /** The one pattern's positional test (pattern/match/matcher.ts), for the site's wrapper to run first. */
  get pretest(): Positional | undefined {
    return this.matchers.length === 1 ? this.matchers[0]!.positional : undefined;
  }

  enter(self: unknown, args: unknown[]): object | undefined {
    // patcher/dispatch.ts enter() has checked engine.busy already: livetrace's own calls never get here.
    this.reached++;
    const matchers = this.matchers;
    for (let i = 0; i < matchers.length; i++) {
      const matcher = matchers[i]!;
      const bindings = matcher.pre(self, args);
      if (bindings !== undefined) return this.sessionKey.admit(this, matcher, bindings, self, args);
    }
    return undefined;
  }

  exit(token: object, threw: boolean, pending: boolean, value: unknown, start: number, end: number): void {
    this.sessionKey.exit(token, threw, pending, value, start, end);
  }

  settle(token: object, rejected: boolean, value: unknown, at: number): void {
    this.sessionKey.settle(token, rejected, value, at);
  }

  charge(ns: number): void {
    this.sessionKey.charge(ns);
  }
}

/**
 * What a hook hands from a call's entry to its exit: the call as admitted, and what was
 * captured then. It is also the call's frame in the call-tree context when this hook is
 * the only one that took the call (patcher/context.ts adoptFrame): the frame's fields
 * (PushedFrame's) are in it from the start, unset, so that a reported call makes one
 * object for both.
 */
export interface Token extends PushedFrame {
  readonly id: number;
  readonly hook: SessionHook;
  readonly matcher: Matcher;
  readonly bindings: Bindings;
  /** The enclosing call's id (`parent` is its frame, while this token is a frame). */
  readonly parentId: number | null;
  readonly depth: number;
  readonly aggregate: boolean;
  readonly args: Value[] | undefined;
  readonly self: Value | undefined;
  readonly stack: CallEvent['stack'];
  truncated: boolean;
  bytes: number;
  /** The clock before the entry's capture, when it was read: the entry's own time runs from it to the call's start (session.ts ownTime). */
  enteredAt: number | undefined;
  /**
   * The call's end (its return of a promise), set while that promise is pending: `settle`
   * follows. Its start is `start`, the frame's (set then too, for a token that is no frame).
   */
  end: number | undefined;
}

type HookOptions = Pick<ResolvedOptions, 'force' | 'maxFunctions' | 'waitForModules'>;

/** A session's patterns, matchers and hooks. */
export class SessionHooks {
  readonly patterns: string[] = [];
  readonly matchers: Matcher[] = [];
  readonly matched: MatchedFunction[] = [];
  readonly unpatchable: UnpatchableFunction[] = [];
  private readonly hooks = new SafeMap<Site, SessionHook>();

  constructor(
    private readonly owner: HookOwner,
    private readonly options: HookOptions,
    /** The session's capture redactor: it decides parameter names too. */
    private readonly redactor: Redactor,
    /** Told of the hooks each attach or load adds (the session checks their reach). */
    private readonly hooked: (hooks: SessionHook[]) => void = () => {},
  ) {}

  /** True while `hook` is this session's hook on its site. */
  has(hook: SessionHook): boolean {
    return this.hooks.get(hook.site) === hook;
  }

  /**
   * Moves `hook` to the probe of the same function (`entry`, its internal entry): the
   * probe is armed first, then the wrapper's hook removed, both on this thread with no
   * call in between, so no call is seen twice or lost in the move. Returns the new hook,
   * or why the probe could not be armed (the wrapper's hook then stays).
   */
  switchToProbe(hook: SessionHook, entry: FunctionEntry): SessionHook | string {
    if (!this.has(hook) || entry.target === undefined) return 'the function is no longer traced';
    const site = siteFor(entry.target);
    if (typeof site === 'string') return site;
    if (this.hooks.has(site)) return 'its probe is already traced by this session';
    const moved = new SessionHook(this.owner, site, { module: hook.loaded, entry, fn: hook.fn, matchers: hook.matchers }, hook.redaction);
    if (!addHook(site, moved)) return site.target.failure?.() ?? 'the probe could not be armed';
    removeHook(hook.site, hook);
    this.hooks.delete(hook.site);
    this.hooks.set(site, moved);
    const index = this.matched.findIndex((m) => m.fn === hook.fn && m.engine === hook.engine);
    if (index >= 0) this.matched[index] = { ...this.matched[index]!, engine: site.target.engine };
    return moved;
  }

  /** Hooks what the patterns match now; throws for a pattern that is bad, too broad, or (unless waiting) matches nothing. */
  attach(patterns: string[], initial: boolean): Hooked {
    const matchers = compilePatterns(patterns);
    if (!this.options.force) {
      const broad = matchers.find((m) => m.tooBroad);
      if (broad !== undefined) {
        throw new LivetraceError('LT_PATTERN_TOO_BROAD', `'${broad.source}' would trace every function in the process`, { input: broad.source });
      }
    }
    const candidates = resolve(matchers, matchers.map((m) => m.moduleGlob));
    const patchable = candidates.filter((c) => c.entry.target !== undefined);
    if (!this.options.force && this.hooks.size + patchable.length > this.options.maxFunctions) {
      throw new LivetraceError(
        'LT_PATTERN_TOO_BROAD',
        `the pattern matches ${patchable.length} functions, over the limit of ${this.options.maxFunctions}`,
        { input: patterns.join(' '), hint: 'Narrow the pattern, or raise --max-functions (and pass --force).' },
      );
    }
    if (candidates.length === 0 && !(initial && this.options.waitForModules)) {
      const near = matchers.flatMap((m) => nearMisses(m.moduleGlob, m.functionGlob));
      throw new LivetraceError('LT_PATTERN_NO_MATCH', `no loaded function matches ${patterns.map((p) => `'${p}'`).join(', ')}`, {
        input: patterns.join(' '),
        ...(near.length > 0 ? { hint: `Did you mean: ${[...new SafeSet(near)].slice(0, 5).join(', ')}? ('livetrace ls <pid>' lists all)` } : {}),
      });
    }
    ArrayPrototypePush(this.matchers, ...matchers);
    ArrayPrototypePush(this.patterns, ...patterns);
    return this.hookCandidates(candidates);
  }

  /** Hooks what the session's patterns match in modules that just loaded. */
  loaded(files: string[]): Hooked {
    const candidates = resolve(this.matchers, [], modulesForFiles(files));
    return candidates.length === 0 ? { matched: [], unpatchable: [] } : this.hookCandidates(candidates);
  }

  /** Removes every hook, restoring originals; a failure is reported and the rest still removed. */
  removeAll(failed: (error: unknown) => void): void {
    for (const [site, hook] of this.hooks) {
      try {
        removeHook(site, hook);
      } catch (error) {
        failed(error);
      }
    }
    this.hooks.clear();
  }

  private hookCandidates(candidates: Candidate[]): Hooked {
    const matched: MatchedFunction[] = [];
    const unpatchable: UnpatchableFunction[] = [];
    const added: SessionHook[] = [];
    for (const candidate of candidates) {
      const where = { fn: candidate.fn, module: candidate.module.ref.id };
      if (candidate.entry.target === undefined) {
        ArrayPrototypePush(unpatchable, { ...where, reason: candidate.entry.unpatchable ?? 'not patchable' });
        continue;
      }
      const site = siteFor(candidate.entry.target);
      if (typeof site === 'string') {
        ArrayPrototypePush(unpatchable, { ...where, reason: site });
        continue;
      }
      const existing = this.hooks.get(site);
      if (existing !== undefined) {
        // Another pattern of this session reaches the same function: one hook, more matchers.
        for (const m of candidate.matchers) if (!existing.matchers.includes(m)) existing.matchers = [...existing.matchers, m];
        // Two patterns: no single positional test rejects for both.
        refreshSite(site);
        continue;
      }
      // Parameter names are read once per function and session, from its source (never by calling it).
      const hook = new SessionHook(this.owner, site, candidate, argumentRedaction(site.original, this.redactor));
      if (!addHook(site, hook)) {
        ArrayPrototypePush(unpatchable, { ...where, reason: site.target.failure?.() ?? 'the property could not be written' });
        continue;
      }
      this.hooks.set(site, hook);
      ArrayPrototypePush(added, hook);
      const entry: MatchedFunction = { ...where, engine: site.target.engine };
      if (site.target.engine === 'exports' && candidate.entry.warning !== undefined) entry.identity = candidate.entry.warning;
      ArrayPrototypePush(matched, entry);
      ArrayPrototypePush(this.matched, entry);
    }
    ArrayPrototypePush(this.unpatchable, ...unpatchable);
    if (added.length > 0) this.hooked(added);
    return { matched, unpatchable };
  }
}
