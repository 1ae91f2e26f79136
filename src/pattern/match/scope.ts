/**
 * The names a pattern binds, while one call is tested: a per-matcher scratch array of
 * slots, cleared on the way out so that no argument stays reachable from the matcher.
 */
import { sameValue } from '../../safe/read.js';

/** One argument pattern's test, compiled. */
export type Test = (value: unknown) => boolean;

const UNBOUND: unique symbol = Symbol('unbound');

export /** Per-matcher scratch state for binding names while one call is tested. */
class Scope {
  readonly slots: unknown[];
  readonly trail: number[] = [];
  top = 0;

  constructor(readonly names: readonly string[]) {
    this.slots = names.map(() => UNBOUND);
  }

  slotOf(name: string): number {
    return this.names.indexOf(name);
  }

  /** Unbinds everything bound since `mark`, so a failed alternative leaves no trace. */
  unwind(mark: number): void {
    while (this.top > mark) this.slots[this.trail[--this.top] as number] = UNBOUND;
  }
}

/** `X` in an argument pattern: binds the name on first sight, then wants the same value again. */
export function compileBind(scope: Scope, name: string): Test {
  const slot = scope.slotOf(name);
  const { slots, trail } = scope;
  return (value) => {
    const current = slots[slot];
    if (current === UNBOUND) {
      slots[slot] = value;
      trail[scope.top++] = slot;
      return true;
    }
    return sameValue(current, value);
  };
}
