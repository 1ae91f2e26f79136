/**
 * The comments that delimit what the rewrite inserts (instrument.ts): `<open k>` carries a
 * body's site id, `<open>`/`<close>` every other inserted segment, all with the process's
 * random tag, so the pristine `Function.prototype.toString` text of an instrumented function
 * is cut back to the original exactly (no user text can contain the tag) and a patcher site
 * finds the function's own site id in it (patcher/body-site.ts).
 */
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

/**
 * The global symbol key (Symbol.for) of the body-site registry (patcher/body-registry.ts),
 * as rewritten modules name it. Its version is the inserted text's contract with the
 * sites (which methods, which arguments): a copy of livetrace whose text calls the sites
 * differently must not share a registry with this one. v2: `enter` takes the first
 * parameters' values, and `full`/`own`/`apply` hand over every argument. v3: a body with
 * no `finally` of its own (instrument-plan.ts `direct`) reports its ending with `R` and
 * `X`, and `enter` is a site's own property (its compiled copy, patcher/body-site.ts).
 */
export const BODY_REGISTRY_KEY = 'livetrace.body.v3';

/** Comment that opens an inserted segment; `id` only on a body's first segment. */
export function openMarker(tag: string, id?: number): string {
  return `/*${tag}<${id ?? ''}*/`;
}

export function closeMarker(tag: string): string {
  return `/*${tag}>*/`;
}

/** Cuts every inserted segment out of a function's text (for Function.prototype.toString). */
export function stripInserted(text: string, tag: string): string {
  const open = `/*${tag}<`;
  if (!text.includes(open)) return text;
  const close = closeMarker(tag);
  let out = '';
  let at = 0;
  for (;;) {
    const start = text.indexOf(open, at);
    if (start === -1) break;
    const end = text.indexOf(close, start);
    if (end === -1) {
      // An expression-bodied arrow's text ends at its inserted `}`, before the closing marker.
      out += text.slice(at, start);
      at = text.length;
      break;
    }
    out += text.slice(at, start);
    at = end + close.length;
  }
  return out + text.slice(at);
}

/**
 * The site ids marked in a function's text, each with where its marker sits; the caller
 * keeps the one whose recorded offset matches (nested functions have markers too).
 */
export function markedSites(text: string, tag: string): [id: number, offset: number][] {
  const open = `/*${tag}<`;
  const out: [number, number][] = [];
  let at = text.indexOf(open);
  while (at !== -1) {
    const from = at + open.length;
    const end = text.indexOf('*/', from);
    if (end === -1) break;
    if (end > from) {
      const id = Number(text.slice(from, end));
      if (Number.isSafeInteger(id)) ArrayPrototypePush(out, [id, at]);
    }
    at = text.indexOf(open, end);
  }
  return out;
}
