/**
 * Body sites: the site of a function whose own body calls the tracer (source/instrument.ts
 * rewrites the selected CommonJS modules as they compile). Nothing is wrapped: the traced
 * function stays the very same object, so a library's own references to what it exports,
 * `Object.create(fn)`, statics, `inspect` and `toString` are exactly as untraced.
 *
 * One body site per source function, shared by every closure made of it, with one
 * `ClosureState` per closure a session asked for: that is the `SiteState` of the patcher's
 * site (site.ts), so a session hooks a closure as it hooks a wrapper. The body checks the
 * body site's `hooks` on entry (the idle path: one property read; non-null while any of
 * its closures has hooks), then hands `enter` the running closure (its own name, or
 * `arguments.callee`: instrument.ts decides), whose hooks alone are asked: hooking one of
 * lodash's dozens of exports made by one `function () {}` tells of that one only. The
 * calls it makes when hooked run the same dispatch as a wrapper
 * (dispatch.ts), so the events are the same: `enter` asks the first hook, then the others,
 * and makes the call the enclosing one for the call tree. A body that runs nothing of
 * the program's between a `return`'s value and its exit reports its ending where it
 * happens: `R` (a `return`), `X` (a throw, from a `catch` of ours), `f` (a `return;` or
 * falling off the end). Any other (a `finally`, `for...of` or `using` of its own) has a
 * `finally` of ours: `r` and `x` record how it is ending, and `f` there, after any of the
 * user's, reports the last of them, once (source/instrument-plan.ts). Unlike a wrapper
 * there is no frame of ours between the function and its caller at all.
 *
 * An async function's call ends, for its hooks, where a wrapper would see it return: at
 * its first suspension (`a`, called by each of its awaits just before it suspends), told
 * as a pending ending; `w` makes it the enclosing call again each time it resumes, and `f`
 * settles it with what its promise settles with (`settle`). Its promise itself is never
 * touched, so no mirror is needed for unhandled rejections (promise-watch.ts).
 *
 * A generator's call is seen by its hidden parameter (`g`, source/instrument-plan.ts), as
 * its parameters are bound: begun and returned at once, as a wrapper reports it, with a
 * value made as the generator object is made a moment later (`freshGenerator`). Its body,
 * untouched, runs later inside whatever call runs it, as behind a wrapper.
 *
 * How a patcher site knows a function is instrumented: the inserted text carries a marker
 * comment with the site id, found in the pristine `Function.prototype.toString` text; the
 * marker of the function itself (not of a nested one) is the one at the offset the rewrite
 * recorded. The registry (body-registry.ts: sites by id, the per-process tag) lives on a global symbol so
 * the ESM and CJS builds of livetrace share it, and the rewritten modules reach it.
 *
 * Two writers allocate ids without asking each other: the CommonJS `_compile` hook, in the
 * main thread, from zero upward (`sites.length`), and the ES module load hook, in Node's
 * loader thread (engines/preload/hooks.ts), from -1 downward. The loader thread never
 * touches this registry: the module it rewrote creates its own sites, by `define`, when
 * its first statement runs in the main thread, from the names, lines and offsets the
 * rewrite wrote into it.
 */
import { engine } from './guard.js';
import { enter as dispatchEnter, returned, settled, suspended, threw, type ActiveCall, type Hook } from './dispatch.js';
import { resumeFrame } from './context.js';
import { isNativePromise } from './promise-watch.js';
import { ANY_ARITY, compileFactory, type SiteState } from './wrapper-compile.js';
import { ArrayPrototypePush, FunctionPrototypeToString, ObjectCreate, ObjectGetOwnPropertyDescriptor, ObjectGetPrototypeOf, ReflectApply, SafeWeakMap } from '../../safe/intrinsics.js';

/**
 * A call some hook took. How it ends is known only in the body's own `finally` (a user's
 * `finally` may still return another value or throw after a `return`): `r` and `x` record,
 * `f` reports the last completion, once.
 */
interface BodyCall {
  call: ActiveCall;
  /** Called with `new`: the result is `this` unless an object is returned. */
  constructed: boolean;
  /** 0: no completion yet (falls off the end), 1: returned `value`, 2: threw `value`. */
  ending: 0 | 1 | 2;
  value: unknown;
  /** An async function's call: it ends at its first `await` (`a`) and settles at `f`. */
  async: boolean;
  /** The async call has been reported ended (its caller holds its promise). */
  suspended: boolean;
}

/**
 * The hooks of one closure of an instrumented function: the patcher site's state (site.ts
 * assigns `hooks` as for a wrapper). Writing it also keeps the body site's `hooks` (the
 * idle check in the body) non-null exactly while some closure of it has hooks.
 */
export class ClosureState implements SiteState {
  private own: Hook[] | null = null;
  // Any position can be pre-tested (ANY_ARITY): `enter` has the first named values, `full`
  // every argument. refreshSite gives a closure with one hook that hook's positional
  // pre-test and rate gate, and the call is rejected or dropped with them before any array
  // or hook call, as a compiled wrapper does, counted in `skipped`.
  private test: SiteState['pre'] = null;
  /** Which of the site's pre-test call sites in its compiled `enter` runs `pre` (BodySite.slotOf). */
  slot = 0;
  private position = 0;
  private limit: SiteState['gate'] = null;
  arity = ANY_ARITY;
  /** Calls let by with no hook asked, but those the site counts while this is its one hooked closure (BodySite.skippedOne). */
  counted = 0;
  constructor(
    private readonly body: BodySite,
    /** The closure itself: a generator's call reports a value made from its `prototype` (BodySite.g). */
    readonly fn: Function,
  ) {}

  get hooks(): Hook[] | null {
    return this.own;
  }

  set hooks(value: Hook[] | null) {
    const before = this.own !== null;
    this.own = value;
    const after = value !== null;
    if (before !== after) this.body.hookedClosures(this, after);
  }

  // The site's compiled `enter` reads the one hooked closure's decisions from the site
  // itself (BodySite.mirror): each write here is mirrored there.
  get pre(): SiteState['pre'] {
    return this.test;
  }

  set pre(value: SiteState['pre']) {
    this.test = value;
    this.slot = value === null ? 0 : this.body.slotOf(value);
    this.body.mirror(this);
  }

  get at(): number {
    return this.position;
  }

  set at(value: number) {
    this.position = value;
    this.body.mirror(this);
  }

  get gate(): SiteState['gate'] {
    return this.limit;
  }

  set gate(value: SiteState['gate']) {
    this.limit = value;
    this.body.mirror(this);
  }

  get skipped(): number {
    return this.counted + (this.body.single === this ? this.body.skippedOne : 0);
  }

  set skipped(value: number) {
    this.counted = value - (this.body.single === this ? this.body.skippedOne : 0);
  }
}

const ANY: Hook[] = [];
/** BodySite.oneFn while several closures have hooks: no closure is this function. */
const SEVERAL = function several(): void {};

export class BodySite {
  /** Non-null while any closure has hooks: the one field the body reads per call. */
  hooks: readonly Hook[] | null = null;
  /**
   * The closures that have hooks, looked up by identity on entry instead of the WeakMap
   * (a hash lookup per call). Holding them keeps nothing alive that is not already: a
   * hooked closure is its patcher site's `original` until unhooked.
   */
  private hooked: ClosureState[] = [];
  /** Per closure; for a function evaluated once, the one state. */
  private readonly closures = new SafeWeakMap<Function, ClosureState>();
  private only: ClosureState | undefined;

  constructor(
    readonly id: number,
    readonly file: string,
    readonly name: string,
    readonly line: number,
    /** Where the site's marker sits in its function's toString text. */
    readonly offset: number,
    /** Evaluated once: every closure (there is one) shares one state, and the body hands none to `enter`. */
    readonly once: boolean,
    /** An async function (its body's awaits call `a` and `w`), or an async generator. */
    readonly async: boolean = false,
    /** A generator or async generator (its hidden parameter calls `g`). */
    readonly generator: boolean = false,
  ) {}

  /** The patcher state of closure `fn`. */
  stateFor(fn: Function): ClosureState {
    if (this.once) return (this.only ??= new ClosureState(this, fn));
    let state = this.closures.get(fn);
    if (state === undefined) this.closures.set(fn, (state = new ClosureState(this, fn)));
    return state;
  }

  hookedClosures(state: ClosureState, hooked: boolean): void {
    this.hooked = hooked ? [...this.hooked, state] : this.hooked.filter((s) => s !== state);
    const single = this.hooked.length === 1 ? this.hooked[0] : undefined;
    if (single !== this.single) {
      // The calls the site counted belong to the closure that was its one hooked closure.
      if (this.single !== undefined) this.single.counted += this.skippedOne;
      this.skippedOne = 0;
      this.single = single;
    }
    this.mirror(single);
    // Before `hooks` lets a body call it: the body's call site only ever sees one `enter`.
    if (hooked && !this.compiled) {
      this.compiled = true;
      this.enter = compileEnter(this) ?? this.enter;
    }
    this.hooks = this.hooked.length > 0 ? ANY : null;
  }

  /**
   * What the compiled `enter` reads, kept on the site: the one hooked closure's function,
   * positional pre-test (its position and call site) and rate gate. The site is a constant
   * wherever V8 inlines `enter` into the body (a closure constant of the compiled copy), so
   * each is one load with no map check, where reading them from the closure's state took a
   * load of the state, a map check, then the loads (and `pre`, an accessor). Written when
   * the one hooked closure changes or changes any of them; no call runs between.
   */
  mirror(state: ClosureState | undefined): void {
    if (state !== this.single) return;
    // The one closure's function (undefined for a function evaluated once: its body hands
    // none), or `several` while more than one closure has hooks (`enterAny` then finds the
    // running one); the body's closure is compared with it first, in one load.
    this.oneFn = state === undefined ? (this.hooked.length > 1 ? SEVERAL : undefined) : this.once ? undefined : state.fn;
    this.onePre = state === undefined ? null : state.pre;
    // A small integer kept as one: a position the pattern compiler computed may arrive as a
    // heap number, and the field would then be a double, unboxed and converted per call.
    this.oneAt = state === undefined ? 0 : state.at | 0;
    this.oneSlot = state === undefined ? 0 : state.slot;
    this.oneGate = state === undefined ? null : state.gate;
  }

  oneFn: Function | undefined = undefined;
  /** `oneFn` while several closures have hooks: no closure is this function. */
  readonly several = SEVERAL;
  onePre: SiteState['pre'] = null;
  oneAt = 0;
  oneSlot = 0;
  oneGate: SiteState['gate'] = null;
  /** Calls `enter` let by with no hook asked while `single` is the one hooked closure (its `skipped` adds them). */
  skippedOne = 0;

  /**
   * The texts of the pre-tests this site's `enter` has been given, one call site each
   * (ENTER_TEXT): a pattern's positional test is a closure of one of a few literals of the
   * pattern compiler, and a call site that has seen two of them is megamorphic in V8's
   * feedback and never inlines either again. The body is compiled once, unlike a
   * wrapper, so a site traced with `f(nil, _)` and later with `f(X, _) when X < 0` would
   * otherwise call the second test instead of inlining it. The same text is the same
   * literal; past PRE_SLOTS texts, the last call site takes the rest.
   */
  private preTexts: string[] = [];

  slotOf(test: Function): number {
    let text: string;
    try {
      text = FunctionPrototypeToString(test as () => void);
    } catch {
      return PRE_SLOTS - 1;
    }
    const texts = this.preTexts;
    for (let i = 0; i < texts.length; i++) if (texts[i] === text) return i;
    if (texts.length >= PRE_SLOTS) return PRE_SLOTS - 1;
    ArrayPrototypePush(texts, text);
    return texts.length - 1;
  }

  /** The state of the one closure that has hooks; undefined when none has, or several (`enterAny` then looks the running one up). */
  single: ClosureState | undefined = undefined;
  private compiled = false;
  /**
   * What the body calls on entry while some closure has hooks (`enterAny`'s contract). From
   * the first time a closure of this site is hooked, a copy compiled for this site alone
   * (`compileEnter`): its own type feedback, so V8 inlines it into the body with the one
   * pattern test this site has seen, where the shared method, reached from every body site
   * of the process, is polymorphic in all of them. Set once per site, never back: a body's
   * call site that saw two targets would stop inlining either.
   */
  enter: BodySite['enterAny'] = BodySite.prototype.enterAny;

  /** Pristine `Reflect.apply`: the body applies `full` to its `arguments` with it (source/instrument-plan.ts). */
  readonly apply = ReflectApply;
  /**
   * What `enter` decided for the call whose `full` comes next: nothing of the program's
   * runs between the two (the body's own `if`, then a pristine `Reflect.apply` that reads
   * an arguments object's own data properties), so one pending call per site is enough.
   */
  pendingSelf: unknown = undefined;
  pendingNewTarget: Function | undefined = undefined;
  pendingState: ClosureState | undefined = undefined;
  /** The pre-test is still to run, on `full`'s arguments (its position was past the named values). */
  pendingPre = false;

  /**
   * At body entry, when some closure has hooks: `fn` is the running closure (undefined for
   * a function evaluated once); `count` of the call's leading arguments are handed as
   * `a0`..`a3` (the body's first parameters, instrument-plan.ts `namedValues`). Answers
   * undefined to let the call go by (rejected by a pre-test on a named value, dropped by
   * the rate gate, another closure's call, or inside our own work), or the site itself:
   * the body then hands every argument to `full`. No arguments object and no array is
   * made before that answer, and V8 inlines this into the body: a rejected or dropped
   * call never leaves the function. Never throws.
   */
  enterAny(self: unknown, newTarget: Function | undefined, fn: Function | undefined, count: number, a0?: unknown, a1?: unknown, a2?: unknown, a3?: unknown): BodySite | undefined {
    if (engine.busy !== 0) return undefined;
    const state = this.stateOf(fn);
    if (state === undefined || state.hooks === null) return undefined;
    // The reject and drop paths of a compiled wrapper (wrapper-function.ts), in the same
    // order: the positional pre-test on the argument itself (a test that throws leaves the
    // decision to the hooks), then the rate gate.
    let later = false;
    const pre = state.pre;
    if (pre !== null) {
      const at = state.at;
      if (at < count) {
        if (!passes(pre, at === 0 ? a0 : at === 1 ? a1 : at === 2 ? a2 : a3)) {
          state.skipped++;
          return undefined;
        }
      } else later = true;
    }
    if (!later && dropped(state)) return undefined;
    return this.hold(state, self, newTarget, later);
  }

  /** `enter`'s answer for a call that goes on to `full`: what it decided, kept for it. */
  hold(state: ClosureState, self: unknown, newTarget: Function | undefined, later: boolean): BodySite {
    this.pendingSelf = self;
    this.pendingNewTarget = newTarget;
    this.pendingState = state;
    this.pendingPre = later;
    return this;
  }

  /** The rest of a call `enter` answered with the site: called with every argument of the call. Never throws. */
  full(): BodyCall | undefined {
    return this.resume(arguments);
  }

  /**
   * `full` for a sloppy-mode plain function with parameters: there V8 keeps `arguments`
   * mapped to the parameters, and forwards it to `Reflect.apply` without making it only
   * when nothing with a side effect ran since the call began (`enter` did), so any
   * mention of `arguments` in the body would make the object on every call again. The
   * same values are the function's legacy own `arguments` property, which V8 makes for
   * the innermost running call of it, this one (the body has run nothing yet): a
   * non-configurable property no program can replace, whose read runs none of its code.
   */
  own(): BodyCall | undefined {
    const fn = this.pendingState?.fn as { arguments?: ArrayLike<unknown> | null } | undefined;
    let args: ArrayLike<unknown> | null | undefined;
    try {
      args = fn?.arguments;
    } catch {
      // Not a sloppy-mode plain function after all (instrument-plan.ts chose wrongly): the call goes untraced.
    }
    return this.resume(args ?? undefined);
  }

  private resume(args: ArrayLike<unknown> | undefined): BodyCall | undefined {
    const state = this.pendingState;
    const self = this.pendingSelf;
    const newTarget = this.pendingNewTarget;
    const later = this.pendingPre;
    this.pendingState = undefined;
    this.pendingSelf = undefined;
    this.pendingNewTarget = undefined;
    this.pendingPre = false;
    if (state === undefined || args === undefined) return undefined;
    return this.decide(state, self, args, newTarget, later);
  }

  /** `enter` and `full` at once, for a caller that has the arguments in hand (a generator's hidden parameter). */
  private enterList(self: unknown, args: ArrayLike<unknown>, newTarget: Function | undefined, fn: Function | undefined): BodyCall | undefined {
    if (engine.busy !== 0) return undefined;
    const state = this.stateOf(fn);
    if (state === undefined) return undefined;
    return this.decide(state, self, args, newTarget, true);
  }

  /** The closure's state when it has hooks: by identity among the hooked ones (undefined `fn`: the one closure). */
  private stateOf(fn: Function | undefined): ClosureState | undefined {
    if (fn === undefined) return this.only;
    const hooked = this.hooked;
    for (let i = 0; i < hooked.length; i++) if (hooked[i]!.fn === fn) return hooked[i];
    return undefined;
  }

  private decide(state: ClosureState, self: unknown, args: ArrayLike<unknown>, newTarget: Function | undefined, pretest: boolean): BodyCall | undefined {
    const hooks = state.hooks;
    if (hooks === null) return undefined;
    if (pretest) {
      const pre = state.pre;
      if (pre !== null && !passes(pre, args[state.at])) {
        state.skipped++;
        return undefined;
      }
      if (dropped(state)) return undefined;
    }
    return this.ask(hooks, self, args, newTarget);
  }

  /**
   * The hooks' part of a call: apart so that `enter` stays small enough for V8 to inline
   * into the body.
   */
  private ask(hooks: Hook[], self: unknown, args: ArrayLike<unknown>, newTarget: Function | undefined): BodyCall | undefined {
    // A sloppy-mode function sees globalThis for a plain call; the wrapper (strict) sees
    // the caller's undefined: report what a wrapper would.
    if (self === globalThis) self = undefined;
    // A copy: hooks expect an array, and a sloppy-mode `arguments` follows later writes to the parameters.
    const list: unknown[] = [];
    for (let i = 0; i < args.length; i++) list[i] = args[i];
    let first: object | undefined;
    try {
      first = hooks[0]!.enter(self, list, newTarget);
    } catch {
      // Hooks guard themselves; this is the last line so a bug never reaches the caller.
    }
    const call = first === undefined && hooks.length === 1 ? undefined : dispatchEnter(hooks, first, self, list, newTarget);
    return call === undefined ? undefined : { call, constructed: newTarget !== undefined, ending: 0, value: undefined, async: this.async, suspended: false };
  }

  /**
   * A generator's call, from its hidden parameter (instrument-plan.ts), when some closure
   * has hooks: the parameters are bound, the generator object is about to be made and
   * returned, and nothing of the program's runs in between. The call is reported there,
   * begun and returned, as a wrapper reports it. The generator object does not exist yet
   * and its body can never name it, so the hooks are handed what it will be: a new object
   * with its prototype (the closure's `prototype` when that is an object, else the
   * intrinsic one) and no own property, which is all a fresh generator object has that
   * capture or a post-guard can read (its internal slots are not read by either): the
   * reported record is the wrapper path's (docs/transparency.md). Returns the key the
   * hidden parameter reads. Never throws.
   */
  g(self: unknown, args: ArrayLike<unknown>, fn?: Function): string {
    try {
      const state = fn === undefined ? this.only : this.closures.get(fn);
      const token = this.enterList(self, args, undefined, fn);
      if (token !== undefined) returned(token.call, freshGenerator(state?.fn ?? fn, this.async));
    } catch {
      // The parameter list must bind whatever happens here.
    }
    return 'length';
  }

  /** `return value` of a traced call: recorded; hands `value` back unchanged. */
  r(token: BodyCall, value: unknown): unknown {
    token.ending = 1;
    token.value = value;
    return value;
  }

  /**
   * `return value` of a traced call whose body runs nothing of the program's between the
   * return's value and its exit (instrument-plan.ts `direct`): reported at once (`r` then
   * `f`). Hands `value` back unchanged.
   */
  R(token: BodyCall, value: unknown, self?: unknown): unknown {
    token.ending = 1;
    token.value = value;
    this.f(token, self);
    return value;
  }

  /** The body threw `error` and has no `finally` of ours: reported at once (`x` then `f`); the body rethrows it. */
  X(token: BodyCall, error: unknown): void {
    token.ending = 2;
    token.value = error;
    this.f(token);
  }

  /** The body threw `error` (rethrown by the body itself). */
  x(token: BodyCall, error: unknown): void {
    token.ending = 2;
    token.value = error;
  }

  /**
   * An async body is about to suspend at an `await` (after its operand was evaluated): the
   * first time, the caller is about to get the promise, so the call is reported ended
   * (pending) as a wrapper reports the return of a promise. Hands `value` back unchanged.
   */
  a(token: BodyCall, value: unknown): unknown {
    if (!token.suspended) {
      token.suspended = true;
      suspended(token.call);
    }
    return value;
  }

  /** An async body resumed from an `await` with `value` (handed back unchanged); `token` is undefined on an untraced call. */
  w(token: BodyCall | undefined, value: unknown): unknown {
    if (token !== undefined) resumeFrame(token.call);
    return value;
  }

  /** The body's `finally`: reports the last completion (no `return`: undefined, or `self` when constructed). */
  f(token: BodyCall, self?: unknown): void {
    if (token.async) {
      this.settle(token);
      return;
    }
    if (token.ending === 2) {
      threw(token.call, token.value);
      return;
    }
    let value = token.value;
    if (token.constructed && (token.ending === 0 || value === null || (typeof value !== 'object' && typeof value !== 'function'))) value = self;
    returned(token.call, value);
  }

  /**
   * An async call's body ended: the promise its caller holds settles with this completion.
   * A throw rejects it; a returned native promise is adopted, so the call settles as that
   * promise does (a reaction of our own on it, as the wrapper path's promise-watch has on
   * the call's promise: the adoption has marked it handled already, so nothing changes for
   * the program); any other value fulfils it. A thenable that is not a native promise is
   * adopted too, but learning its outcome would call its `then` a second time: the call is
   * reported settled with the thenable itself (docs/transparency.md).
   */
  private settle(token: BodyCall): void {
    if (!token.suspended) {
      // Ended without suspending: the caller gets the promise only now.
      token.suspended = true;
      suspended(token.call);
    }
    if (token.ending === 2) {
      settled(token.call, true, token.value);
      return;
    }
    const value = token.ending === 1 ? token.value : undefined;
    let native = false;
    try {
      native = typeof value === 'object' && value !== null && isNativePromise(value);
    } catch {
      // Not reachable for a value V8 calls a promise; as dispatch.ts.
    }
    if (!native) {
      settled(token.call, false, value);
      return;
    }
    const call = token.call;
    engine.busy++;
    try {
      ReflectApply(promiseThen, value, [(v: unknown) => settled(call, false, v), (e: unknown) => settled(call, true, e)]);
    } catch {
      // Nothing of the program's runs in a pristine `then` on a native promise.
    } finally {
      engine.busy--;
    }
  }
}

/**
 * The text of a site's own `enter` (BodySite.enter): `enterAny`'s decisions for the common
 * case, one closure hooked, in the order of a compiled wrapper's (wrapper-function.ts): the
 * positional pre-test on the argument itself, then the rate gate, before any array or hook
 * call. Several closures hooked, it hands the call to `enterAny`, which finds the running one.
 * `original` is the site, `guard` the engine's busy count (FACTORY_PARAMS): both constants
 * where V8 inlines this into the body, so the one hooked closure's decisions are read from
 * the site (BodySite.mirror), one load each, and a call that goes on is held there
 * (BodySite.hold's writes, here to spare the body a call on its hooked branch).
 */
const ENTER_TEXT = `'use strict';
  return function enter(self, newTarget, fn, count, a0, a1, a2, a3) {
    const one = original.oneFn;
    if (fn !== one) return one === original.several ? original.enterAny(self, newTarget, fn, count, a0, a1, a2, a3) : undefined;
    if (guard.busy !== 0) return undefined;
    const pre = original.onePre;
    let later = false;
    if (pre !== null) {
      const at = original.oneAt;
      if (at < count) {
        const value = at === 0 ? a0 : at === 1 ? a1 : at === 2 ? a2 : a3;
        let pass;
        try {
          const slot = original.oneSlot;
          pass = slot === 0 ? pre(value) : slot === 1 ? pre(value) : slot === 2 ? pre(value) : pre(value);
        } catch {
          pass = true;
        }
        if (!pass) {
          original.skippedOne++;
          return undefined;
        }
      } else later = true;
    }
    if (!later) {
      const gate = original.oneGate;
      if (gate !== null && !(gate.tokens > 0)) {
        gate.dropped++;
        original.skippedOne++;
        return undefined;
      }
    }
    original.pendingSelf = self;
    original.pendingNewTarget = newTarget;
    original.pendingState = original.single;
    original.pendingPre = later;
    return original;
  };`;

/** Call sites of the pre-test in a site's `enter` (BodySite.slotOf). */
const PRE_SLOTS = 4;

/** A site's own compiled `enter`, or undefined where strings can't be compiled (the shared one serves). */
function compileEnter(site: BodySite): BodySite['enterAny'] | undefined {
  const factory = compileFactory(ENTER_TEXT);
  if (factory === undefined) return undefined;
  try {
    return factory(site, undefined, engine) as BodySite['enterAny'];
  } catch {
    return undefined;
  }
}

/** A positional pre-test: a test that throws leaves the decision to the hooks. */
function passes(pre: NonNullable<SiteState['pre']>, value: unknown): boolean {
  try {
    return pre(value);
  } catch {
    return true;
  }
}

/** The rate gate is closed: the call is counted dropped. */
function dropped(state: ClosureState): boolean {
  const gate = state.gate;
  if (gate === null || gate.tokens > 0) return false;
  gate.dropped++;
  state.skipped++;
  return true;
}

const promiseThen = Promise.prototype.then;
const GeneratorPrototype = ObjectGetPrototypeOf(function* () {}.prototype) as object;
const AsyncGeneratorPrototype = ObjectGetPrototypeOf(async function* () {}.prototype) as object;

/**
 * What the generator object of a call of `fn` is when the call returns: OrdinaryCreateFromConstructor
 * gives it `fn.prototype` (a data property a generator function can't make an accessor:
 * it is not configurable) when that is an object, else the intrinsic prototype, and nothing of its own.
 */
function freshGenerator(fn: Function | undefined, async: boolean): object {
  let proto: unknown;
  if (fn !== undefined) proto = ObjectGetOwnPropertyDescriptor(fn, 'prototype')?.value;
  if ((typeof proto !== 'object' && typeof proto !== 'function') || proto === null) proto = async ? AsyncGeneratorPrototype : GeneratorPrototype;
  return ObjectCreate(proto as object);
}
