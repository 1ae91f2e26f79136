/**
 * Patterns to hooks: compiles a session's patterns, resolves them against what is loaded
 * (the catalog), refuses what is too broad or matches nothing, and puts one hook per
 * function on its patch site. A function two patterns of one session reach gets one hook
 * with both matchers. Modules that load later are hooked by `loaded()`.
 *
 * A hook's `enter` is the first thing a traced call meets: it runs the compiled
 * pre-tests, which reject without allocating and never run user code, and hands a match
 * to the session's hot path (session.ts).
 */
import type { CallEvent, Engine, MatchedFunction, UnpatchableFunction } from '../../protocol/events.js';
import type { Value } from '../../protocol/value.js';
import { LivetraceError } from '../../protocol/errors.js';
import type { ResolvedOptions } from '../../protocol/options.js';
import { compilePatterns } from '../../pattern/index.js';
import type { Bindings, Matcher } from '../../pattern/match/matcher.js';
import { addHook, removeHook, siteFor, type Site } from '../patcher/site.js';
import { type Ending, type Hook } from '../patcher/dispatch.js';
// Registers '~name' (internal functions, reached by probes) with the registry.
import '../engines/probes/internal-source.js';
import { modulesForFiles } from '../catalog/modules.js';
import { nearMisses } from '../catalog/near-misses.js';
import { resolve, type Candidate } from '../catalog/resolve.js';
import { engine } from './registry.js';

/** The session's hot path, as its hooks call it. */
export interface HookOwner {
  admit(hook: SessionHook, matcher: Matcher, bindings: Bindings, self: unknown, args: unknown[]): object | undefined;
  exit(token: object, ending: Ending): void;
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
  matchers: Matcher[];

  constructor(session: HookOwner, site: Site, candidate: Candidate) {
    this.sessionKey = session;
    this.site = site;
    this.fn = candidate.fn;
    this.module = candidate.module.ref.id;
    this.engine = site.target.engine;
    this.matchers = candidate.matchers;
  }

  enter(self: unknown, args: unknown[]): object | undefined {
    if (engine.busy !== 0) return undefined;
    const matchers = this.matchers;
    for (let i = 0; i < matchers.length; i++) {
      const matcher = matchers[i]!;
      const bindings = matcher.pre(self, args);
      if (bindings !== undefined) return this.sessionKey.admit(this, matcher, bindings, self, args);
    }
    return undefined;
  }

  exit(token: object, ending: Ending): void {
    this.sessionKey.exit(token, ending);
  }

  settle(token: object, rejected: boolean, value: unknown, at: number): void {
    this.sessionKey.settle(token, rejected, value, at);
  }

  charge(ns: number): void {
    this.sessionKey.charge(ns);
  }
}

/** What a hook hands from a call's entry to its exit: the call as admitted, and what was captured then. */
export interface Token {
  readonly id: number;
  readonly hook: SessionHook;
  readonly matcher: Matcher;
  readonly bindings: Bindings;
  readonly parent: number | null;
  readonly depth: number;
  /** True when limits were taken at entry (no post-guard). */
  readonly admitted: boolean;
  readonly aggregate: boolean;
  readonly args: Value[] | undefined;
  readonly self: Value | undefined;
  readonly stack: CallEvent['stack'];
  truncated: boolean;
  bytes: number;
  sampledNs: number;
  /** Set while a returned promise is pending. */
  ending: Ending | undefined;
}

type HookOptions = Pick<ResolvedOptions, 'force' | 'maxFunctions' | 'waitForModules'>;

/** A session's patterns, matchers and hooks. */
export class SessionHooks {
  readonly patterns: string[] = [];
  readonly matchers: Matcher[] = [];
  readonly matched: MatchedFunction[] = [];
  readonly unpatchable: UnpatchableFunction[] = [];
  private readonly hooks = new Map<Site, SessionHook>();

  constructor(
    private readonly owner: HookOwner,
    private readonly options: HookOptions,
  ) {}

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
        ...(near.length > 0 ? { hint: `Did you mean: ${[...new Set(near)].slice(0, 5).join(', ')}? ('livetrace ls <pid>' lists all)` } : {}),
      });
    }
    this.matchers.push(...matchers);
    this.patterns.push(...patterns);
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
    for (const candidate of candidates) {
      const where = { fn: candidate.fn, module: candidate.module.ref.id };
      if (candidate.entry.target === undefined) {
        unpatchable.push({ ...where, reason: candidate.entry.unpatchable ?? 'not patchable' });
        continue;
      }
      const site = siteFor(candidate.entry.target);
      if (typeof site === 'string') {
        unpatchable.push({ ...where, reason: site });
        continue;
      }
      const existing = this.hooks.get(site);
      if (existing !== undefined) {
        // Another pattern of this session reaches the same function: one hook, more matchers.
        for (const m of candidate.matchers) if (!existing.matchers.includes(m)) existing.matchers = [...existing.matchers, m];
        continue;
      }
      const hook = new SessionHook(this.owner, site, candidate);
      if (!addHook(site, hook)) {
        unpatchable.push({ ...where, reason: site.target.failure?.() ?? 'the property could not be written' });
        continue;
      }
      this.hooks.set(site, hook);
      const entry: MatchedFunction = { ...where, engine: site.target.engine };
      matched.push(entry);
      this.matched.push(entry);
    }
    this.unpatchable.push(...unpatchable);
    return { matched, unpatchable };
  }
}
