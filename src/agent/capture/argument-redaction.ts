/**
 * Which arguments of a call to hide because of the parameter they are passed to.
 *
 * `login(user, password)` called as `login('tj', 'foobar')`: the second argument is
 * redacted as a `password` key's value would be. A destructured parameter hides what it
 * binds to a secret name: `login({ user, password })` hides the argument's `password`
 * field (as the key already would), and `login({ user, p: password })` its `p` field,
 * anywhere in that argument (the safe side: a nested `p` is hidden too). A parameter too
 * intricate to map to keys (an array pattern, a computed key, an object rest) hides the
 * whole argument when it binds any secret name, and a rest parameter named like a secret
 * (`...passwords`) hides every argument it takes.
 *
 * The decision is made once per function and session (when the session hooks it), not
 * per call: a call pays only for the indexes the decision names.
 */
import type { Redactor } from './redaction.js';
import { parametersOf } from '../source/params.js';

export interface ArgumentRedaction {
  /** `whole[i]`: argument i is not captured at all. */
  readonly whole: readonly boolean[];
  /** `keys[i]`: keys hidden anywhere inside argument i. */
  readonly keys: readonly (Readonly<Record<string, true>> | undefined)[];
  /** Arguments from this index on are not captured (a secret rest parameter); Infinity when none. */
  readonly restFrom: number;
}

/** What `fn`'s parameter names hide, or undefined when they hide nothing. Never throws. */
export function argumentRedaction(fn: Function, redactor: Redactor): ArgumentRedaction | undefined {
  const parameters = parametersOf(fn);
  if (parameters === undefined) return undefined;
  const any = (names: readonly string[]): boolean => names.some((name) => redactor.matches(name));
  const whole: boolean[] = [];
  const keys: (Record<string, true> | undefined)[] = [];
  let hides = false;
  parameters.params.forEach((param, i) => {
    whole[i] = false;
    keys[i] = undefined;
    if (param.name !== undefined) {
      whole[i] = redactor.matches(param.name);
    } else if (param.props !== undefined) {
      for (const prop of param.props) {
        if (!any(prop.names) || redactor.matches(prop.key)) continue;
        const hidden = (keys[i] ??= Object.create(null) as Record<string, true>);
        hidden[prop.key] = true;
      }
    } else {
      whole[i] = any(param.names);
    }
    if (whole[i] === true || keys[i] !== undefined) hides = true;
  });
  const rest = parameters.rest !== undefined && any(parameters.rest);
  if (!hides && !rest) return undefined;
  return { whole, keys, restFrom: rest ? parameters.params.length : Infinity };
}
