/**
 * A call record's JSON text, written by hand: the same text JSON.stringify gives for a
 * record built by the agent (session/call.ts callEvent), at a fraction of its cost.
 *
 * Why: streaming `--rate off`, encoding was the largest part of the target's CPU profile
 * (JSON.stringify of the record frame 32%, 2.8-3.3 us for a 276-byte record on Node 20 on
 * the 2-core development VM), and the target's CPU is what bounds how many events a
 * second reach the reader. Most of a call record never changes from one call to the next
 * (the session, the function, its module and engine, pid, thread), and its one large
 * integer, `ts` (ms since the epoch, past the small-integer range: printing it costs
 * ~300 ns), is the same for every call in a millisecond. So the record's text is built
 * from pieces cached on those fields' identity, the numbers that change (id, depth,
 * duration) printed as small integers, and only the captured values (`args`, `this`,
 * `value`/`error`, `stack`) go through JSON.stringify, element by element for `args`
 * so a primitive argument costs a concatenation. Measured side by side (the same
 * records, Node 20, load 8): 2,788 ns per record for JSON.stringify, 478 ns for this,
 * and 1,588 against 2,668 ns once the batch is joined into one string (joining flattens
 * the concatenations).
 *
 * The fields are written in the record's own order (protocol/events.ts, callEvent's
 * literal), and a field the record does not hold (`this`, `settleNs`, `stack`; an
 * undefined one) is left out as JSON.stringify leaves it out. A record with a field this
 * encoder does not know would lose it: test/unit/protocol/record-text.test.ts builds
 * every shape callEvent makes and compares with JSON.stringify, so a change to the record
 * fails there. Anything that is not a call record goes to JSON.stringify.
 */
import type { CallEvent } from './events.js';

/** The last session id seen, and the text up to its `"id":`. */
let sessionOf: string | undefined;
let sessionText = '';
/** The last function seen (fn, module, engine), and the text from `,"fn":` to `"pid":`. */
let fnOf: string | undefined;
let moduleOf: string | undefined;
let engineOf: string | undefined;
let fnText = '';
/** The last `ts` seen and its text (`,"ts":<ts>,"args":`): one per millisecond. */
let tsOf = NaN;
let tsText = '';

/** JSON text of a number: JSON.stringify's (the shortest round-trip form; null when not finite). */
function num(n: unknown): string {
  if (typeof n === 'number') return n - n === 0 ? '' + n : 'null';
  return json(n);
}

/** JSON text of any value in an array (undefined and the like become null, as JSON.stringify makes them). */
function json(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return value - value === 0 ? '' + value : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
  }
  const text = JSON.stringify(value);
  return text === undefined ? 'null' : text;
}

function outcomeText(outcome: string): string {
  switch (outcome) {
    case 'return':
      return ',"outcome":"return","durationNs":';
    case 'resolve':
      return ',"outcome":"resolve","durationNs":';
    case 'throw':
      return ',"outcome":"throw","durationNs":';
    case 'reject':
      return ',"outcome":"reject","durationNs":';
  }
  return ',"outcome":' + JSON.stringify(outcome) + ',"durationNs":';
}

function argsText(args: readonly unknown[]): string {
  const n = args.length;
  if (n === 0) return '[]';
  let text = '[' + json(args[0]);
  for (let i = 1; i < n; i++) text += ',' + json(args[i]);
  return text + ']';
}

/** `,"<key>":<value>` for a field JSON.stringify writes (not undefined), else ''. */
function field(key: string, value: unknown): string {
  if (value === undefined) return '';
  const text = JSON.stringify(value);
  return text === undefined ? '' : ',"' + key + '":' + text;
}

/**
 * The JSON text of a record: by hand for a call record the agent built (the module
 * comment), JSON.stringify's for any other. Throws what JSON.stringify throws (a BigInt,
 * a cycle).
 */
export function recordText(record: { type: string }): string {
  if (record.type !== 'call' || (record as CallEvent).v !== 1 || !Array.isArray((record as CallEvent).args)) return JSON.stringify(record);
  const r = record as CallEvent;
  if (r.session !== sessionOf) {
    sessionText = '{"v":1,"type":"call","session":' + JSON.stringify(r.session) + ',"id":';
    sessionOf = r.session;
  }
  if (r.fn !== fnOf || r.module !== moduleOf || r.engine !== engineOf) {
    fnText = ',"fn":' + JSON.stringify(r.fn) + ',"module":' + JSON.stringify(r.module) + ',"engine":' + JSON.stringify(r.engine) + ',"pid":';
    fnOf = r.fn;
    moduleOf = r.module;
    engineOf = r.engine;
  }
  const ts = r.ts;
  if (ts !== tsOf) {
    tsText = ',"ts":' + num(ts) + ',"args":';
    tsOf = ts;
  }
  let text =
    sessionText +
    num(r.id) +
    ',"parent":' +
    json(r.parent) +
    ',"depth":' +
    num(r.depth) +
    fnText +
    num(r.pid) +
    ',"thread":' +
    num(r.thread) +
    tsText +
    argsText(r.args) +
    outcomeText(r.outcome) +
    num(r.durationNs) +
    ',"truncated":' +
    json(r.truncated);
  if (r.this !== undefined) text += field('this', r.this);
  if (r.value !== undefined) text += field('value', r.value);
  if (r.error !== undefined) text += field('error', r.error);
  if (r.settleNs !== undefined) text += ',"settleNs":' + num(r.settleNs);
  if (r.stack !== undefined) text += field('stack', r.stack);
  return text + '}';
}
