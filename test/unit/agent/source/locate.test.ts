import { describe, expect, it } from 'vitest';
import { functionWithText, locateFunctions } from '../../../../src/agent/source/locate.js';

const source = `'use strict';
function hashPassword(pw) { return pw + 'salt'; }
const slug = (s, { sep = '-', parts: [first] }, ...rest) => s.split(sep);
async function load(id = 1) { await null; return id; }
function* gen() { yield 1; }
class UserRepo {
  constructor(db) { this.db = db; this.onRow = (row) => row; }
  save(user) { return hashPassword(user.pw); }
  static create() { return new UserRepo(); }
  #secret() {}
  get size() { return 0; }
  handle = () => 1;
}
class Admin extends UserRepo { constructor() { super(); } }
function makeRouter() {
  function handle(req) { return req; }
  return { find() { return handle(1); } };
}
const api = { users: { find() {} }, 'odd key': function () {} };
Foo.prototype.bar = function () {};
exports.f = function () {};
module.exports.g = () => {};
function helper() {}
{ function helper() {} }
[1].map((x) => x); [2].map((y) => y);
setTimeout(function () {});
`;

describe('locateFunctions', () => {
  const parsed = locateFunctions(source, 'fixture.js');
  const byPath = new Map(parsed.functions.map((f) => [f.path, f]));

  it('names every function by its lexical path', () => {
    expect([...byPath.keys()]).toEqual([
      '~hashPassword',
      '~slug',
      '~load',
      '~gen',
      '~UserRepo',
      '~UserRepo#onRow',
      '~UserRepo#save',
      '~UserRepo.create',
      '~UserRepo##secret',
      '~UserRepo.@11',
      '~UserRepo#handle',
      '~Admin',
      '~makeRouter',
      '~makeRouter.handle',
      '~makeRouter.find',
      '~api.users.find',
      '~api.odd key',
      '~Foo#bar',
      '~f',
      '~g',
      '~helper@23',
      '~helper@24',
      '~@25c9',
      '~@25c28',
      '~@26',
    ]);
  });

  it('records kinds, receivers and how to read the arguments back', () => {
    expect(byPath.get('~load')).toMatchObject({ kind: 'async', async: true, arrow: false, receiver: true, argsExpression: 'arguments' });
    expect(byPath.get('~gen')?.kind).toBe('generator');
    expect(byPath.get('~UserRepo')).toMatchObject({ kind: 'class', receiver: true });
    expect(byPath.get('~Admin')).toMatchObject({ kind: 'class', receiver: false });
    expect(byPath.get('~UserRepo#save')?.kind).toBe('method');
    expect(byPath.get('~UserRepo.create')?.kind).toBe('static');
    expect(byPath.get('~slug')).toMatchObject({
      arrow: true,
      receiver: false,
      argsExpression: '[s, {"sep": sep, "parts": [first]}, ...rest]',
    });
    const fn = byPath.get('~hashPassword')!;
    expect(source.slice(fn.start, fn.end)).toBe("function hashPassword(pw) { return pw + 'salt'; }");
    expect(source.slice(fn.codeStart, fn.codeStart + 2)).toBe('pw');
    expect(fn).toMatchObject({ line: 2, column: 0 });
  });

  it('finds a function by its source text', () => {
    const text = 'save(user) { return hashPassword(user.pw); }';
    expect(functionWithText(parsed, source, text)?.path).toBe('~UserRepo#save');
    expect(functionWithText(parsed, source, 'function nope() {}')).toBeUndefined();
  });

  it('parses ES modules, and refuses what is not JavaScript with LT_PROBE_UNAVAILABLE', () => {
    const esm = locateFunctions('import x from "y";\nexport default function () {}\nexport function named() {}\n');
    expect(esm.functions.map((f) => f.path)).toEqual(['~default', '~named']);
    expect(() => locateFunctions('const x: number = 1;', 'a.ts')).toThrow(expect.objectContaining({ code: 'LT_PROBE_UNAVAILABLE' }));
  });
});
