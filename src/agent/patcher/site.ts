/**
 * The patcher: one dispatch wrapper per patched function, shared by every session.
 *
 * A *site* is one place a function is reachable from (an export property, a prototype
 * method, a static, an ESM binding). Patching a site installs a wrapper there, with the
 * original property's attributes, and keeps the original. The wrapper's hot path is one
 * read of a field of a const object (`state.hooks`); while it is null the wrapper is a
 * plain pass-through, which V8 inlines down to about the cost of the bare call.
 *
 * Sessions attach *hooks* to a site. A hook's `enter` decides (pattern, guard, limits)
 * whether this call is reported and returns a per-call token, or undefined to let the
 * call go by; only then does the site read the clock, run the call inside the call-tree
 * context and tell the hook how it ended. The wrapper never changes what the caller
 * sees: the same `this`, the same arguments, `new.target` and construct semantics, the
 * very same return value (a promise keeps its identity), the same thrown value, sync or
 * async. Hooks never throw: each hook guards itself, and the site guards again.
 *
 * Removing the last hook restores the original only if our wrapper is still what is
 * installed; if someone patched on top of us, our wrapper stays under theirs as a
 * pass-through (the shimmer / require-in-the-middle rule), so their patch keeps working.
 *
 * A *pinned* site (the preload engine's idle dispatchers) is installed before anyone
 * asks and stays installed for good, hooks or not: callers may hold its wrapper (a
 * destructured export), so removing it would leave them with a wrapper nobody can hook.
 *
 * One function, one site, one wrapper: a function reachable from several places (aliases
 * `exports.each = exports.forEach = forEach`, `module.exports.default = module.exports`, a
 * static that points at its own class) gets one wrapper installed at each of them, so
 * `each === forEach` still holds traced and a session hooks the function once. The
 * place a site was created for is its `target`; the others are `places`.
 *
 * The site table lives on a global symbol so that the ESM and CJS builds of livetrace,
 * both loaded in one process, share sites instead of wrapping each other's wrappers.
 *
 * This module keeps the sites; wrapper.ts makes the wrapper, dispatch.ts runs a hooked call.
 */
import type { Engine } from '../../protocol/events.js';
import type { Hook } from './dispatch.js';
import { SELF_USED_REASON, usedByLivetrace } from './self-used.js';
import { makeWrapper, type SiteState } from './wrapper.js';
import { bodySiteOf } from './body-registry.js';
import { idleState } from './wrapper-compile.js';
import { ArrayPrototypePush, SafeMap, SafeWeakMap } from '../../safe/intrinsics.js';

/** Where a function lives and how to swap it. */
export interface PatchTarget {
  /** Identity of the place: the holder object (with `key`, makes the site unique). */
  readonly holder: object;
  readonly key: PropertyKey;
  readonly engine: Engine;
  /** Current value at the place, read without running user code (undefined for an accessor). */
  read(): unknown;
  /** Installs `value`; returns false when the place can't be written. */
  write(value: Function): boolean;
  /** Why the place can't be patched, or undefined when it can. */
  unpatchable(): string | undefined;
  /** After a `write` that returned false: why, when the target knows. */
  failure?(): string | undefined;
  /** Called after every install and restore (builtins re-sync their ESM namespace). */
  afterChange?(): void;
}

export class Site {
  readonly target: PatchTarget;
  /** Every place the wrapper is (or will be) installed, `target` first. */
  readonly places: PatchTarget[];
  readonly original: Function;
  readonly wrapper: Function;
  /** A const object's field, read once per call: the idle check (an instrumented function's own body site). */
  readonly state: SiteState;
  installed = false;
  /** Installed for good: never restored, never forgotten (see pinSite). */
  pinned = false;

  constructor(target: PatchTarget, original: Function) {
    this.target = target;
    this.places = [target];
    this.original = original;
    // An instrumented function (body-site.ts) is its own dispatcher: its "wrapper" is
    // itself, installing it changes nothing, and hooks land on its closure's state.
    const body = bodySiteOf(original);
    this.state = body !== undefined ? body.stateFor(original) : idleState();
    this.wrapper = body !== undefined ? original : makeWrapper(original, this.state);
    wrappers.set(this.wrapper, this);
    table.byOriginal.set(original, this);
  }

  get hooks(): readonly Hook[] {
    return this.state.hooks ?? [];
  }
}

/** Sites by holder and key; wrappers to their site (to never wrap a wrapper). */
interface SiteTable {
  version: 1;
  byHolder: WeakMap<object, Map<PropertyKey, Site>>;
  wrappers: WeakMap<Function, Site>;
  /** The live site of each original function, wherever it is reached from. */
  byOriginal: WeakMap<Function, Site>;
}

// v2: one site per original (byOriginal); a v1 table of an older copy is not shared.
const TABLE_KEY = Symbol.for('livetrace.sites.v2');
const table: SiteTable = ((globalThis as Record<symbol, unknown>)[TABLE_KEY] as SiteTable | undefined) ??
  ((globalThis as Record<symbol, unknown>)[TABLE_KEY] = {
    version: 1,
    byHolder: new SafeWeakMap(),
    wrappers: new SafeWeakMap(),
    byOriginal: new SafeWeakMap(),
  } satisfies SiteTable) as SiteTable;
const wrappers = table.wrappers;

/** The site whose wrapper `fn` is, if it is one of ours. */
export function siteOfWrapper(fn: unknown): Site | undefined {
  return typeof fn === 'function' ? wrappers.get(fn) : undefined;
}

/** The function as the user wrote it: unwraps our wrapper if `fn` is one. */
export function unwrap(fn: Function): Function {
  return wrappers.get(fn)?.original ?? fn;
}

/**
 * The site for a place, created (not yet installed) if needed. Returns a string saying
 * why when the place can't be patched.
 */
export function siteFor(target: PatchTarget): Site | string {
  const existing = table.byHolder.get(target.holder)?.get(target.key);
  if (existing !== undefined) {
    if (!isStalePlace(existing, target)) return existing;
    // The module replaced a pinned export: the old wrapper stays with whoever holds it;
    // the place gets a site of its own for what it holds now.
    dropPlace(existing, existing.places.find((p) => p.holder === target.holder && p.key === target.key) ?? target);
  }
  const why = target.unpatchable();
  const current = target.read();
  // A read-only place holding an instrumented function needs no write: hooks go on its body.
  if (why !== undefined && (typeof current !== 'function' || bodySiteOf(current) === undefined)) return why;
  if (typeof current !== 'function') return 'not a function';
  // Already our wrapper (copied here from a patched place): share that site, never wrap a wrapper.
  const original = unwrap(current);
  // Before the byOriginal lookup: a function livetrace depends on never gets a site.
  if (usedByLivetrace(original)) return SELF_USED_REASON;
  let site = table.byOriginal.get(original);
  if (site !== undefined && site.places.length > 0) {
    // Another place of the same function: the same wrapper goes here too (aliases stay one).
    ArrayPrototypePush(site.places, target);
    if (site.installed && !installAt(site, target)) {
      dropPlace(site, target);
      return 'the property could not be written';
    }
  } else {
    site = new Site(target, original);
  }
  let byKey = table.byHolder.get(target.holder);
  if (byKey === undefined) table.byHolder.set(target.holder, (byKey = new SafeMap()));
  byKey.set(target.key, site);
  return site;
}

/** Adds a hook; installs the wrapper when it is the site's first. False if it can't be installed. */
export function addHook(site: Site, hook: Hook): boolean {
  if (!site.installed && !install(site)) return false;
  const hooks = site.state.hooks;
  site.state.hooks = hooks === null ? [hook] : [...hooks, hook];
  refreshSite(site);
  return true;
}

/**
 * Sets the site's positional pre-test and rate gate (wrapper-compile.ts) from its hooks:
 * only a site with one hook offering one (`Hook.pretest`, `Hook.gate`, for one pattern)
 * gets it, since a call the wrapper lets by is then one every hook the site has would
 * let by. Called whenever the hooks or a hook's patterns change.
 */
export function refreshSite(site: Site): void {
  const state = site.state;
  const hooks = state.hooks;
  const sole = hooks !== null && hooks.length === 1 ? hooks[0]! : undefined;
  const gate = sole?.gate;
  state.gate = gate !== undefined && state.arity >= 0 ? gate : null;
  const pretest = sole?.pretest;
  if (pretest !== undefined && pretest.at < state.arity) {
    state.at = pretest.at;
    state.pre = pretest.test;
  } else {
    state.pre = null;
    state.at = 0;
  }
}

/** Removes a hook; with the last one gone, restores the original if our wrapper is still installed. */
export function removeHook(site: Site, hook: Hook): void {
  const hooks = site.state.hooks;
  if (hooks === null) return;
  const rest = hooks.filter((h) => h !== hook);
  site.state.hooks = rest.length === 0 ? null : rest;
  refreshSite(site);
  if (rest.length > 0 || !site.installed || site.pinned) return;
  site.installed = false;
  for (const place of site.places) {
    if (place.read() === site.wrapper) {
      place.write(site.original);
      place.afterChange?.();
    }
    // Else someone patched over us: our wrapper stays below theirs as a pass-through.
  }
  forget(site);
}

/**
 * Installs the site's wrapper now, with no hooks (a pass-through), and keeps it installed
 * for good: later hooks reuse it, removing the last hook leaves it. False if the place
 * could not be written.
 */
export function pinSite(site: Site): boolean {
  if (!site.installed && !install(site)) return false;
  site.pinned = true;
  return true;
}

/** Installs the wrapper at every place; the site's own target must take it, the others are dropped if they don't. */
function install(site: Site): boolean {
  if (!installAt(site, site.target)) {
    forget(site);
    return false;
  }
  site.installed = true;
  for (const place of [...site.places]) if (place !== site.target && !installAt(site, place)) dropPlace(site, place);
  return true;
}

function installAt(site: Site, place: PatchTarget): boolean {
  const current = place.read();
  // Already there (an instrumented function is its own wrapper): nothing to write.
  const ok = current === site.wrapper || (current === site.original && place.write(site.wrapper));
  if (ok) place.afterChange?.();
  return ok;
}

function isStalePlace(site: Site, target: PatchTarget): boolean {
  return site.pinned && site.state.hooks === null && target.read() !== site.wrapper;
}

function dropPlace(site: Site, place: PatchTarget): void {
  const at = site.places.indexOf(place);
  if (at !== -1) site.places.splice(at, 1);
  const byKey = table.byHolder.get(place.holder);
  if (byKey?.get(place.key) === site) byKey.delete(place.key);
  if (site.places.length === 0) forget(site);
}

function forget(site: Site): void {
  for (const place of site.places) {
    const byKey = table.byHolder.get(place.holder);
    if (byKey?.get(place.key) === site) byKey.delete(place.key);
  }
  site.places.length = 0;
  if (table.byOriginal.get(site.original) === site) table.byOriginal.delete(site.original);
}

/** Sites that currently have hooks (for tests and `ls`); an idle pinned wrapper has none. */
export function isPatched(holder: object, key: PropertyKey): boolean {
  const site = table.byHolder.get(holder)?.get(key);
  return site !== undefined && site.installed && site.state.hooks !== null;
}
