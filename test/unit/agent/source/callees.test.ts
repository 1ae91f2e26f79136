import { describe, expect, it } from 'vitest';
import { moduleCalls, type Call } from '../../../../src/agent/source/callees.js';
import { locateFunctions } from '../../../../src/agent/source/locate.js';

const source = `const db = require('./db');
function helper() {}
class Repo {
  save() { return helper(); }
  find(opts) {
    this.save();
    db.query(helper(
      1));
    opts.callback();
    [1].map(helper);
    new Repo();
    exports.other();
    (0, db.query)();
    super.x;
    require('./lazy');
    return setTimeout(() => helper());
  }
}
module.exports = { Repo };
`;

const parsed = locateFunctions(source, 'repo.cjs');
const calls = moduleCalls(source, parsed);
const fn = (path: string) => parsed.functions.find((f) => f.path === path)!;

function row(call: Call): unknown[] {
  const ref = call.ref;
  const what = ref.kind === 'function' ? ref.fn.path : ref.kind === 'module' ? `${ref.specifier}:${ref.path}` : ref.kind === 'own-export' ? `exports:${ref.path}` : ref.note;
  return call.note === undefined ? [call.call, call.line, ref.kind, what] : [call.call, call.line, ref.kind, what, call.note];
}

describe('moduleCalls', () => {
  it('lists the calls of a function in source order, a call before the calls in its arguments', () => {
    expect(calls.callsIn(fn('~Repo#find')).map(row)).toEqual([
      ['this.save', 6, 'function', '~Repo#save'],
      ['db.query', 7, 'module', './db:query'],
      ['helper', 7, 'function', '~helper'],
      ['opts.callback', 9, 'unnamed', 'a method of a parameter'],
      ['[1].map', 10, 'unnamed', 'a computed callee'],
      ['helper', 10, 'function', '~helper', 'passed as a callback'],
      ['new Repo', 11, 'unnamed', 'a class without a constructor'],
      ['exports.other', 12, 'own-export', 'exports:other'],
      ['0, db.query', 13, 'unnamed', 'a computed callee'],
      ['setTimeout', 16, 'unnamed', 'a global'],
      ['helper', 16, 'function', '~helper'],
    ]);
  });

  it('resolves a call in a method to a function of the module', () => {
    expect(calls.callsIn(fn('~Repo#save')).map(row)).toEqual([['helper', 4, 'function', '~helper']]);
  });
});
